// SPDX-License-Identifier: GPL-2.0
/*
 * Probing the direct map from every CPU, and what its entries should be.
 *
 * The expected entries are worked out here from the kernel's page tables
 * with the SDM's layout, not with the module's own code, so a mistake there
 * cannot hide itself.
 */

#include <linux/delay.h>
#include <linux/cpu.h>
#include <linux/kfence.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <asm/pgtable.h>

#include "probe.h"

/* Only -EFAULT proves a fault: -ERANGE means it was never tried. */
int nd_probe_read(const void *va, u64 *val)
{
	return copy_from_kernel_nofault(val, va, sizeof(*val));
}

/* copy_to_kernel_nofault() is not exported; its core is a macro. */
int nd_probe_write(void *va, u8 val)
{
	pagefault_disable();
	__put_kernel_nofault(va, &val, u8, fault);
	pagefault_enable();
	return 0;
fault:
	pagefault_enable();
	return -EFAULT;
}

static void nd_probe_this_cpu(void *arg)
{
	struct nd_probe *probe = arg;
	unsigned int i;
	bool bad_data;
	int r, w;
	u64 val;

	for (i = 0; i < probe->nr_pages; i++) {
		void *va = (void *)probe->va[i];
		const u8 *alias = probe->alias ? probe->alias + i * PAGE_SIZE
					       : NULL;

		r = nd_probe_read(va, &val);
		bad_data = !r && alias && val != *(const u64 *)alias;

		/* Writes put back the byte that is there: nothing changes. */
		w = ND_PROBE_NO_WRITE;
		if (probe->want_write != ND_PROBE_NO_WRITE && alias)
			w = nd_probe_write(va, *alias);

		if (r == probe->want_read && w == probe->want_write &&
		    !bad_data)
			continue;
		if (atomic_inc_return(&probe->bad) == 1) {
			probe->bad_cpu = smp_processor_id();
			probe->bad_page = i;
			probe->bad_read = r;
			probe->bad_write = w;
			probe->bad_data = bad_data;
		}
	}
}

/**
 * nd_probe_all_cpus() - read (and maybe write) every page on every CPU
 * @probe: pages and expectations; results are filled in.
 * @what: names the sweep in the failure message.
 *
 * Runs in an IPI on each CPU in turn, so it sees that CPU's own TLB.
 *
 * Return: true if every access on every CPU did what @probe wants.
 */
bool nd_probe_all_cpus(struct nd_probe *probe, const char *what)
{
	int cpu;

	atomic_set(&probe->bad, 0);
	cpus_read_lock();
	for_each_online_cpu(cpu)
		smp_call_function_single(cpu, nd_probe_this_cpu, probe, 1);
	cpus_read_unlock();

	if (!atomic_read(&probe->bad))
		return true;
	pr_err("    # %s: %d page accesses wrong; first: CPU %d page %u at %px read %d (want %d) write %d (want %d)%s\n",
	       what, atomic_read(&probe->bad), probe->bad_cpu, probe->bad_page,
	       (void *)probe->va[probe->bad_page], probe->bad_read,
	       probe->want_read, probe->bad_write, probe->want_write,
	       probe->bad_data ? " data differs" : "");
	return false;
}

/**
 * nd_probe_area_vas() - the direct-map address of each page of a mapping
 * @addr: vmalloc or vmap address.
 * @nr_pages: pages mapped there.
 *
 * Return: a kvmalloc'ed array, or NULL.
 */
unsigned long *nd_probe_area_vas(const void *addr, unsigned int nr_pages)
{
	unsigned long *va;
	unsigned int i;

	va = kvmalloc_array(nr_pages, sizeof(*va), GFP_KERNEL);
	if (!va)
		return NULL;
	for (i = 0; i < nr_pages; i++)
		va[i] = (unsigned long)page_address(vmalloc_to_page(addr +
								    i * PAGE_SIZE));
	return va;
}

/**
 * nd_probe_expected_pte() - the 4K entry @va has, or will get from a split
 * @va: a direct-map address.
 *
 * A large leaf keeps its PAT bit at bit 12 and has PSE set; a 4K entry has
 * PAT at bit 7 and no PSE.  Everything else carries over.
 *
 * Return: the entry.
 */
pte_t nd_probe_expected_pte(unsigned long va)
{
	unsigned int level;
	pteval_t raw, flags;
	pte_t *kpte;

	kpte = lookup_address(va, &level);
	if (level == PG_LEVEL_4K)
		return *kpte;

	raw = pte_val(*kpte);
	flags = raw & ~(level == PG_LEVEL_2M ? PHYSICAL_PMD_PAGE_MASK
					     : PHYSICAL_PUD_PAGE_MASK);
	flags &= ~(_PAGE_PSE | _PAGE_PAT_LARGE);
	if (raw & _PAGE_PAT_LARGE)
		flags |= _PAGE_PAT;
	return pfn_pte(PHYS_PFN(__pa(va)), __pgprot(flags));
}

