/* SPDX-License-Identifier: MIT */
/**
 * @file vmx.h
 * @brief Nested VMX: per-vCPU context, instruction emulation, entry and exit.
 */
#ifndef NEST_VMX_H
#define NEST_VMX_H

#include <nest/nest.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* NEST_VMX_H */
