// SPDX-License-Identifier: GPL-2.0
/*
 * Selftest cases for what a kernel mm review found: restores after the
 * kernel's CPA rewrote our entries, stale TLB entries of a previous pool
 * owner, page references on pool pages, GFP_NOFS/NOIO callers, page counts
 * that do not fit, and hidden large leaves in the direct-map sweep.
 */

#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <asm/set_memory.h>

#include "nd_internal.h"
#include "probe.h"
#include "selftest.h"

#define ND_HARD_POOL_MB	16
/* Whole blocks to try for one on a 2M leaf. */
#define ND_HARD_BLOCKS	8

/* Every direct-map page of [va, va + nr pages) reads again on every CPU. */
static bool nd_hard_readable(unsigned long va, unsigned int nr,
			     const char *what)
{
	struct nd_probe probe = { .nr_pages = nr, .want_read = 0,
				  .want_write = ND_PROBE_NO_WRITE };
	unsigned long *vas;
	unsigned int i;
	bool ok;

	vas = kvmalloc_array(nr, sizeof(*vas), GFP_KERNEL);
	if (!vas)
		return false;
	for (i = 0; i < nr; i++)
		vas[i] = va + i * PAGE_SIZE;
	probe.va = vas;
	ok = nd_probe_all_cpus(&probe, what);
	kvfree(vas);
	return ok;
}

/* The kernel's own CPA rewrites the direct map at @page: UC, then WB. */
static bool nd_hard_cpa_churn(struct page *page)
{
	if (set_pages_array_uc(&page, 1))
		return false;
	return !set_pages_array_wb(&page, 1);
}

/*
 * A pool block of @prot on a 2M leaf, split by the kernel's CPA while
 * hidden, then freed and drained: every page must read again.  Whole
 * blocks are taken until one sits on a 2M leaf (earlier cases may have
 * split the ranges the first ones come from).  Returns the block picked,
 * or -1 (with nd_skip_reason set) if none sat on a 2M leaf.
 */
static int nd_hard_pool_cpa(enum nd_prot prot, bool *failed)
{
	void *blocks[ND_HARD_BLOCKS] = { };
	unsigned int level, i;
	unsigned long va = 0;
	int pick;
	u8 *p;

	nd_pool_drain();
	for (i = 0, pick = -1; i < ND_HARD_BLOCKS && pick < 0; i++) {
		blocks[i] = nd_vmalloc_prot(ND_BLOCK_PAGES * PAGE_SIZE,
					    GFP_KERNEL, prot);
		if (!blocks[i])
			break;
		va = (unsigned long)page_address(vmalloc_to_page(blocks[i]));
		lookup_address(va, &level);
		if (level == PG_LEVEL_2M)
			pick = i;
	}
	if (pick >= 0) {
		p = blocks[pick];
		va = (unsigned long)page_address(vmalloc_to_page(p));
		*failed |= nd_test(nd_hard_cpa_churn(vmalloc_to_page(p + 5 * PAGE_SIZE)),
				   "set_pages_array_uc/wb on a pool page (prot %d) failed",
				   prot);
		lookup_address(va, &level);
		*failed |= nd_test(level == PG_LEVEL_4K,
				   "the kernel's CPA left the hidden 2M leaf whole (prot %d, level %u)",
				   prot, level);
	} else {
		nd_skip_reason = "no pool block sat on a 2M leaf";
	}
	for (i = 0; i < ND_HARD_BLOCKS; i++)
		nd_vfree(blocks[i]);
	nd_pool_drain();
	if (pick >= 0)
		*failed |= nd_test(nd_hard_readable(va, ND_BLOCK_PAGES,
						    "pool after CPA"),
				   "pool block (prot %d) not back in the direct map",
				   prot);
	return pick;
}

/*
 * The kernel's CPA changes entries under a live allocation and under a
 * pool block (which splits the block's hidden 2M leaf into 512 hidden 4K
 * entries).  nd_vfree() and a drain must still put every page back, never
 * WARN, and free nothing that is hidden.
 */
