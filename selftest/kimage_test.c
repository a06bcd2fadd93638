// SPDX-License-Identifier: GPL-2.0
/*
 * Selftest cases for pages of the kernel image's physical range.  Freed
 * init memory, the image's gaps and the tail of its last 2M leaf reach the
 * page allocator with a second kernel mapping still in place, the high
 * kernel-image alias (__START_KERNEL_map + phys - phys_base), unless PTI
 * removed it.  Hiding the direct map does nothing there.
 */

#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/pfn.h>
#include <linux/topology.h>
#include <linux/vmalloc.h>

#include "nd_internal.h"
#include "probe.h"
#include "selftest.h"

/* Searches for a page the page allocator hands straight back. */
#define ND_KIMAGE_TRIES		4

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
 * kernel-image alias, or NULL.  Unmovable requests take the largest
 * blocks of other types first, and the image's freed pages sit in small
 * ones, so the search takes all free memory it needs: whole blocks first,
 * then pages, all held (as pages) on @held meanwhile, so nothing comes back.
 */
static struct page *nd_kimage_find(unsigned int order, struct list_head *held)
{
	struct page *page;
	unsigned int i;
	int first;

	while ((page = alloc_pages(ND_KIMAGE_GFP, ND_BLOCK_ORDER))) {
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
	while ((page = alloc_page(ND_KIMAGE_GFP))) {
		if (nd_kimage_alias(page))
			return page;
		list_add(&page->lru, held);
	}
	return NULL;
}

/*
 * Whether the page allocator hands @page (of @order) straight back on this
 * CPU once freed, as it must for the module to get it: the per-CPU lists
 * are last in, first out.  Everything the search held is freed first, so
 * that the module finds memory, and before @page, so that @page is what
 * comes back first.  Called with migration disabled.
 */
static bool nd_kimage_comes_back(struct page *page, unsigned int order,
				 struct list_head *held)
{
	struct page *got;

	nd_kimage_free_held(held);
	__free_pages(page, order);
	got = alloc_pages_node(numa_node_id(), GFP_KERNEL | __GFP_NOWARN |
			       __GFP_NORETRY, order);
	if (got == page)
		return true;
	if (got)
		__free_pages(got, order);
	return false;
}

/*
 * Give the module a page with a kernel-image alias, @order at a time, and
 * see what the allocation of @size gets.  Returns ND_FAIL when a page of
 * the allocation has such an alias and a read or write through it did not
 * fault, ND_PASS when none has and the module set the offered page aside
 * (kimage_pages grew), ND_SKIP when no such page reached the module.
 */
static int nd_kimage_offer(unsigned int order, unsigned long size,
			   const char *path)
{
	unsigned int try, i, nr = size >> PAGE_SHIFT;
	unsigned long alias = 0, kept;
	struct page *cand = NULL;
	bool failed = false;
	LIST_HEAD(held);
	struct nd_probe probe = { .nr_pages = 1, .want_read = -EFAULT,
				  .want_write = -EFAULT };
	u8 *p = NULL;

	migrate_disable();
	for (try = 0; try < ND_KIMAGE_TRIES; try++) {
		cand = nd_kimage_find(order, &held);
		if (!cand || nd_kimage_comes_back(cand, order, &held))
			break;
		cand = NULL;
	}
	if (!cand) {
		nd_skip_reason = "no free kernel-image page came back from the allocator";
		goto out;
	}
	kept = atomic_long_read(&nd_stats.kimage_pages);
	/* Now, before anything else on this CPU can take it. */
	__free_pages(cand, order);
	p = nd_vmalloc(size);
	if (nd_test(p, "%s: nd_vmalloc(%lu) failed", path, size)) {
		failed = true;
		goto out;
	}

	for (i = 0; i < nr; i++) {
		alias = nd_kimage_alias(vmalloc_to_page(p + i * PAGE_SIZE));
		if (alias)
			break;
	}
	if (!alias) {
		kept = atomic_long_read(&nd_stats.kimage_pages) - kept;
		if (kept)
			pr_info("    # %s: the offered page was set aside (%lu pages kept by this call)\n",
				path, kept);
		else
			nd_skip_reason = "the offered page did not reach the module";
		goto out;
	}
	memset(p, 0x5a, size);
	probe.va = &alias;
	probe.alias = p + i * PAGE_SIZE;
	failed |= nd_test(nd_probe_all_cpus(&probe, path),
			  "%s: page %u of the allocation is reached through its kernel-image alias %px",
			  path, i, (void *)alias);
out:
	nd_vfree(p);
	migrate_enable();
	nd_kimage_free_held(&held);
	if (failed)
		return ND_FAIL;
	return nd_skip_reason ? ND_SKIP : ND_PASS;
}

/*
 * Offer the per-page path (the selftest runs with the pool off) a page
 * with a kernel-image alias: it must never become an allocation's page,
 * or reading through that alias must fault.
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
