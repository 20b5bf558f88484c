/* SPDX-License-Identifier: MIT */
/**
 * @file nest.h
 * @brief libnest umbrella header: the whole public API.
 *
 * libnest is the L0 half of x86 nested virtualization as a library. This
 * header brings in the version macros and status codes (nest/base.h) and
 * every area header (backend.h, vmcs.h, vmx.h, svm.h, tdp.h, state.h, cpu.h); each
 * area header may also be included on its own.
 */
#ifndef NEST_NEST_H
#define NEST_NEST_H

#include <nest/base.h>
#include <nest/backend.h>
#include <nest/vmcs.h>
#include <nest/vmx.h>
#include <nest/vmx-arch.h>
#include <nest/svm.h>
#include <nest/tdp.h>
#include <nest/state.h>
#include <nest/cpu.h>

#endif /* NEST_NEST_H */
