/* SPDX-License-Identifier: MIT */
/* What both stubs (SVM and VMX) share: the command line and the figures. */
#include "backend.h"
#include "stub.h"

uint64_t stub_cmdline_num(const char *cmd, const char *key, uint64_t dflt)
{
	size_t kl = strlen(key);
	for (const char *p = cmd; *p; p++) {
		if ((p == cmd || p[-1] == ' ') && !strncmp(p, key, kl) && p[kl] == '=')
			return bm_strtou64(p + kl + 1, NULL);
	}
	return dflt;
}

uint64_t stub_cmdline_mib(const char *cmd, const char *key, uint64_t dflt)
{
	uint64_t none = ~(uint64_t)0, mib = stub_cmdline_num(cmd, key, none);

	return mib == none ? dflt : mib << 20;
}

bool stub_cmdline_flag(const char *cmd, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = cmd; *p; p++) {
		if ((p == cmd || p[-1] == ' ') && !strncmp(p, key, kl) && (!p[kl] || p[kl] == ' '))
			return true;
	}
	return false;
}

/* @num / @den with two decimals, as "X.YY". */
static void print_ratio(uint64_t num, uint64_t den)
{
	uint64_t r = den ? num * 100 / den : 0;
	bm_printf("%llu.%02llu", (unsigned long long)(r / 100), (unsigned long long)(r % 100));
}

/* The figures of every processor, added up. */
static void sum_stats(struct stub_stats *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned c = 0; c < STUB_MAX_CPUS; c++) {
		const struct stub_stats *s = &stub_cpus[c].stats;
		t->l0_exits += s->l0_exits;
		t->l1_exits += s->l1_exits;
		t->l2_exits += s->l2_exits;
		t->l2_reflected += s->l2_reflected;
		t->l2_handled += s->l2_handled;
		t->vmruns += s->vmruns;
		t->vmrun_failed += s->vmrun_failed;
		t->transitions += s->transitions;
		t->nest_cycles += s->nest_cycles;
		for (unsigned i = 0; i < BM_ARRAY_SIZE(s->by_code); i++)
			t->by_code[i] += s->by_code[i];
	}
}

void stub_print_figures(void)
{
	static struct stub_stats total;
	const struct stub_stats *s = &total;

	sum_stats(&total);
	const struct stub_be_calls *b = &stub_be_calls;
	uint64_t cyc = s->transitions ? s->nest_cycles / s->transitions : 0;
	uint64_t calls = b->read_l1 + b->write_l1 + b->cmpxchg_l1 + b->l1_to_host + b->page_alloc +
			 b->page_free + b->flush;

	bm_printf("stub: L0 exits %llu (from L1 %llu, from L2 %llu); L1 %s %llu (%llu %s); "
		  "L2 exits reflected %llu, handled by L0 %llu\n",
		  (unsigned long long)s->l0_exits, (unsigned long long)s->l1_exits,
		  (unsigned long long)s->l2_exits, stub.entry_name, (unsigned long long)s->vmruns,
		  (unsigned long long)s->vmrun_failed, stub.failed_name,
		  (unsigned long long)s->l2_reflected, (unsigned long long)s->l2_handled);
	bm_printf("stub: L0 exits per reflected L2 exit: ");
	print_ratio(s->l0_exits, s->l2_reflected);
	bm_printf("\nstub: libnest: %llu transitions, %llu cycles per transition (rdtsc)\n",
		  (unsigned long long)s->transitions, (unsigned long long)cyc);
	bm_printf("stub: libnest: ");
	print_ratio(calls, s->transitions);
	bm_printf(" backend calls per transition (read_l1 %llu, write_l1 %llu, cmpxchg_l1 %llu, "
		  "l1_to_host %llu, page_alloc %llu, page_free %llu, flush %llu)",
		  (unsigned long long)b->read_l1, (unsigned long long)b->write_l1,
		  (unsigned long long)b->cmpxchg_l1, (unsigned long long)b->l1_to_host,
		  (unsigned long long)b->page_alloc, (unsigned long long)b->page_free,
		  (unsigned long long)b->flush);
	if (b->vmcs_read || b->vmcs_write) {
		bm_printf("; ");
		print_ratio(b->vmcs_read + b->vmcs_write, s->transitions);
		bm_printf(" VMCS accesses per transition (reads %llu, writes %llu)",
			  (unsigned long long)b->vmcs_read, (unsigned long long)b->vmcs_write);
	}
	bm_printf("\nstub: L1 exits by %s:", stub.exit_hex ? "code" : "reason");
	for (unsigned i = 0; i < BM_ARRAY_SIZE(s->by_code); i++)
		if (s->by_code[i])
			bm_printf(stub.exit_hex ? " %#x:%llu" : " %u:%llu", i,
				  (unsigned long long)s->by_code[i]);
	bm_printf("\n");
}
