/* SPDX-License-Identifier: MIT */
/**
 * @file tdp.h
 * @brief Two-dimensional paging: walkers and shadow EPT02/NPT02.
 */
#ifndef NEST_TDP_H
#define NEST_TDP_H

#include <nest/nest.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* NEST_TDP_H */
