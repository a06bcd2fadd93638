// SPDX-License-Identifier: GPL-2.0
/*
 * Selftest cases for the pools of hidden 2 MiB blocks (not-present and
 * read-only): a new block costs one
 * flush and no 2M split, reuse costs neither, freed pages come back wiped,
 * a block that cannot be had falls back to the per-page path, and a block
 * given back is whole in the direct map again.  Each case turns the pool
 * on for itself and empties it before it returns.
 */

#include <linux/irq_work.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/topology.h>
#include <linux/workqueue.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "nd_internal.h"
#include "probe.h"
#include "selftest.h"

#define ND_POOL_TEST_MB		16
#define ND_POOL_TEST_PAGES	256
#define ND_POOL_STEADY_LOOPS	20

/*
 * Every page of @p is hidden as @prot says through __va on every CPU: a
 * read faults (not present) or sees what the alias holds (read-only), a
 * write faults; the alias itself works.
 */
static bool nd_pool_hidden(u8 *p, unsigned int nr_pages, enum nd_prot prot,
			   const char *what)
{
	struct nd_probe probe = { .nr_pages = nr_pages, .want_write = -EFAULT,
				  .alias = p };
	unsigned long *va = nd_probe_area_vas(p, nr_pages);
	bool ok;

	if (!va)
		return false;
	probe.want_read = prot == ND_NOT_PRESENT ? -EFAULT : 0;
	probe.va = va;
	ok = nd_probe_all_cpus(&probe, what);
	kvfree(va);
	return ok;
}

/*
 * The direct-map entry of the block holding @va is the hidden one, and
 * once the pool gives the block back it reads again and carries the same
 * frame and bits, present and writable (Global as the kernel keeps it).
 */
struct nd_pool_witness {
	unsigned long va;	/* a page of the block, through __va */
	unsigned int level;
	enum nd_prot prot;
	pte_t hidden;
};

/* Whether @e is hidden as @prot asks: not present, or present read-only. */
static bool nd_pool_entry_hidden(pte_t e, enum nd_prot prot)
{
	if (prot == ND_NOT_PRESENT)
		return !pte_present(e);
	return pte_present(e) && !(pte_flags(e) & (_PAGE_RW | _PAGE_DIRTY));
}

static bool nd_pool_witness_take(struct nd_pool_witness *w, const u8 *p,
				 enum nd_prot prot)
{
	pte_t *kpte;

	w->va = (unsigned long)page_address(vmalloc_to_page(p));
	w->prot = prot;
	kpte = lookup_address(w->va, &w->level);
	if (!kpte || !nd_pool_entry_hidden(*kpte, prot) ||
	    (w->level != PG_LEVEL_2M && w->level != PG_LEVEL_4K)) {
		pr_err("    # pool page %px: entry %llx at level %u is not a hidden 2M leaf or 4K entry\n",
		       (void *)w->va, kpte ? (u64)pte_val(*kpte) : 0,
		       w->level);
		return false;
	}
	w->hidden = *kpte;
	return true;
}

static bool nd_pool_witness_restored(const struct nd_pool_witness *w)
{
	struct nd_probe probe = { .nr_pages = 1, .va = &w->va,
				  .want_read = 0,
				  .want_write = ND_PROBE_NO_WRITE };
	/* What hiding took away (the kernel maps its memory dirty). */
	pteval_t back = w->prot == ND_NOT_PRESENT ? _PAGE_PRESENT :
			_PAGE_RW | _PAGE_DIRTY;
	pteval_t want, got;
	unsigned int level;
	pte_t *kpte;

	if (!nd_probe_all_cpus(&probe, "pool block given back"))
		return false;
	kpte = lookup_address(w->va, &level);
	if (!kpte || level != w->level)
		return false;
	if (level == PG_LEVEL_2M) {
		pmd_t h = __pmd(pte_val(w->hidden));

		want = pmd_val(pfn_pmd(pmd_pfn(h),
				       __pgprot(pmd_flags(h) | back)));
	} else {
		want = pte_val(pfn_pte(pte_pfn(w->hidden),
				       __pgprot(pte_flags(w->hidden) | back)));
	}
	got = pte_val(*kpte);
	if ((got & ~_PAGE_GLOBAL) == (want & ~_PAGE_GLOBAL) && pte_write(*kpte))
		return true;
	pr_err("    # pool page %px given back as %llx at level %u, want %llx\n",
	       (void *)w->va, (u64)got, level, (u64)want);
	return false;
}

