// SPDX-License-Identifier: GPL-2.0
/*
 * Take the backing pages of an allocation out of the x86 direct map, and put
 * them back exactly as they were.
 *
 * Only exported functions are called.  The kernel's own set_memory_*() and
 * set_direct_map_*() are not exported, and calling them (or anything else)
 * through an address resolved from kallsyms or kprobes would hit an ENDBR
 * that IBT sealed at boot and BUG() on IBT-capable CPUs.  So the entries are
 * written here, with the same helpers set_memory.c uses.
 *
 * The one thing borrowed is the *data* address of pgd_lock, learnt once at
 * init through register_kprobe() (which fills in kp.addr from the symbol,
 * then refuses to probe data).  Taking pgd_lock serializes our splits with
 * the kernel's: __split_large_page() and __should_split_large_page() change
 * large leaves only under pgd_lock, after looking the leaf up again, and so
 * do we.  4K entries of our own pages are written without cpa_lock: no CPA
 * caller changes pages it does not own, and ours are not anyone else's.
 *
 * Splits are permanent and change no attribute (like the kernel's), so a
 * failure after a split has nothing to undo there.
 */

#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/spinlock.h>
#include <linux/vmstat.h>
#include <xen/xen.h>
#include <asm/pgtable.h>

#include "nd_internal.h"

static spinlock_t *nd_pgd_lock __ro_after_init;

/**
 * nd_pageattr_init() - find what the direct-map code needs
 *
 * Return: 0, or -errno when this kernel cannot be supported.
 */
int __init nd_pageattr_init(void)
{
	struct kprobe kp = { .symbol_name = "pgd_lock" };
	int ret;

	if (xen_pv_domain()) {
		pr_err("Xen PV is not supported: page tables are owned by the hypervisor there\n");
		return -EOPNOTSUPP;
	}

	/* Data is never probeable: -EINVAL is the expected answer. */
	ret = register_kprobe(&kp);
	if (!ret) {
		unregister_kprobe(&kp);
		ret = -EINVAL;
	}
	if (ret != -EINVAL || !kp.addr) {
		pr_err("cannot find the address of pgd_lock (%d): needs CONFIG_KPROBES and CONFIG_KALLSYMS_ALL\n",
		       ret);
		return -ENOENT;
	}
	nd_pgd_lock = (spinlock_t *)kp.addr;
	return 0;
}

/*
 * Replace the large leaf @kpte at @level with a table of 512 entries of the
 * next size down, with the same frames and attributes, as
 * __split_large_page() does.  Returns 1 if we split, 0 if the leaf had
 * already changed under us (someone else split it), or -ENOMEM.
 */
