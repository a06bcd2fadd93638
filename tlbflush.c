// SPDX-License-Identifier: GPL-2.0
/*
 * One TLB flush on every CPU, built from exported pieces only, and the
 * counters of what it did.
 *
 * flush_tlb_all() and flush_tlb_kernel_range() are not exported.  Under PTI
 * kernel entries are not global and each CPU may hold them under several
 * PCIDs, so a local INVLPG is not enough either: every CPU drops its whole
 * TLB, global entries and paging-structure caches included, with
 * __flush_tlb_all().
 */

#include <linux/smp.h>
#include <asm/tlbflush.h>

#include "nd_internal.h"

static void nd_tlb_flush_local(void *unused)
{
	__flush_tlb_all();
	atomic_long_inc(&nd_stats.flush_cpus);
}

/**
 * nd_tlb_flush_all() - flush the whole TLB of every online CPU, and wait
 *
 * Context: Process context with interrupts enabled.
 */
void nd_tlb_flush_all(void)
{
	on_each_cpu(nd_tlb_flush_local, NULL, 1);
	atomic_long_inc(&nd_stats.flushes);
}
