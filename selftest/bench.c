// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark run at load by bench=1 (full) or bench=2 (smoke): what one
 * alloc+free pair costs with vmalloc, with nd_vmalloc in both modes, and
 * with the per-page policy of secretmem (hide one page, flush, next page).
 * The last is built from our own primitives, so that only the flush policy
 * differs from nd_vmalloc.
 *
 * All contenders run in one boot, interleaved: each iteration runs every
 * contender once, in an order that rotates, so drift on the host hits them
 * alike.  The cold phase comes first and keeps a ballast allocation after
 * each pair, so the next pair gets pages whose direct-map leaves may never
 * have been split; the steady phase reuses pages, as a long-lived user
 * would.
 *
 * Each result is one line "bench: phase=... contender=... pages=...", which
 * selftest/bench.sh collects from the console.  Both modes also print KTAP
 * for the flush promise, checked on every pair: one flush on every CPU per
 * nd_vmalloc (two when a read-only call split), none per nd_vfree.  Times
 * are reported, never asserted.
 */

#include <linux/hardirq.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>
#include <linux/utsname.h>
#include <linux/vmalloc.h>

#include "compat.h"
#include "nd_internal.h"
#include "selftest.h"

#define ND_BENCH_FULL		1
#define ND_BENCH_SMOKE		2

/* Allocation sizes, with steady-state iterations for each mode. */
static const struct nd_bench_size {
	unsigned int pages, iters, smoke_iters;
} nd_bench_sizes[] = {
	{ 1, 200, 5 },
	{ 16, 200, 5 },
	{ 64, 100, 0 },
	{ 256, 40, 3 },
	/*
	 * A per-page pair costs 1 to 4 s at this size on 4 TCG vCPUs: few
	 * pairs, so that make bench stays within its time.
	 */
	{ 4096, 4, 0 },
};

#define ND_BENCH_MAX_PAGES	4096
#define ND_BENCH_MAX_ITERS	200
/* Cold pairs per contender and size, each followed by a ballast. */
#define ND_BENCH_COLD		3
/* Soaks up pages freed at boot, whose leaves may be split already. */
#define ND_BENCH_SOAK		SZ_32M

enum nd_bench_kind {
	ND_BENCH_VMALLOC,
	ND_BENCH_NP,
	ND_BENCH_RO,
	ND_BENCH_PER_PAGE,
	ND_BENCH_POOL,
	ND_BENCH_RO_POOL,
	ND_BENCH_NR,
};

static const char * const nd_bench_names[ND_BENCH_NR] = {
	[ND_BENCH_VMALLOC] = "vmalloc",
	[ND_BENCH_NP] = "nd_not_present",
	[ND_BENCH_RO] = "nd_read_only",
	[ND_BENCH_PER_PAGE] = "per_page",
	[ND_BENCH_POOL] = "nd_pool",
	[ND_BENCH_RO_POOL] = "nd_ro_pool",
};

/*
 * The pools' cap while a pool contender allocates: 4096 pages of each
 * kind fit.
 */
#define ND_BENCH_POOL_MB	64

/* One contender's pairs at one size. */
struct nd_bench_acc {
	u64 ns[ND_BENCH_MAX_ITERS];
	unsigned int n;
	u64 ipis_alloc, ipis_free, tlb, flushes_alloc, flushes_free, splits;
};

struct nd_bench {
	struct nd_bench_acc acc[ND_BENCH_NR];
	struct nd_area **areas;		/* per-page policy: one per page */
	void **ballast;
	unsigned int nr_ballast, max_ballast;
	unsigned int bad_flush[ND_BENCH_NR];	/* pairs that broke a promise */
	unsigned int pairs[ND_BENCH_NR];
	bool full;
};

/* The counters a pair is judged by, and the time, at one instant. */
struct nd_bench_snap {
	u64 ipis, tlb, flushes, flush_cpus, splits, pool_misses, stale, t;
};

