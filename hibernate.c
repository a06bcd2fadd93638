// SPDX-License-Identifier: GPL-2.0
/*
 * Keep hidden memory out of hibernation images, and out of the next
 * kernel's RAM.
 *
 * The image copies every page, hidden ones included (safe_copy_page() maps
 * a page that is not present with set_direct_map_default_noflush(), which
 * splits a pool's hidden 2M leaf), and it lands on disk.  So, as secretmem
 * does, hibernation is refused while anything is live.  That check alone
 * runs at PM_HIBERNATION_PREPARE, and hibernate() syncs and freezes later
 * (with /dev/snapshot user space decides how much later): an allocation in
 * between would put a secret into the image or fill the pool again.  So
 * from PREPARE until the matching POST notification nd_vmalloc() returns
 * NULL at once (waiting could outlast the freezer, and a caller that
 * sleeps in a kernel thread would keep the system from hibernating), and
 * a syscore suspend callback, the last thing a module can run before the
 * image is made (interrupts off, one CPU left), refuses again if anything
 * is hidden after all.
 */

#include <linux/platform_device.h>
#include <linux/reboot.h>
#include <linux/suspend.h>
#include <linux/syscore_ops.h>

#include "compat.h"
#include "nd_internal.h"
#include "nd_trace.h"

/*
 * What would reach the image: live allocations, frees still waiting for
 * their worker, pages that could not be restored, the pool's blocks.
 */
static bool nd_pm_anything_hidden(long *live, unsigned long *blocks)
{
	unsigned long free_pages;

	*live = atomic_long_read(&nd_stats.live_allocs) +
		atomic_long_read(&nd_stats.pending_frees);
	nd_pool_stats(blocks, &free_pages);
	return *live || *blocks || atomic_long_read(&nd_stats.leaked_pages);
}

/*
 * PREPARE is checked after every notifier of a higher priority, so that a
 * consumer (of the default priority 0) can free its secrets there first;
 * POST unblocks before them, so that the consumer can allocate again.
 */
#define ND_PM_CHECK_PRIORITY	(-100)
#define ND_PM_UNBLOCK_PRIORITY	100

/*
 * From PM_RESTORE_PREPARE to PM_POST_RESTORE: an image is about to replace
 * this kernel, whose secrets would become free RAM of the restored one.
 * Refusing would lose the image (its swap signature is reset by then), so
 * the device freeze callback wipes them instead, and no check refuses.
 */
static bool nd_pm_restoring;

static int nd_pm_check(struct notifier_block *nb, unsigned long action,
		       void *data)
{
	unsigned long blocks;
	long live;

	if (action == PM_RESTORE_PREPARE) {
		nd_gate_set_closed(true);
		WRITE_ONCE(nd_pm_restoring, true);
		return NOTIFY_DONE;
	}
	if (action != PM_HIBERNATION_PREPARE)
		return NOTIFY_DONE;
	/* No allocation is in flight once this returns. */
	nd_gate_set_closed(true);
	/* Frees from atomic context return their pages first. */
	nd_deferred_flush();
	/* Pages whose last small object was freed a moment ago too. */
	nd_kmalloc_release_now();
	nd_pool_drain();
	if (!nd_pm_anything_hidden(&live, &blocks))
		return NOTIFY_DONE;
	pr_warn("refusing hibernation: %ld allocations live, %lu pool blocks and %ld leaked pages hidden; the image would hold them\n",
		live, blocks, atomic_long_read(&nd_stats.leaked_pages));
	trace_nd_hibernate_refuse(ND_PM_PREPARE, live, blocks,
				  atomic_long_read(&nd_stats.leaked_pages));
	/* A notifier that fails gets no POST_HIBERNATION. */
	nd_gate_set_closed(false);
	return notifier_from_errno(-EBUSY);
}

static int nd_pm_unblock(struct notifier_block *nb, unsigned long action,
			 void *data)
{
	if (action == PM_POST_RESTORE)
		WRITE_ONCE(nd_pm_restoring, false);
	if (action == PM_POST_HIBERNATION || action == PM_POST_RESTORE)
		nd_gate_set_closed(false);
	return NOTIFY_DONE;
}

static struct notifier_block nd_pm_check_nb = {
	.notifier_call = nd_pm_check,
	.priority = ND_PM_CHECK_PRIORITY,
};

static struct notifier_block nd_pm_unblock_nb = {
	.notifier_call = nd_pm_unblock,
	.priority = ND_PM_UNBLOCK_PRIORITY,
};

/*
 * Right before the image is made (and before suspend to RAM, where it
 * has nothing to say).  Interrupts are off: counters only.  Whether or not
 * this module saw PREPARE: loaded after /dev/snapshot was opened, it never
 * does.  Suspend to RAM has set its target state by now; hibernation (and
 * a kexec that keeps this kernel) leaves it at PM_SUSPEND_ON.
 */
static int nd_pm_syscore_check(void)
{
	unsigned long blocks;
	long live;

	if (pm_suspend_target_state != PM_SUSPEND_ON || READ_ONCE(nd_pm_restoring) ||
	    !nd_pm_anything_hidden(&live, &blocks))
		return 0;
	pr_err("refusing hibernation at the last moment: %ld allocations live, %lu pool blocks hidden\n",
	       live, blocks);
	trace_nd_hibernate_refuse(ND_PM_SYSCORE, live, blocks,
				  atomic_long_read(&nd_stats.leaked_pages));
	return -EBUSY;
}