static int nd_split_leaf(unsigned long va, pte_t *kpte, unsigned int level)
{
	unsigned long pfn, pfninc;
	unsigned int cur, i;
	struct page *table;
	pte_t *entries;
	pgprot_t prot;

	table = nd_fail(ND_FAIL_SPLIT) ? NULL : alloc_page(GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	entries = page_address(table);

	spin_lock(nd_pgd_lock);
	if (lookup_address(va, &cur) != kpte || cur != level) {
		spin_unlock(nd_pgd_lock);
		__free_page(table);
		return 0;
	}

	if (level == PG_LEVEL_2M) {
		/* 4K entries keep the PAT bit elsewhere and have no PSE. */
		prot = pgprot_large_2_4k(pmd_pgprot(*(pmd_t *)kpte));
		pfn = pmd_pfn(*(pmd_t *)kpte);
		pfninc = 1;
	} else {
		/* 2M leaves have the same layout as 1G ones. */
		prot = pud_pgprot(*(pud_t *)kpte);
		pfn = pud_pfn(*(pud_t *)kpte);
		pfninc = PMD_SIZE >> PAGE_SHIFT;
	}
	for (i = 0; i < PTRS_PER_PTE; i++, pfn += pfninc)
		set_pte(&entries[i], pfn_pte(pfn, prot));

	/*
	 * No flush here: the new entries translate exactly as the leaf did, so
	 * a TLB holding both sizes at once sees no difference.  The caller's
	 * flush drops the old leaf together with the entries it changes.
	 */
	set_pte_atomic(kpte, mk_pte(table, __pgprot(_KERNPG_TABLE)));
	spin_unlock(nd_pgd_lock);

	if (level == PG_LEVEL_2M) {
		atomic_long_inc(&nd_stats.splits_2m);
		count_vm_event(DIRECT_MAP_LEVEL2_SPLIT);
	} else {
		atomic_long_inc(&nd_stats.splits_1g);
		count_vm_event(DIRECT_MAP_LEVEL3_SPLIT);
	}
	return 1;
}

/*
 * Make sure @va is mapped by a present 4K entry, splitting large leaves on
 * the way.  Sets *@split if we split anything.
 */
static int nd_make_4k(unsigned long va, bool *split)
{
	unsigned int level;
	pte_t *kpte;
	int ret;

	for (;;) {
		kpte = lookup_address(va, &level);
		if (!kpte || !pte_present(*kpte) || !pte_write(*kpte)) {
			pr_err("direct map of %p is not a present writable entry\n",
			       (void *)va);
			return -EFAULT;
		}
		if (level == PG_LEVEL_4K)
			return 0;
		if (level != PG_LEVEL_2M && level != PG_LEVEL_1G) {
			pr_err("direct map of %p has an unknown level %u\n",
			       (void *)va, level);
			return -EFAULT;
		}
		ret = nd_split_leaf(va, kpte, level);
		if (ret < 0)
			return ret;
		if (ret)
			*split = true;
	}
}

/**
 * nd_pageattr_hidden_pte() - the entry that hides a page
 * @orig: the present 4K entry of the page.
 * @prot: how to hide it.
 *
 * Built with pfn_pte() so a not-present entry gets the L1TF inversion of its
 * frame.  _PAGE_GLOBAL goes with PRESENT, because on a not-present entry the
 * same bit means PROTNONE.  Read-only drops Dirty too: !RW with Dirty is a
 * shadow-stack entry.
 *
 * Return: the entry to write.
 */
pte_t nd_pageattr_hidden_pte(pte_t orig, enum nd_prot prot)
{
	pteval_t flags = pte_flags(orig);

	if (prot == ND_NOT_PRESENT)
		flags &= ~(_PAGE_PRESENT | _PAGE_GLOBAL);
	else
		flags &= ~(_PAGE_RW | _PAGE_DIRTY);
	return pfn_pte(pte_pfn(orig), __pgprot(flags));
}

/**
 * nd_pageattr_restore() - put back the entries nd_pageattr_hide() changed
 * @area: the allocation.
 *
 * Needs no TLB flush: a not-present entry is never cached, and a stale
 * read-only one only causes a write fault that spurious_kernel_fault()
 * resolves by looking at the page tables again.
 */
void nd_pageattr_restore(struct nd_area *area)
{
	unsigned int i, level;
	unsigned long va;
	pte_t *kpte;

	for (i = 0; i < area->nr_hidden; i++) {
		va = nd_area_page_va(area, i);
		kpte = lookup_address(va, &level);
		/* Splits are never undone on 6.1/6.12: the 4K entry stays. */
		if (WARN_ON_ONCE(!kpte || level != PG_LEVEL_4K))
			continue;
		if (!pte_same(*kpte, nd_pageattr_hidden_pte(area->orig[i],
							    area->prot)))
			pr_err("direct map of %p was changed by someone else: %lx\n",
			       (void *)va, (unsigned long)pte_val(*kpte));
		set_pte_atomic(kpte, area->orig[i]);
	}
	area->nr_hidden = 0;
}

/**
 * nd_pageattr_hide() - take every page of @area out of the direct map
 * @area: the allocation; @area->orig receives the entries it had.
 *
 * Context: May sleep (split tables are allocated with GFP_KERNEL).
 * Return: 0, or -errno with every entry restored.
 */
int nd_pageattr_hide(struct nd_area *area)
{
	unsigned int i, level;
	bool split = false;
	unsigned long va;
	pte_t *kpte;
	int ret;

	for (i = 0; i < area->nr_pages; i++) {
		ret = nd_make_4k(nd_area_page_va(area, i), &split);
		if (ret)
			return ret;
	}

	/*
	 * A read-only 4K entry must not be cached while a stale read-write
	 * large translation of the same address still is: the SDM leaves that
	 * undefined (see __split_large_page()).  So a read-only call that split
	 * flushes once more here.  Not-present entries are never cached, so
	 * they share the final flush.
	 */
	if (split && area->prot == ND_READ_ONLY)
		nd_tlb_flush_all();

	for (i = 0; i < area->nr_pages; i++) {
		va = nd_area_page_va(area, i);
		kpte = lookup_address(va, &level);
		if (nd_fail(ND_FAIL_HIDE) ||
		    WARN_ON_ONCE(!kpte || level != PG_LEVEL_4K)) {
			/* Nothing flushed yet: restoring needs no flush. */
			nd_pageattr_restore(area);
			return -EFAULT;
		}
		area->orig[i] = *kpte;
		set_pte_atomic(kpte, nd_pageattr_hidden_pte(area->orig[i],
							    area->prot));
		area->nr_hidden = i + 1;
	}

	nd_tlb_flush_all();
	return 0;
}

/*
 * The entry that hides a whole 2M leaf.  Like nd_pageattr_hidden_pte(),
 * through pfn_pmd() for the L1TF inversion; PSE stays, so the walkers that
 * look at the entry still see a 2M leaf, now not present.
 */
static pte_t nd_pageattr_hidden_pmd(pte_t orig)
{
	pmd_t pmd = __pmd(pte_val(orig));
	pteval_t flags = pmd_flags(pmd) & ~(_PAGE_PRESENT | _PAGE_GLOBAL);

	return __pte(pmd_val(pfn_pmd(pmd_pfn(pmd), __pgprot(flags))));
}

/**
 * nd_pageattr_hide_block() - take a 2 MiB block out of the direct map whole
 * @va: direct-map address of the block, 2 MiB aligned; the block is ours.
 * @orig: room for PTRS_PER_PTE entries; receives what the direct map had.
 *
 * Where a 2M leaf maps the block, that leaf is made not-present: no split.
 * Inside a 1G leaf, that leaf is split once into 2M leaves first.  Where
 * the range was split to 4K before, its 512 entries are hidden.  The
 * caller flushes the TLB once for all the blocks it hides.
 *
 * Context: May sleep (a split table is allocated with GFP_KERNEL).
 * Return: the number of entries saved in @orig (1 or PTRS_PER_PTE), or
 * -errno with nothing hidden.
 */
int nd_pageattr_hide_block(unsigned long va, pte_t *orig)
{
	unsigned int i, level;
	pte_t *kpte;
	int ret;

	for (;;) {
		kpte = lookup_address(va, &level);
		if (!kpte || !pte_present(*kpte) || !pte_write(*kpte))
			return -EFAULT;
		if (level != PG_LEVEL_1G)
			break;
		ret = nd_split_leaf(va, kpte, level);
		if (ret < 0)
			return ret;
	}

	if (level == PG_LEVEL_2M) {
		orig[0] = *kpte;
		set_pte_atomic(kpte, nd_pageattr_hidden_pmd(orig[0]));
		return 1;
	}
	if (level != PG_LEVEL_4K)
		return -EFAULT;

	/* 2 MiB aligned, so the block is the whole table, in order. */
	for (i = 0; i < PTRS_PER_PTE; i++) {
		if (!pte_present(kpte[i]) || !pte_write(kpte[i])) {
			while (i--)
				set_pte_atomic(&kpte[i], orig[i]);
			return -EFAULT;
		}
		orig[i] = kpte[i];
		set_pte_atomic(&kpte[i],
			       nd_pageattr_hidden_pte(orig[i], ND_NOT_PRESENT));
	}
	return PTRS_PER_PTE;
}

/**
 * nd_pageattr_restore_block() - undo nd_pageattr_hide_block()
 * @va: the block's direct-map address.
 * @orig: the entries nd_pageattr_hide_block() saved.
 * @nr: how many it saved.
 *
 * Needs no TLB flush: not-present entries are never cached.
 */
void nd_pageattr_restore_block(unsigned long va, const pte_t *orig,
			       unsigned int nr)
{
	unsigned int i, level;
	pte_t *kpte;

	kpte = lookup_address(va, &level);
	if (WARN_ON_ONCE(!kpte ||
			 level != (nr == 1 ? PG_LEVEL_2M : PG_LEVEL_4K)))
		return;
	for (i = 0; i < nr; i++)
		set_pte_atomic(&kpte[i], orig[i]);
}
