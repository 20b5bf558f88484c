/* SPDX-License-Identifier: MIT */
/* Polled 16550 UART on COM1, 115200 8N1. */
#include "bm.h"

#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_RBR 0 /* receive buffer (DLAB=0) */
#define UART_DLL 0 /* divisor low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor high (DLAB=1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR 0x07
#define MCR_DTR_RTS_OUT2 0x0B
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define UART_CLOCK_DIV_115200 1
#define TX_SPIN_LIMIT 1000000

void bm_serial_init(void)
{
	outb(BM_COM1 + UART_IER, 0);
	outb(BM_COM1 + UART_LCR, LCR_DLAB);
	outb(BM_COM1 + UART_DLL, UART_CLOCK_DIV_115200);
	outb(BM_COM1 + UART_DLM, 0);
	outb(BM_COM1 + UART_LCR, LCR_8N1);
	outb(BM_COM1 + UART_FCR, FCR_ENABLE_CLEAR);
	outb(BM_COM1 + UART_MCR, MCR_DTR_RTS_OUT2);
}

void bm_serial_putc(char c)
{
	for (unsigned i = 0; i < TX_SPIN_LIMIT; i++) {
		if (inb(BM_COM1 + UART_LSR) & LSR_THRE)
			break;
		pause();
	}
	outb(BM_COM1 + UART_THR, (uint8_t)c);
}

void bm_serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bm_serial_putc(s[i]);
}

int bm_serial_getc(void)
{
	if (!(inb(BM_COM1 + UART_LSR) & LSR_DR))
		return -1;
	return inb(BM_COM1 + UART_RBR);
}