/* Whether @pages hold only zeroes: read through a mapping of our own. */
static bool nd_pool_pages_zero(struct page **pages, unsigned int nr)
{
	void *map = vmap(pages, nr, VM_MAP, PAGE_KERNEL);
	bool zero;

	if (!map)
		return false;
	zero = !memchr_inv(map, 0, nr * PAGE_SIZE);
	vunmap(map);
	/* Our alias must not outlive the test in any TLB. */
	vm_unmap_aliases();
	return zero;
}

/* The pages behind @p, for a look after nd_vfree(). */
static struct page **nd_pool_pages_of(const u8 *p, unsigned int nr)
{
	struct page **pages = kvmalloc_array(nr, sizeof(*pages), GFP_KERNEL);
	unsigned int i;

	for (i = 0; pages && i < nr; i++)
		pages[i] = vmalloc_to_page(p + i * PAGE_SIZE);
	return pages;
}

/*
 * The first allocation of @prot from an empty pool: one block, one flush,
 * no split, zeroed, hidden on every CPU (after a write through the alias),
 * and the block's entry recorded in @w.  Returns the memory, or NULL.
 */
static u8 *nd_pool_first(size_t size, enum nd_prot prot,
			 struct nd_pool_witness *w, bool *failed)
{
	struct nd_counts c0, c1;
	u8 *p;

	nd_pool_drain();
	nd_counts_read(&c0);
	p = nd_vmalloc_prot(size, GFP_KERNEL, prot);
	nd_counts_read(&c1);
	if (nd_test(p, "first pool allocation failed")) {
		*failed = true;
		return NULL;
	}
	*failed |= nd_test(c1.pool_blocks_taken - c0.pool_blocks_taken == 1 &&
			   c1.pool_misses - c0.pool_misses == 1 &&
			   c1.flushes - c0.flushes == 1 &&
			   c1.splits_2m == c0.splits_2m,
			   "new block: %ld taken, %ld flushes, %ld 2M splits",
			   c1.pool_blocks_taken - c0.pool_blocks_taken,
			   c1.flushes - c0.flushes, c1.splits_2m - c0.splits_2m);
	*failed |= nd_test(!memchr_inv(p, 0, size), "new block not zeroed");
	memset(p, 0x5a, size);
	*failed |= nd_test(nd_pool_hidden(p, size >> PAGE_SHIFT, prot,
					  "new block"),
			   "new block's pages not hidden through __va");
	*failed |= nd_test(nd_pool_witness_take(w, p, prot), "no hidden entry");
	return p;
}

/*
 * Allocate @size bytes of @prot again right after a free: a pool hit, no
 * flush, no new block, zeroed, hidden.  Returns the memory, or NULL.
 */
static u8 *nd_pool_reuse(size_t size, enum nd_prot prot, bool *failed)
{
	struct nd_counts c0, c1;
	u8 *p;

	nd_counts_read(&c0);
	p = nd_vmalloc_prot(size, GFP_KERNEL, prot);
	nd_counts_read(&c1);
	if (nd_test(p, "pool reuse failed")) {
		*failed = true;
		return NULL;
	}
	*failed |= nd_test(c1.flushes == c0.flushes &&
			   c1.pool_hits - c0.pool_hits == 1 &&
			   c1.pool_blocks_taken == c0.pool_blocks_taken,
			   "reuse: %ld flushes, %ld hits, %ld blocks taken",
			   c1.flushes - c0.flushes, c1.pool_hits - c0.pool_hits,
			   c1.pool_blocks_taken - c0.pool_blocks_taken);
	*failed |= nd_test(!memchr_inv(p, 0, size), "reused pages not zero");
	*failed |= nd_test(nd_pool_hidden(p, size >> PAGE_SHIFT, prot,
					  "reused"),
			   "reused pages not hidden through __va");
	return p;
}

/*
 * Steady state: no split, and the only flushes are those that let freed
 * pages be reused, at most one per 2 MiB freed.  The first of two rounds
 * may grow the pool to its working set; the second is judged.
 */