int nd_test_restore_after_cpa(void)
{
	struct nd_counts c0, c1;
	unsigned int old_max;
	int pick;
	struct nd_sweep sweep;
	unsigned long va;
	bool failed = false;
	u8 *p;

	nd_probe_sweep(&sweep);
	nd_counts_read(&c0);

	/* The per-page path (__GFP_ACCOUNT never takes the pool). */
	p = nd_vmalloc_prot(8 * PAGE_SIZE, GFP_KERNEL | __GFP_ACCOUNT,
			    ND_NOT_PRESENT);
	if (nd_test(p, "no memory"))
		return ND_FAIL;
	va = (unsigned long)page_address(vmalloc_to_page(p + 3 * PAGE_SIZE));
	failed |= nd_test(nd_hard_cpa_churn(vmalloc_to_page(p + 3 * PAGE_SIZE)),
			  "set_pages_array_uc/wb on a hidden page failed");
	nd_vfree(p);
	failed |= nd_test(nd_hard_readable(va, 1, "per-page after CPA"),
			  "page not back in the direct map");

	/* A block of each pool, split by the kernel while hidden. */
	old_max = nd_pool_set_max(ND_HARD_POOL_MB);
	pick = nd_hard_pool_cpa(ND_NOT_PRESENT, &failed);
	if (nd_hard_pool_cpa(ND_READ_ONLY, &failed) < 0 || pick < 0)
		pick = -1;
	nd_pool_set_max(old_max);
	nd_counts_read(&c1);
	failed |= nd_test(c1.leaked_pages == c0.leaked_pages,
			  "%ld pages could not be restored",
			  c1.leaked_pages - c0.leaked_pages);
	failed |= nd_test(nd_probe_sweep_same(&sweep, "after CPA churn"),
			  "hidden entries left behind");
	if (failed)
		return ND_FAIL;
	return pick >= 0 ? ND_PASS : ND_SKIP;
}

/*
 * A freed pool page is handed to its next owner only when no CPU can
 * still translate the previous owner's address: vunmap() leaves that
 * flush for later.  Every CPU reads the old address first, so its TLB
 * holds it; with one block in the pool the page comes back after the
 * other 511, and a read through the old address must then fault.
 */
int nd_test_pool_stale_tlb(void)
{
	unsigned int old_max, n, found = ND_BLOCK_PAGES + 1;
	struct nd_probe probe = { .nr_pages = 1 };
	struct nd_counts c0, c1;
	unsigned long old;
	bool failed = false;
	struct page *page;
	u8 *p, **q;

	q = kcalloc(ND_BLOCK_PAGES + 1, sizeof(*q), GFP_KERNEL);
	if (nd_test(q, "no memory"))
		return ND_FAIL;
	old_max = nd_pool_set_max(PMD_SIZE >> 20);
	nd_pool_drain();

	p = nd_vmalloc(PAGE_SIZE);
	if (nd_test(p, "no pool memory")) {
		failed = true;
		goto out;
	}
	page = vmalloc_to_page(p);
	memset(p, 0x11, PAGE_SIZE);
	old = (unsigned long)p;
	probe.va = &old;
	probe.want_read = 0;
	probe.want_write = ND_PROBE_NO_WRITE;
	failed |= nd_test(nd_probe_all_cpus(&probe, "old owner"),
			  "old owner cannot read its own page");
	nd_vfree(p);

	nd_counts_read(&c0);
	for (n = 0; n <= ND_BLOCK_PAGES; n++) {
		q[n] = nd_vmalloc(PAGE_SIZE);
		if (!q[n])
			break;
		if (vmalloc_to_page(q[n]) == page) {
			memset(q[n], 0x77, PAGE_SIZE);
			found = n;
			break;
		}
	}
	nd_counts_read(&c1);
	if (nd_test(found <= ND_BLOCK_PAGES,
		    "the freed page never came back in %u allocations (%ld pool hits, %ld fallbacks)",
		    n, c1.pool_hits - c0.pool_hits,
		    c1.pool_fallbacks - c0.pool_fallbacks)) {
		failed = true;
		goto out;
	}
	pr_info("    # page reused by allocation %u, after %ld flushes\n",
		found + 1, c1.flushes - c0.flushes);
	probe.want_read = -EFAULT;
	failed |= nd_test(nd_probe_all_cpus(&probe, "old address after reuse"),
			  "the previous owner's address still reads the new owner's page");
out:
	for (n = 0; n <= ND_BLOCK_PAGES; n++)
		nd_vfree(q[n]);
	kfree(q);
	nd_pool_drain();
	nd_pool_set_max(old_max);
	return failed ? ND_FAIL : ND_PASS;
}

/*
 * A driver may take a reference on a page it found with vmalloc_to_page()
 * and drop it again, as for any vmalloc page: that must not free the page
 * out of a hidden block.
 */