static void nd_bench_snap(struct nd_bench_snap *s)
{
	int cpu;

	/*
	 * The CAL and TLB lines of /proc/interrupts: a flush IPI counts in
	 * CAL, a user-space TLB shootdown in both.
	 */
	s->ipis = 0;
	s->tlb = 0;
	for_each_online_cpu(cpu) {
		s->ipis += nd_irq_stat_calls(cpu);
		s->tlb += nd_irq_stat_tlb(cpu);
	}
	s->flushes = atomic_long_read(&nd_stats.flushes);
	s->flush_cpus = atomic_long_read(&nd_stats.flush_cpus);
	s->splits = atomic_long_read(&nd_stats.splits_2m) +
		    atomic_long_read(&nd_stats.splits_1g);
	s->pool_misses = atomic_long_read(&nd_stats.pool_misses);
	s->stale = atomic_long_read(&nd_stats.pool_stale_flushes);
	s->t = ktime_get_ns();
}

/* secretmem's policy: each page leaves the direct map with its own flush. */
static void *nd_bench_per_page_alloc(struct nd_bench *b, unsigned int pages)
{
	void *p = vmalloc(pages * PAGE_SIZE);
	unsigned int i;

	if (!p)
		return NULL;
	for (i = 0; i < pages; i++) {
		b->areas[i] = nd_area_hide(p + i * PAGE_SIZE, NULL, 1,
					   ND_NOT_PRESENT, GFP_KERNEL);
		if (IS_ERR(b->areas[i])) {
			while (i--)
				nd_area_unhide(b->areas[i]);
			vfree(p);
			return NULL;
		}
	}
	return p;
}

/* Wiped like nd_vfree() wipes, so that only the flushes differ. */
static void nd_bench_per_page_free(struct nd_bench *b, void *p,
				   unsigned int pages)
{
	unsigned int i;

	memzero_explicit(p, pages * PAGE_SIZE);
	for (i = 0; i < pages; i++)
		nd_area_unhide(b->areas[i]);
	vfree(p);
}

static void *nd_bench_alloc(struct nd_bench *b, enum nd_bench_kind kind,
			    unsigned int pages)
{
	unsigned long size = pages * PAGE_SIZE;
	void *p;

	switch (kind) {
	case ND_BENCH_VMALLOC:
		return vmalloc(size);
	case ND_BENCH_NP:
		return nd_vmalloc_prot(size, GFP_KERNEL, ND_NOT_PRESENT);
	case ND_BENCH_RO:
		return nd_vmalloc_prot(size, GFP_KERNEL, ND_READ_ONLY);
	case ND_BENCH_POOL:
	case ND_BENCH_RO_POOL:
		/* The pools are on for these contenders only. */
		nd_pool_set_max(ND_BENCH_POOL_MB);
		p = nd_vmalloc_prot(size, GFP_KERNEL, kind == ND_BENCH_POOL ?
				    ND_NOT_PRESENT : ND_READ_ONLY);
		nd_pool_set_max(0);
		return p;
	default:
		return nd_bench_per_page_alloc(b, pages);
	}
}

static void nd_bench_free(struct nd_bench *b, enum nd_bench_kind kind,
			  void *p, unsigned int pages)
{
	switch (kind) {
	case ND_BENCH_VMALLOC:
		vfree(p);
		break;
	case ND_BENCH_NP:
	case ND_BENCH_RO:
	case ND_BENCH_POOL:
	case ND_BENCH_RO_POOL:
		nd_vfree(p);
		break;
	default:
		nd_bench_per_page_free(b, p, pages);
	}
}

/*
 * Whether the flushes of one pair kept the promise: per nd_vmalloc one
 * flush on every CPU, and one more after each split; per nd_vfree none.
 * The per-page policy must flush once per page, or it measures nothing.
 * The pool flushes when it takes new blocks, once for all of them, and
 * when freed pages must be flushed before reuse (counted apart, at most
 * one per 2 MiB freed: the report shows the rate).
 */