static bool nd_pool_steady_ok(size_t size, enum nd_prot prot)
{
	unsigned long freed = 0;
	struct nd_counts c0, c1;
	bool failed = false;
	unsigned int i, j;
	void *p;

	for (j = 0; j < 2; j++) {
		nd_counts_read(&c0);
		for (i = 0, freed = 0; i < ND_POOL_STEADY_LOOPS; i++) {
			p = nd_vmalloc_prot(size >> (i & 3), GFP_KERNEL, prot);
			failed |= nd_test(p, "steady allocation %u failed", i);
			nd_vfree(p);
			freed += (size >> PAGE_SHIFT) >> (i & 3);
		}
		nd_counts_read(&c1);
	}
	failed |= nd_test(c1.flushes - c0.flushes ==
			  c1.pool_stale_flushes - c0.pool_stale_flushes &&
			  c1.flushes - c0.flushes <= freed / ND_BLOCK_PAGES &&
			  nd_counts_splits(&c1) == nd_counts_splits(&c0) &&
			  c1.pool_hits - c0.pool_hits == ND_POOL_STEADY_LOOPS,
			  "steady: %ld flushes (%ld for reuse) for %lu pages freed, %ld splits, %ld hits",
			  c1.flushes - c0.flushes,
			  c1.pool_stale_flushes - c0.pool_stale_flushes, freed,
			  nd_counts_splits(&c1) - nd_counts_splits(&c0),
			  c1.pool_hits - c0.pool_hits);
	pr_info("    # steady: %ld flushes for %lu pages freed\n",
		c1.flushes - c0.flushes, freed);
	return !failed;
}

/*
 * New blocks, reuse, and wiping: the first allocation takes a block (one
 * flush, no 2M split), the next ones reuse it (no split, and a flush only
 * once 2 MiB freed wait for one), freed memory is wiped at once, and the
 * drained block is whole again.
 */
int nd_test_pool_steady(void)
{
	const size_t size = ND_POOL_TEST_PAGES * PAGE_SIZE;
	unsigned int old_max = nd_pool_set_max(ND_POOL_TEST_MB);
	unsigned long blocks, free_pages, held;
	struct nd_pool_witness w = { };
	struct page **pages = NULL;
	struct nd_counts c0, c1;
	bool failed = false;
	u8 *p;

	p = nd_pool_first(size, ND_NOT_PRESENT, &w, &failed);
	if (!p)
		goto out;

	pages = nd_pool_pages_of(p, ND_POOL_TEST_PAGES);
	nd_vfree(p);
	/* Wiped by nd_vfree(), before any reuse. */
	failed |= nd_test(pages && nd_pool_pages_zero(pages, ND_POOL_TEST_PAGES),
			  "freed pool pages not wiped");
	p = nd_pool_reuse(size, ND_NOT_PRESENT, &failed);
	nd_vfree(p);
	p = NULL;
	failed |= !nd_pool_steady_ok(size, ND_NOT_PRESENT);

	/* Given back whole: the block reads again, entry as it was. */
	nd_pool_stats(&held, &free_pages);
	nd_counts_read(&c0);
	nd_pool_drain();
	nd_counts_read(&c1);
	nd_pool_stats(&blocks, &free_pages);
	failed |= nd_test(!blocks && !free_pages &&
			  c1.pool_blocks_returned - c0.pool_blocks_returned == held &&
			  c1.flushes - c0.flushes ==
			  c1.pool_stale_flushes - c0.pool_stale_flushes &&
			  c1.flushes - c0.flushes <= 1,
			  "drain: %lu blocks left, %ld returned, %ld flushes",
			  blocks, c1.pool_blocks_returned - c0.pool_blocks_returned,
			  c1.flushes - c0.flushes);
	failed |= nd_test(!w.va || nd_pool_witness_restored(&w),
			  "block not restored");
out:
	kvfree(pages);
	nd_vfree(p);
	nd_pool_drain();
	nd_pool_set_max(old_max);
	return failed ? ND_FAIL : ND_PASS;
}

/*
 * From an empty pool, nd_vmalloc(@size) with the @nth new block refused;
 * the counters before and after in @c0 and @c1.
 */
