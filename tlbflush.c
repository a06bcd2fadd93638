// SPDX-License-Identifier: GPL-2.0
/*
 * One TLB flush on every CPU, built from exported pieces only, and the
 * counters of what it did.
 *
 * flush_tlb_all() and flush_tlb_kernel_range() are not exported.  Under PTI
 * kernel entries are not global and each CPU may hold them under several
 * PCIDs, so a local INVLPG is not enough either: every CPU drops its whole
 * TLB, global entries and paging-structure caches included.
 *
 * The route: __flush_tlb_all() did that for modules up to 6.x, but newer
 * kernels export it to KVM's modules only.  Every Debian kernel has
 * CONFIG_PARAVIRT, where __flush_tlb_global() is an inline call through
 * the exported pv_ops (EXPORT_SYMBOL since 4.x, still in 7.x); it lands
 * in native_flush_tlb_global() (INVPCID all-context, or a CR4.PGE toggle:
 * both drop every PCID's entries, global ones included), which is what
 * __flush_tlb_all() itself calls when the CPU has PGE.  Under IBT this is
 * safe: pv_ops' targets have their address taken, so they keep their
 * ENDBR, and the call site is patched into a direct call at module load.
 * It is not a call through an address we resolved.  Without PGE there is
 * no PCID either and a CR3 write (__flush_tlb_local()) drops everything.
 */

#include <linux/smp.h>
#include <asm/tlbflush.h>

#include "compat.h"
#include "nd_internal.h"
#include "nd_trace.h"

static void nd_tlb_flush_local(void *unused)
{
	nd_flush_tlb_all_local();
	atomic_long_inc(&nd_stats.flush_cpus);
}

/* The same, counting the CPUs reached for the nd_flush event. */
static void nd_tlb_flush_local_counted(void *cpus)
{
	nd_tlb_flush_local(NULL);
	atomic_inc(cpus);
}

/**
 * nd_tlb_flush_all() - flush the whole TLB of every online CPU, and wait
 *
 * Never inlined, even across files (LTO): the race tests hold a flush
 * here with a kprobe.
 *
 * Context: Process context with interrupts enabled.
 */
noinline void nd_tlb_flush_all(void)
{
	atomic_t cpus;

	if (trace_nd_flush_enabled()) {
		atomic_set(&cpus, 0);
		on_each_cpu(nd_tlb_flush_local_counted, &cpus, 1);
		atomic_long_inc(&nd_stats.flushes);
		trace_nd_flush(atomic_read(&cpus), _RET_IP_);
		return;
	}
	on_each_cpu(nd_tlb_flush_local, NULL, 1);
	atomic_long_inc(&nd_stats.flushes);
}
