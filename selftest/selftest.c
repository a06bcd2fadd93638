// SPDX-License-Identifier: GPL-2.0
/*
 * The selftest run at load by selftest=1.  It proves each promise in the
 * running kernel, on every online CPU, and prints KTAP v1; module init
 * fails if any case fails.  Each negative check has a positive control
 * before it, made on the same pages and CPUs.
 */

#include <linux/completion.h>
#include <linux/irq_work.h>
#include <linux/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timer.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>

#include "nd_internal.h"
#include "probe.h"
#include "selftest.h"

#define ND_SWEEP_PAGES	8
#define ND_LEAK_TRIES	200
#define ND_LEAK_PAGES	64

const char *nd_skip_reason;
static bool nd_need_1g;

void nd_counts_read(struct nd_counts *c)
{
	c->flushes = atomic_long_read(&nd_stats.flushes);
	c->flush_cpus = atomic_long_read(&nd_stats.flush_cpus);
	c->splits_2m = atomic_long_read(&nd_stats.splits_2m);
	c->splits_1g = atomic_long_read(&nd_stats.splits_1g);
	c->live_allocs = atomic_long_read(&nd_stats.live_allocs);
	c->live_pages = atomic_long_read(&nd_stats.live_pages);
	c->allocs = atomic_long_read(&nd_stats.allocs);
	c->frees = atomic_long_read(&nd_stats.frees);
	c->bad_calls = atomic_long_read(&nd_stats.bad_calls);
	c->failures = atomic_long_read(&nd_stats.failures);
	c->deferred_frees = atomic_long_read(&nd_stats.deferred_frees);
	c->pool_hits = atomic_long_read(&nd_stats.pool_hits);
	c->pool_misses = atomic_long_read(&nd_stats.pool_misses);
	c->pool_fallbacks = atomic_long_read(&nd_stats.pool_fallbacks);
	c->pool_blocks_taken = atomic_long_read(&nd_stats.pool_blocks_taken);
	c->pool_blocks_returned =
		atomic_long_read(&nd_stats.pool_blocks_returned);
	c->pool_blocks_rolled_back =
		atomic_long_read(&nd_stats.pool_blocks_rolled_back);
	c->pool_stale_flushes = atomic_long_read(&nd_stats.pool_stale_flushes);
	c->leaked_pages = atomic_long_read(&nd_stats.leaked_pages);
}

static u8 nd_pattern(unsigned int page, unsigned int round)
{
	return 0x5a ^ (page * 7) ^ (round << 4);
}

static void nd_fill(u8 *p, unsigned int nr_pages, unsigned int round)
{
	unsigned int i;

	for (i = 0; i < nr_pages; i++)
		memset(p + i * PAGE_SIZE, nd_pattern(i, round), PAGE_SIZE);
}

static bool nd_filled(const u8 *p, unsigned int nr_pages, unsigned int round)
{
	unsigned int i;

	for (i = 0; i < nr_pages; i++)
		if (memchr_inv(p + i * PAGE_SIZE, nd_pattern(i, round),
			       PAGE_SIZE))
			return false;
	return true;
}

/*
 * The entry of @va is @orig hidden: same frame, the same flags less those
 * @prot clears, and for not-present the frame bits stored inverted (L1TF).
 */
static bool nd_entry_hidden(unsigned long va, pte_t orig, enum nd_prot prot)
{
	pteval_t clear = prot == ND_NOT_PRESENT ? _PAGE_PRESENT | _PAGE_GLOBAL
						: _PAGE_RW | _PAGE_DIRTY;
	unsigned int level;
	pte_t *kpte, now;

	kpte = lookup_address(va, &level);
	if (!kpte || level != PG_LEVEL_4K)
		goto bad;
	now = *kpte;
	if (pte_pfn(now) != pte_pfn(orig) ||
	    pte_flags(now) != (pte_flags(orig) & ~clear))
		goto bad;
	if (prot == ND_NOT_PRESENT &&
	    (pte_val(now) & PTE_PFN_MASK) == (pte_val(orig) & PTE_PFN_MASK))
		goto bad;
	return true;
bad:
	pr_err("    # direct map of %px: %llx at level %u is not %llx hidden\n",
	       (void *)va, kpte ? (u64)pte_val(*kpte) : 0, level,
	       (u64)pte_val(orig));
	return false;
}

/*
 * Hide @size bytes of fresh memory the way nd_vmalloc_prot() does, but
 * after loading every CPU's TLB with the entries about to go stale, and
 * check every promise from allocation to nd_vfree().
 */