static u8 *nd_pool_alloc_failing(unsigned long size, unsigned int nth,
				 struct nd_counts *c0, struct nd_counts *c1)
{
	u8 *p;

	nd_pool_drain();
	nd_counts_read(c0);
	nd_fail_arm(ND_FAIL_BLOCK, nth);
	p = nd_vmalloc(size);
	nd_fail_arm(ND_FAIL_BLOCK, 0);
	nd_counts_read(c1);
	return p;
}

/*
 * No block to be had (injected), and a pool at its cap: the allocation is
 * served by the per-page path instead, hidden all the same, and counted.
 */
int nd_test_pool_fallback(void)
{
	unsigned int old_max = nd_pool_set_max(ND_POOL_TEST_MB);
	struct nd_counts c0, c1;
	bool failed = false;
	u8 *p;

	p = nd_pool_alloc_failing(16 * PAGE_SIZE, 1, &c0, &c1);
	failed |= nd_test(p && c1.pool_fallbacks - c0.pool_fallbacks == 1 &&
			  c1.pool_blocks_taken == c0.pool_blocks_taken &&
			  c1.flushes - c0.flushes ==
			  1 + nd_counts_splits(&c1) - nd_counts_splits(&c0),
			  "no block: %p, %ld fallbacks, %ld flushes, %ld splits", p,
			  c1.pool_fallbacks - c0.pool_fallbacks,
			  c1.flushes - c0.flushes,
			  nd_counts_splits(&c1) - nd_counts_splits(&c0));
	failed |= nd_test(p && nd_pool_hidden(p, 16, ND_NOT_PRESENT,
					      "fallback"),
			  "fallback pages reachable through __va");
	nd_vfree(p);

	/* A cap of one block, and an allocation that needs two. */
	nd_pool_set_max(PMD_SIZE >> 20);
	nd_counts_read(&c0);
	p = nd_vmalloc((ND_BLOCK_PAGES + 1) * PAGE_SIZE);
	nd_counts_read(&c1);
	failed |= nd_test(p && c1.pool_fallbacks - c0.pool_fallbacks == 1 &&
			  c1.pool_blocks_taken == c0.pool_blocks_taken,
			  "over the cap: %p, %ld fallbacks, %ld blocks taken", p,
			  c1.pool_fallbacks - c0.pool_fallbacks,
			  c1.pool_blocks_taken - c0.pool_blocks_taken);
	failed |= nd_test(p && nd_pool_hidden(p, ND_BLOCK_PAGES + 1,
					      ND_NOT_PRESENT, "over the cap"),
			  "pages over the cap reachable through __va");
	nd_vfree(p);

	nd_pool_drain();
	nd_pool_set_max(old_max);
	return failed ? ND_FAIL : ND_PASS;
}

/*
 * A call that needs two new blocks and gets only one gives that one back
 * at once, before anything of it was handed out.  It was never counted
 * as taken, so it must not count as returned either: taken - returned is
 * what the pools hold, and the pool boot's shrinker check trusts it.
 */
int nd_test_pool_rollback(void)
{
	unsigned int old_max = nd_pool_set_max(ND_POOL_TEST_MB);
	struct nd_counts c0, c1;
	bool failed = false;
	u8 *p;

	p = nd_pool_alloc_failing((ND_BLOCK_PAGES + 1) * PAGE_SIZE, 2, &c0, &c1);
	failed |= nd_test(p && c1.pool_fallbacks - c0.pool_fallbacks == 1,
			  "control: second block refused: %p, %ld fallbacks", p,
			  c1.pool_fallbacks - c0.pool_fallbacks);
	failed |= nd_test(c1.pool_blocks_taken == c0.pool_blocks_taken &&
			  c1.pool_blocks_returned == c0.pool_blocks_returned &&
			  c1.pool_blocks_rolled_back -
			  c0.pool_blocks_rolled_back == 1,
			  "a block given back unused: %ld taken, %ld returned, %ld rolled back",
			  c1.pool_blocks_taken - c0.pool_blocks_taken,
			  c1.pool_blocks_returned - c0.pool_blocks_returned,
			  c1.pool_blocks_rolled_back -
			  c0.pool_blocks_rolled_back);
	nd_vfree(p);
	nd_pool_drain();
	nd_pool_set_max(old_max);
	return failed ? ND_FAIL : ND_PASS;
}

