/* SPDX-License-Identifier: MIT */
/* Bochs power-off and UART drain; see bochs.h. */
#include "bochs.h"

#define UART_LSR 5
#define LSR_TEMT 0x40 /* transmitter (holding and shift registers) empty */
#define DRAIN_SPIN_LIMIT 10000000u
/* Extra idle reads after TEMT: Bochs writes the byte out on its next timer tick. */
#define DRAIN_SETTLE_READS 100000u

void bm_serial_drain(void)
{
	for (unsigned i = 0; i < DRAIN_SPIN_LIMIT; i++) {
		if (inb(BM_COM1 + UART_LSR) & LSR_TEMT)
			break;
		pause();
	}
	for (unsigned i = 0; i < DRAIN_SETTLE_READS; i++)
		(void)inb(BM_COM1 + UART_LSR);
}

void bm_bochs_shutdown(void)
{
	static const char cmd[] = "Shutdown";

	bm_serial_drain();
	for (size_t i = 0; i < sizeof(cmd) - 1; i++)
		outb(BM_BOCHS_SHUTDOWN_PORT, (uint8_t)cmd[i]);
	cli();
	for (;;)
		hlt();
}

bool bm_bochs_present(void)
{
	return inb(BM_BOCHS_E9_PORT) == BM_BOCHS_E9_PORT;
}