static int nd_check_area(unsigned long size, enum nd_prot prot)
{
	unsigned int i, nr_pages = PAGE_ALIGN(size) >> PAGE_SHIFT;
	struct nd_probe probe = { .nr_pages = nr_pages };
	struct page **pages = NULL;
	unsigned long *va = NULL;
	struct nd_counts c0, c1;
	bool failed = false;
	pte_t *want = NULL;
	int nflush;
	u8 *p;

	p = nd_map_pages(size, GFP_KERNEL, &pages);
	va = p ? nd_probe_area_vas(p, nr_pages) : NULL;
	want = kvmalloc_array(nr_pages, sizeof(*want), GFP_KERNEL);
	if (nd_test(p && va && want, "no memory for %lu bytes", size)) {
		vfree(p);
		failed = true;
		goto out;
	}
	nd_fill(p, nr_pages, 0);
	for (i = 0; i < nr_pages; i++)
		want[i] = nd_probe_expected_pte(va[i]);

	/* Positive control; also caches the entries on every CPU. */
	probe.va = va;
	probe.alias = p;
	probe.want_read = 0;
	probe.want_write = 0;
	failed |= nd_test(nd_probe_all_cpus(&probe, "before hiding"),
			  "direct map unusable before hiding");

	nd_counts_read(&c0);
	if (nd_test(nd_adopt(p, pages, size, prot, GFP_KERNEL) == p,
		    "nd_adopt(%lu) failed", size)) {
		vfree(p);
		failed = true;
		goto out;
	}
	nd_counts_read(&c1);
	/* One flush for the call, and one after each split (before writes). */
	nflush = 1 + nd_counts_splits(&c1) - nd_counts_splits(&c0);
	failed |= nd_test(c1.flushes - c0.flushes == nflush,
			  "%lu bytes: %ld flushes, want %d", size,
			  c1.flushes - c0.flushes, nflush);
	failed |= nd_test(c1.flush_cpus - c0.flush_cpus ==
			  nflush * num_online_cpus(),
			  "%ld CPU flushes, want %d", c1.flush_cpus - c0.flush_cpus,
			  nflush * num_online_cpus());

	for (i = 0; i < nr_pages; i++)
		if (!nd_entry_hidden(va[i], want[i], prot)) {
			failed = true;
			break;
		}

	probe.want_read = prot == ND_NOT_PRESENT ? -EFAULT : 0;
	probe.want_write = -EFAULT;
	failed |= nd_test(nd_probe_all_cpus(&probe, "hidden"),
			  "%lu bytes: direct map still reachable", size);

	failed |= nd_test(nd_filled(p, nr_pages, 0), "vmalloc alias lost data");
	nd_fill(p, nr_pages, 1);
	failed |= nd_test(nd_filled(p, nr_pages, 1), "vmalloc alias not writable");

	nd_counts_read(&c0);
	nd_vfree(p);
	nd_counts_read(&c1);
	failed |= nd_test(c1.flushes == c0.flushes, "nd_vfree flushed %ld times",
			  c1.flushes - c0.flushes);
	failed |= nd_test(c1.frees == c0.frees + 1, "nd_vfree did not free");

	probe.alias = NULL;
	probe.want_read = 0;
	probe.want_write = ND_PROBE_NO_WRITE;
	failed |= nd_test(nd_probe_all_cpus(&probe, "after nd_vfree"),
			  "direct map not whole after nd_vfree");
	for (i = 0; i < nr_pages; i++)
		if (!nd_probe_pte_is(va[i], want[i], "after nd_vfree")) {
			failed = true;
			break;
		}
out:
	kvfree(want);
	kvfree(va);
	return failed ? ND_FAIL : ND_PASS;
}

static int nd_test_sizes_np(void)
{
	static const unsigned long sizes[] = {
		1, PAGE_SIZE, PAGE_SIZE + 1, 17 * PAGE_SIZE, SZ_1M, SZ_4M,
	};
	int ret = ND_PASS;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		if (nd_check_area(sizes[i], ND_NOT_PRESENT) != ND_PASS)
			ret = ND_FAIL;
	return ret;
}

static int nd_test_sizes_ro(void)
{
	static const unsigned long sizes[] = { 1, 64 * PAGE_SIZE, SZ_1M };
	int ret = ND_PASS;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		if (nd_check_area(sizes[i], ND_READ_ONLY) != ND_PASS)
			ret = ND_FAIL;
	return ret;
}