/*
 * The read-only pool: a new block costs one flush and no 2M split (its
 * 2M leaf itself is made read-only), reuse and the steady state cost no
 * split and no flush but those that let freed pages be reused, the two
 * kinds never share a block, and a drained block is writable again.
 */
int nd_test_pool_read_only(void)
{
	const size_t size = ND_POOL_TEST_PAGES * PAGE_SIZE;
	unsigned int old_max = nd_pool_set_max(ND_POOL_TEST_MB);
	struct nd_pool_witness w = { };
	unsigned long blocks, free_pages;
	struct nd_counts c0, c1;
	bool failed = false;
	u8 *p, *np = NULL;

	p = nd_pool_first(size, ND_READ_ONLY, &w, &failed);
	if (!p)
		goto out;
	failed |= nd_test(nd_pool_blocks(ND_READ_ONLY) == 1,
			  "%lu read-only blocks", nd_pool_blocks(ND_READ_ONLY));
	pr_info("    # read-only block mapped by a %s entry\n",
		w.level == PG_LEVEL_2M ? "2M" : "4K");

	/* A not-present allocation gets a block of its own kind. */
	nd_counts_read(&c0);
	np = nd_vmalloc(16 * PAGE_SIZE);
	nd_counts_read(&c1);
	failed |= nd_test(np && c1.pool_blocks_taken - c0.pool_blocks_taken == 1 &&
			  nd_pool_hidden(np, 16, ND_NOT_PRESENT,
					 "beside a read-only block"),
			  "not-present allocation: %p, %ld blocks taken", np,
			  c1.pool_blocks_taken - c0.pool_blocks_taken);
	nd_vfree(np);
	np = NULL;

	nd_vfree(p);
	p = nd_pool_reuse(size, ND_READ_ONLY, &failed);
	nd_vfree(p);
	p = NULL;
	failed |= !nd_pool_steady_ok(size, ND_READ_ONLY);

	nd_pool_drain();
	nd_pool_stats(&blocks, &free_pages);
	failed |= nd_test(!blocks && !free_pages, "drain left %lu blocks",
			  blocks);
	failed |= nd_test(!w.va || nd_pool_witness_restored(&w),
			  "read-only block not restored");
out:
	nd_vfree(p);
	nd_vfree(np);
	nd_pool_drain();
	nd_pool_set_max(old_max);
	return failed ? ND_FAIL : ND_PASS;
}

/*
 * A read-only block on a 2M leaf is that leaf, made read-only whole: no
 * split, the sweep sees one more read-only 2M leaf per such block, and
 * none once the blocks are given back.  Whole-block allocations take a
 * block each, until the cap.
 */
int nd_test_pool_read_only_2m(void)
{
	unsigned int old_max = nd_pool_set_max(ND_POOL_TEST_MB), level, i;
	void *p[ND_POOL_TEST_MB * SZ_1M / PMD_SIZE] = { };
	struct nd_sweep before, during;
	unsigned long on_2m = 0, va;
	struct nd_counts c0, c1;
	bool failed = false;
	pte_t *kpte;

	nd_pool_drain();
	nd_probe_sweep(&before);
	nd_counts_read(&c0);
	for (i = 0; i < ARRAY_SIZE(p); i++) {
		p[i] = nd_vmalloc_prot(ND_BLOCK_PAGES * PAGE_SIZE, GFP_KERNEL,
				       ND_READ_ONLY);
		if (!p[i])
			break;
		va = (unsigned long)page_address(vmalloc_to_page(p[i]));
		kpte = lookup_address(va, &level);
		if (level != PG_LEVEL_2M)
			continue;
		on_2m++;
		failed |= nd_test(pte_present(*kpte) &&
				  (pte_flags(*kpte) & _PAGE_PSE) &&
				  !(pte_flags(*kpte) & (_PAGE_RW | _PAGE_DIRTY)),
				  "block %u: 2M leaf %llx is not present read-only",
				  i, (u64)pte_val(*kpte));
		failed |= nd_test(nd_pool_hidden(p[i], ND_BLOCK_PAGES,
						 ND_READ_ONLY,
						 "block on a 2M leaf"),
				  "block %u writable or unreadable through __va", i);
	}
	nd_counts_read(&c1);
	nd_probe_sweep(&during);
	for (i = 0; i < ARRAY_SIZE(p); i++)
		nd_vfree(p[i]);
	if (!on_2m) {
		nd_skip_reason = "no read-only block sat on a 2M leaf";
		goto out;
	}
	failed |= nd_test(c1.splits_2m == c0.splits_2m,
			  "%ld 2M splits", c1.splits_2m - c0.splits_2m);
	failed |= nd_test(during.read_only[PG_LEVEL_2M] >=
			  before.read_only[PG_LEVEL_2M] + on_2m,
			  "sweep saw %lu read-only 2M leaves with %lu blocks on 2M leaves, %lu before",
			  during.read_only[PG_LEVEL_2M], on_2m,
			  before.read_only[PG_LEVEL_2M]);
	pr_info("    # %lu of %u read-only blocks on 2M leaves\n", on_2m, i);
	nd_pool_drain();
	failed |= nd_test(nd_probe_sweep_same(&before, "after the drain"),
			  "read-only entries left after the drain");
out:
	nd_pool_drain();
	nd_pool_set_max(old_max);
	if (!on_2m)
		return ND_SKIP;
	return failed ? ND_FAIL : ND_PASS;
}