static bool nd_bench_flushes_ok(enum nd_bench_kind kind, unsigned int pages,
				const struct nd_bench_snap *s0,
				const struct nd_bench_snap *s1,
				const struct nd_bench_snap *s2)
{
	u64 want_alloc = 0, want_free = 0, all = s2->flushes - s0->flushes;
	u64 splits = s1->splits - s0->splits;

	if (kind == ND_BENCH_NP || kind == ND_BENCH_RO) {
		want_alloc = 1 + splits;
	} else if (kind == ND_BENCH_PER_PAGE) {
		want_alloc = pages + splits;
	} else if (kind == ND_BENCH_POOL || kind == ND_BENCH_RO_POOL) {
		want_alloc = (s1->pool_misses != s0->pool_misses) +
			     s1->stale - s0->stale;
		want_free = s2->stale - s1->stale;
	}
	if (s1->flushes - s0->flushes == want_alloc &&
	    s2->flushes - s1->flushes == want_free &&
	    s2->flush_cpus - s0->flush_cpus == all * num_online_cpus())
		return true;
	pr_err("    # %s, %u pages: %llu flushes on %llu CPUs in the alloc, %llu in the free; want %llu and %llu, on %u CPUs each\n",
	       nd_bench_names[kind], pages, s1->flushes - s0->flushes,
	       s2->flush_cpus - s0->flush_cpus, s2->flushes - s1->flushes,
	       want_alloc, want_free, num_online_cpus());
	return false;
}

/* One alloc+free pair, recorded in @acc unless that is NULL (warm-up). */
static int nd_bench_pair(struct nd_bench *b, enum nd_bench_kind kind,
			 unsigned int pages, struct nd_bench_acc *acc)
{
	struct nd_bench_snap s0, s1, s2;
	void *p;

	nd_bench_snap(&s0);
	p = nd_bench_alloc(b, kind, pages);
	nd_bench_snap(&s1);
	if (!p) {
		pr_err("bench: %s of %u pages failed\n", nd_bench_names[kind],
		       pages);
		return -ENOMEM;
	}
	nd_bench_free(b, kind, p, pages);
	nd_bench_snap(&s2);

	b->pairs[kind]++;
	if (!nd_bench_flushes_ok(kind, pages, &s0, &s1, &s2))
		b->bad_flush[kind]++;
	if (!acc)
		return 0;
	acc->ns[acc->n++] = s2.t - s0.t;
	acc->ipis_alloc += s1.ipis - s0.ipis;
	acc->ipis_free += s2.ipis - s1.ipis;
	acc->tlb += s2.tlb - s0.tlb;
	acc->flushes_alloc += s1.flushes - s0.flushes;
	acc->flushes_free += s2.flushes - s1.flushes;
	acc->splits += s2.splits - s0.splits;
	return 0;
}

static int nd_bench_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile @pct of @n sorted samples. */
static u64 nd_bench_pct(const u64 *s, unsigned int n, unsigned int pct)
{
	return n ? s[DIV_ROUND_UP(n * pct, 100) - 1] : 0;
}

/* @total / @n with two decimals: counts per pair. */
static const char *nd_bench_per(char *buf, size_t len, u64 total,
				unsigned int n)
{
	u64 x = n ? div_u64(total * 100, n) : 0;

	snprintf(buf, len, "%llu.%02llu", div_u64(x, 100), x % 100);
	return buf;
}