/* The exported calls themselves: results, zeroing, counters. */
static int nd_test_public_api(void)
{
	struct nd_probe probe = { .nr_pages = 3, .want_read = -EFAULT,
				  .want_write = -EFAULT };
	unsigned long *va = NULL;
	struct nd_counts c0, c1;
	bool failed = false;
	u8 *a, *z, *r;

	nd_counts_read(&c0);
	a = nd_vmalloc(3 * PAGE_SIZE);
	z = nd_vzalloc(3 * PAGE_SIZE);
	r = nd_vmalloc_prot(3 * PAGE_SIZE, GFP_KERNEL | __GFP_ZERO,
			    ND_READ_ONLY);
	nd_counts_read(&c1);
	if (nd_test(a && z && r, "allocation failed"))
		goto out;

	failed |= nd_test(!memchr_inv(z, 0, 3 * PAGE_SIZE), "vzalloc not zeroed");
	failed |= nd_test(c1.allocs - c0.allocs == 3 &&
			  c1.live_allocs - c0.live_allocs == 3 &&
			  c1.live_pages - c0.live_pages == 9,
			  "counters: %ld allocs, %ld live, %ld pages",
			  c1.allocs - c0.allocs, c1.live_allocs - c0.live_allocs,
			  c1.live_pages - c0.live_pages);
	failed |= nd_test(c1.flushes - c0.flushes ==
			  3 + nd_counts_splits(&c1) - nd_counts_splits(&c0),
			  "%ld flushes for three calls and %ld splits",
			  c1.flushes - c0.flushes,
			  nd_counts_splits(&c1) - nd_counts_splits(&c0));

	memset(a, 0xa5, 3 * PAGE_SIZE);
	probe.alias = a;
	va = nd_probe_area_vas(a, 3);
	probe.va = va;
	failed |= nd_test(va && nd_probe_all_cpus(&probe, "nd_vmalloc"),
			  "nd_vmalloc memory reachable through __va");
	kvfree(va);

	va = nd_probe_area_vas(z, 3);
	probe.va = va;
	probe.alias = z;
	failed |= nd_test(va && nd_probe_all_cpus(&probe, "nd_vzalloc"),
			  "nd_vzalloc memory reachable through __va");
	kvfree(va);

	va = nd_probe_area_vas(r, 3);
	probe.va = va;
	probe.alias = r;
	probe.want_read = 0;
	failed |= nd_test(va && nd_probe_all_cpus(&probe, "read-only"),
			  "read-only memory wrong through __va");
	kvfree(va);
out:
	nd_vfree(a);
	nd_vfree(z);
	nd_vfree(r);
	nd_counts_read(&c1);
	failed |= nd_test(c1.live_allocs == c0.live_allocs &&
			  c1.live_pages == c0.live_pages,
			  "live counters not back after nd_vfree");
	return failed || !a || !z || !r ? ND_FAIL : ND_PASS;
}

/*
 * A 2M-aligned block whose direct map is a leaf of @level, or NULL.  Large
 * leaves left after boot may sit anywhere (under QEMU, 1G ones only in the
 * DMA32 zone, whose free blocks are handed out from the bottom), so this
 * takes DMA32 blocks until that zone runs dry, then any other, holding up
 * to half of RAM in blocks it does not want before it finds one.
 */
static struct page *nd_find_block(unsigned int level)
{
	unsigned long budget = totalram_pages() >> (ND_BLOCK_ORDER + 1);
	gfp_t gfp = GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY | __GFP_DMA32;
	struct page *found = NULL, *b, *next;
	unsigned int cur;
	LIST_HEAD(tried);

	while (budget && !found) {
		b = alloc_pages(gfp, ND_BLOCK_ORDER);
		if (!b) {
			if (!(gfp & __GFP_DMA32))
				break;
			gfp &= ~__GFP_DMA32;
			continue;
		}
		budget--;
		if (lookup_address((unsigned long)page_address(b), &cur) &&
		    cur == level)
			found = b;
		else
			list_add(&b->lru, &tried);
	}
	list_for_each_entry_safe(b, next, &tried, lru)
		__free_pages(b, ND_BLOCK_ORDER);
	return found;
}

/*
 * For a 1G leaf split by us: every other 2M part is now a 2M leaf with the
 * 1G leaf's frame and attributes.
 */
static bool nd_check_1g_siblings(unsigned long leaf_va, pteval_t leaf,
				 unsigned long block_va)
{
	unsigned long va, phys = leaf & PHYSICAL_PUD_PAGE_MASK;
	pteval_t flags = leaf & ~PHYSICAL_PUD_PAGE_MASK;
	unsigned int level;
	pte_t *kpte;

	for (va = leaf_va; va < leaf_va + PUD_SIZE; va += PMD_SIZE,
	     phys += PMD_SIZE) {
		if (va == block_va)
			continue;
		kpte = lookup_address(va, &level);
		if (!kpte || level != PG_LEVEL_2M ||
		    pte_val(*kpte) != (phys | flags)) {
			pr_err("    # 2M part %px of the split 1G leaf is %llx at level %u, want %llx\n",
			       (void *)va, kpte ? (u64)pte_val(*kpte) : 0,
			       level, (u64)(phys | flags));
			return false;
		}
	}
	return true;
}

/* Pages of the block that get hidden; the rest are the neighbours. */
static const unsigned int nd_split_hide[] = { 1, 300 };

/*
 * Hide two pages of a block that sits in a large leaf of @level: the leaf
 * is split once, only those two entries change, every neighbour keeps its
 * frame and attributes and stays readable, and all is as before after.
 */