int nd_test_pool_get_put(void)
{
	unsigned int old_max = nd_pool_set_max(ND_HARD_POOL_MB);
	unsigned long blocks0, blocks1, free0, free1;
	bool failed = false;
	struct page *page;
	int refs;
	u8 *p;

	nd_pool_drain();
	p = nd_vmalloc(4 * PAGE_SIZE);
	if (nd_test(p, "no pool memory")) {
		failed = true;
		goto out;
	}
	page = vmalloc_to_page(p + PAGE_SIZE);
	refs = page_ref_count(page);
	/* With no reference of its own, put_page() would free it. */
	if (nd_test(refs == 1, "pool page has %d references, want 1", refs)) {
		failed = true;
		goto free;
	}
	nd_pool_stats(&blocks0, &free0);
	get_page(page);
	put_page(page);
	nd_pool_stats(&blocks1, &free1);
	failed |= nd_test(page_ref_count(page) == 1 && blocks1 == blocks0 &&
			  free1 == free0,
			  "after get/put: %d references, %lu blocks, %lu free (were %lu, %lu)",
			  page_ref_count(page), blocks1, free1, blocks0, free0);
	memset(p, 0x3c, 4 * PAGE_SIZE);
	failed |= nd_test(!memchr_inv(p, 0x3c, 4 * PAGE_SIZE),
			  "alias lost its data");
free:
	nd_vfree(p);
out:
	nd_pool_drain();
	nd_pool_set_max(old_max);
	return failed ? ND_FAIL : ND_PASS;
}

/* Whether every site passed with @gfp's scope: no __GFP_FS (or __GFP_IO). */
static bool nd_hard_scoped(const enum nd_fail_site *sites, unsigned int n,
			   gfp_t forbidden, const char *what)
{
	bool ok = true;
	unsigned int i;
	gfp_t seen;

	for (i = 0; i < n; i++) {
		seen = nd_fail_gfp(sites[i]);
		if (seen & forbidden) {
			pr_err("    # %s: site %u allocated with %pGg\n", what,
			       sites[i], &seen);
			ok = false;
		}
	}
	return ok;
}

/*
 * A GFP_NOFS or GFP_NOIO caller: everything allocated on its behalf
 * (bookkeeping, pages, mapping, pool blocks) must be allocated as it
 * asked, or reclaim could recurse into its filesystem or device.
 */
int nd_test_gfp_scope(void)
{
	static const enum nd_fail_site per_page[] = {
		ND_FAIL_META, ND_FAIL_PAGE, ND_FAIL_MAP,
	};
	static const enum nd_fail_site pooled[] = {
		ND_FAIL_META, ND_FAIL_BLOCK, ND_FAIL_MAP,
	};
	/* nd_kmalloc(): its page's structure, and the page's area. */
	static const enum nd_fail_site small[] = {
		ND_FAIL_SLAB, ND_FAIL_META,
	};
	unsigned int old_max, i;
	bool failed = false;
	gfp_t seen;
	void *p;

	/* Every site seen once from here, in plain GFP_KERNEL context. */
	for (i = 0; i < ND_FAIL_NR; i++)
		nd_fail(i);
	failed |= nd_test(nd_fail_gfp(ND_FAIL_META) & __GFP_FS,
			  "control: GFP_KERNEL without __GFP_FS");

	p = nd_vmalloc_prot(3 * PAGE_SIZE, GFP_NOFS, ND_READ_ONLY);
	failed |= nd_test(p, "GFP_NOFS allocation failed");
	failed |= nd_test(nd_hard_scoped(per_page, ARRAY_SIZE(per_page),
					 __GFP_FS, "GFP_NOFS"),
			  "a GFP_NOFS call allocated with __GFP_FS");
	nd_vfree(p);

	/*
	 * A caller that wants no retry and no warning: our bookkeeping must
	 * not warn nor call the OOM killer for it (kvmalloc() takes
	 * __GFP_RETRY_MAYFAIL for that), on the per-page path and the pool's.
	 */
	p = nd_vmalloc_prot(3 * PAGE_SIZE,
			    GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN,
			    ND_NOT_PRESENT);
	seen = nd_fail_gfp(ND_FAIL_META);
	failed |= nd_test(p && (seen & __GFP_NOWARN) &&
			  (seen & __GFP_RETRY_MAYFAIL),
			  "per-page bookkeeping for a NORETRY|NOWARN caller: %pGg",
			  &seen);
	nd_vfree(p);

	old_max = nd_pool_set_max(ND_HARD_POOL_MB);
	nd_pool_drain();
	p = nd_vmalloc_prot(3 * PAGE_SIZE,
			    GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN,
			    ND_NOT_PRESENT);
	seen = nd_fail_gfp(ND_FAIL_META);
	failed |= nd_test(p && (seen & __GFP_NOWARN) && (seen & __GFP_NORETRY),
			  "pool bookkeeping for a NORETRY|NOWARN caller: %pGg",
			  &seen);
	nd_vfree(p);

	/* Empty again, so that the next call takes a block. */
	nd_pool_drain();
	p = nd_vmalloc_prot(3 * PAGE_SIZE, GFP_NOIO, ND_NOT_PRESENT);
	failed |= nd_test(p, "GFP_NOIO allocation failed");
	failed |= nd_test(nd_hard_scoped(pooled, ARRAY_SIZE(pooled),
					 __GFP_IO | __GFP_FS, "GFP_NOIO"),
			  "a GFP_NOIO call allocated with __GFP_IO");
	nd_vfree(p);

	/* No partial page of the class: the call takes a new one. */
	nd_kmalloc_release_now();
	p = nd_kmalloc(PAGE_SIZE / 2, GFP_NOFS);
	failed |= nd_test(p, "GFP_NOFS nd_kmalloc failed");
	failed |= nd_test(nd_hard_scoped(small, ARRAY_SIZE(small), __GFP_FS,
					 "nd_kmalloc GFP_NOFS"),
			  "a GFP_NOFS nd_kmalloc allocated with __GFP_FS");
	nd_kfree(p);
	nd_kmalloc_release_now();
	nd_pool_drain();
	nd_pool_set_max(old_max);
	return failed ? ND_FAIL : ND_PASS;
}

