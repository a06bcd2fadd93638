// SPDX-License-Identifier: GPL-2.0
/*
 * The small-object benchmark: nd_kmalloc()+nd_kfree() against
 * kmalloc()+kfree_sensitive() (the kernel's way to free a secret), at 16,
 * 32, 64 and 512 bytes, interleaved in one boot, steady state.  It prints
 * "bench: phase=small" lines in the format of bench.c, the size in bytes
 * where the others have pages, and counts the flushes and splits that
 * nd_kmalloc() made: none is the promise.
 */

#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "nd_internal.h"
#include "selftest.h"

static const unsigned int nd_small_sizes[] = { 16, 32, 64, 512 };

enum { ND_SMALL_ND, ND_SMALL_KMALLOC, ND_SMALL_NR };

static const char * const nd_small_names[ND_SMALL_NR] = {
	[ND_SMALL_ND] = "nd_kmalloc",
	[ND_SMALL_KMALLOC] = "kmalloc_sensitive",
};

#define ND_SMALL_ITERS		2000
#define ND_SMALL_SMOKE_ITERS	50
#define ND_SMALL_WARMUP		64

static int nd_small_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* One pair; its time in ns, or 0 if the allocation failed. */
static u64 nd_small_pair(int kind, unsigned int bytes)
{
	u64 t0 = ktime_get_ns();
	void *p;

	if (kind == ND_SMALL_ND) {
		p = nd_kmalloc(bytes, GFP_KERNEL);
		if (!p)
			return 0;
		*(u8 *)p = 1;
		nd_kfree(p);
	} else {
		p = kmalloc(bytes, GFP_KERNEL);
		if (!p)
			return 0;
		*(u8 *)p = 1;
		kfree_sensitive(p);
	}
	return ktime_get_ns() - t0;
}

/**
 * nd_bench_small_run() - time small objects against kmalloc
 * @full: the full run's iterations, or the smoke run's.
 *
 * Return: 0 if nd_kmalloc() made no flush and no split in the steady
 * state, -ENOTRECOVERABLE if it did, -ENOMEM.
 */
int nd_bench_small_run(bool full)
{
	unsigned int iters = full ? ND_SMALL_ITERS : ND_SMALL_SMOKE_ITERS;
	long flushes, splits, bad = 0;
	unsigned int s, i, k, n[ND_SMALL_NR];
	u64 *ns[ND_SMALL_NR], t;
	int ret = 0;

	ns[ND_SMALL_ND] = kvmalloc_array(iters, sizeof(u64), GFP_KERNEL);
	ns[ND_SMALL_KMALLOC] = kvmalloc_array(iters, sizeof(u64), GFP_KERNEL);
	if (!ns[ND_SMALL_ND] || !ns[ND_SMALL_KMALLOC]) {
		ret = -ENOMEM;
		goto out;
	}
	for (s = 0; s < ARRAY_SIZE(nd_small_sizes) && !ret; s++) {
		/* The first pair may take a page (a flush if a block). */
		for (i = 0; i < ND_SMALL_WARMUP; i++)
			for (k = 0; k < ND_SMALL_NR; k++)
				nd_small_pair(k, nd_small_sizes[s]);
		flushes = atomic_long_read(&nd_stats.flushes);
		splits = atomic_long_read(&nd_stats.splits_2m) +
			 atomic_long_read(&nd_stats.splits_1g);
		memset(n, 0, sizeof(n));
		for (i = 0; i < iters && !ret; i++) {
			for (k = 0; k < ND_SMALL_NR; k++) {
				/* The order alternates each round. */
				unsigned int kind = (i + k) % ND_SMALL_NR;

				t = nd_small_pair(kind, nd_small_sizes[s]);
				if (!t)
					ret = -ENOMEM;
				ns[kind][n[kind]++] = t;
			}
			if (!(i % 64))
				cond_resched();
		}
		flushes = atomic_long_read(&nd_stats.flushes) - flushes;
		splits = atomic_long_read(&nd_stats.splits_2m) +
			 atomic_long_read(&nd_stats.splits_1g) - splits;
		bad += flushes + splits;
		for (k = 0; k < ND_SMALL_NR; k++) {
			sort(ns[k], n[k], sizeof(u64), nd_small_cmp, NULL);
			pr_info("bench: phase=small contender=%s cpus=%u pages=%u iters=%u median_ns=%llu p90_ns=%llu ipis=0.00 ipis_alloc=- ipis_free=- tlb=0.00 flushes_alloc=%s flushes_free=- splits=%s\n",
				nd_small_names[k], num_online_cpus(),
				nd_small_sizes[s], n[k], n[k] ? ns[k][n[k] / 2] : 0,
				n[k] ? ns[k][DIV_ROUND_UP(n[k] * 90, 100) - 1] : 0,
				k == ND_SMALL_ND && flushes ? "1.00" : "0.00",
				k == ND_SMALL_ND && splits ? "1.00" : "0.00");
		}
		nd_kmalloc_release_now();
	}
out:
	kvfree(ns[ND_SMALL_KMALLOC]);
	kvfree(ns[ND_SMALL_ND]);
	if (!ret && bad) {
		pr_err("    # small objects: %ld flushes and splits in the steady state\n",
		       bad);
		ret = -ENOTRECOVERABLE;
	}
	return ret;
}
