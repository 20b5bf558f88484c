/* SPDX-License-Identifier: MIT */
/* A small vsnprintf: %c %s %d %i %u %x %X %p %%, l/ll/z, flags - 0 #, width, %.Ns. */
#include "bm.h"

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_field(struct out *o, const char *s, size_t n, unsigned width, bool left, char pad)
{
	size_t fill = width > n ? width - n : 0;

	if (!left)
		while (fill--)
			put(o, pad);
	for (size_t i = 0; i < n; i++)
		put(o, s[i]);
	if (left)
		while (fill--)
			put(o, ' ');
}

int bm_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size, 0};

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		bool left = false, zero = false, alt = false;
		unsigned width = 0, lng = 0;
		for (fmt++;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				zero = true;
			else if (*fmt == '#')
				alt = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (unsigned)(*fmt++ - '0');
		size_t prec = SIZE_MAX;
		if (*fmt == '.') {
			prec = 0;
			for (fmt++; *fmt >= '0' && *fmt <= '9'; fmt++)
				prec = prec * 10 + (size_t)(*fmt - '0');
		}
		while (*fmt == 'l' || *fmt == 'z') {
			lng += *fmt == 'z' ? 2 : 1;
			fmt++;
		}
		char tmp[24];
		char *end = tmp + sizeof(tmp), *p = end;
		uint64_t u;
		bool neg = false;
		unsigned base = 10;
		bool upper = false;
		switch (*fmt) {
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			put_field(&o, tmp, 1, width, left, ' ');
			continue;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			size_t n = 0;
			while (n < prec && s[n])
				n++;
			put_field(&o, s, n, width, left, ' ');
			continue;
		}
		case '%':
			put(&o, '%');
			continue;
		case 'd':
		case 'i': {
			int64_t s = lng >= 2   ? va_arg(ap, long long)
				    : lng == 1 ? va_arg(ap, long)
					       : va_arg(ap, int);
			neg = s < 0;
			u = neg ? -(uint64_t)s : (uint64_t)s;
			break;
		}
		case 'p':
			u = (uint64_t)(uintptr_t)va_arg(ap, void *);
			base = 16;
			alt = true;
			break;
		case 'X':
			upper = true;
			/* fall through */
		case 'x':
			base = 16;
			/* fall through */
		case 'u':
			u = lng >= 2   ? va_arg(ap, unsigned long long)
			    : lng == 1 ? va_arg(ap, unsigned long)
				       : va_arg(ap, unsigned int);
			break;
		default:
			put(&o, '%');
			if (!*fmt)
				goto done;
			put(&o, *fmt);
			continue;
		}
		do {
			unsigned d = (unsigned)(u % base);
			*--p = (char)(d < 10 ? '0' + d : (upper ? 'A' : 'a') + d - 10);
			u /= base;
		} while (u);
		size_t n = (size_t)(end - p);
		const char *prefix = neg ? "-" : (alt && base == 16) ? "0x" : "";
		size_t plen = strlen(prefix);
		if (zero && !left) {
			for (size_t i = 0; i < plen; i++)
				put(&o, prefix[i]);
			put_field(&o, p, n, width > plen ? width - (unsigned)plen : 0, false, '0');
		} else {
			char field[26];
			memcpy(field, prefix, plen);
			memcpy(field + plen, p, n);
			put_field(&o, field, plen + n, width, left, ' ');
		}
	}
done:
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int bm_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = bm_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int bm_vprintf(const char *fmt, va_list ap)
{
	char buf[512];
	int n = bm_vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t len = (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1;

	bm_serial_write(buf, len);
	return n;
}

int bm_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = bm_vprintf(fmt, ap);
	va_end(ap);
	return n;
}
