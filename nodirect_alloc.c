// SPDX-License-Identifier: GPL-2.0
/*
 * nodirect_alloc: vmalloc memory whose backing pages are taken out of the
 * direct map, so that only the returned address reaches them.
 *
 * This file holds the exported API and its argument checks, the module
 * parameters and module init/exit; area.c and the files below it do the
 * work.
 */

#include <linux/mm.h>
#include <linux/module.h>
#include <linux/string.h>

#include "nd_internal.h"
#include "nd_trace.h"

static char *selftest;
module_param(selftest, charp, 0);
MODULE_PARM_DESC(selftest,
		 "run the selftest at load (1), read a hidden page through __va to show the oops (crash), or keep one secret allocation live for outside probes (hold)");

static bool selftest_need_1g;
module_param(selftest_need_1g, bool, 0);
MODULE_PARM_DESC(selftest_need_1g,
		 "fail, not skip, the selftest's 1G-leaf case when no 1G leaf is found");

static bool demo;
module_param(demo, bool, 0);
MODULE_PARM_DESC(demo, "show a hidden page at load and keep it until unload");

static int bench;
module_param(bench, int, 0);
MODULE_PARM_DESC(bench, "run the benchmark at load (see selftest/bench.c)");

static unsigned int stress;
module_param(stress, uint, 0);
MODULE_PARM_DESC(stress,
		 "run the stress test at load for this many seconds (see selftest/stress.c)");

/* What callers may ask of the page allocator; all of it can sleep. */
#define ND_GFP_ALLOWED	(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN | \
			 __GFP_NORETRY | __GFP_RETRY_MAYFAIL | __GFP_ACCOUNT)

/**
 * nd_size_ok() - whether nd_vmalloc() can serve @size bytes
 * @size: what the caller asked for.
 * @ram_pages: pages of RAM in the system.
 *
 * Page counts are unsigned int here, as in vmap(): a size whose page
 * count does not fit is refused even on a machine with that much memory.
 *
 * Return: true if @size is neither 0, nor more than all memory, nor more
 * pages than fit in an unsigned int.
 */
bool nd_size_ok(unsigned long size, unsigned long ram_pages)
{
	return size && size <= min_t(unsigned long, ram_pages, UINT_MAX) *
			       PAGE_SIZE;
}

/**
 * nd_gfp_ok() - whether an allocation may be made with @gfp
 * @gfp: what the caller passed.
 * @caller: who, for the message.
 *
 * Return: true if @gfp allows sleeping and takes only GFP_KERNEL-like
 * flags; false, after a rate-limited message, otherwise.
 */
bool nd_gfp_ok(gfp_t gfp, void *caller)
{
	if (gfpflags_allow_blocking(gfp) && !(gfp & ~ND_GFP_ALLOWED))
		return true;
	pr_err_ratelimited("nd_vmalloc from %pS: gfp %pGg must allow sleeping and take only GFP_KERNEL-like flags\n",
			   caller, &gfp);
	return false;
}

/* Whether the arguments are good; if not, *@why says what is wrong. */
static bool nd_args_ok(unsigned long size, gfp_t gfp, enum nd_prot prot,
		       void *caller, enum nd_trace_why *why)
{
	if (!nd_size_ok(size, totalram_pages())) {
		pr_err_ratelimited("nd_vmalloc from %pS: size %lu is 0, more than all memory or more than %u pages\n",
				   caller, size, UINT_MAX);
		*why = ND_WHY_SIZE;
		return false;
	}
	if (prot != ND_NOT_PRESENT && prot != ND_READ_ONLY) {
		pr_err_ratelimited("nd_vmalloc from %pS: unknown prot %d\n",
				   caller, prot);
		*why = ND_WHY_PROT;
		return false;
	}
	*why = ND_WHY_GFP;
	return nd_gfp_ok(gfp, caller);
}

static void *nd_vmalloc_caller(unsigned long size, gfp_t gfp,
			       enum nd_prot prot, void *caller)
{
	enum nd_trace_why why;
	bool refused;
	void *addr;

	if (!nd_args_ok(size, gfp, prot, caller, &why)) {
		atomic_long_inc(&nd_stats.bad_calls);
		trace_nd_refuse(ND_OP_VMALLOC, why, size, NULL, caller);
		return NULL;
	}
	addr = nd_vmalloc_try(size, gfp, prot, false, &refused);
	if (addr)
		return addr;

	atomic_long_inc(&nd_stats.failures);
	trace_nd_refuse(ND_OP_VMALLOC,
			!refused ? ND_WHY_NOMEM : nd_is_going_down() ?
			ND_WHY_GOING_DOWN : ND_WHY_HIBERNATION,
			size, NULL, caller);
	if (refused)
		pr_err_ratelimited("nd_vmalloc from %pS: refused while the system prepares to hibernate\n",
				   caller);
	else if (!(gfp & __GFP_NOWARN))
		pr_err_ratelimited("nd_vmalloc from %pS: could not allocate and hide %lu bytes\n",
				   caller, size);
	return NULL;
}

