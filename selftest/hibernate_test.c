// SPDX-License-Identifier: GPL-2.0
/*
 * selftest=hibernate: a thread allocates and frees hidden memory in a
 * loop while user space runs `echo disk > /sys/power/state`.  A kretprobe
 * on swsusp_save(), which copies memory into the image with interrupts
 * off, sweeps the direct map as the copy starts and as it ends: nothing
 * may be not present then that was not before the test (read-only
 * entries are left out: the kprobe's own instruction slots change some),
 * and the copy
 * (which maps each hidden page it finds, splitting a hidden 2M leaf) may
 * change nothing.  The split counters of /proc/vmstat cannot tell: the
 * kernel counts splits only while system_state is SYSTEM_RUNNING.  The
 * KTAP verdict comes at rmmod.
 */

#include <linux/delay.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/kthread.h>
#include <linux/string.h>
#include <linux/suspend.h>

#include "nd_internal.h"
#include "probe.h"
#include "selftest.h"

#define ND_HIB_PAGES	4

static struct nd_hib {
	struct task_struct *task;
	bool probed;
	/* From the thread. */
	unsigned long allocs, refused, allocs_after;
	/* Before the test, and at swsusp_save(), interrupts off. */
	struct nd_sweep baseline, at_entry, at_return;
	bool snapshot;
	long live;
	unsigned long blocks;
	/* The consumer's key, and what its notifier saw. */
	void *key;
	unsigned int key_freed, key_again, key_refused;
} nd_hib;

#define ND_HIB_KEY_BYTES	32

/*
 * A consumer as the header tells one to write it: default priority, its
 * secret freed at PREPARE and allocated again at POST.
 */
static int nd_hib_consumer(struct notifier_block *nb, unsigned long action,
			   void *data)
{
	switch (action) {
	case PM_HIBERNATION_PREPARE:
		nd_kfree(nd_hib.key);
		nd_hib.key = NULL;
		nd_hib.key_freed++;
		break;
	case PM_POST_HIBERNATION:
		if (nd_hib.key)
			break;
		nd_hib.key = nd_kmalloc(ND_HIB_KEY_BYTES, GFP_KERNEL);
		if (nd_hib.key)
			nd_hib.key_again++;
		else
			nd_hib.key_refused++;
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block nd_hib_consumer_nb = {
	.notifier_call = nd_hib_consumer,
};

static int nd_hib_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	unsigned long free_pages;

	nd_hib.live = atomic_long_read(&nd_stats.live_allocs);
	nd_pool_stats(&nd_hib.blocks, &free_pages);
	nd_probe_sweep(&nd_hib.at_entry);
	return 0;
}

static int nd_hib_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	nd_probe_sweep(&nd_hib.at_return);
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
	nd_pool_drain();
	nd_probe_sweep(&nd_hib.baseline);
	nd_hib.key = nd_kmalloc(ND_HIB_KEY_BYTES, GFP_KERNEL);
	if (!nd_hib.key)
		return -ENOMEM;
	ret = register_pm_notifier(&nd_hib_consumer_nb);
	if (ret)
		goto free_key;
	ret = register_kretprobe(&nd_hib_probe);
	if (ret) {
		pr_err("hibernate: cannot probe swsusp_save (%d)\n", ret);
		goto unregister;
	}
	nd_hib.task = kthread_run(nd_hib_thread, NULL, "nd_hibernate");
	if (IS_ERR(nd_hib.task)) {
		ret = PTR_ERR(nd_hib.task);
		unregister_kretprobe(&nd_hib_probe);
		goto unregister;
	}
	nd_hib.probed = true;
	pr_info("hibernate: allocating in a loop; hibernate now\n");
	return 0;

unregister:
	unregister_pm_notifier(&nd_hib_consumer_nb);
free_key:
	nd_kfree(nd_hib.key);
	nd_hib.key = NULL;
	return ret;
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
	unregister_pm_notifier(&nd_hib_consumer_nb);
	nd_hib.probed = false;
	nd_kfree(nd_hib.key);
	nd_hib.key = NULL;

	pr_info("KTAP version 1\n");
	pr_info("1..5\n");
	pr_info("    # %lu allocations (%lu after the image), %lu refused\n",
		nd_hib.allocs, nd_hib.allocs_after, nd_hib.refused);
	nd_hib_case(&n, &fail, nd_hib.snapshot, "image_made",
		    "swsusp_save() never ran: no image to judge");
	nd_hib_case(&n, &fail, nd_hib.snapshot && !nd_hib.live &&
		    !nd_hib.blocks &&
		    !memcmp(nd_hib.at_entry.not_present,
			    nd_hib.baseline.not_present,
			    sizeof(nd_hib.baseline.not_present)),
		    "nothing_hidden_in_image",
		    "%ld allocations live, %lu pool blocks, %lu/%lu hidden 4K/2M entries (%lu/%lu before the test) when the image was made",
		    nd_hib.live, nd_hib.blocks,
		    nd_hib.at_entry.not_present[PG_LEVEL_4K],
		    nd_hib.at_entry.not_present[PG_LEVEL_2M],
		    nd_hib.baseline.not_present[PG_LEVEL_4K],
		    nd_hib.baseline.not_present[PG_LEVEL_2M]);
	nd_hib_case(&n, &fail, nd_hib.snapshot &&
		    !memcmp(nd_hib.at_entry.not_present,
			    nd_hib.at_return.not_present,
			    sizeof(nd_hib.at_entry.not_present)),
		    "image_changed_no_entry",
		    "hidden 4K/2M entries went from %lu/%lu to %lu/%lu while the image was made",
		    nd_hib.at_entry.not_present[PG_LEVEL_4K],
		    nd_hib.at_entry.not_present[PG_LEVEL_2M],
		    nd_hib.at_return.not_present[PG_LEVEL_4K],
		    nd_hib.at_return.not_present[PG_LEVEL_2M]);
	nd_hib_case(&n, &fail, nd_hib.refused && nd_hib.allocs_after,
		    "refused_in_window_then_allowed",
		    "%lu refused, %lu allowed after the image", nd_hib.refused,
		    nd_hib.allocs_after);
	nd_hib_case(&n, &fail, nd_hib.snapshot && nd_hib.key_freed &&
		    nd_hib.key_again && !nd_hib.key_refused,
		    "consumer_frees_at_prepare_allocates_at_post",
		    "image %s; the consumer freed its key %u times at PREPARE, got a new one %u times at POST, was refused %u times",
		    nd_hib.snapshot ? "made" : "never made", nd_hib.key_freed,
		    nd_hib.key_again, nd_hib.key_refused);
	pr_info("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:0 error:0\n",
		n - fail, fail);
}