ND_DEFINE_SYSCORE(nd_pm_syscore, nd_pm_syscore_check);

/*
 * Device callbacks, for a module that never saw PREPARE (loaded after
 * /dev/snapshot was opened) and for the other users of the freeze
 * callbacks (a restore, Xen's save and migration, a kexec that keeps
 * this kernel): suspend to RAM calls suspend ones instead.  freeze, in
 * process context, does what PREPARE does (or, before a restore, wipes
 * what is live); freeze_noirq, the last device callback before the
 * image, refuses if anything is still hidden.  A refusal at syscore
 * suspend comes later, but create_image() loses its error
 * (arch_resume_nosmt() overwrites it, 6.1 to 7.3): the snapshot ioctl
 * then succeeds with no image, and reading it touches freed pages.
 */
static bool nd_pm_froze;

static int nd_pm_freeze(struct device *dev)
{
	if (!nd_gate_is_closed()) {
		nd_gate_set_closed(true);
		nd_pm_froze = true;
	}
	nd_deferred_flush();
	nd_kmalloc_release_now();
	if (READ_ONCE(nd_pm_restoring) && nd_wipe_live(false))
		pr_info("an image replaces this kernel: live allocations wiped\n");
	nd_pool_drain();
	return 0;
}

static void nd_pm_complete(struct device *dev)
{
	if (nd_pm_froze) {
		nd_pm_froze = false;
		nd_gate_set_closed(false);
	}
}

static int nd_pm_freeze_noirq(struct device *dev)
{
	unsigned long blocks;
	long live;

	if (READ_ONCE(nd_pm_restoring) || !nd_pm_anything_hidden(&live, &blocks))
		return 0;
	pr_err("refusing hibernation before the image: %ld allocations live, %lu pool blocks hidden\n",
	       live, blocks);
	trace_nd_hibernate_refuse(ND_PM_FREEZE_NOIRQ, live, blocks,
				  atomic_long_read(&nd_stats.leaked_pages));
	return -EBUSY;
}

static const struct dev_pm_ops nd_pm_dev_ops = {
	.freeze = nd_pm_freeze,
	.freeze_noirq = nd_pm_freeze_noirq,
	.complete = nd_pm_complete,
};

static int nd_pm_probe(struct platform_device *pdev)
{
	return 0;
}

static struct platform_driver nd_pm_driver = {
	.probe = nd_pm_probe,
	.driver = {
		.name = KBUILD_MODNAME,
		.pm = &nd_pm_dev_ops,
		/* Unbinding would silently drop the checks. */
		.suppress_bind_attrs = true,
	},
};

static struct platform_device *nd_pm_dev;

/*
 * The kernel is going away: reboot, power off, or kexec into another
 * kernel, whose RAM the frames of live secrets become, contents intact.
 * Reboot notifiers run in process context before any of it.  Allocations
 * stay blocked from here on; every live one is wiped in place.
 */
static int nd_reboot_notify(struct notifier_block *nb, unsigned long action,
			    void *data)
{
	unsigned long n;

	nd_gate_set_closed(true);
	/* Frees from atomic context that were not wiped yet. */
	nd_deferred_flush();
	n = nd_wipe_live(true);
	if (n)
		pr_info("the kernel is going down: wiped %lu live allocations\n", n);
	return NOTIFY_DONE;
}

static struct notifier_block nd_reboot_nb = {
	.notifier_call = nd_reboot_notify,
	/* After every other reboot notifier: consumers may use theirs there. */
	.priority = INT_MIN,
};

/**
 * nd_pm_init() - start refusing hibernation while anything is hidden
 *
 * Return: 0 or -errno.
 */
int __init nd_pm_init(void)
{
	int ret = register_pm_notifier(&nd_pm_unblock_nb);

	if (ret)
		return ret;
	ret = register_pm_notifier(&nd_pm_check_nb);
	if (ret)
		goto err_unblock;
	ret = register_reboot_notifier(&nd_reboot_nb);
	if (ret)
		goto err_check;
	ret = platform_driver_register(&nd_pm_driver);
	if (ret)
		goto err_reboot;
	nd_pm_dev = platform_device_register_simple(KBUILD_MODNAME, PLATFORM_DEVID_NONE,
						    NULL, 0);
	if (IS_ERR(nd_pm_dev)) {
		ret = PTR_ERR(nd_pm_dev);
		goto err_driver;
	}
	nd_register_syscore(&nd_pm_syscore);
	return 0;

err_driver:
	platform_driver_unregister(&nd_pm_driver);
err_reboot:
	unregister_reboot_notifier(&nd_reboot_nb);
err_check:
	unregister_pm_notifier(&nd_pm_check_nb);
err_unblock:
	unregister_pm_notifier(&nd_pm_unblock_nb);
	return ret;
}

/**
 * nd_pm_exit() - undo nd_pm_init()
 */
void nd_pm_exit(void)
{
	nd_unregister_syscore(&nd_pm_syscore);
	platform_device_unregister(nd_pm_dev);
	platform_driver_unregister(&nd_pm_driver);
	unregister_reboot_notifier(&nd_reboot_nb);
	unregister_pm_notifier(&nd_pm_check_nb);
	unregister_pm_notifier(&nd_pm_unblock_nb);
}
