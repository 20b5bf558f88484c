/* SPDX-License-Identifier: MIT */
/**
 * @file vmcs.h
 * @brief VMCS field table queries (encodings, names, widths, types).
 *
 * One table describes every VMCS field of the Intel SDM (Vol. 3D, Appendix
 * B): it is the X-macro list in nest/vmcs-fields.def, installed with the
 * headers, from which the constants below, libnest's vmcs12 image layout
 * and the lookup functions are all generated.
 *
 * A field encoding (SDM 25.11.2) packs: bit 0 access type (1 = high half of
 * a 64-bit field), bits 9:1 index, bits 11:10 type, bits 14:13 width.
 */
#ifndef NEST_VMCS_H
#define NEST_VMCS_H

#include <nest/base.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Field width, as encoded in bits 14:13 of an encoding. */
enum nest_vmcs_width {
	NEST_VMCS_W16 = 0,  ///< 16-bit
	NEST_VMCS_W64 = 1,  ///< 64-bit
	NEST_VMCS_W32 = 2,  ///< 32-bit
	NEST_VMCS_WNAT = 3  ///< natural width (64 bits on processors with Intel 64)
};

/** Field type, as encoded in bits 11:10 of an encoding. */
enum nest_vmcs_type {
	NEST_VMCS_T_CONTROL = 0, ///< control field
	NEST_VMCS_T_RO = 1,      ///< VM-exit information (read-only data) field
	NEST_VMCS_T_GUEST = 2,   ///< guest-state field
	NEST_VMCS_T_HOST = 3     ///< host-state field
};

/** @name Field flags (nest_vmcs_field::flags)
 *  @{ */
/** L1 may VMREAD the field through a shadow VMCS without an exit. */
#define NEST_VMCS_F_SHADOW_READ 0x1u
/** L1 may VMWRITE the field through a shadow VMCS without an exit. */
#define NEST_VMCS_F_SHADOW_WRITE 0x2u
/** @} */

/** Width of a field from its encoding (enum nest_vmcs_width). */
#define NEST_VMCS_ENC_WIDTH(enc) (((enc) >> 13) & 3u)
/** Type of a field from its encoding (enum nest_vmcs_type). */
#define NEST_VMCS_ENC_TYPE(enc) (((enc) >> 10) & 3u)
/** Index of a field from its encoding. */
#define NEST_VMCS_ENC_INDEX(enc) (((enc) >> 1) & 0x1ffu)
/** Access type of an encoding: 1 for the high 32 bits of a 64-bit field. */
#define NEST_VMCS_ENC_HIGH(enc) ((enc) & 1u)

/**
 * @brief Encodings of all VMCS fields: NEST_VMCS_GUEST_CR0 and so on.
 *
 * Generated from nest/vmcs-fields.def.
 */
enum nest_vmcs_encoding {
/// @cond INTERNAL
#define NEST_VMCS_FIELD(name, enc, width, shadow) NEST_VMCS_##name = enc,
#include <nest/vmcs-fields.def>
#undef NEST_VMCS_FIELD
	NEST_VMCS_ENCODING_END_ = -1
/// @endcond
};

/**
 * @brief One VMCS field, as described by the table.
 *
 * IMPORTANT: layout. Part of the ABI; append-only.
 */
struct nest_vmcs_field {
	const char *name;  ///< conventional name without prefix, e.g. "GUEST_CR0"
	uint32_t encoding; ///< encoding with access type full (bit 0 clear)
	uint16_t offset;   ///< byte offset of the field in libnest's vmcs12 image
	uint8_t width;     ///< enum nest_vmcs_width
	uint8_t type;      ///< enum nest_vmcs_type
	uint32_t flags;    ///< NEST_VMCS_F_* flags
	uint32_t reserved; ///< zero
};

/**
 * @brief Look a field up by encoding.
 * @param encoding A VMREAD/VMWRITE encoding; an encoding with the high
 *        access type (bit 0 set) finds its 64-bit field.
 * @return The field, or NULL if the SDM defines no such field (or bit 0 is
 *         set on a field that is not 64 bits wide, or bits 31:15 are set).
 */
NEST_API const struct nest_vmcs_field *nest_vmcs_field_by_encoding(uint32_t encoding);

/**
 * @brief Look a field up by name.
 * @param name The conventional name ("GUEST_CR0"); ASCII case is ignored
 *        and a leading "NEST_VMCS_" is accepted.
 * @return The field, or NULL.
 */
NEST_API const struct nest_vmcs_field *nest_vmcs_field_by_name(const char *name);

/**
 * @brief Number of fields in the table.
 * @return The count; nest_vmcs_field_at() accepts 0 to count - 1.
 */
NEST_API size_t nest_vmcs_field_count(void);

/**
 * @brief Iterate the table.
 * @param index 0 to nest_vmcs_field_count() - 1, in table order.
 * @return The field, or NULL if @p index is out of range.
 */
NEST_API const struct nest_vmcs_field *nest_vmcs_field_at(size_t index);

/**
 * @brief Size in bytes of a field's storage in the vmcs12 image.
 * @param width enum nest_vmcs_width.
 * @return 2, 4 or 8; 0 for an invalid width.
 */
NEST_API unsigned nest_vmcs_width_bytes(unsigned width);

#ifdef __cplusplus
}
#endif

#endif /* NEST_VMCS_H */
