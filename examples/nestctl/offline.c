/* SPDX-License-Identifier: MIT */
/*
 * An offline L0 for nestctl: the backend libnest needs to take in a nested
 * state that it is only asked to check or convert. L1 memory reads as
 * zeros and L0 maps every L1 page (identity, write-back); the hardware
 * VMCSs are arrays indexed by field; pages come from the heap. vmcs01
 * starts with a typical 64-bit L1 (what KVM's format leaves to vmcs01 on
 * import). The same L0 as the Python binding's (libnest/_offline.py).
 */
#include <stdlib.h>
#include <string.h>

#include "offline.h"

#define PAGE 4096u
#define MAX_PAGES 1024u

struct vmcs_store {
	uint32_t enc[512];
	uint64_t val[512];
	unsigned n;
};

struct offline {
	struct vmcs_store vmcs[3];
	void *pages[MAX_PAGES];
	unsigned npages;
	struct nest_backend be;
	void *tdp_mem, *ctx_mem, *vmcb01;
	void *svm_pages[3];
	struct nest_vmx_l0 l0;
};

static struct offline O;

static int read_l1(void *c, uint64_t gpa, void *buf, size_t len)
{
	memset(buf, 0, len);
	return NEST_OK;
}

static int write_l1(void *c, uint64_t gpa, const void *buf, size_t len)
{
	return NEST_OK;
}

static int l1_to_host(void *c, uint64_t gpa, struct nest_l0_map *out)
{
	memset(out, 0, sizeof(*out));
	out->hpa = gpa & ~(uint64_t)(PAGE - 1);
	out->rights = NEST_ACC_R | NEST_ACC_W | NEST_ACC_X | NEST_ACC_UX | NEST_ACC_U;
	out->memtype = NEST_MT_WB;
	out->page_shift = 12;
	return NEST_OK;
}

static int vmcs_read(void *c, enum nest_vmcs_id which, uint32_t enc, uint64_t *value)
{
	struct vmcs_store *s;
	unsigned i;

	if ((unsigned)which > NEST_VMCS_SHADOW)
		return NEST_E_INVAL;
	s = &O.vmcs[which];
	*value = 0;
	for (i = 0; i < s->n; i++)
		if (s->enc[i] == enc)
			*value = s->val[i];
	return NEST_OK;
}

static int vmcs_write(void *c, enum nest_vmcs_id which, uint32_t enc, uint64_t value)
{
	struct vmcs_store *s;
	unsigned i;

	if ((unsigned)which > NEST_VMCS_SHADOW)
		return NEST_E_INVAL;
	s = &O.vmcs[which];
	for (i = 0; i < s->n; i++)
		if (s->enc[i] == enc) {
			s->val[i] = value;
			return NEST_OK;
		}
	if (s->n == sizeof(s->enc) / sizeof(s->enc[0]))
		return NEST_E_NOMEM;
	s->enc[s->n] = enc;
	s->val[s->n++] = value;
	return NEST_OK;
}

static void *page(size_t bytes)
{
	void *p;

	if (O.npages == MAX_PAGES)
		return NULL;
	p = aligned_alloc(PAGE, (bytes + PAGE - 1) & ~(size_t)(PAGE - 1));
	if (p == NULL)
		return NULL;
	memset(p, 0, bytes);
	O.pages[O.npages++] = p;
	return p;
}

static int page_alloc(void *c, uint64_t *hpa, void **hva)
{
	void *p = page(PAGE);

	if (p == NULL)
		return NEST_E_NOMEM;
	*hva = p;
	*hpa = (uint64_t)(uintptr_t)p;
	return NEST_OK;
}

static void page_free(void *c, uint64_t hpa, void *hva)
{
}

static void flush(void *c, uint32_t kind, uint64_t tag, uint64_t addr)
{
}

static const struct nest_backend_ops ops = {
    .size = sizeof(struct nest_backend_ops),
    .read_l1 = read_l1,
    .write_l1 = write_l1,
    .l1_to_host = l1_to_host,
    .vmcs_read = vmcs_read,
    .vmcs_write = vmcs_write,
    .page_alloc = page_alloc,
    .page_free = page_free,
    .flush = flush,
};

void offline_reset(void)
{
	unsigned i;

	for (i = 0; i < O.npages; i++)
		free(O.pages[i]);
	memset(&O, 0, sizeof(O));
	O.be.ops = &ops;
	/* L1 at its VMLAUNCH: paging, protected and long mode, VMXE. */
	vmcs_write(NULL, NEST_VMCS01, NEST_VMCS_GUEST_CR0, 0x80050033u);
	vmcs_write(NULL, NEST_VMCS01, NEST_VMCS_GUEST_CR4, 0x26a0u);
	vmcs_write(NULL, NEST_VMCS01, NEST_VMCS_GUEST_IA32_EFER, 0xd01u);
	vmcs_write(NULL, NEST_VMCS01, NEST_VMCS_GUEST_IA32_PAT, 0x0007040600070406ull);
	vmcs_write(NULL, NEST_VMCS01, NEST_VMCS_GUEST_DR7, 0x400u);
}