static void nd_bench_report(const char *phase, enum nd_bench_kind kind,
			    unsigned int pages, struct nd_bench_acc *acc)
{
	char ipis[24], ia[24], ifr[24], tlb[24], fa[24], ff[24], splits[24];
	unsigned int n = acc->n;

	sort(acc->ns, n, sizeof(acc->ns[0]), nd_bench_cmp, NULL);
	pr_info("bench: phase=%s contender=%s cpus=%u pages=%u iters=%u median_ns=%llu p90_ns=%llu ipis=%s ipis_alloc=%s ipis_free=%s tlb=%s flushes_alloc=%s flushes_free=%s splits=%s\n",
		phase, nd_bench_names[kind], num_online_cpus(), pages, n,
		nd_bench_pct(acc->ns, n, 50), nd_bench_pct(acc->ns, n, 90),
		nd_bench_per(ipis, sizeof(ipis),
			     acc->ipis_alloc + acc->ipis_free, n),
		nd_bench_per(ia, sizeof(ia), acc->ipis_alloc, n),
		nd_bench_per(ifr, sizeof(ifr), acc->ipis_free, n),
		nd_bench_per(tlb, sizeof(tlb), acc->tlb, n),
		nd_bench_per(fa, sizeof(fa), acc->flushes_alloc, n),
		nd_bench_per(ff, sizeof(ff), acc->flushes_free, n),
		nd_bench_per(splits, sizeof(splits), acc->splits, n));
}

/*
 * @warmup + @iters rounds of every contender at @pages, the order rotating
 * each round; in the cold phase each pair leaves a ballast of its size.
 */
static int nd_bench_rounds(struct nd_bench *b, const char *phase,
			   unsigned int pages, unsigned int warmup,
			   unsigned int iters, bool cold)
{
	unsigned int i, j, k;
	int ret;

	memset(b->acc, 0, sizeof(b->acc));
	for (i = 0; i < warmup + iters; i++) {
		for (j = 0; j < ND_BENCH_NR; j++) {
			k = (i + j) % ND_BENCH_NR;
			ret = nd_bench_pair(b, k, pages,
					    i >= warmup ? &b->acc[k] : NULL);
			if (ret)
				return ret;
			/* Takes the pages just freed, so the next are fresh. */
			if (cold && b->nr_ballast < b->max_ballast)
				b->ballast[b->nr_ballast++] =
					vmalloc(pages * PAGE_SIZE);
			cond_resched();
		}
	}
	for (k = 0; k < ND_BENCH_NR; k++)
		nd_bench_report(phase, k, pages, &b->acc[k]);
	return 0;
}

enum nd_bench_step {
	ND_STEP_MAP,
	ND_STEP_HIDE,
	ND_STEP_FLUSH,
	ND_STEP_WIPE,
	ND_STEP_RESTORE,
	ND_STEP_VFREE,
	ND_STEP_BASE,
	ND_STEP_NR,
};

/*
 * Where the time of a not-present pair goes, step by step, with the
 * primitives nd_vmalloc() and nd_vfree() are made of: "map" is
 * nd_map_pages() (pages and a vmap area, where vmalloc() would do the
 * same), "hide" is the area's bookkeeping, the walk (and splits), the entry
 * writes and one flush.  The flush is timed once more on its own, so the
 * walk and writes are the difference, taken in each round (where the two
 * flushes met the same load on the host) before the median.  "base" is a vmalloc()+vfree() pair
 * of the same size in the same round, the floor to compare with.
 */
