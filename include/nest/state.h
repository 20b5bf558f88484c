/* SPDX-License-Identifier: MIT */
/**
 * @file state.h
 * @brief Save and restore of nested state (own format and KVM's).
 */
#ifndef NEST_STATE_H
#define NEST_STATE_H

#include <nest/base.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* NEST_STATE_H */
