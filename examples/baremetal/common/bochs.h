/* SPDX-License-Identifier: MIT */
/*
 * Bochs-specific helpers for kernels built on the boot layer (bm.h).
 *
 * Bochs has no isa-debug-exit device: a kernel ends the emulation by
 * writing the string "Shutdown" to its power-control port 0x8900 (Bochs
 * then exits with status 1 whatever the kernel's verdict, so the verdict
 * must be printed on the serial port first). Bochs' UART loses bytes
 * written while it is still sending the previous one, and the tail of the
 * output if the machine stops too early: bm_serial_putc() already waits
 * for THRE before each byte; bm_serial_drain() waits for the transmitter to
 * be empty (TEMT) as well.
 */
#ifndef BM_BOCHS_H
#define BM_BOCHS_H

#include "bm.h"

#define BM_BOCHS_SHUTDOWN_PORT 0x8900
/* Bochs' port 0xe9 "hack" (port_e9_hack: enabled=1): bytes go to Bochs' stdout. */
#define BM_BOCHS_E9_PORT 0xE9

/* Waits (bounded) until COM1's transmitter holding and shift registers are empty. */
void bm_serial_drain(void);
/* Drains COM1, then asks Bochs to power off; halts forever if it does not. */
__attribute__((noreturn)) void bm_bochs_shutdown(void);
/* True if Bochs' 0xe9 port answers with its signature (0xe9) on reads. */
bool bm_bochs_present(void);

#endif /* BM_BOCHS_H */