/*
 * Page counts are unsigned int (as in vmap()): a size of 2^32 pages or
 * more must be refused even on a machine with that much memory, not
 * truncated to a small allocation.
 */
int nd_test_size_limit(void)
{
	const unsigned long huge_ram = ULONG_MAX >> PAGE_SHIFT;
	const unsigned long limit = (unsigned long)UINT_MAX << PAGE_SHIFT;
	struct nd_counts c0, c1;
	bool failed = false;
	void *p;

	failed |= nd_test(nd_size_ok(limit, huge_ram),
			  "control: %lu bytes refused", limit);
	failed |= nd_test(!nd_size_ok(limit + PAGE_SIZE, huge_ram),
			  "%lu bytes (2^32 pages) accepted", limit + PAGE_SIZE);
	failed |= nd_test(!nd_size_ok(limit + 1, huge_ram),
			  "%lu bytes accepted", limit + 1);

	nd_counts_read(&c0);
	p = nd_vmalloc(limit + PAGE_SIZE);
	nd_counts_read(&c1);
	failed |= nd_test(!p && c1.bad_calls - c0.bad_calls == 1,
			  "nd_vmalloc(2^32 pages): %p, %ld bad calls", p,
			  c1.bad_calls - c0.bad_calls);
	nd_vfree(p);
	return failed ? ND_FAIL : ND_PASS;
}

/*
 * The sweep that proves "nothing left hidden" must see a hidden 2M leaf
 * too: a pool block on a 2M leaf is one.  Whole-block allocations take a
 * block each; those that sat on a 2M leaf must each show as one.
 */
int nd_test_sweep_large(void)
{
	unsigned int old_max = nd_pool_set_max(ND_HARD_POOL_MB), level, i;
	void *p[ND_HARD_BLOCKS] = { };
	struct nd_sweep before, during;
	unsigned long on_2m = 0;
	bool failed = false;

	nd_pool_drain();
	nd_probe_sweep(&before);
	for (i = 0; i < ND_HARD_BLOCKS; i++) {
		p[i] = nd_vmalloc(ND_BLOCK_PAGES * PAGE_SIZE);
		if (!p[i])
			break;
		lookup_address((unsigned long)page_address(vmalloc_to_page(p[i])),
			       &level);
		on_2m += level == PG_LEVEL_2M;
	}
	nd_probe_sweep(&during);
	for (i = 0; i < ND_HARD_BLOCKS; i++)
		nd_vfree(p[i]);
	if (!on_2m) {
		nd_skip_reason = "no pool block sat on a 2M leaf";
		nd_pool_drain();
		nd_pool_set_max(old_max);
		return ND_SKIP;
	}
	failed |= nd_test(during.not_present[PG_LEVEL_2M] ==
			  before.not_present[PG_LEVEL_2M] + on_2m,
			  "sweep saw %lu hidden 2M leaves with %lu pool blocks on 2M leaves, %lu before",
			  during.not_present[PG_LEVEL_2M], on_2m,
			  before.not_present[PG_LEVEL_2M]);
	nd_pool_drain();
	failed |= nd_test(nd_probe_sweep_same(&before, "after the drain"),
			  "hidden entries left after the drain");
	nd_pool_set_max(old_max);
	return failed ? ND_FAIL : ND_PASS;
}