static int nd_check_split(unsigned int level, enum nd_prot prot)
{
	unsigned long hid[ARRAY_SIZE(nd_split_hide)], *nb = NULL;
	struct page *pages[ARRAY_SIZE(nd_split_hide)];
	unsigned int i, j, n, nr = ARRAY_SIZE(nd_split_hide);
	unsigned long base, leaf_va, *va = NULL;
	struct nd_probe probe = { .nr_pages = PTRS_PER_PTE };
	struct nd_area *area = NULL;
	/* Three sets of counters: too much for the stack under KASAN. */
	struct nd_counts *c = NULL;
	bool failed = false;
	pte_t *want = NULL;
	struct page *block;
	pteval_t leaf;
	void *vm = NULL;

	block = nd_find_block(level);
	if (!block) {
		nd_skip_reason = level == PG_LEVEL_1G ? "no free block in a 1G leaf"
						       : "no free block in a 2M leaf";
		return level == PG_LEVEL_1G && nd_need_1g ? ND_FAIL : ND_SKIP;
	}
	base = (unsigned long)page_address(block);
	leaf_va = base & (level == PG_LEVEL_2M ? PMD_MASK : PUD_MASK);
	leaf = pte_val(*lookup_address(base, &j));

	va = kvmalloc_array(PTRS_PER_PTE, sizeof(*va), GFP_KERNEL);
	want = kvmalloc_array(PTRS_PER_PTE, sizeof(*want), GFP_KERNEL);
	nb = kvmalloc_array(PTRS_PER_PTE, sizeof(*nb), GFP_KERNEL);
	c = kcalloc(3, sizeof(*c), GFP_KERNEL);
	for (i = 0; i < nr; i++)
		pages[i] = block + nd_split_hide[i];
	vm = vmap(pages, nr, VM_MAP, PAGE_KERNEL);
	if (nd_test(va && want && nb && c && vm, "no memory")) {
		failed = true;
		goto out;
	}
	for (j = 0; j < PTRS_PER_PTE; j++) {
		va[j] = base + j * PAGE_SIZE;
		want[j] = nd_probe_expected_pte(va[j]);
	}
	nd_fill(vm, nr, 0);

	/* Every page of the block readable from every CPU first. */
	probe.va = va;
	probe.want_read = 0;
	probe.want_write = ND_PROBE_NO_WRITE;
	failed |= nd_test(nd_probe_all_cpus(&probe, "block before"),
			  "block unreadable before hiding");

	/*
	 * The last split table cannot be had: the call fails, the pages stay
	 * readable, and only the splits already made remain.
	 */
	nd_counts_read(&c[0]);
	nd_fail_arm(ND_FAIL_SPLIT, level == PG_LEVEL_1G ? 2 : 1);
	area = nd_area_hide(vm, NULL, nr, prot, GFP_KERNEL);
	nd_fail_arm(ND_FAIL_SPLIT, 0);
	if (nd_test(PTR_ERR(area) == -ENOMEM, "failed split gave %ld",
		    PTR_ERR(area))) {
		failed = true;
		if (!IS_ERR(area))
			nd_area_unhide(area);
	}
	failed |= nd_test(nd_probe_all_cpus(&probe, "after a failed split"),
			  "block unreadable after a failed split");

	nd_counts_read(&c[1]);
	/* A split that was made is flushed even though the call failed. */
	failed |= nd_test(c[1].flushes - c[0].flushes ==
			  nd_counts_splits(&c[1]) - nd_counts_splits(&c[0]),
			  "failed call: %ld flushes, %ld splits",
			  c[1].flushes - c[0].flushes,
			  nd_counts_splits(&c[1]) - nd_counts_splits(&c[0]));
	area = nd_area_hide(vm, NULL, nr, prot, GFP_KERNEL);
	nd_counts_read(&c[2]);
	if (nd_test(!IS_ERR(area), "nd_area_hide: %ld", PTR_ERR(area))) {
		area = NULL;
		failed = true;
		goto out;
	}
	failed |= nd_test(c[2].splits_2m - c[0].splits_2m == 1 &&
			  c[2].splits_1g - c[0].splits_1g == (level == PG_LEVEL_1G),
			  "splits: %ld 2M, %ld 1G", c[2].splits_2m - c[0].splits_2m,
			  c[2].splits_1g - c[0].splits_1g);
	failed |= nd_test(c[2].flushes - c[1].flushes ==
			  1 + nd_counts_splits(&c[2]) - nd_counts_splits(&c[1]),
			  "%ld flushes, %ld splits", c[2].flushes - c[1].flushes,
			  nd_counts_splits(&c[2]) - nd_counts_splits(&c[1]));

	for (j = 0, i = 0, n = 0; j < PTRS_PER_PTE; j++) {
		if (i < nr && j == nd_split_hide[i]) {
			failed |= !nd_entry_hidden(va[j], want[j], prot);
			hid[i++] = va[j];
		} else {
			failed |= !nd_probe_pte_is(va[j], want[j], "neighbour");
			nb[n++] = va[j];
		}
	}
	if (level == PG_LEVEL_1G)
		failed |= !nd_check_1g_siblings(leaf_va, leaf,
						base & PMD_MASK);

	/* The neighbours: readable on every CPU. */
	probe.va = nb;
	probe.nr_pages = PTRS_PER_PTE - nr;
	failed |= nd_test(nd_probe_all_cpus(&probe, "neighbours"),
			  "a neighbour lost its mapping");

	/* The hidden ones: faulting on every CPU, fine through vmap. */
	probe.va = hid;
	probe.nr_pages = nr;
	probe.alias = vm;
	probe.want_read = prot == ND_NOT_PRESENT ? -EFAULT : 0;
	probe.want_write = -EFAULT;
	failed |= nd_test(nd_probe_all_cpus(&probe, "hidden in split leaf"),
			  "hidden page reachable");
	failed |= nd_test(nd_filled(vm, nr, 0), "vmap alias lost data");

	nd_area_unhide(area);
	area = NULL;
	for (j = 0; j < PTRS_PER_PTE; j++)
		failed |= !nd_probe_pte_is(base + j * PAGE_SIZE, want[j],
					   "after restore");
	probe.alias = NULL;
	probe.want_read = 0;
	probe.want_write = ND_PROBE_NO_WRITE;
	failed |= nd_test(nd_probe_all_cpus(&probe, "restored"),
			  "restored page unreadable");
out:
	kfree(c);
	kvfree(nb);
	if (area)
		nd_area_unhide(area);
	if (vm)
		vunmap(vm);
	__free_pages(block, ND_BLOCK_ORDER);
	kvfree(want);
	kvfree(va);
	return failed ? ND_FAIL : ND_PASS;
}