int offline_vmcs_write(enum nest_vmcs_id which, uint32_t enc, uint64_t value)
{
	return vmcs_write(NULL, which, enc, value);
}

static int make_tdp(uint64_t ept_vpid_cap, uint32_t maxphyaddr, struct nest_tdp **out)
{
	struct nest_tdp_config cfg;
	size_t n;

	memset(&cfg, 0, sizeof(cfg));
	cfg.size = sizeof(cfg);
	cfg.max_pages = 64;
	cfg.max_roots = 4;
	cfg.ept_vpid_cap = ept_vpid_cap;
	cfg.maxphyaddr = (uint8_t)maxphyaddr;
	cfg.max_page_shift = 12;
	n = nest_tdp_size(&cfg);
	O.tdp_mem = page(n);
	if (O.tdp_mem == NULL)
		return NEST_E_NOMEM;
	return nest_tdp_init(O.tdp_mem, n, &O.be, &cfg, out);
}

int offline_vmx(const struct nest_vmx_caps *host, uint32_t features, uint32_t maxphyaddr,
		int with_l0, struct nest_vmx **out)
{
	struct nest_vmx_config cfg;
	struct nest_vmx_caps offered;
	struct nest_tdp *tdp;
	int rc;

	offline_reset();
	memset(&cfg, 0, sizeof(cfg));
	cfg.size = sizeof(cfg);
	cfg.vmx_allowed = 1;
	cfg.host_caps = host;
	cfg.features = features;
	cfg.l1_maxphyaddr = maxphyaddr;
	cfg.feature_control = 0x5;
	O.ctx_mem = page(nest_vmx_size());
	if (O.ctx_mem == NULL)
		return NEST_E_NOMEM;
	rc = nest_vmx_init(O.ctx_mem, nest_vmx_size(), &O.be, &cfg, out);
	if (rc != NEST_OK || !with_l0)
		return rc;
	memset(&offered, 0, sizeof(offered));
	offered.size = sizeof(offered);
	nest_vmx_offered_caps(*out, &offered);
	rc = make_tdp(offered.ept_vpid, maxphyaddr, &tdp);
	if (rc != NEST_OK)
		return rc;
	memset(&O.l0, 0, sizeof(O.l0));
	O.l0.size = sizeof(O.l0);
	O.l0.exit_ctls = 0x200; /* host address-space size */
	O.l0.tdp = tdp;
	return nest_vmx_set_l0(*out, &O.l0);
}

int offline_svm(const uint32_t host_cpuid[4], uint32_t features, uint32_t maxphyaddr, int long_mode,
		struct nest_svm **out, struct nest_vmcb **vmcb01)
{
	struct nest_svm_config cfg;
	static const size_t sizes[3] = {PAGE, 2 * PAGE, 3 * PAGE};
	struct nest_svm_page *pages[3];
	unsigned i;
	int rc;

	offline_reset();
	memset(&cfg, 0, sizeof(cfg));
	cfg.size = sizeof(cfg);
	cfg.flags = NEST_SVM_CFG_SVM_ALLOWED | (long_mode ? NEST_SVM_CFG_LONG_MODE : 0);
	memcpy(cfg.host_cpuid, host_cpuid, sizeof(cfg.host_cpuid));
	cfg.features = features;
	cfg.l1_maxphyaddr = maxphyaddr;
	cfg.l2_asid = 1;
	cfg.l1_efer_allowed = long_mode ? 0x4d01u : 0x4801u; /* SCE LME LMA NXE FFXSR */
	cfg.l1_cr4_allowed = 0x770fffu;
	pages[0] = &cfg.vmcb02;
	pages[1] = &cfg.msrpm02;
	pages[2] = &cfg.iopm02;
	for (i = 0; i < 3; i++) {
		O.svm_pages[i] = page(sizes[i]);
		if (O.svm_pages[i] == NULL)
			return NEST_E_NOMEM;
		pages[i]->hva = O.svm_pages[i];
		pages[i]->hpa = (uint64_t)(uintptr_t)O.svm_pages[i];
	}
	rc = make_tdp(0, maxphyaddr, &cfg.tdp);
	if (rc != NEST_OK)
		return rc;
	O.ctx_mem = page(nest_svm_size());
	O.vmcb01 = page(sizeof(struct nest_vmcb));
	if (O.ctx_mem == NULL || O.vmcb01 == NULL)
		return NEST_E_NOMEM;
	*vmcb01 = O.vmcb01;
	return nest_svm_init(O.ctx_mem, nest_svm_size(), &O.be, &cfg, out);
}