static int nd_bench_profile(unsigned int pages, unsigned int iters)
{
	/* One row per step, and one for the walk: hide less the flush. */
	u64 (*ns)[ND_BENCH_MAX_ITERS], t[ND_STEP_NR + 1];
	struct nd_area *area;
	struct page **pg;
	unsigned int i, s;
	void *p;

	ns = kmalloc_array(ND_STEP_NR + 1, sizeof(*ns), GFP_KERNEL);
	if (!ns)
		return -ENOMEM;
	for (i = 0; i < iters; i++) {
		t[ND_STEP_MAP] = ktime_get_ns();
		p = nd_map_pages(pages * PAGE_SIZE, GFP_KERNEL, &pg);
		t[ND_STEP_HIDE] = ktime_get_ns();
		area = p ? nd_area_hide(p, pg, pages, ND_NOT_PRESENT,
					      GFP_KERNEL) : NULL;
		t[ND_STEP_FLUSH] = ktime_get_ns();
		if (IS_ERR_OR_NULL(area)) {
			vfree(p);
			kfree(ns);
			return -ENOMEM;
		}
		nd_tlb_flush_all();
		t[ND_STEP_WIPE] = ktime_get_ns();
		memzero_explicit(p, pages * PAGE_SIZE);
		t[ND_STEP_RESTORE] = ktime_get_ns();
		nd_area_unhide(area);
		t[ND_STEP_VFREE] = ktime_get_ns();
		vfree(p);
		t[ND_STEP_BASE] = ktime_get_ns();
		vfree(vmalloc(pages * PAGE_SIZE));
		t[ND_STEP_NR] = ktime_get_ns();
		for (s = 0; s < ND_STEP_NR; s++)
			ns[s][i] = t[s + 1] - t[s];
		ns[ND_STEP_NR][i] = ns[ND_STEP_HIDE][i] > ns[ND_STEP_FLUSH][i] ?
				    ns[ND_STEP_HIDE][i] - ns[ND_STEP_FLUSH][i] : 0;
		cond_resched();
	}
	for (s = 0; s <= ND_STEP_NR; s++)
		sort(ns[s], iters, sizeof(ns[s][0]), nd_bench_cmp, NULL);
	pr_info("bench: phase=profile contender=nd_not_present cpus=%u pages=%u iters=%u map_ns=%llu hide_ns=%llu flush_ns=%llu wipe_ns=%llu restore_ns=%llu vfree_ns=%llu base_ns=%llu walk_ns=%llu\n",
		num_online_cpus(), pages, iters,
		nd_bench_pct(ns[ND_STEP_MAP], iters, 50),
		nd_bench_pct(ns[ND_STEP_HIDE], iters, 50),
		nd_bench_pct(ns[ND_STEP_FLUSH], iters, 50),
		nd_bench_pct(ns[ND_STEP_WIPE], iters, 50),
		nd_bench_pct(ns[ND_STEP_RESTORE], iters, 50),
		nd_bench_pct(ns[ND_STEP_VFREE], iters, 50),
		nd_bench_pct(ns[ND_STEP_BASE], iters, 50),
		nd_bench_pct(ns[ND_STEP_NR], iters, 50));
	kfree(ns);
	return 0;
}

/* Cold phase, steady phase, then (full run only) the step profile. */
static int nd_bench_all(struct nd_bench *b)
{
	unsigned int i, iters, cold = b->full ? ND_BENCH_COLD : 1;
	const struct nd_bench_size *sz;
	void *soak = vmalloc(ND_BENCH_SOAK);
	int ret = 0;

	for (i = 0; i < ARRAY_SIZE(nd_bench_sizes) && !ret; i++) {
		sz = &nd_bench_sizes[i];
		if (b->full || sz->smoke_iters)
			ret = nd_bench_rounds(b, "cold", sz->pages, 0, cold,
					      true);
	}
	while (b->nr_ballast)
		vfree(b->ballast[--b->nr_ballast]);
	vfree(soak);

	for (i = 0; i < ARRAY_SIZE(nd_bench_sizes) && !ret; i++) {
		sz = &nd_bench_sizes[i];
		iters = b->full ? sz->iters : sz->smoke_iters;
		if (iters)
			/* One warm-up round where a pair takes seconds. */
			ret = nd_bench_rounds(b, "steady", sz->pages,
					      b->full && iters > 4 ? 2 : 1,
					      iters, false);
	}

	for (i = 0; i < ARRAY_SIZE(nd_bench_sizes) && b->full && !ret; i++) {
		sz = &nd_bench_sizes[i];
		ret = nd_bench_profile(sz->pages, min(sz->iters, 20U));
	}
	return ret;
}

