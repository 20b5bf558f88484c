# SPDX-License-Identifier: MIT
# arch/x86/paging: the EPT and x86 page walkers and the shadow EPT02/NPT02
# (include/nest/tdp.h), their unit, property and invalidation tests, the
# fuzz target and the benchmark.
NEST_CORE_SOURCES += arch/x86/paging/memtype.c arch/x86/paging/ept_walk.c \
	arch/x86/paging/x86_walk.c arch/x86/paging/shadow.c
noinst_HEADERS += arch/x86/paging/paging.h
