/* SPDX-License-Identifier: MIT */
/*
 * Check fixture for the VM-entry rule tests: the baseline of
 * test_vmx_entry_baseline.h and a runner of "baseline passes, each
 * mutation fails exactly its rule" suites.
 */
#ifndef TEST_VMX_ENTRY_FIXTURE_H
#define TEST_VMX_ENTRY_FIXTURE_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "test_vmx_entry_baseline.h"

/* One mutation of the baseline that must fail exactly `rule`. */
struct mutation {
	enum nest_vmx_rule rule;
	const char *name;
	void (*apply)(struct fx *f);
};

/* Writing the mutations: MUT(RULE) { ... } defines the mutation of the rule
 * NEST_VMX_RULE_RULE, and E(RULE) is its row in the table. */
#define MUT(name) static void mut_##name(struct fx *f)
#define E(name)                                                                                    \
	{                                                                                          \
		NEST_VMX_RULE_##name, #name, mut_##name                                            \
	}

/* Shorthands and values the mutations share. */
#define PROC2(f) ((f)->v.SECONDARY_VM_EXEC_CONTROL)
#define ALLOW_PROC2(f, bits) ((f)->caps.procbased2 |= (uint64_t)(bits) << 32)
#define INFO(type, vec)                                                                            \
	(NEST_VMX_INTR_INFO_VALID | ((uint32_t)(type) << NEST_VMX_INTR_INFO_TYPE_SHIFT) | (vec))
#define BEYOND_46 (1ull << 46)
#define NONCANON (1ull << 47)
#define AR_DPL3 (3u << X86_SEG_DPL_SHIFT)
#define EFER_RESERVED_BIT (1ull << 3)
#define PERF_RESERVED 0xfffffff8fffffff0ull /* 4 general, 3 fixed counters */
#define MSR_SMM_MONITOR_CTL 0x9bu
#define MSR_BIOS_UPDT_TRIG 0x79u
#define MSR_X2APIC_TPR 0x808u

/* The table the current test program runs (set once by
 * fx_rule_suite_run(), read by the tests). */
static const struct mutation *fx_table;
static size_t fx_ntable;
static const char *const *fx_prefixes;
static size_t fx_nprefixes;

/* The outcome the SDM gives, from the rule's name alone (independent of
 * the rule table's KIND column). */
struct expect {
	uint32_t outcome, error, reason;
	uint64_t qual;
};

static struct expect expected(const struct mutation *m)
{
	struct expect e = {NEST_VMX_ENTRY_FAILURE, 0, 0, 0};

	if (strncmp(m->name, "CTL_", 4) == 0) {
		e.outcome = NEST_VMX_ENTRY_VMFAIL;
		e.error = 7;
	} else if (strncmp(m->name, "HOST_", 5) == 0) {
		e.outcome = NEST_VMX_ENTRY_VMFAIL;
		e.error = 8;
	} else if (strncmp(m->name, "GUEST_", 6) == 0) {
		e.reason = 0x80000000u | 33;
		if (strncmp(m->name, "GUEST_LINK_", 11) == 0)
			e.qual = 4;
		else if (m->rule == NEST_VMX_RULE_GUEST_PDPTE_RESERVED)
			e.qual = 2;
		else if (m->rule == NEST_VMX_RULE_GUEST_INTR_NMI_STI)
			e.qual = 3;
	} else if (m->rule == NEST_VMX_RULE_MCE_DURING_ENTRY ||
		   m->rule == NEST_VMX_RULE_MSR_LOAD_COUNT_LIMIT) {
		e.reason = 0x80000000u | 41;
	} else {
		e.reason = 0x80000000u | 34;
		e.qual = 2; /* the second entry: index 1, counted from 1 */
	}
	return e;
}

START_TEST(baseline_passes_every_check)
{
	struct fx f;
	struct nest_vmx_entry_result res;

	fx_init(&f);
	ck_assert_int_eq(fx_run(&f, &res), 0);
	ck_assert_uint_eq(res.outcome, NEST_VMX_ENTRY_OK);
	ck_assert_uint_eq(res.rule, NEST_VMX_RULE_NONE);
	ck_assert_uint_eq(res.field, NEST_VMX_ENTRY_NO_FIELD);
}
END_TEST

START_TEST(each_rule_fails_alone)
{
	const struct mutation *m = &fx_table[_i];
	struct expect want = expected(m);
	struct fx f;
	struct nest_vmx_entry_result res;
	int r;

	fx_init(&f);
	m->apply(&f);
	r = fx_run(&f, &res);
	ck_assert_msg(res.rule == (uint32_t)m->rule, "mutation %s: rule %s failed instead", m->name,
		      nest_vmx_rule_name(res.rule));
	ck_assert_int_eq(r, (int)want.outcome);
	ck_assert_uint_eq(res.outcome, want.outcome);
	ck_assert_uint_eq(res.vm_instruction_error, want.error);
	ck_assert_uint_eq(res.exit_reason, want.reason);
	ck_assert_msg(res.exit_qualification == want.qual, "%s: qualification %llu", m->name,
		      (unsigned long long)res.exit_qualification);
	ck_assert_str_eq(nest_vmx_rule_name(res.rule), m->name);
}
END_TEST

START_TEST(every_rule_has_a_mutation)
{
	uint32_t rule;
	size_t i;

	for (rule = NEST_VMX_RULE_NONE + 1; rule < NEST_VMX_RULE_END_; rule++) {
		const char *name = nest_vmx_rule_name(rule);
		bool mine = false, found = false;

		for (i = 0; i < fx_nprefixes; i++)
			mine |= strncmp(name, fx_prefixes[i], strlen(fx_prefixes[i])) == 0;
		for (i = 0; i < fx_ntable; i++)
			found |= fx_table[i].rule == (enum nest_vmx_rule)rule;
		ck_assert_msg(!mine || found, "rule %s has no test", name);
	}
}
END_TEST

/* Run the three tests over a table of mutations for the rules whose
 * names start with one of `prefixes`. Returns the process exit status. */
static inline int fx_rule_suite_run(const char *name, const struct mutation *table, size_t n,
				    const char *const *prefixes, size_t nprefixes)
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_create("rules");

	fx_table = table;
	fx_ntable = n;
	fx_prefixes = prefixes;
	fx_nprefixes = nprefixes;
	tcase_add_test(tc, baseline_passes_every_check);
	tcase_add_loop_test(tc, each_rule_fails_alone, 0, (int)n);
	tcase_add_test(tc, every_rule_has_a_mutation);
	suite_add_tcase(s, tc);
	return nest_test_run(s);
}

#endif /* TEST_VMX_ENTRY_FIXTURE_H */