static int nd_test_split_2m_np(void)
{
	return nd_check_split(PG_LEVEL_2M, ND_NOT_PRESENT);
}

static int nd_test_split_2m_ro(void)
{
	return nd_check_split(PG_LEVEL_2M, ND_READ_ONLY);
}

static int nd_test_split_1g_np(void)
{
	return nd_check_split(PG_LEVEL_1G, ND_NOT_PRESENT);
}

/* Callers' mistakes: each is refused, counted, and changes nothing. */
static int nd_test_bad_calls(void)
{
	struct nd_probe probe = { .nr_pages = 2, .want_read = -EFAULT,
				  .want_write = -EFAULT };
	struct nd_counts c0, c1;
	bool failed = false;
	unsigned long *va;
	void *p, *k, *v;

	nd_counts_read(&c0);
	failed |= nd_test(!nd_vmalloc(0), "size 0 accepted");
	failed |= nd_test(!nd_vmalloc(ULONG_MAX), "size ULONG_MAX accepted");
	failed |= nd_test(!nd_vmalloc(ULONG_MAX - PAGE_SIZE + 2),
			  "size that overflows a page count accepted");
	failed |= nd_test(!nd_vmalloc_prot(PAGE_SIZE, GFP_KERNEL, 2),
			  "unknown prot accepted");
	failed |= nd_test(!nd_vmalloc_prot(PAGE_SIZE, GFP_ATOMIC,
					   ND_NOT_PRESENT),
			  "GFP_ATOMIC accepted");
	failed |= nd_test(!nd_vmalloc_prot(PAGE_SIZE, GFP_KERNEL | __GFP_DMA,
					   ND_NOT_PRESENT),
			  "__GFP_DMA accepted");
	nd_counts_read(&c1);
	failed |= nd_test(c1.bad_calls - c0.bad_calls == 6 &&
			  c1.allocs == c0.allocs && c1.flushes == c0.flushes,
			  "%ld bad calls counted, %ld allocs, %ld flushes",
			  c1.bad_calls - c0.bad_calls, c1.allocs - c0.allocs,
			  c1.flushes - c0.flushes);

	/* Positive control: a good allocation, hidden. */
	p = nd_vmalloc(2 * PAGE_SIZE);
	k = kmalloc(64, GFP_KERNEL);
	v = vmalloc(PAGE_SIZE);
	va = p ? nd_probe_area_vas(p, 2) : NULL;
	if (nd_test(p && k && v && va, "no memory")) {
		failed = true;
		goto out;
	}
	memset(p, 0x3c, 2 * PAGE_SIZE);
	probe.va = va;
	probe.alias = p;

	nd_counts_read(&c0);
	nd_vfree(p + PAGE_SIZE);
	nd_vfree(p + 1);
	nd_vfree(k);
	nd_vfree(v);
	nd_vfree(NULL);
	nd_counts_read(&c1);
	failed |= nd_test(c1.bad_calls - c0.bad_calls == 4 &&
			  c1.frees == c0.frees &&
			  c1.live_allocs == c0.live_allocs,
			  "bad frees: %ld counted, %ld freed",
			  c1.bad_calls - c0.bad_calls, c1.frees - c0.frees);
	failed |= nd_test(nd_probe_all_cpus(&probe, "after bad frees"),
			  "bad frees changed the allocation");
	failed |= nd_test(!memchr_inv(p, 0x3c, 2 * PAGE_SIZE),
			  "bad frees changed the data");

	nd_vfree(p);
	nd_counts_read(&c0);
	nd_vfree(p);
	nd_counts_read(&c1);
	failed |= nd_test(c1.bad_calls - c0.bad_calls == 1 &&
			  c1.frees == c0.frees, "double free not refused");
	p = NULL;
out:
	kvfree(va);
	nd_vfree(p);
	kfree(k);
	vfree(v);
	return failed ? ND_FAIL : ND_PASS;
}

static const char * const nd_fail_names[ND_FAIL_NR] = {
	[ND_FAIL_PAGE] = "page", [ND_FAIL_MAP] = "map", [ND_FAIL_META] = "meta",
	[ND_FAIL_SPLIT] = "split", [ND_FAIL_HIDE] = "hide",
	[ND_FAIL_BLOCK] = "block", [ND_FAIL_SLAB] = "slab",
};