/* The KTAP verdict of a run: the flush promise and nothing left live. */
static int nd_bench_ktap(const struct nd_bench *b, long live0, int small)
{
	static const enum nd_bench_kind checked[] = {
		ND_BENCH_NP, ND_BENCH_RO, ND_BENCH_PER_PAGE, ND_BENCH_POOL,
		ND_BENCH_RO_POOL,
	};
	static const char * const names[] = {
		"flush_promise_not_present", "flush_promise_read_only",
		"per_page_flushes_each_page", "pool_flushes_new_blocks_and_reuse",
		"read_only_pool_flushes_new_blocks_and_reuse",
	};
	unsigned int i, fail = 0;
	long live = atomic_long_read(&nd_stats.live_allocs) - live0;

	pr_info("KTAP version 1\n");
	pr_info("1..%zu\n", ARRAY_SIZE(checked) + 2);
	for (i = 0; i < ARRAY_SIZE(checked); i++) {
		enum nd_bench_kind k = checked[i];

		if (b->pairs[k] && !b->bad_flush[k]) {
			pr_info("ok %u %s\n", i + 1, names[i]);
			continue;
		}
		fail++;
		pr_err("    # %u of %u pairs broke it\n", b->bad_flush[k],
		       b->pairs[k]);
		pr_err("not ok %u %s\n", i + 1, names[i]);
	}
	/* Small objects: no flush, no split in the steady state. */
	if (!small) {
		pr_info("ok %u small_objects_no_flush\n", ++i);
	} else {
		fail++;
		pr_err("not ok %u small_objects_no_flush\n", ++i);
	}
	if (!live) {
		pr_info("ok %u nothing_left_live\n", i + 1);
	} else {
		fail++;
		pr_err("    # %ld allocations left live\n", live);
		pr_err("not ok %u nothing_left_live\n", i + 1);
	}
	pr_info("# Totals: pass:%zu fail:%u xfail:0 xpass:0 skip:0 error:0\n",
		ARRAY_SIZE(checked) + 2 - fail, fail);
	return fail ? -ENOTRECOVERABLE : 0;
}

/**
 * nd_bench_run() - run the benchmark
 * @mode: 1 for the full run (minutes under TCG), 2 for the smoke run that
 *        make check boots (seconds; only its flush counts matter).
 *
 * Return: 0 if the flush promise held on every pair, -errno otherwise.
 */
int nd_bench_run(int mode)
{
	long live0 = atomic_long_read(&nd_stats.live_allocs);
	unsigned int pool_max;
	struct nd_bench *b;
	int ret, small;

	if (mode != ND_BENCH_FULL && mode != ND_BENCH_SMOKE) {
		pr_err("bench=%d: want 1 (full) or 2 (smoke)\n", mode);
		return -EINVAL;
	}
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	b->full = mode == ND_BENCH_FULL;
	b->max_ballast = ARRAY_SIZE(nd_bench_sizes) * ND_BENCH_COLD *
			 ND_BENCH_NR;
	b->areas = kvmalloc_array(ND_BENCH_MAX_PAGES, sizeof(*b->areas),
				  GFP_KERNEL);
	b->ballast = kcalloc(b->max_ballast, sizeof(*b->ballast), GFP_KERNEL);
	if (!b->areas || !b->ballast) {
		ret = -ENOMEM;
		goto out;
	}

	pr_info("bench: start kernel=%s cpus=%u mode=%s\n",
		init_utsname()->release, num_online_cpus(),
		b->full ? "full" : "smoke");
	/* Off but for the pool contender; empty before and after. */
	pool_max = nd_pool_set_max(0);
	nd_pool_drain();
	ret = nd_bench_all(b);
	/* Small objects come from the pool, on for them. */
	nd_pool_set_max(ND_BENCH_POOL_MB);
	small = nd_bench_small_run(b->full);
	nd_pool_set_max(0);
	if (small == -ENOMEM)
		ret = small;
	nd_pool_drain();
	nd_pool_set_max(pool_max);
	if (!ret)
		ret = nd_bench_ktap(b, live0, small);
	pr_info("bench: end ret=%d\n", ret);
out:
	kfree(b->ballast);
	kvfree(b->areas);
	kfree(b);
	return ret;
}
