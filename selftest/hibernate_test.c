// SPDX-License-Identifier: GPL-2.0
/*
 * selftest=hibernate: a thread allocates and frees hidden memory in a
 * loop while user space runs `echo disk > /sys/power/state`.  A kprobe
 * on swsusp_save(), which copies memory into the image with interrupts
 * off, records what was hidden at that instant and how many direct-map
 * leaves the copy split.  The KTAP verdict comes at rmmod.
 */

#include <linux/delay.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/string.h>
#include <linux/vmstat.h>

#include "nd_internal.h"
#include "selftest.h"

#define ND_HIB_PAGES	4

static struct nd_hib {
	struct task_struct *task;
	bool probed;
	/* From the thread. */
	unsigned long allocs, refused, allocs_after;
	/* At swsusp_save(), interrupts off. */
	bool snapshot;
	long live;
	unsigned long blocks, splits_before, splits_after;
} nd_hib;

static unsigned long nd_hib_splits(void)
{
	unsigned long n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += per_cpu(vm_event_states, cpu).event[DIRECT_MAP_LEVEL2_SPLIT] +
		     per_cpu(vm_event_states, cpu).event[DIRECT_MAP_LEVEL3_SPLIT];
	return n;
}

static int nd_hib_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	unsigned long free_pages;

	nd_hib.live = atomic_long_read(&nd_stats.live_allocs);
	nd_pool_stats(&nd_hib.blocks, &free_pages);
	nd_hib.splits_before = nd_hib_splits();
	return 0;
}

static int nd_hib_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	nd_hib.splits_after = nd_hib_splits();
	WRITE_ONCE(nd_hib.snapshot, true);
	return 0;
}

static struct kretprobe nd_hib_probe = {
	.kp.symbol_name = "swsusp_save",
	.entry_handler = nd_hib_entry,
	.handler = nd_hib_return,
};

static int nd_hib_thread(void *unused)
{
	u8 *p;

	while (!kthread_should_stop()) {
		p = nd_vmalloc(ND_HIB_PAGES * PAGE_SIZE);
		if (!p) {
			nd_hib.refused++;
			usleep_range(1000, 2000);
			continue;
		}
		nd_hib.allocs++;
		if (READ_ONCE(nd_hib.snapshot))
			nd_hib.allocs_after++;
		memset(p, 0x6b, ND_HIB_PAGES * PAGE_SIZE);
		nd_vfree(p);
		/*
		 * Mostly nothing live, so that PREPARE lets the image be
		 * made; each pass through the window would refill the pool.
		 */
		usleep_range(1000, 2000);
	}
	return 0;
}

/**
 * nd_hibernate_test_start() - start the thread and the probe
 *
 * Return: 0, or -errno with nothing started.
 */
int nd_hibernate_test_start(void)
{
	int ret;

	memset(&nd_hib, 0, sizeof(nd_hib));
	/* The pool on, so that a refill in the window would show. */
	if (!nd_pool_max())
		nd_pool_set_max(ND_POOL_DEFAULT_MB);
	ret = register_kretprobe(&nd_hib_probe);
	if (ret) {
		pr_err("hibernate: cannot probe swsusp_save (%d)\n", ret);
		return ret;
	}
	nd_hib.task = kthread_run(nd_hib_thread, NULL, "nd_hibernate");
	if (IS_ERR(nd_hib.task)) {
		unregister_kretprobe(&nd_hib_probe);
		return PTR_ERR(nd_hib.task);
	}
	nd_hib.probed = true;
	pr_info("hibernate: allocating in a loop; hibernate now\n");
	return 0;
}

/* One KTAP result: number @n, why it failed if it did. */
static __printf(5, 6) void nd_hib_case(unsigned int *n, unsigned int *fail,
				       bool ok, const char *name,
				       const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	++*n;
	if (ok) {
		pr_info("ok %u %s\n", *n, name);
		return;
	}
	++*fail;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	pr_err("    # %pV\n", &vaf);
	va_end(args);
	pr_err("not ok %u %s\n", *n, name);
}

/**
 * nd_hibernate_test_stop() - stop the thread and print the verdict
 */
void nd_hibernate_test_stop(void)
{
	unsigned int fail = 0, n = 0;

	if (!nd_hib.probed)
		return;
	kthread_stop(nd_hib.task);
	unregister_kretprobe(&nd_hib_probe);
	nd_hib.probed = false;

	pr_info("KTAP version 1\n");
	pr_info("1..4\n");
	pr_info("    # %lu allocations (%lu after the image), %lu refused\n",
		nd_hib.allocs, nd_hib.allocs_after, nd_hib.refused);
	nd_hib_case(&n, &fail, nd_hib.snapshot, "image_made",
		    "swsusp_save() never ran: no image to judge");
	nd_hib_case(&n, &fail, nd_hib.snapshot && !nd_hib.live && !nd_hib.blocks,
		    "nothing_hidden_in_image",
		    "%ld allocations live and %lu pool blocks hidden when the image was made",
		    nd_hib.live, nd_hib.blocks);
	nd_hib_case(&n, &fail, nd_hib.snapshot &&
		    nd_hib.splits_after == nd_hib.splits_before,
		    "no_split_by_image",
		    "the image's copy split %lu direct-map leaves",
		    nd_hib.splits_after - nd_hib.splits_before);
	nd_hib_case(&n, &fail, nd_hib.refused && nd_hib.allocs_after,
		    "refused_in_window_then_allowed",
		    "%lu refused, %lu allowed after the image", nd_hib.refused,
		    nd_hib.allocs_after);
	pr_info("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:0 error:0\n",
		n - fail, fail);
}