/*
 * Make each step of nd_vmalloc_prot() fail in turn, for every pass through
 * it: each failure returns NULL, is counted, and leaves nothing live and no
 * entry of the direct map hidden.  (Split failures need a fresh large leaf,
 * so the split cases inject those; nd_kmalloc()'s cases inject its own.)
 */
static int nd_test_fault_sweep(void)
{
	unsigned int site, nth, injected = 0;
	struct nd_counts c0, c1;
	bool failed = false;
	struct nd_sweep s0;
	enum nd_prot prot;
	void *p;

	for (site = 0; site < ND_FAIL_NR; site++) {
		if (site == ND_FAIL_SPLIT || site == ND_FAIL_BLOCK ||
		    site == ND_FAIL_SLAB)
			continue;
		for (nth = 1; nth <= 2 * ND_SWEEP_PAGES; nth++) {
			prot = nth & 1 ? ND_NOT_PRESENT : ND_READ_ONLY;
			nd_probe_sweep(&s0);
			nd_counts_read(&c0);
			nd_fail_arm(site, nth);
			p = nd_vmalloc_prot(ND_SWEEP_PAGES * PAGE_SIZE,
					    GFP_KERNEL | __GFP_NOWARN, prot);
			nd_fail_arm(site, 0);
			nd_counts_read(&c1);
			if (p) {
				nd_vfree(p);
				break;
			}
			injected++;
			failed |= nd_test(c1.failures == c0.failures + 1 &&
					  c1.live_allocs == c0.live_allocs &&
					  c1.live_pages == c0.live_pages,
					  "%s #%u: %ld failures, %ld live",
					  nd_fail_names[site], nth,
					  c1.failures - c0.failures,
					  c1.live_allocs - c0.live_allocs);
			failed |= !nd_probe_sweep_same(&s0, nd_fail_names[site]);
		}
		failed |= nd_test(nth > 1 && nth <= 2 * ND_SWEEP_PAGES,
				  "site %s: %u passes", nd_fail_names[site], nth);
	}
	pr_info("    # %u failures injected\n", injected);
	return failed ? ND_FAIL : ND_PASS;
}

/* ND_LEAK_TRIES allocations that fail on their last page. */
static bool nd_leak_tries(void)
{
	bool failed = false;
	unsigned int i;

	for (i = 0; i < ND_LEAK_TRIES; i++) {
		nd_fail_arm(ND_FAIL_PAGE, ND_LEAK_PAGES);
		failed |= nd_test(!nd_vmalloc_prot(ND_LEAK_PAGES * PAGE_SIZE,
						   GFP_KERNEL | __GFP_NOWARN,
						   ND_NOT_PRESENT),
				  "allocation %u did not fail", i);
		nd_fail_arm(ND_FAIL_PAGE, 0);
	}
	return failed;
}

/*
 * Allocations that fail on their last page, many times over: no page may
 * leak, so free memory ends where it started, give or take the noise of a
 * running kernel (far below what a leak of every attempt would show).
 * Pages freed to the per-CPU lists (single pages, and on 7.x runs of
 * order 1 to 3) are not counted free: one unmeasured round on the same
 * CPU first fills that CPU's lists.
 */
static int nd_test_fault_no_leak(void)
{
	long before, after, leak_if_any = ND_LEAK_TRIES * (ND_LEAK_PAGES - 1);
	bool failed;

	migrate_disable();
	failed = nd_leak_tries();
	before = global_zone_page_state(NR_FREE_PAGES);
	failed |= nd_leak_tries();
	after = global_zone_page_state(NR_FREE_PAGES);
	migrate_enable();
	failed |= nd_test(before - after < leak_if_any / 8,
			  "%ld fewer free pages after %u failed allocations",
			  before - after, ND_LEAK_TRIES);
	return failed ? ND_FAIL : ND_PASS;
}

/* Frees from interrupt context, each waited for by the test. */
struct nd_atomic_free {
	struct irq_work work;		/* hard interrupt */
	struct timer_list timer;	/* softirq */
	struct completion done;
	void *p;
};

static void nd_hardirq_free_fn(struct irq_work *work)
{
	nd_vfree(container_of(work, struct nd_atomic_free, work)->p);
}

static void nd_softirq_free_fn(struct timer_list *t)
{
	struct nd_atomic_free *f = container_of(t, struct nd_atomic_free,
						timer);

	nd_vfree(f->p);
	complete(&f->done);
}

static const char * const nd_atomic_free_ctx[] = {
	"under a spinlock", "in softirq", "in hardirq",
};

#define ND_ATOMIC_PAGES	4

/*
 * nd_vfree() with a spinlock held, from softirq and from hard interrupt
 * context: the memory is wiped at once; the restore (which may need
 * pgd_lock) and the vfree() come from a worker, after which the pages are
 * back in the direct map.
 */
