/* SPDX-License-Identifier: MIT */
/**
 * @file base.h
 * @brief Version macros, status codes and the export macro.
 *
 * Included by every libnest header; include nest/nest.h to get the whole
 * API. ABI policy: within one major version the ABI is stable.
 * Enumerations are append-only; structures that may grow start with a
 * @c size member and callees accept every older size.
 */
#ifndef NEST_BASE_H
#define NEST_BASE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Major version: the ABI is stable for a given major version. */
#define NEST_VERSION_MAJOR 0
/** Minor version: additions only. */
#define NEST_VERSION_MINOR 1
/** Patch version: fixes only. */
#define NEST_VERSION_PATCH 0
/** Version as one number: 0xMMmmpp. */
#define NEST_VERSION_HEX                                                                           \
	((NEST_VERSION_MAJOR << 16) | (NEST_VERSION_MINOR << 8) | NEST_VERSION_PATCH)

/** Marks a symbol that belongs to the public ABI. */
#if defined(NEST_BUILDING_LIBRARY) && defined(__GNUC__)
#define NEST_API __attribute__((visibility("default")))
#else
#define NEST_API
#endif

/**
 * @brief The list of libnest status codes, as an X-macro.
 *
 * Each entry is X(NAME, value, "text"). Append only: a value, once
 * released, keeps its meaning forever. Architectural outcomes (VMfail
 * numbers, VM-entry failures, VMEXIT_INVALID) are never status codes; they
 * are data in the result of the call that produced them.
 */
#define NEST_STATUS_LIST(X)                                                                        \
	X(NEST_OK, 0, "success")                                                                   \
	X(NEST_E_INVAL, 1, "invalid argument")                                                     \
	X(NEST_E_SIZE, 2, "unsupported structure size")                                            \
	X(NEST_E_NOMEM, 3, "backend could not provide memory")                                     \
	X(NEST_E_BACKEND, 4, "a backend operation failed")                                         \
	X(NEST_E_FAULT, 5, "address not accessible through the backend")                           \
	X(NEST_E_STATE, 6, "operation not valid in the current state")                             \
	X(NEST_E_UNSUPPORTED, 7, "feature not supported")                                          \
	X(NEST_E_NOT_MAPPED, 8, "address not mapped by L0")                                        \
	X(NEST_E_RANGE, 9, "value out of range")                                                   \
	X(NEST_E_FORMAT, 10, "malformed serialized data")                                          \
	X(NEST_E_NOENT, 11, "no such entry")                                                       \
	X(NEST_E_NOSPC, 12, "buffer too small")                                                    \
	X(NEST_E_MISSING_OP, 13, "a required backend operation is missing")

/** libnest status codes (see NEST_STATUS_LIST). */
typedef enum nest_status {
/// @cond INTERNAL
#define NEST_STATUS_ENUM_(name, value, text) name = value,
	NEST_STATUS_LIST(NEST_STATUS_ENUM_)
#undef NEST_STATUS_ENUM_
/// @endcond
} nest_status_t;

/**
 * @brief The library's version as NEST_VERSION_HEX was when it was built.
 * @return (major << 16) | (minor << 8) | patch.
 */
NEST_API uint32_t nest_version(void);

/**
 * @brief The library's version as a string, "major.minor.patch".
 * @return A static string; never NULL.
 */
NEST_API const char *nest_version_string(void);

/**
 * @brief Describe a status code.
 * @param status A value returned by a libnest call.
 * @return A static English description; "unknown status" for unknown codes.
 */
NEST_API const char *nest_strerror(int status);

/**
 * @brief The symbolic name of a status code ("NEST_E_INVAL").
 * @param status A value returned by a libnest call.
 * @return A static string; "NEST_E_UNKNOWN" for unknown codes.
 */
NEST_API const char *nest_status_name(int status);

#ifdef __cplusplus
}
#endif

#endif /* NEST_BASE_H */