void *nd_vmalloc_prot(unsigned long size, gfp_t gfp, enum nd_prot prot)
{
	return nd_vmalloc_caller(size, gfp, prot, __builtin_return_address(0));
}
EXPORT_SYMBOL_GPL(nd_vmalloc_prot);

void *nd_vmalloc(unsigned long size)
{
	return nd_vmalloc_caller(size, GFP_KERNEL, ND_NOT_PRESENT,
				 __builtin_return_address(0));
}
EXPORT_SYMBOL_GPL(nd_vmalloc);

void *nd_vzalloc(unsigned long size)
{
	return nd_vmalloc_caller(size, GFP_KERNEL | __GFP_ZERO, ND_NOT_PRESENT,
				 __builtin_return_address(0));
}
EXPORT_SYMBOL_GPL(nd_vzalloc);

void nd_vfree(const void *addr)
{
	if (!addr)
		return;
	nd_area_free(addr, false, __func__, __builtin_return_address(0));
}
EXPORT_SYMBOL_GPL(nd_vfree);

int nd_vseal(const void *addr)
{
	return nd_area_seal(addr, __func__, __builtin_return_address(0));
}
EXPORT_SYMBOL_GPL(nd_vseal);

static void *nd_kmalloc_caller(size_t size, gfp_t gfp, void *caller)
{
	if (!size || size > ND_KMALLOC_MAX) {
		atomic_long_inc(&nd_stats.bad_calls);
		trace_nd_refuse(ND_OP_KMALLOC, ND_WHY_SIZE, size, NULL, caller);
		pr_err_ratelimited("nd_kmalloc from %pS: size %zu is 0 or more than %lu: use nd_vmalloc()\n",
				   caller, size, ND_KMALLOC_MAX);
		return NULL;
	}
	if (!nd_gfp_ok(gfp, caller)) {
		atomic_long_inc(&nd_stats.bad_calls);
		trace_nd_refuse(ND_OP_KMALLOC, ND_WHY_GFP, size, NULL, caller);
		return NULL;
	}
	return nd_kmalloc_flags(size, gfp, caller);
}

void *nd_kmalloc(size_t size, gfp_t gfp)
{
	return nd_kmalloc_caller(size, gfp, __builtin_return_address(0));
}
EXPORT_SYMBOL_GPL(nd_kmalloc);

void *nd_kzalloc(size_t size, gfp_t gfp)
{
	/* Every object is zeroed already: pages come zeroed, frees wipe. */
	return nd_kmalloc_caller(size, gfp | __GFP_ZERO,
				 __builtin_return_address(0));
}
EXPORT_SYMBOL_GPL(nd_kzalloc);

void nd_kfree(const void *ptr)
{
	nd_kfree_caller(ptr, __builtin_return_address(0));
}
EXPORT_SYMBOL_GPL(nd_kfree);

static int __init nd_init(void)
{
	const struct nd_test_params tests = {
		.selftest = selftest, .need_1g = selftest_need_1g,
		.demo = demo, .stress = stress, .bench = bench,
	};
	unsigned long left;
	int ret;

	ret = nd_pageattr_init();
	if (ret)
		return ret;

	ret = nd_pool_init();
	if (ret)
		return ret;
	nd_kmalloc_init();

	ret = nd_sysfs_init();
	if (ret)
		goto err_pool;

	ret = nd_pm_init();
	if (ret)
		goto err_sysfs;

	ret = nd_test_run(&tests);
	if (ret)
		goto err;
	return 0;

err:
	nd_kmalloc_exit();
	left = nd_release_all();
	if (left)
		pr_err("selftest left %lu allocations live; restored and freed them\n",
		       left);
	nd_pm_exit();
err_sysfs:
	nd_sysfs_exit();
err_pool:
	nd_pool_exit();
	nd_kimage_release();
	return ret;
}

static void __exit nd_exit(void)
{
	unsigned long left;

	nd_test_exit();
	/* First: a reboot notifier running now would wipe released areas. */
	nd_pm_exit();
	/* Consumers hold a reference on us, so none is left to call in. */
	nd_kmalloc_exit();
	left = nd_release_all();
	if (left)
		pr_warn("unloading with %lu allocations live: wiped, restored to the direct map and freed\n",
			left);
	nd_sysfs_exit();
	nd_pool_exit();
	nd_kimage_release();
}

module_init(nd_init);
module_exit(nd_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vmalloc memory that is not reachable through the direct map");
MODULE_VERSION(ND_VERSION);
