/* SPDX-License-Identifier: MIT */
/*
 * l2exits: exit loops for L2 Linux in the Linux-as-L1 run. CPUID (which
 * SVM and VMX make exit to L1's KVM, which answers in its kernel) and port
 * reads of an unclaimed port (which KVM hands to the VMM in L1's user
 * space), each a number of times, checking every answer; prints the time
 * per round trip. Static, for L2's initramfs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>
#include <time.h>

#define LOOPS 2000
#define PORT_NONE 0x80 /* the POST port: no device behind it in minivmm */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned loops = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : LOOPS;
	int bad = 0;

	uint32_t a0, b0, c0, d0;
	__asm__ volatile("cpuid" : "=a"(a0), "=b"(b0), "=c"(c0), "=d"(d0) : "a"(0), "c"(0));
	double t = now();
	for (unsigned i = 0; i < loops; i++) {
		uint32_t a, b, c, d;
		__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
		if (a != a0 || b != b0 || c != c0 || d != d0)
			bad++;
	}
	double dt = now() - t;
	printf("l2exits: %u CPUIDs in %.3f s (%.1f us each), %d wrong\n", loops, dt,
	       dt * 1e6 / loops, bad);
	int cpuid_bad = bad;

	if (ioperm(PORT_NONE, 1, 1) != 0) {
		perror("l2exits: ioperm");
		return 1;
	}
	bad = 0;
	t = now();
	for (unsigned i = 0; i < loops; i++)
		if (inb(PORT_NONE) != 0xFF)
			bad++;
	dt = now() - t;
	printf("l2exits: %u port reads in %.3f s (%.1f us each), %d wrong\n", loops, dt,
	       dt * 1e6 / loops, bad);
	return cpuid_bad || bad;
}
