// SPDX-License-Identifier: GPL-2.0
/*
 * Selftest cases for pages of the kernel image's physical range.  Freed
 * init memory, the image's gaps and the tail of its last 2M leaf reach the
 * page allocator with a second kernel mapping still in place, the high
 * kernel-image alias (__START_KERNEL_map + phys - phys_base), unless PTI
 * removed it.  Hiding the direct map does nothing there: the module sets
 * such pages aside before they become an allocation's or a pool block's.
 */

#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/pfn.h>
#include <linux/vmalloc.h>

#include "nd_internal.h"
#include "selftest.h"

/*
 * The address of the kernel-image alias of @page if the page tables map
 * it now, else 0: found from the tables, not from anything the module
 * knows.
 */
static unsigned long nd_kimage_alias(struct page *page)
{
	/* phys_base is a difference: it wraps when loaded below the link address. */
	unsigned long off = PFN_PHYS(page_to_pfn(page)) - phys_base;
	unsigned int level;
	unsigned long va;
	pte_t *kpte;

	if (off >= KERNEL_IMAGE_SIZE)
		return 0;
	va = __START_KERNEL_map + off;
	kpte = lookup_address(va, &level);
	return kpte && pte_present(*kpte) ? va : 0;
}

/*
 * Whether the frame @pfn is free in the buddy allocator, as the kernel's
 * own is_free_buddy_page() reads it (locklessly, as it does).  A page on a
 * per-CPU list does not count: the allocator hands it out on that CPU
 * only, so the search below could take all memory without meeting it (a
 * search that came back empty took 20 s of a 5G boot under TCG).  Only a
 * hint: nothing stops the allocator meanwhile.
 */
static bool nd_kimage_pfn_free(unsigned long pfn)
{
	return pfn_valid(pfn) && is_free_buddy_page(pfn_to_page(pfn));
}

/* The zone modifier that makes the page allocator serve from @page's zone. */
static gfp_t nd_kimage_zone_gfp(struct page *page)
{
	switch (page_zonenum(page)) {
#ifdef CONFIG_ZONE_DMA
	case ZONE_DMA:
		return GFP_DMA;
#endif
#ifdef CONFIG_ZONE_DMA32
	case ZONE_DMA32:
		return GFP_DMA32;
#endif
	default:
		return 0;
	}
}

/*
 * Whether a free block of @order that the kernel-image mapping reaches is
 * to be had now: every page of it free in the buddy allocator, one with
 * its alias mapped.  When there is none (PTI unmapped the alias of every
 * freed page, or no whole free 2M lies in the image), the search below
 * would take all memory before it came back empty-handed: minutes on a
 * 5G boot under TCG.  *@zone_gfp gets the zone to search: the image lies
 * low, and taking ZONE_NORMAL's memory first would only starve the system.
 */
static bool nd_kimage_free_block(unsigned int order, gfp_t *zone_gfp)
{
	unsigned long nr = 1UL << order, va, pfn, i;
	unsigned int level;
	bool aliased;

	for (va = __START_KERNEL_map;
	     va - __START_KERNEL_map < KERNEL_IMAGE_SIZE;
	     va += nr << PAGE_SHIFT) {
		if (!lookup_address(va, &level)) {
			/* Unmapped: on to the next 2M (a block never spans two). */
			va = ALIGN(va + 1, PMD_SIZE) - (nr << PAGE_SHIFT);
			continue;
		}
		pfn = (va - __START_KERNEL_map + phys_base) >> PAGE_SHIFT;
		aliased = false;
		for (i = 0; i < nr; i++) {
			if (!nd_kimage_pfn_free(pfn + i))
				break;
			aliased |= !!nd_kimage_alias(pfn_to_page(pfn + i));
		}
		if (i == nr && aliased) {
			*zone_gfp = nd_kimage_zone_gfp(pfn_to_page(pfn));
			return true;
		}
	}
	return false;
}

/* The first page of @nr from @page that has a kernel-image alias, or -1. */
static int nd_kimage_first(struct page *page, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (nd_kimage_alias(page + i))
			return i;
	return -1;
}

static void nd_kimage_free_held(struct list_head *held)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, held, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
}

/* Unmovable as GFP_KERNEL, but no reclaim: the search ends at the watermark. */
#define ND_KIMAGE_GFP	((GFP_KERNEL & ~__GFP_RECLAIM) | __GFP_NOWARN)

/*
 * A free block of @order (0 or ND_BLOCK_ORDER) with a page that has a
 * kernel-image alias, or NULL, taken from the zone @zone_gfp says.
 * Unmovable requests take the largest blocks of other types first, and the
 * image's freed pages sit in small ones, so the search takes all free memory
 * it needs: whole blocks first, then pages, all held (as pages) on @held
 * meanwhile, so nothing comes back.
 */
