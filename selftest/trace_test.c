// SPDX-License-Identifier: GPL-2.0
/*
 * The trace boot's fixed sequence (selftest/init.sh, mode trace).  User
 * space enables the events in tracefs, writes "run" to the parameter
 * trace_sequence, tries to hibernate (refused: one allocation stays
 * live), writes "release", and checks what tracefs shows against the
 * sequence below and the counters' deltas.  The expectations live in
 * init.sh: change both together.
 */

#include <linux/moduleparam.h>
#include <linux/string.h>

#include "nd_internal.h"
#include "selftest.h"

/* Live from "run" until "release". */
static void *nd_trace_held;

/*
 * Consumer allocations: 5000 bytes from the pool, 3 pages read-only on
 * the per-page path (__GFP_ACCOUNT keeps them out of the pool), and at the
 * end one page from the pool, kept.  Objects of 100, 32 and 2048 bytes
 * (classes 128, 32 and 2048, each on a new page), freed again, their
 * pages given back at once.  Four refusals: a size of 0, an object too
 * large, a free and an object free that point inside.
 */
static int nd_trace_sequence_run(void)
{
	u8 *a, *b, *k1, *k2, *k3;

	if (nd_trace_held)
		return -EBUSY;
	a = nd_vmalloc(5000);
	b = nd_vmalloc_prot(3 * PAGE_SIZE, GFP_KERNEL | __GFP_ACCOUNT,
			    ND_READ_ONLY);
	k1 = nd_kmalloc(100, GFP_KERNEL);
	k2 = nd_kmalloc(32, GFP_KERNEL);
	k3 = nd_kzalloc(2048, GFP_KERNEL);
	if (!a || !b || !k1 || !k2 || !k3) {
		nd_vfree(a);
		nd_vfree(b);
		nd_kfree(k1);
		nd_kfree(k2);
		nd_kfree(k3);
		return -ENOMEM;
	}
	pr_info("trace: four refusals follow, on purpose\n");
	nd_vmalloc(0);
	nd_kmalloc(PAGE_SIZE, GFP_KERNEL);
	nd_vfree(a + 1);
	nd_kfree(k1 + 1);

	nd_kfree(k1);
	nd_kfree(k2);
	nd_kfree(k3);
	nd_vfree(a);
	nd_vfree(b);
	nd_kmalloc_release_now();

	nd_trace_held = nd_vmalloc(PAGE_SIZE);
	return nd_trace_held ? 0 : -ENOMEM;
}

/* Free what "run" kept, and give every free pool block back. */
static int nd_trace_sequence_release(void)
{
	if (!nd_trace_held)
		return -ENOENT;
	nd_vfree(nd_trace_held);
	nd_trace_held = NULL;
	nd_pool_drain();
	return 0;
}

static int nd_trace_sequence_set(const char *val,
				 const struct kernel_param *kp)
{
	if (sysfs_streq(val, "run"))
		return nd_trace_sequence_run();
	if (sysfs_streq(val, "release"))
		return nd_trace_sequence_release();
	return -EINVAL;
}

static const struct kernel_param_ops nd_trace_sequence_ops = {
	.set = nd_trace_sequence_set,
};

module_param_cb(trace_sequence, &nd_trace_sequence_ops, NULL, 0200);
MODULE_PARM_DESC(trace_sequence,
		 "write run to make the trace boot's calls (one allocation stays live), release to free it");

/**
 * nd_trace_test_exit() - free what "run" kept, if "release" never came
 */
void nd_trace_test_exit(void)
{
	nd_vfree(nd_trace_held);
	nd_trace_held = NULL;
}
