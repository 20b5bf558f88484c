/* SPDX-License-Identifier: MIT */
/**
 * @file vmcs.h
 * @brief VMCS field table queries (encodings, names, widths, types).
 */
#ifndef NEST_VMCS_H
#define NEST_VMCS_H

#include <nest/nest.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* NEST_VMCS_H */