static struct page *nd_kimage_find(unsigned int order, gfp_t zone_gfp,
				   struct list_head *held)
{
	gfp_t gfp = ND_KIMAGE_GFP | zone_gfp;
	struct page *page;
	unsigned int i;
	int first;

	while ((page = alloc_pages(gfp, ND_BLOCK_ORDER))) {
		first = nd_kimage_first(page, ND_BLOCK_PAGES);
		if (first >= 0 && order)
			return page;
		split_page(page, ND_BLOCK_ORDER);
		for (i = 0; i < ND_BLOCK_PAGES; i++)
			if (i != first)
				list_add(&page[i].lru, held);
		if (first >= 0)
			return page + first;
	}
	if (order)
		return NULL;
	while ((page = alloc_page(gfp))) {
		if (nd_kimage_alias(page))
			return page;
		list_add(&page->lru, held);
	}
	return NULL;
}

/*
 * Hand the module's vetting what the page allocator may hand it: a free
 * page (@order 0, as nd_vmalloc() takes them) or block (ND_BLOCK_ORDER, as
 * a new pool block) that the kernel-image mapping reaches.  The vetting
 * nd_vmalloc() and the pool run on every page and block they get must
 * set all of it aside (kimage_pages grows by its size) and give back none
 * of it; then no page of an allocation of @size on that path may have
 * the alias.  The page is found by taking free memory until it comes
 * (no other way to get a given free page), so a look at the image's
 * range first says whether there is one.  Returns ND_SKIP when there is
 * none.
 */
static int nd_kimage_offer(unsigned int order, unsigned long size,
			   const char *path)
{
	unsigned long kept, nr = 1UL << order, i;
	struct page *cand, *got;
	bool failed = false;
	gfp_t zone_gfp;
	LIST_HEAD(held);
	u8 *p;

	if (!nd_kimage_free_block(order, &zone_gfp)) {
		if (order)
			nd_skip_reason = "no free 2M block of the image's range has its alias";
		else
			nd_skip_reason = "no free page of the image's range has its alias";
		return ND_SKIP;
	}
	cand = nd_kimage_find(order, zone_gfp, &held);
	nd_kimage_free_held(&held);
	if (!cand) {
		nd_skip_reason = "the page allocator handed out none of the image's free pages";
		return ND_SKIP;
	}
	kept = atomic_long_read(&nd_stats.kimage_pages);
	if (order) {
		if (nd_pool_vet_block(cand)) {
			failed |= nd_test(false,
					  "%s: block %px of the image's range may become a pool block",
					  path, page_address(cand));
			__free_pages(cand, order);
		}
	} else {
		got = cand;
		failed |= nd_test(nd_kimage_replace(&got, 1, GFP_KERNEL),
				  "%s: no page to replace the image's page with", path);
		failed |= nd_test(got != cand,
				  "%s: page %px, which the kernel-image mapping reaches, was kept for an allocation",
				  path, page_address(cand));
		failed |= nd_test(!got || !nd_kimage_alias(got),
				  "%s: its replacement has a kernel-image alias too", path);
		if (got)
			__free_page(got);
	}
	kept = atomic_long_read(&nd_stats.kimage_pages) - kept;
	failed |= nd_test(kept == nr, "%s: %lu pages set aside, expected %lu",
			  path, kept, nr);
	if (!failed)
		pr_info("    # %s: %lu pages of the image's range set aside\n",
			path, kept);

	p = nd_vmalloc(size);
	if (nd_test(p, "%s: nd_vmalloc(%lu) failed", path, size))
		return ND_FAIL;
	for (i = 0; i < size >> PAGE_SHIFT; i++)
		failed |= nd_test(!nd_kimage_alias(vmalloc_to_page(p + i * PAGE_SIZE)),
				  "%s: page %lu of an allocation has a kernel-image alias",
				  path, i);
	nd_vfree(p);
	return failed ? ND_FAIL : ND_PASS;
}

/*
 * The per-page path (the pool off): a page with a kernel-image alias
 * never becomes an allocation's page.
 */
int nd_test_kimage_per_page(void)
{
	unsigned int old_max = nd_pool_set_max(0);
	int ret;

	nd_pool_drain();
	ret = nd_kimage_offer(0, PAGE_SIZE, "per-page");
	nd_pool_set_max(old_max);
	return ret;
}

/* The same for a new pool block: a whole 2 MiB allocation takes one. */
int nd_test_kimage_pool(void)
{
	unsigned int old_max = nd_pool_set_max(PMD_SIZE >> 20);
	int ret;

	nd_pool_drain();
	ret = nd_kimage_offer(ND_BLOCK_ORDER, ND_BLOCK_PAGES * PAGE_SIZE,
			      "pool");
	nd_pool_drain();
	nd_pool_set_max(old_max);
	return ret;
}
