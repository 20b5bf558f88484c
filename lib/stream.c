/* SPDX-License-Identifier: MIT */
/*
 * The header every saved nested state starts with (struct nest_state_header,
 * docs/state.md): written and checked here for both architectures.
 */
#include "internal.h"

void nest__state_hdr_init(struct nest_state_header *h, uint32_t arch, uint32_t size)
{
	nest__memset(h, 0, sizeof(*h));
	h->magic = NEST_STATE_MAGIC;
	h->version = NEST_STATE_VERSION;
	h->arch = arch;
	h->size = size;
}

bool nest__state_hdr_ok(const struct nest_state_header *h, uint32_t arch, uint32_t flags_all)
{
	return h->magic == NEST_STATE_MAGIC && h->version == NEST_STATE_VERSION &&
	       h->arch == arch && h->reserved == 0 && (h->flags & ~flags_all) == 0;
}
