/* SPDX-License-Identifier: MIT */
/*
 * QEMU's fw_cfg (docs/specs/fw_cfg.rst in QEMU's tree), seen by L1. It is
 * passed through except for the items that tell the machine's RAM size:
 * FW_CFG_RAM_SIZE and the "etc/e820" file, which L1 reads as its own memory
 * (the same map as its multiboot information). The DMA interface is hidden
 * (FW_CFG_ID without the DMA bit, the DMA ports read as no device) so every
 * read goes through the data port the stub sees (string I/O too: strio.c).
 */
#include "stub.h"

#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_ID 0x0001
#define FW_CFG_ID_DMA 0x02
#define FW_CFG_RAM_SIZE 0x0003
#define FW_CFG_FILE_DIR 0x0019
#define FW_CFG_FILE_ENTRY_SIZE 64
#define FW_CFG_FILE_NAME_OFF 8
#define FW_CFG_MAX_FILES 64
#define E820_ENTRY_SIZE 20
#define NO_ITEM 0xFFFFFFFFu

static struct {
	uint16_t key;
	uint32_t offset;
	uint32_t e820_key;
	uint8_t dir[4 + FW_CFG_MAX_FILES * FW_CFG_FILE_ENTRY_SIZE];
	uint32_t dir_len;
	uint8_t e820[STUB_MAX_L1_MMAP * E820_ENTRY_SIZE];
	uint32_t e820_len;
	uint8_t ram_size[8];
} fw;

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void fwcfg_init(void)
{
	fw.e820_key = NO_ITEM;
	put_le(fw.ram_size, stub.l1_size, sizeof(fw.ram_size));
	for (unsigned i = 0; i < stub.l1_mmap_count; i++) {
		const struct mb_mmap_entry *e = &stub.l1_mmap[i];
		uint8_t *p = fw.e820 + fw.e820_len;
		put_le(p, e->addr, 8);
		put_le(p + 8, e->len, 8);
		put_le(p + 16, e->type, 4);
		fw.e820_len += E820_ENTRY_SIZE;
	}

	/* Is there a fw_cfg device at all? Its signature reads "QEMU". */
	outw(FW_CFG_PORT_SEL, FW_CFG_SIGNATURE);
	if (inb(FW_CFG_PORT_DATA) != 'Q') {
		bm_printf("stub: no fw_cfg device\n");
		return;
	}
	outw(FW_CFG_PORT_SEL, FW_CFG_FILE_DIR);
	for (unsigned i = 0; i < 4; i++)
		fw.dir[i] = inb(FW_CFG_PORT_DATA);
	uint32_t count = be32(fw.dir);
	if (count > FW_CFG_MAX_FILES)
		count = FW_CFG_MAX_FILES;
	fw.dir_len = 4 + count * FW_CFG_FILE_ENTRY_SIZE;
	for (uint32_t i = 4; i < fw.dir_len; i++)
		fw.dir[i] = inb(FW_CFG_PORT_DATA);
	for (uint32_t i = 0; i < count; i++) {
		uint8_t *e = fw.dir + 4 + i * FW_CFG_FILE_ENTRY_SIZE;
		if (!strcmp((const char *)e + FW_CFG_FILE_NAME_OFF, "etc/e820")) {
			fw.e820_key = (uint32_t)e[4] << 8 | e[5];
			e[0] = (uint8_t)(fw.e820_len >> 24);
			e[1] = (uint8_t)(fw.e820_len >> 16);
			e[2] = (uint8_t)(fw.e820_len >> 8);
			e[3] = (uint8_t)fw.e820_len;
		}
	}
	/* Our directory claims the count we kept. */
	fw.dir[0] = (uint8_t)(count >> 24);
	fw.dir[1] = (uint8_t)(count >> 16);
	fw.dir[2] = (uint8_t)(count >> 8);
	fw.dir[3] = (uint8_t)count;
}

static uint8_t served(const uint8_t *buf, uint32_t len)
{
	return fw.offset < len ? buf[fw.offset] : 0;
}

static uint8_t data_byte(void)
{
	uint8_t real = inb(FW_CFG_PORT_DATA); /* keeps the device's offset in step */
	uint8_t v = real;

	if (fw.key == FW_CFG_RAM_SIZE)
		v = served(fw.ram_size, sizeof(fw.ram_size));
	else if (fw.key == FW_CFG_FILE_DIR && fw.dir_len)
		v = served(fw.dir, fw.dir_len);
	else if (fw.key == fw.e820_key)
		v = served(fw.e820, fw.e820_len);
	else if (fw.key == FW_CFG_ID && fw.offset == 0)
		v = real & (uint8_t)~FW_CFG_ID_DMA;
	fw.offset++;
	return v;
}

bool fwcfg_io(uint16_t port, bool in, unsigned size, uint32_t *val)
{
	if (port >= FW_CFG_PORT_DMA && port < FW_CFG_PORT_DMA + FW_CFG_DMA_PORTS) {
		if (in)
			*val = 0xFFFFFFFFu; /* no DMA interface */
		return true;
	}
	if (port == FW_CFG_PORT_SEL) {
		if (in) {
			*val = size == 1 ? inb(port) : inw(port);
		} else {
			fw.key = (uint16_t)*val;
			fw.offset = 0;
			outw(FW_CFG_PORT_SEL, fw.key);
		}
		return true;
	}
	if (port == FW_CFG_PORT_DATA) {
		if (in) {
			uint32_t v = 0;
			for (unsigned i = 0; i < size; i++)
				v |= (uint32_t)data_byte() << (8 * i);
			*val = v;
		}
		/* Writes to the data port are ignored by QEMU since 2.4; so here. */
		return true;
	}
	return false;
}