/*
 * The two kinds share pool_max_mb: at the cap, fully free blocks of the
 * other kind are given back to make room, so a burst of read-only memory,
 * freed, does not push not-present calls onto the per-page path.
 */
int nd_test_pool_cap_shared(void)
{
	unsigned int old_max = nd_pool_set_max(2 * (PMD_SIZE >> 20)), i;
	struct nd_counts c0, c1;
	bool failed = false;
	void *ro[2] = { };
	u8 *p = NULL;

	nd_pool_drain();
	for (i = 0; i < ARRAY_SIZE(ro); i++) {
		ro[i] = nd_vmalloc_prot(ND_BLOCK_PAGES * PAGE_SIZE, GFP_KERNEL,
					ND_READ_ONLY);
		failed |= nd_test(ro[i], "read-only block %u failed", i);
	}
	for (i = 0; i < ARRAY_SIZE(ro); i++)
		nd_vfree(ro[i]);
	if (nd_test(!failed && nd_pool_blocks(ND_READ_ONLY) == 2,
		    "%lu read-only blocks held, want 2",
		    nd_pool_blocks(ND_READ_ONLY))) {
		failed = true;
		goto out;
	}

	nd_counts_read(&c0);
	p = nd_vmalloc(16 * PAGE_SIZE);
	nd_counts_read(&c1);
	failed |= nd_test(p && c1.pool_misses - c0.pool_misses == 1 &&
			  c1.pool_fallbacks == c0.pool_fallbacks &&
			  c1.pool_blocks_returned - c0.pool_blocks_returned == 1 &&
			  nd_pool_blocks(ND_READ_ONLY) == 1,
			  "not-present call at the cap: %p, %ld misses, %ld fallbacks, %ld blocks returned, %lu read-only blocks left",
			  p, c1.pool_misses - c0.pool_misses,
			  c1.pool_fallbacks - c0.pool_fallbacks,
			  c1.pool_blocks_returned - c0.pool_blocks_returned,
			  nd_pool_blocks(ND_READ_ONLY));
	failed |= nd_test(p && nd_pool_hidden(p, 16, ND_NOT_PRESENT,
					      "at the cap"),
			  "pages reachable through __va");
out:
	nd_vfree(p);
	nd_pool_drain();
	nd_pool_set_max(old_max);
	return failed ? ND_FAIL : ND_PASS;
}

struct nd_pool_irq_free {
	struct irq_work work;
	void *p;
};

static void nd_pool_irq_free_fn(struct irq_work *work)
{
	nd_vfree(container_of(work, struct nd_pool_irq_free, work)->p);
}

/*
 * nd_vfree() of pool memory in hard interrupt context: wiped at once, the
 * pages back in the pool once the deferred vunmap() has run.
 */