static int nd_test_atomic_free(void)
{
	struct nd_probe probe = { .nr_pages = ND_ATOMIC_PAGES, .want_read = 0,
				  .want_write = ND_PROBE_NO_WRITE };
	unsigned long *va[ARRAY_SIZE(nd_atomic_free_ctx)] = { };
	void *p[ARRAY_SIZE(nd_atomic_free_ctx)] = { };
	static struct nd_atomic_free f;
	static DEFINE_SPINLOCK(lock);
	struct nd_counts c0, c1;
	bool failed = false;
	unsigned int i;

	nd_counts_read(&c0);
	for (i = 0; i < ARRAY_SIZE(p); i++) {
		p[i] = nd_vmalloc(ND_ATOMIC_PAGES * PAGE_SIZE);
		va[i] = p[i] ? nd_probe_area_vas(p[i], ND_ATOMIC_PAGES) : NULL;
		failed |= nd_test(va[i], "no memory");
	}
	if (failed) {
		for (i = 0; i < ARRAY_SIZE(p); i++)
			nd_vfree(p[i]);
		goto out;
	}

	spin_lock(&lock);
	nd_vfree(p[0]);
	spin_unlock(&lock);

	init_completion(&f.done);
	f.p = p[1];
	timer_setup(&f.timer, nd_softirq_free_fn, 0);
	mod_timer(&f.timer, jiffies + 1);
	wait_for_completion(&f.done);
	timer_delete_sync(&f.timer);

	f.work = IRQ_WORK_INIT_HARD(nd_hardirq_free_fn);
	f.p = p[2];
	irq_work_queue(&f.work);
	irq_work_sync(&f.work);

	nd_deferred_flush();
	for (i = 0; i < ARRAY_SIZE(p); i++) {
		probe.va = va[i];
		failed |= nd_test(nd_probe_all_cpus(&probe,
						    nd_atomic_free_ctx[i]),
				  "not restored after nd_vfree %s",
				  nd_atomic_free_ctx[i]);
	}

	nd_counts_read(&c1);
	failed |= nd_test(c1.deferred_frees - c0.deferred_frees == ARRAY_SIZE(p),
			  "%ld frees deferred, want %zu",
			  c1.deferred_frees - c0.deferred_frees, ARRAY_SIZE(p));
	failed |= nd_test(c1.live_allocs == c0.live_allocs &&
			  c1.live_pages == c0.live_pages, "live counters off");
out:
	for (i = 0; i < ARRAY_SIZE(va); i++)
		kvfree(va[i]);
	return failed ? ND_FAIL : ND_PASS;
}

struct nd_selftest {
	const char *name;
	int (*fn)(void);
};

/* Splits first, while the direct map still has its large leaves. */
static const struct nd_selftest nd_selftests[] = {
	{ "split_1g_not_present", nd_test_split_1g_np },
	{ "split_2m_not_present", nd_test_split_2m_np },
	{ "split_2m_read_only", nd_test_split_2m_ro },
	{ "sizes_not_present", nd_test_sizes_np },
	{ "sizes_read_only", nd_test_sizes_ro },
	{ "public_api", nd_test_public_api },
	{ "bad_calls", nd_test_bad_calls },
	{ "fault_sweep", nd_test_fault_sweep },
	{ "fault_no_leak", nd_test_fault_no_leak },
	{ "atomic_free", nd_test_atomic_free },
	{ "pool_steady", nd_test_pool_steady },
	{ "pool_fallback", nd_test_pool_fallback },
	{ "pool_read_only", nd_test_pool_read_only },
	{ "pool_read_only_2m", nd_test_pool_read_only_2m },
	{ "pool_cap_shared", nd_test_pool_cap_shared },
	{ "pool_atomic_free", nd_test_pool_atomic_free },
	{ "pool_numa", nd_test_pool_numa },
	{ "restore_after_cpa", nd_test_restore_after_cpa },
	{ "pool_stale_tlb", nd_test_pool_stale_tlb },
	{ "pool_get_put", nd_test_pool_get_put },
	{ "gfp_scope", nd_test_gfp_scope },
	{ "size_limit", nd_test_size_limit },
	{ "sweep_large", nd_test_sweep_large },
	{ "kimage_alias_per_page", nd_test_kimage_per_page },
	{ "kimage_alias_pool", nd_test_kimage_pool },
	{ "kmalloc_hidden", nd_test_kmalloc_hidden },
	{ "kmalloc_no_overlap", nd_test_kmalloc_no_overlap },
	{ "kmalloc_wipe_and_return", nd_test_kmalloc_wipe_and_return },
	{ "kmalloc_bad_calls", nd_test_kmalloc_bad_calls },
	{ "kmalloc_footprint", nd_test_kmalloc_footprint },
	{ "vseal", nd_test_vseal },
	{ "pool_rollback", nd_test_pool_rollback },
	{ "kmalloc_failure_once", nd_test_kmalloc_failure_once },
	{ "vseal_twice", nd_test_vseal_twice },
	{ "vseal_free_race", nd_test_vseal_free_race },
	{ "vfree_sealed_atomic", nd_test_vfree_sealed_atomic },
	/* Last: before its fix it leaves a sealed page of nd_kmalloc(). */
	{ "kmalloc_page_internal", nd_test_kmalloc_page_internal },
};

