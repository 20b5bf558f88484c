/* SPDX-License-Identifier: MIT */
/* Page allocator: a bump pointer over one range plus a free list of pages;
 * one lock for every processor. */
#include "bm.h"

static uint64_t next, limit;
static void *free_list; /* singly linked through the first word of each page */
static volatile int alloc_lock;

static void lock(void)
{
	while (__atomic_exchange_n(&alloc_lock, 1, __ATOMIC_ACQUIRE))
		while (alloc_lock)
			pause();
}

static void unlock(void)
{
	__atomic_store_n(&alloc_lock, 0, __ATOMIC_RELEASE);
}

void bm_mem_init(uint64_t base, uint64_t end)
{
	next = BM_ALIGN_UP(base, BM_PAGE_SIZE);
	limit = BM_ALIGN_DOWN(end, BM_PAGE_SIZE);
	if (limit < next)
		limit = next;
	free_list = NULL;
}

static void *pages_alloc(size_t npages, uint64_t align)
{
	if (align < BM_PAGE_SIZE)
		align = BM_PAGE_SIZE;
	uint64_t p = BM_ALIGN_UP(next, align);
	uint64_t bytes = (uint64_t)npages * BM_PAGE_SIZE;
	if (p < next || p > limit || bytes > limit - p)
		return NULL;
	/* Pages skipped for alignment go to the free list. */
	for (uint64_t q = next; q < p; q += BM_PAGE_SIZE) {
		*(void **)(uintptr_t)q = free_list;
		free_list = (void *)(uintptr_t)q;
	}
	next = p + bytes;
	memset((void *)(uintptr_t)p, 0, bytes);
	return (void *)(uintptr_t)p;
}

void *bm_pages_alloc(size_t npages, uint64_t align)
{
	lock();
	void *p = pages_alloc(npages, align);
	unlock();
	return p;
}

void *bm_page_alloc(void)
{
	void *p;

	lock();
	if (free_list) {
		p = free_list;
		free_list = *(void **)p;
		memset(p, 0, BM_PAGE_SIZE);
	} else {
		p = pages_alloc(1, BM_PAGE_SIZE);
	}
	unlock();
	return p;
}

void bm_page_free(void *page)
{
	if (!page)
		return;
	lock();
	*(void **)page = free_list;
	free_list = page;
	unlock();
}

uint64_t bm_mem_free_bytes(void)
{
	return limit - next;
}