int nd_test_pool_atomic_free(void)
{
	unsigned int old_max = nd_pool_set_max(ND_POOL_TEST_MB);
	struct nd_pool_irq_free f = {
		.work = IRQ_WORK_INIT_HARD(nd_pool_irq_free_fn),
	};
	unsigned long blocks, free_pages, stale;
	struct page **pages = NULL;
	bool failed = false;
	u8 *p;

	nd_pool_drain();
	p = nd_vmalloc(16 * PAGE_SIZE);
	pages = p ? nd_pool_pages_of(p, 16) : NULL;
	if (nd_test(p && pages, "no memory")) {
		failed = true;
		nd_vfree(p);
		goto out;
	}
	memset(p, 0xc3, 16 * PAGE_SIZE);
	f.p = p;
	irq_work_queue(&f.work);
	irq_work_sync(&f.work);
	nd_deferred_flush();
	nd_pool_stats(&blocks, &free_pages);
	stale = nd_pool_stale();
	failed |= nd_test(blocks == 1 && free_pages + stale == ND_BLOCK_PAGES,
			  "after a hardirq free: %lu blocks, %lu free and %lu stale pages",
			  blocks, free_pages, stale);
	failed |= nd_test(nd_pool_pages_zero(pages, 16),
			  "pages freed in hardirq not wiped");
out:
	kvfree(pages);
	nd_pool_drain();
	nd_pool_set_max(old_max);
	return failed ? ND_FAIL : ND_PASS;
}

#define ND_POOL_NUMA_PAGES	16

/* On the CPU it runs on: allocate, and count pages off the CPU's node. */
static long nd_pool_numa_alloc(void *unused)
{
	int nid = numa_mem_id();
	unsigned int i;
	long off = 0;
	u8 *p;

	p = nd_vmalloc(ND_POOL_NUMA_PAGES * PAGE_SIZE);
	if (!p)
		return -ENOMEM;
	for (i = 0; i < ND_POOL_NUMA_PAGES; i++)
		off += page_to_nid(vmalloc_to_page(p + i * PAGE_SIZE)) != nid;
	nd_vfree(p);
	return off;
}

/*
 * One pool per node: an allocation made on a CPU of each node gets pages
 * of that node, from a block of its own.
 */
int nd_test_pool_numa(void)
{
	unsigned int old_max, nodes = 0;
	unsigned long blocks, free_pages;
	bool failed = false;
	int nid, cpu;
	long off;

	if (num_online_nodes() < 2) {
		nd_skip_reason = "one NUMA node";
		return ND_SKIP;
	}
	old_max = nd_pool_set_max(ND_POOL_TEST_MB);
	nd_pool_drain();
	for_each_online_node(nid) {
		cpu = cpumask_first(cpumask_of_node(nid));
		if (cpu >= nr_cpu_ids || !node_state(nid, N_MEMORY))
			continue;
		off = work_on_cpu(cpu, nd_pool_numa_alloc, NULL);
		failed |= nd_test(!off, "node %d (CPU %d): %ld pages off the node",
				  nid, cpu, off);
		nodes++;
	}
	nd_pool_stats(&blocks, &free_pages);
	failed |= nd_test(nodes >= 2 && blocks == nodes,
			  "%u nodes tried, %lu blocks in their pools", nodes,
			  blocks);
	pr_info("    # %u nodes, a block each\n", nodes);
	nd_pool_drain();
	nd_pool_set_max(old_max);
	return failed ? ND_FAIL : ND_PASS;
}

/**
 * nd_pool_fill_run() - fill the pool up to pool_max_mb, then free it all
 *
 * Leaves the pool holding only free blocks, for a test from user space
 * that puts the system under memory pressure and watches the shrinker give
 * them back.
 *
 * Return: 0, -EINVAL with the pool off, or -ENOMEM.
 */
int nd_pool_fill_run(void)
{
	unsigned int i, n = nd_pool_max() / (PMD_SIZE >> 20);
	unsigned long blocks, free_pages;
	void **p;

	if (!n) {
		pr_err("selftest=fill: needs pool_max_mb of 2 or more\n");
		return -EINVAL;
	}
	p = kcalloc(n, sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		p[i] = nd_vmalloc(PMD_SIZE);
	for (i = 0; i < n; i++)
		nd_vfree(p[i]);
	kfree(p);
	nd_pool_stats(&blocks, &free_pages);
	pr_info("fill: the pool holds %lu blocks, %lu pages free\n", blocks,
		free_pages);
	return 0;
}
