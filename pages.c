// SPDX-License-Identifier: GPL-2.0
/*
 * The pages of an area and their mapping: from the page allocator (in
 * runs, as 7.x's vmalloc() takes them) or from the pool, mapped with
 * vmap() where /proc/kcore will not read them.
 */

#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "nd_internal.h"

/* No larger than one direct-map 2M leaf: beyond, no table is saved. */
#define ND_CONTIG_MAX_ORDER	(PMD_SHIFT - PAGE_SHIFT)

/*
 * Fill @pages as this kernel's vmalloc() would (ND_VMALLOC_TAKES_RUNS):
 * on 7.x first with runs of contiguous pages where the page allocator has
 * them free, which share their direct-map tables, so that hiding and
 * restoring walk a table once per run instead of once per page, and one
 * allocation replaces many.  Runs are only taken if free now: no direct
 * reclaim, no warning (kswapd is woken, as for vmalloc()'s runs).  The
 * rest come from the bulk allocator; slots still NULL are the caller's to
 * fill.  A run stays whole, its order + 1 in its first page's
 * page_private(), until nd_runs_split().
 */
static void nd_alloc_pages_contig(gfp_t gfp, unsigned int nr_pages,
				  struct page **pages)
{
	gfp_t run_gfp = (gfp & ~__GFP_DIRECT_RECLAIM) | __GFP_NOWARN;
	unsigned int i, done = 0, max_order = ND_CONTIG_MAX_ORDER, order;
	struct page *page;

	while (ND_VMALLOC_TAKES_RUNS && done < nr_pages) {
		order = min_t(unsigned int, ilog2(nr_pages - done), max_order);
		if (!order)
			break;
		page = alloc_pages(run_gfp, order);
		if (!page) {
			max_order = order - 1;
			continue;
		}
		set_page_private(page, order + 1);
		for (i = 0; i < 1U << order; i++)
			pages[done++] = page + i;
	}
	if (done < nr_pages)
		nd_alloc_pages_bulk(gfp, nr_pages - done, pages + done);
}

/* The order of the run that starts at @page, and forget it. */
static unsigned int nd_run_take_order(struct page *page)
{
	unsigned int order = page_private(page);

	if (!order)
		return 0;
	set_page_private(page, 0);
	return order - 1;
}

/*
 * Independent pages from here on, each freed on its own (by vfree(), or
 * by nd_pages_free() if vmap() fails).  Until now a transient reference
 * someone took on a run's first page (compaction may) would let the run's
 * other pages be freed without their memcg charge, as for any unsplit
 * high-order page; the window is the rest of the allocation only.
 */
static void nd_runs_split(struct page **pages, unsigned int nr_pages)
{
	unsigned int i, order;

	if (!ND_VMALLOC_TAKES_RUNS)
		return;
	for (i = 0; i < nr_pages; i += 1U << order) {
		order = nd_run_take_order(pages[i]);
		if (order)
			split_page(pages[i], order);
	}
}

/*
 * Give back what an allocation that failed had taken, a run still whole
 * as it was taken (a page at a time once split).
 */
static void nd_pages_free(struct page **pages, unsigned int nr_pages)
{
	unsigned int i, order;

	for (i = 0; i < nr_pages; i += 1U << order) {
		order = 0;
		if (pages[i]) {
			order = nd_run_take_order(pages[i]);
			__free_pages(pages[i], order);
		}
	}
}

/**
 * nd_map_pages() - allocate pages and map them where kcore will not look
 * @size: bytes, at least 1.
 * @gfp: for the pages.
 * @pagesp: if not NULL, receives the page array, which vfree() frees.
 *
 * Like vmalloc(), but mapped with vmap(VM_IOREMAP): vread(), and so
 * /proc/kcore, reads such an area as a hole, where for a vmalloc area it
 * copies through the direct map (an oops on 6.1, a read that retries for
 * ever on 6.12, once the pages are hidden).  VM_MAP_PUT_PAGES hands the
 * pages to the area, so vfree() frees them as for any vmalloc area.
 *
 * Context: Process context, may sleep.
 * Return: the address, or NULL.
 */
void *nd_map_pages(unsigned long size, gfp_t gfp, struct page ***pagesp)
{
	unsigned int i, nr_pages = PAGE_ALIGN(size) >> PAGE_SHIFT;
	gfp_t meta_gfp = nd_meta_kvgfp(gfp);
	struct page **pages;
	void *addr = NULL;

	pages = nd_fail_as(ND_FAIL_META, meta_gfp) ? NULL :
		kvcalloc(nr_pages, sizeof(*pages), meta_gfp);
	if (!pages)
		return NULL;

	nd_alloc_pages_contig(gfp, nr_pages, pages);
	for (i = 0; i < nr_pages; i++) {
		if (nd_fail(ND_FAIL_PAGE))
			goto fail;
		if (!pages[i])
			pages[i] = alloc_page(gfp);
		if (!pages[i])
			goto fail;
	}
	nd_runs_split(pages, nr_pages);
	if (!nd_kimage_replace(pages, nr_pages, gfp))
		goto fail;
	if (!nd_fail(ND_FAIL_MAP))
		addr = vmap(pages, nr_pages, VM_IOREMAP | VM_MAP_PUT_PAGES,
			    PAGE_KERNEL);
	if (addr) {
		if (pagesp)
			*pagesp = pages;
		return addr;
	}
fail:
	nd_pages_free(pages, nr_pages);
	kvfree(pages);
	return NULL;
}

/**
 * nd_map_pool_pages() - map pages of the pool, hidden already
 * @size: bytes, at least 1.
 * @gfp: the caller's, for the page array.
 * @prot: the pool to take them from.
 * @pagesp: receives the page array, which the area keeps for nd_vfree().
 *
 * Mapped with VM_IOREMAP, like nd_map_pages(), and without
 * VM_MAP_PUT_PAGES: the pages go back to the pool, not to vfree().
 *
 * Context: Process context, may sleep.
 * Return: the address, or NULL with nothing taken from the pool.
 */
void *nd_map_pool_pages(unsigned long size, gfp_t gfp, enum nd_prot prot,
			struct page ***pagesp)
{
	unsigned int nr_pages = PAGE_ALIGN(size) >> PAGE_SHIFT;
	struct page **pages;
	void *addr = NULL;

	pages = kvcalloc(nr_pages, sizeof(*pages), nd_meta_kvgfp(gfp));
	if (!pages)
		return NULL;
	if (nd_pool_take(pages, nr_pages, prot)) {
		kvfree(pages);
		return NULL;
	}
	if (!nd_fail(ND_FAIL_MAP))
		addr = vmap(pages, nr_pages, VM_IOREMAP, PAGE_KERNEL);
	if (!addr) {
		nd_pool_put(pages, nr_pages, false);
		kvfree(pages);
		return NULL;
	}
	*pagesp = pages;
	return addr;
}
