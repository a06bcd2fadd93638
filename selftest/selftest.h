/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the selftest's files share: the check macro, results and counters.
 */
#ifndef _ND_SELFTEST_H
#define _ND_SELFTEST_H

#include <linux/printk.h>
#include <linux/types.h>

enum nd_result { ND_PASS, ND_FAIL, ND_SKIP };

/* Evaluates to true when @cond fails, after saying where and why. */
#define nd_test(cond, fmt, ...) ({					\
	bool __failed = !(cond);					\
	if (__failed)							\
		pr_err("    # %s:%d: " fmt "\n", __func__, __LINE__,	\
		       ##__VA_ARGS__);					\
	__failed;							\
})

/* A snapshot of nd_stats. */
struct nd_counts {
	long flushes, flush_cpus, splits_2m, splits_1g;
	long live_allocs, live_pages, allocs, frees, bad_calls, failures;
	long deferred_frees;
	long pool_hits, pool_misses, pool_fallbacks;
	long pool_blocks_taken, pool_blocks_returned, pool_blocks_rolled_back;
	long pool_stale_flushes, leaked_pages;
};

void nd_counts_read(struct nd_counts *c);

static inline long nd_counts_splits(const struct nd_counts *c)
{
	return c->splits_2m + c->splits_1g;
}

/* Why the case that returns ND_SKIP skipped. */
extern const char *nd_skip_reason;

/* selftest/selftest.c */
int nd_selftest_run(const char *mode, bool need_1g);
void nd_selftest_exit(void);

/* selftest/demo.c */
int nd_demo_run(void);
int nd_crash_run(void);
int nd_hold_run(void);

/* selftest/stress.c */
int nd_stress_run(unsigned int seconds);

/* selftest/bench.c */
int nd_bench_run(int mode);

/* selftest/bench_small.c */
int nd_bench_small_run(bool full);

/* selftest/pool_test.c */
int nd_test_pool_steady(void);
int nd_test_pool_fallback(void);
int nd_test_pool_rollback(void);
int nd_test_pool_read_only(void);
int nd_test_pool_read_only_2m(void);
int nd_test_pool_cap_shared(void);
int nd_test_pool_atomic_free(void);
int nd_test_pool_numa(void);
int nd_pool_fill_run(void);

/* selftest/kmalloc_test.c */
int nd_test_kmalloc_hidden(void);
int nd_test_kmalloc_no_overlap(void);
int nd_test_kmalloc_wipe_and_return(void);
int nd_test_kmalloc_bad_calls(void);
int nd_test_kmalloc_footprint(void);
int nd_test_vseal(void);
int nd_test_kmalloc_failure_once(void);
int nd_crash_seal_run(void);

/* selftest/hibernate_test.c */
int nd_hibernate_test_start(void);
void nd_hibernate_test_stop(void);

/* selftest/trace_test.c */
void nd_trace_test_exit(void);

/* selftest/hardening_test.c */
int nd_test_restore_after_cpa(void);
int nd_test_pool_stale_tlb(void);
int nd_test_pool_get_put(void);
int nd_test_gfp_scope(void);
int nd_test_size_limit(void);
int nd_test_sweep_large(void);

/* selftest/kimage_test.c */
int nd_test_kimage_per_page(void);
int nd_test_kimage_pool(void);

/* selftest/race_test.c */
void nd_race_prepare(void);
int nd_test_vseal_twice(void);
int nd_test_vseal_free_race(void);
int nd_test_vfree_sealed_atomic(void);
int nd_test_kmalloc_page_internal(void);

#endif /* _ND_SELFTEST_H */
