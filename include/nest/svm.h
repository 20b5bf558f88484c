/* SPDX-License-Identifier: MIT */
/**
 * @file svm.h
 * @brief Nested SVM: per-vCPU context, VMRUN, \#VMEXIT reflection.
 */
#ifndef NEST_SVM_H
#define NEST_SVM_H

#include <nest/base.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* NEST_SVM_H */