static int nd_selftest_all(void)
{
	unsigned int i, pass = 0, fail = 0, skip = 0;
	struct nd_counts start, end;
	struct nd_sweep sweep;
	unsigned int pool_max;
	int ret;

	/* The per-page cases count flushes: the pool cases turn it on. */
	pool_max = nd_pool_set_max(0);
	nd_pool_drain();
	pr_info("KTAP version 1\n");
	pr_info("1..%zu\n", ARRAY_SIZE(nd_selftests) + 1);
	nd_race_prepare();
	nd_counts_read(&start);
	nd_probe_sweep(&sweep);
	for (i = 0; i < ARRAY_SIZE(nd_selftests); i++) {
		nd_skip_reason = NULL;
		/*
		 * One CPU per case: the pools are per node, and a case that
		 * moved to another node between two calls would judge a
		 * pool other than the one it filled.
		 */
		migrate_disable();
		ret = nd_selftests[i].fn();
		migrate_enable();
		if (ret == ND_SKIP) {
			skip++;
			pr_info("ok %u %s # SKIP %s\n", i + 1,
				nd_selftests[i].name, nd_skip_reason);
		} else if (ret == ND_PASS) {
			pass++;
			pr_info("ok %u %s\n", i + 1, nd_selftests[i].name);
		} else {
			fail++;
			if (nd_skip_reason)
				pr_err("    # %s\n", nd_skip_reason);
			pr_err("not ok %u %s\n", i + 1, nd_selftests[i].name);
		}
	}

	/* Nothing left live or hidden by all of the above. */
	nd_counts_read(&end);
	if (!nd_test(end.live_allocs == start.live_allocs &&
		     end.live_pages == start.live_pages &&
		     nd_probe_sweep_same(&sweep, "after all cases"),
		     "left %ld allocations, %ld pages live",
		     end.live_allocs - start.live_allocs,
		     end.live_pages - start.live_pages)) {
		pass++;
		pr_info("ok %u nothing_left_live\n", i + 1);
	} else {
		fail++;
		pr_err("not ok %u nothing_left_live\n", i + 1);
	}

	pr_info("# flushes %ld, CPU flushes %ld, splits 2M %ld, 1G %ld\n",
		end.flushes - start.flushes, end.flush_cpus - start.flush_cpus,
		end.splits_2m - start.splits_2m, end.splits_1g - start.splits_1g);
	pr_info("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:%u error:0\n",
		pass, fail, skip);
	nd_pool_set_max(pool_max);
	return fail ? -ENOTRECOVERABLE : 0;
}

/**
 * nd_selftest_exit() - end what a selftest mode left running, at rmmod
 */
void nd_selftest_exit(void)
{
	nd_hibernate_test_stop();
	nd_trace_test_exit();
}

/**
 * nd_selftest_run() - run what selftest= asks for
 * @mode: "1" or "y" for the selftest, "crash" for the unguarded read,
 *        "hold" for a live allocation to probe from outside, "fill" to
 *        leave the pool full of free blocks, "hibernate" to allocate in a
 *        loop while user space hibernates (verdict at rmmod).
 * @need_1g: a missing 1G leaf fails the 1G case instead of skipping it.
 *
 * Return: 0 if every case passed, -errno otherwise.
 */
int nd_selftest_run(const char *mode, bool need_1g)
{
	if (!strcmp(mode, "crash"))
		return nd_crash_run();
	if (!strcmp(mode, "crash-seal"))
		return nd_crash_seal_run();
	if (!strcmp(mode, "hold"))
		return nd_hold_run();
	if (!strcmp(mode, "hibernate"))
		return nd_hibernate_test_start();
	if (!strcmp(mode, "fill"))
		return nd_pool_fill_run();
	if (strcmp(mode, "1") && strcmp(mode, "y")) {
		pr_err("selftest=%s: want 1, crash, hold or fill\n", mode);
		return -EINVAL;
	}
	nd_need_1g = need_1g;
	return nd_selftest_all();
}

/**
 * nd_test_run() - run what the module parameters ask for, at load
 * @p: their values.
 *
 * The selftest mode first, then the demo, the stress test and the
 * benchmark, each only if asked for.
 *
 * Return: 0, or the first failure's -errno (nothing after it runs).
 */
int nd_test_run(const struct nd_test_params *p)
{
	int ret;

	if (p->selftest && strcmp(p->selftest, "0")) {
		ret = nd_selftest_run(p->selftest, p->need_1g);
		if (ret)
			return ret;
	}
	if (p->demo) {
		ret = nd_demo_run();
		if (ret)
			return ret;
	}
	if (p->stress) {
		ret = nd_stress_run(p->stress);
		if (ret)
			return ret;
	}
	return p->bench ? nd_bench_run(p->bench) : 0;
}

/**
 * nd_test_exit() - end what nd_test_run() left running, at unload
 */
void nd_test_exit(void)
{
	nd_selftest_exit();
}
