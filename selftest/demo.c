// SPDX-License-Identifier: GPL-2.0
/*
 * Showing it to a person: demo=1 narrates one allocation's life, and
 * selftest=crash reads a hidden page through __va with no safety net, so
 * the kernel's own page-fault report is the proof (as LKDTM does).
 * selftest=hold keeps a secret live for probes from user space (kcore,
 * hibernation).
 */

#include <linux/cpu.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "nd_internal.h"
#include "probe.h"
#include "selftest.h"

static const char nd_secret[] = "correct horse battery staple";

static void nd_demo_read_on(void *va)
{
	u64 val;
	int ret = nd_probe_read(va, &val);

	if (ret)
		pr_info("demo:   CPU%d reads __va %px: %d (%s)\n",
			smp_processor_id(), va, ret,
			ret == -EFAULT ? "page fault, caught" : "not tried");
	else if (!val)
		pr_info("demo:   CPU%d reads __va %px: zeros (wiped)\n",
			smp_processor_id(), va);
	else
		pr_info("demo:   CPU%d reads __va %px: \"%.8s\"\n",
			smp_processor_id(), va, (char *)&val);
}

static void nd_demo_read_all(void *va)
{
	int cpu;

	cpus_read_lock();
	for_each_online_cpu(cpu)
		smp_call_function_single(cpu, nd_demo_read_on, va, 1);
	cpus_read_unlock();
}

static void nd_demo_entry(const char *when, void *va)
{
	unsigned int level;
	pte_t *kpte = lookup_address((unsigned long)va, &level);

	pr_info("demo:   direct-map entry %s: %016llx (%s%s)\n", when,
		(u64)pte_val(*kpte),
		pte_present(*kpte) ? "present" : "not present",
		pte_present(*kpte) && !pte_write(*kpte) ? ", read-only" : "");
}

static void nd_demo_counters(void)
{
	pr_info("demo: counters: %ld live allocations, %ld allocs, %ld flushes on %ld CPUs in all, %ld 2M and %ld 1G splits\n",
		atomic_long_read(&nd_stats.live_allocs),
		atomic_long_read(&nd_stats.allocs),
		atomic_long_read(&nd_stats.flushes),
		atomic_long_read(&nd_stats.flush_cpus),
		atomic_long_read(&nd_stats.splits_2m),
		atomic_long_read(&nd_stats.splits_1g));
}

/**
 * nd_demo_run() - narrate hiding, reading, read-only, freeing
 *
 * Return: 0, or -ENOMEM.
 */
int nd_demo_run(void)
{
	char *p, *ro;
	void *va;
	int ret;

	pr_info("demo: nd_vzalloc(%zu) on %u CPUs\n", sizeof(nd_secret),
		num_online_cpus());
	p = nd_vzalloc(sizeof(nd_secret));
	if (!p)
		return -ENOMEM;
	va = page_address(vmalloc_to_page(p));
	strscpy(p, nd_secret, PAGE_SIZE);
	pr_info("demo: wrote the secret through the vmalloc alias %px; it reads \"%s\"\n",
		p, p);
	pr_info("demo: the same page in the direct map is %px:\n", va);
	nd_demo_entry("now", va);
	nd_demo_read_all(va);
	nd_demo_counters();

	pr_info("demo: nd_vfree() wipes the page and %s:\n",
		nd_pool_max() ? "keeps it hidden in the pool for the next call"
			      : "puts it back");
	nd_vfree(p);
	nd_demo_entry("after nd_vfree", va);
	nd_demo_read_all(va);
	if (nd_pool_max()) {
		pr_info("demo: the pool gives its free blocks back (as under memory pressure):\n");
		nd_pool_drain();
		nd_demo_entry("after the pool gave it back", va);
		nd_demo_read_all(va);
	}

	ro = nd_vmalloc_prot(PAGE_SIZE, GFP_KERNEL | __GFP_ZERO, ND_READ_ONLY);
	if (!ro)
		return -ENOMEM;
	strscpy(ro, nd_secret, PAGE_SIZE);
	va = page_address(vmalloc_to_page(ro));
	pr_info("demo: ND_READ_ONLY at %px, direct map %px:\n", ro, va);
	nd_demo_entry("now", va);
	nd_demo_read_all(va);
	ret = nd_probe_write(va, 'X');
	pr_info("demo:   writing 'X' through __va: %d (%s); the alias reads \"%.7s\"\n",
		ret, ret == -EFAULT ? "page fault, caught" : "NOT CAUGHT", ro);

	/* Left live on purpose: rmmod must wipe and restore it. */
	pr_info("demo: keeping this allocation until rmmod, which restores it\n");
	nd_demo_counters();
	return 0;
}

/**
 * nd_crash_run() - read a hidden page through __va without a fixup
 *
 * Meant to oops: the boot that runs it passes only if the kernel reports a
 * page fault at the address printed here.
 *
 * Return: -EIO if the read survived (the page was still mapped).
 */
int nd_crash_run(void)
{
	unsigned long *va;
	char *p;

	p = nd_vmalloc(PAGE_SIZE);
	if (!p)
		return -ENOMEM;
	strscpy(p, nd_secret, PAGE_SIZE);
	va = page_address(vmalloc_to_page(p));
	pr_info("crash: the vmalloc alias %px reads \"%s\"\n", p, p);
	pr_info("crash: reading hidden page through __va at %px\n", va);
	pr_err("crash: read through __va survived (%lx): the page is still mapped\n",
	       READ_ONCE(*va));
	nd_vfree(p);
	return -EIO;
}

#define ND_HOLD_MARKER_WORDS	16

/*
 * A binary marker no other memory holds (the log shows only its seed), for
 * selftest/snapshot_probe.c to look for in a hibernation image.
 */
static void nd_hold_marker(void *dst)
{
	u32 seed = get_random_u32(), *m = dst;
	unsigned int i;

	for (i = 0; i < ND_HOLD_MARKER_WORDS; i++)
		m[i] = (seed + i) * 2654435761u ^ 0x5a5aa5a5u;
	pr_info("hold: marker %08x\n", seed);
}

/**
 * nd_hold_run() - keep one secret allocation live until rmmod
 *
 * Prints its address and the secret, so a probe from user space can look
 * for it (through /proc/kcore, say) and must not find it.
 *
 * Return: 0, or -ENOMEM.
 */
int nd_hold_run(void)
{
	/* Module data: vmalloc'ed, so its page has a direct-map alias too. */
	static char control[64] __aligned(64);
	char *p = nd_vzalloc(PAGE_SIZE);

	if (!p)
		return -ENOMEM;
	strscpy(p, nd_secret, PAGE_SIZE);
	nd_hold_marker(p + PAGE_SIZE / 2);
	pr_info("hold: live allocation at %px, %lu bytes, holding \"%s\"\n",
		p, PAGE_SIZE, nd_secret);
	pr_info("hold: its direct-map alias at %px\n",
		page_address(vmalloc_to_page(p)));
	/* Where the marker must be gone from after kexec (init.sh). */
	pr_info("hold: its frame %lx\n", page_to_pfn(vmalloc_to_page(p)));
	/* A positive control for reading the direct map from outside. */
	snprintf(control, sizeof(control), "nd-control-%08x",
		 get_random_u32());
	pr_info("hold: control \"%s\" through the direct map at %px\n",
		control, page_address(vmalloc_to_page(control)) +
		offset_in_page(control));
	return 0;
}