/**
 * nd_probe_pte_is() - check that @va has exactly the 4K entry @want
 * @va: a direct-map address.
 * @want: the entry it must have.
 * @what: names the check in the failure message.
 *
 * Return: true if it does.
 */
bool nd_probe_pte_is(unsigned long va, pte_t want, const char *what)
{
	unsigned int level;
	pte_t *kpte;

	kpte = lookup_address(va, &level);
	if (kpte && level == PG_LEVEL_4K && pte_same(*kpte, want))
		return true;
	pr_err("    # %s: direct map of %px is %llx at level %u, want %llx at 4K\n",
	       what, (void *)va, kpte ? (u64)pte_val(*kpte) : 0, level,
	       (u64)pte_val(want));
	return false;
}

static unsigned long nd_level_size(unsigned int level)
{
	switch (level) {
	case PG_LEVEL_4K:
		return PAGE_SIZE;
	case PG_LEVEL_2M:
		return PMD_SIZE;
	case PG_LEVEL_1G:
		return PUD_SIZE;
	case PG_LEVEL_512G:
		return P4D_SIZE;
	default:
		return PGDIR_SIZE;
	}
}

/**
 * nd_probe_sweep() - count the direct map's entries that look hidden
 * @sweep: the counts, of 4K entries and of 2M and 1G leaves apart.
 *
 * Walks [PAGE_OFFSET, high_memory) a leaf (or a hole) at a time.  KFENCE
 * unmaps its own guard pages there, so its pool is left out.  A large
 * leaf counts too: the pool hides whole 2M leaves, and a hidden leaf left
 * behind is as much a leak as a 4K entry.
 *
 * Context: Any context but NMI; sleeps only where it may.
 */
void nd_probe_sweep(struct nd_sweep *sweep)
{
	unsigned long va = PAGE_OFFSET, end = (unsigned long)high_memory;
	unsigned long size, n = 0;
	unsigned int level;
	pte_t *kpte;

	memset(sweep, 0, sizeof(*sweep));
	while (va < end) {
		kpte = lookup_address(va, &level);
		/*
		 * For a hole, 6.1 names the level above the empty entry and
		 * 6.12 the entry's own: step by 2M, small enough for either.
		 */
		size = kpte ? nd_level_size(level) : PMD_SIZE;
		if (kpte && !pte_none(*kpte) && !is_kfence_address((void *)va) &&
		    level <= PG_LEVEL_1G) {
			/* A not-present 2M leaf keeps PSE: pte_present() says no. */
			if (!(pte_flags(*kpte) & _PAGE_PRESENT))
				sweep->not_present[level]++;
			else if (!pte_write(*kpte))
				sweep->read_only[level]++;
		}
		va = ALIGN_DOWN(va, size) + size;
		/* Also called with interrupts off (the hibernation probe). */
		if (!(++n & 4095) && preemptible())
			cond_resched();
	}
}

/**
 * nd_probe_sweep_same() - check the direct map looks as it did
 * @before: an earlier nd_probe_sweep().
 * @what: names the check in the failure message.
 *
 * Context: Process context, may sleep.
 * Return: true if no more entries are not present or read-only than before.
 */
bool nd_probe_sweep_same(const struct nd_sweep *before, const char *what)
{
	struct nd_sweep now;
	unsigned int l, tries;
	bool same;

	/*
	 * No more entries hidden than before, not present or read-only.  On
	 * a live system the kernel itself hides direct-map aliases for a
	 * moment (vfree() of module and BPF memory resets their permissions
	 * through an invalid alias) and makes them read-only and writable
	 * again: one caught in @before is gone later, one caught now is gone
	 * a little later, so look again before saying no.  A leak of ours
	 * stays.
	 */
	for (tries = 0; tries < 5; tries++) {
		if (tries)
			msleep(50);
		nd_probe_sweep(&now);
		same = true;
		for (l = 0; l <= PG_LEVEL_1G; l++)
			same &= now.not_present[l] <= before->not_present[l] &&
				now.read_only[l] <= before->read_only[l];
		if (same)
			return true;
	}
	pr_err("    # %s: direct map has %lu/%lu/%lu not-present and %lu/%lu/%lu read-only 4K/2M/1G entries, was %lu/%lu/%lu and %lu/%lu/%lu\n",
	       what, now.not_present[PG_LEVEL_4K], now.not_present[PG_LEVEL_2M],
	       now.not_present[PG_LEVEL_1G], now.read_only[PG_LEVEL_4K],
	       now.read_only[PG_LEVEL_2M], now.read_only[PG_LEVEL_1G],
	       before->not_present[PG_LEVEL_4K],
	       before->not_present[PG_LEVEL_2M],
	       before->not_present[PG_LEVEL_1G], before->read_only[PG_LEVEL_4K],
	       before->read_only[PG_LEVEL_2M], before->read_only[PG_LEVEL_1G]);
	return false;
}
