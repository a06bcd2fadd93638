// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark run at load by bench=N: what hiding costs next to plain vmalloc.
 */

#include "nd_internal.h"

/**
 * nd_bench_run() - run the benchmark
 * @mode: what bench= asked for.
 *
 * Return: 0, or -errno.
 */
int nd_bench_run(int mode)
{
	pr_err("bench=%d: no benchmark in this build\n", mode);
	return -EOPNOTSUPP;
}
