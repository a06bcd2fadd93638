// SPDX-License-Identifier: GPL-2.0
/*
 * Pages the kernel image's own mapping still reaches: set aside, never
 * handed out.
 */

#include <linux/list.h>
#include <linux/mm.h>
#include <linux/spinlock.h>

#include "nd_internal.h"

/*
 * Pages of the kernel image's range that the page allocator gave us: their
 * kernel-image alias would still reach them once hidden, so they are kept
 * here, never handed out, and freed at rmmod.  At most the image's freed
 * pages (its init memory, gaps and tail), once each.  A page taken with
 * __GFP_ACCOUNT stays charged to its cgroup until then.
 */
static LIST_HEAD(nd_kimage_list);
static DEFINE_SPINLOCK(nd_kimage_lock);

/**
 * nd_kimage_keep() - set a page aside if the kernel-image mapping reaches it
 * @page: an order-0 page of ours, in the direct map.
 *
 * Context: Process context.
 * Return: true if it was kept: the caller must forget it.
 */
bool nd_kimage_keep(struct page *page)
{
	if (!nd_pageattr_kimage(page_to_pfn(page), 1))
		return false;
	spin_lock(&nd_kimage_lock);
	list_add(&page->lru, &nd_kimage_list);
	spin_unlock(&nd_kimage_lock);
	atomic_long_inc(&nd_stats.kimage_pages);
	return true;
}

/**
 * nd_kimage_release() - free the pages nd_kimage_keep() set aside
 *
 * Context: Process context, at unload: nothing can keep one any more.
 */
void nd_kimage_release(void)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, &nd_kimage_list, lru) {
		list_del(&page->lru);
		__free_page(page);
		atomic_long_dec(&nd_stats.kimage_pages);
	}
}

/**
 * nd_kimage_replace() - replace the pages the kernel-image mapping reaches
 * @pages: order-0 pages of ours, in the direct map.
 * @nr_pages: how many.
 * @gfp: what to allocate the replacements with.
 *
 * Each page of the kernel image's range is set aside (nd_kimage_keep())
 * and its slot filled with another.  Bounded: a page kept is never handed
 * to us again.
 *
 * Context: Process context.
 * Return: true, or false with a slot NULL when no other page can be had.
 */
bool nd_kimage_replace(struct page **pages, unsigned int nr_pages, gfp_t gfp)
{
	unsigned int i;

	for (i = 0; i < nr_pages; i++) {
		while (nd_kimage_keep(pages[i])) {
			pages[i] = alloc_page(gfp);
			if (!pages[i])
				return false;
		}
	}
	return true;
}
