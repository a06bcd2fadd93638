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
 * then refuses to probe data).  Every entry is looked up and written under
 * pgd_lock:
 *  - splits: __split_large_page() installs a table under pgd_lock after
 *    looking the leaf up again, and so do we, so neither loses the other's;
 *  - collapses (6.15+): cpa_collapse_large_pages() reads the 512 entries of
 *    a table, replaces it with a leaf and frees it, all under pgd_lock.  A
 *    4K write outside the lock could land in a table that is being
 *    collapsed (the hidden entry lost, the page readable again) or freed.
 *
 * The kernel's CPA writes 4K entries under its own cpa_lock, which we
 * cannot take: it must never change our pages while we hide them (the
 * header tells consumers so), and it does not change pages it does not own.
 *
 * As in __split_large_page(), every split is followed by a flush on every
 * CPU before the lock is dropped and before any entry of the new table
 * changes: the SDM leaves a TLB holding a 2M and a 4K translation of one
 * address with different attributes undefined.  Splits happen on the cold
 * path only.
 *
 * Restores need no flush: a not-present entry is never cached, and a stale
 * read-only one only causes a write fault that spurious_kernel_fault()
 * resolves by looking at the page tables again.  A restore finds the entry
 * at whatever level it has now (the kernel's CPA may have split a hidden
 * leaf, or collapsed a range that someone else had restored), and a page
 * that cannot be restored is kept out of the page allocator, never freed.
 */

#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/spinlock.h>
#include <linux/vmstat.h>
#include <xen/xen.h>
#include <asm/pgtable.h>

#include "nd_internal.h"
#include "nd_trace.h"

static spinlock_t *nd_pgd_lock __ro_after_init;
/* Frames the kernel-image mapping may reach: [start, end), see below. */
static unsigned long nd_kimage_start_pfn __ro_after_init;
static unsigned long nd_kimage_end_pfn __ro_after_init;

/*
 * The frames that the high kernel-image mapping (__START_KERNEL_map +
 * phys - phys_base) covers, found from its tables, so no symbol is needed.
 * Freed init memory, the text/rodata and rodata/data gaps, and the rest
 * of the 2M leaf after _brk_end reach the page allocator with that alias
 * still mapped: free_kernel_image_pages() unmaps it only under PTI, and
 * nothing unmaps the tail.  Hiding the direct map does not hide it, so
 * pages of this range are never handed out (nd_kimage_keep()).  The
 * mapping never grows after boot: one look at load time is enough.
 */
static bool __init nd_kimage_find(void)
{
	unsigned long va, first = 0, last = 0;
	unsigned int level;

	for (va = __START_KERNEL_map;
	     va - __START_KERNEL_map < KERNEL_IMAGE_SIZE; va += PMD_SIZE) {
		if (!lookup_address(va, &level))
			continue;
		if (!first)
			first = va;
		last = va + PMD_SIZE;
	}
	if (!first)
		return false;
	nd_kimage_start_pfn = (first - __START_KERNEL_map + phys_base) >>
			      PAGE_SHIFT;
	nd_kimage_end_pfn = (last - __START_KERNEL_map + phys_base) >>
			    PAGE_SHIFT;
	/* phys_base is data of the image: the arithmetic must find it. */
	return nd_pageattr_kimage(__pa_symbol(&phys_base) >> PAGE_SHIFT, 1);
}

/**
 * nd_pageattr_kimage() - whether the kernel-image mapping may reach a page
 * @pfn: the first frame.
 * @nr: how many frames from @pfn.
 *
 * Return: true if any of them is in the kernel image's range.
 */
bool nd_pageattr_kimage(unsigned long pfn, unsigned long nr)
{
	return pfn < nd_kimage_end_pfn && pfn + nr > nd_kimage_start_pfn;
}

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
	/* Failing open would hand out pages the image mapping still reaches. */
	if (!nd_kimage_find()) {
		pr_err("cannot find the kernel image's mapping\n");
		return -ENODEV;
	}
	return 0;
}

/*
 * The 4K tables found while pgd_lock is held, by 2 MiB region: pages of
 * one allocation often share tables, and a walk per page was most of what
 * hiding cost (bench/results.md).  Only a split or a collapse can move a
 * 4K entry to another table, and both happen under pgd_lock: what is
 * found here is valid until the lock is dropped, and forgotten then.
 * (Memory hot-remove frees tables under init_mm's page_table_lock, but
 * only of memory being offlined, which our allocated pages prevent.)
 */
#define ND_WALK_SLOTS	16

struct nd_walk {
	unsigned long base[ND_WALK_SLOTS];	/* 2 MiB region; 0: empty */
	pte_t *table[ND_WALK_SLOTS];
};

static void nd_walk_forget(struct nd_walk *w)
{
	memset(w->base, 0, sizeof(w->base));
}

/* lookup_address(), from the tables found so far when it can. */
static pte_t *nd_walk_lookup(struct nd_walk *w, unsigned long va,
			     unsigned int *level)
{
	unsigned int slot = (va >> PMD_SHIFT) % ND_WALK_SLOTS;
	unsigned long base = va & PMD_MASK;
	pte_t *kpte;

	lockdep_assert_held(nd_pgd_lock);
	if (w->base[slot] == base) {
		*level = PG_LEVEL_4K;
		return w->table[slot] + pte_index(va);
	}
	kpte = lookup_address(va, level);
	if (kpte && *level == PG_LEVEL_4K) {
		w->base[slot] = base;
		w->table[slot] = kpte - pte_index(va);
	}
	return kpte;
}

/*
 * Replace the large leaf that maps @va with a table of 512 entries of the
 * next size down, with the same frames and attributes, as
 * __split_large_page() does, and flush.  Returns 0 when @va is mapped by a
 * smaller leaf now (we split, or someone else did), or -errno.  A split
 * for a restore (@restore) cannot fail for memory: a page that stays
 * hidden is worse than a wait.
 */
static int nd_split_leaf(unsigned long va, bool restore)
{
	unsigned long pfn, pfninc;
	unsigned int level, i;
	struct page *table;
	pte_t *kpte, *entries;
	pgprot_t prot;

	/* GFP_KERNEL within the caller's memalloc_no{fs,io} scope. */
	if (restore)
		table = alloc_page(GFP_KERNEL | __GFP_NOFAIL);
	else
		table = nd_fail(ND_FAIL_SPLIT) ? NULL : alloc_page(GFP_KERNEL);
	if (!table)
		return -ENOMEM;
	entries = page_address(table);

	spin_lock(nd_pgd_lock);
	kpte = lookup_address(va, &level);
	if (!kpte || (level != PG_LEVEL_2M && level != PG_LEVEL_1G)) {
		spin_unlock(nd_pgd_lock);
		__free_page(table);
		return kpte ? 0 : -EFAULT;
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
		/* A not-present entry with PSE would still read as a leaf. */
		if (!(pgprot_val(prot) & _PAGE_PRESENT))
			pgprot_val(prot) &= ~_PAGE_PSE;
	}
	if (!(pgprot_val(prot) & _PAGE_PRESENT))
		pgprot_val(prot) &= ~_PAGE_GLOBAL;
	for (i = 0; i < PTRS_PER_PTE; i++, pfn += pfninc)
		set_pte(&entries[i], pfn_pte(pfn, prot));

	set_pte_atomic(kpte, mk_pte(table, __pgprot(_KERNPG_TABLE)));
	/* Before anyone changes an entry of the new table (see the top). */
	nd_tlb_flush_all();
	spin_unlock(nd_pgd_lock);

	if (level == PG_LEVEL_2M) {
		atomic_long_inc(&nd_stats.splits_2m);
		count_vm_event(DIRECT_MAP_LEVEL2_SPLIT);
	} else {
		atomic_long_inc(&nd_stats.splits_1g);
		count_vm_event(DIRECT_MAP_LEVEL3_SPLIT);
	}
	trace_nd_split(va, level, restore);
	return 0;
}

/*
 * The flags of an entry (4K or leaf) once hidden as @prot says.
 * _PAGE_GLOBAL goes with PRESENT, because on a not-present entry the same
 * bit means PROTNONE.  Read-only drops Dirty too: !RW with Dirty is a
 * shadow-stack entry, which pte_write() calls writable on CPUs with shadow
 * stacks (6.6+), so a write fault there would look spurious and repeat.
 */
static pgprot_t nd_hidden_prot(pteval_t flags, enum nd_prot prot)
{
	if (prot == ND_NOT_PRESENT)
		flags &= ~(_PAGE_PRESENT | _PAGE_GLOBAL);
	else
		flags &= ~(_PAGE_RW | _PAGE_DIRTY);
	return __pgprot(flags);
}

/**
 * nd_pageattr_hidden_pte() - the entry that hides a page
 * @orig: the present 4K entry of the page.
 * @prot: how to hide it.
 *
 * Built with pfn_pte() so a not-present entry gets the L1TF inversion of its
 * frame.
 *
 * Return: the entry to write.
 */
pte_t nd_pageattr_hidden_pte(pte_t orig, enum nd_prot prot)
{
	return pfn_pte(pte_pfn(orig), nd_hidden_prot(pte_flags(orig), prot));
}

/* What a 4K entry must agree on with @want to reach the page as it did. */
#define ND_PTE_REACH	(_PAGE_PRESENT | _PAGE_RW | _PAGE_NX | _PAGE_PCD | \
			 _PAGE_PWT | _PAGE_PAT)

/*
 * Whether the large leaf @kpte at @level already maps @va as the 4K entry
 * @want would: then a restore has nothing to do (someone restored the page
 * and the kernel collapsed the range since).
 */
static bool nd_leaf_reaches(pte_t *kpte, unsigned int level, unsigned long va,
			    pte_t want)
{
	unsigned long pfn;
	pgprot_t prot;

	if (level == PG_LEVEL_2M) {
		pfn = pmd_pfn(*(pmd_t *)kpte) + ((va & ~PMD_MASK) >> PAGE_SHIFT);
		prot = pmd_pgprot(*(pmd_t *)kpte);
	} else {
		pfn = pud_pfn(*(pud_t *)kpte) + ((va & ~PUD_MASK) >> PAGE_SHIFT);
		prot = pud_pgprot(*(pud_t *)kpte);
	}
	prot = pgprot_large_2_4k(prot);
	return pte_present(*kpte) && pfn == pte_pfn(want) &&
	       !((pgprot_val(prot) ^ pte_flags(want)) & ND_PTE_REACH);
}

/*
 * Put @want into the 4K entry of @va, wherever the direct map has it now.
 * Called with pgd_lock held.  Returns 0, -EAGAIN when a large leaf must be
 * split first (pgd_lock must be dropped for that), or -EFAULT.
 */
static int nd_restore_locked(struct nd_walk *w, unsigned long va, pte_t want)
{
	unsigned int level;
	pte_t *kpte;

	kpte = nd_walk_lookup(w, va, &level);
	if (!kpte)
		return -EFAULT;
	if (level == PG_LEVEL_4K) {
		set_pte_atomic(kpte, want);
		return 0;
	}
	if (level != PG_LEVEL_2M && level != PG_LEVEL_1G)
		return -EFAULT;
	return nd_leaf_reaches(kpte, level, va, want) ? 0 : -EAGAIN;
}

/*
 * Restore one page, splitting on the way if the kernel changed the leaf
 * that maps it.  Called and returns with pgd_lock held; may drop it.
 */
static int nd_restore_one(struct nd_walk *w, unsigned long va, pte_t want)
{
	int ret, tries = 3;

	while ((ret = nd_restore_locked(w, va, want)) == -EAGAIN && tries--) {
		spin_unlock(nd_pgd_lock);
		nd_walk_forget(w);
		ret = nd_split_leaf(va, true);
		spin_lock(nd_pgd_lock);
		if (ret)
			break;
	}
	return ret == -EAGAIN ? -EFAULT : ret;
}

/* A page that stays out of the direct map must never be freed. */
static void nd_leak_page(struct page *page, unsigned long va)
{
	get_page(page);
	atomic_long_inc(&nd_stats.leaked_pages);
	pr_err("cannot put %p back into the direct map: page %lx kept, never freed\n",
	       (void *)va, page_to_pfn(page));
}

/*
 * pgd_lock is also what fork and exit take to add and drop page tables:
 * hold it for a batch of entries at a time, not for a whole large area.
 */
static void nd_pgd_lock_break(struct nd_walk *w, unsigned int i)
{
	if (i && !(i % PTRS_PER_PTE)) {
		spin_unlock(nd_pgd_lock);
		nd_walk_forget(w);
		cond_resched();
		spin_lock(nd_pgd_lock);
	}
}

/**
 * nd_pageattr_restore() - put back the entries nd_pageattr_hide() changed
 * @area: the allocation.
 *
 * A page that cannot be restored keeps an extra reference, so that the
 * vfree() that follows leaves it alone; it is counted in leaked_pages.
 *
 * Context: Process context, may sleep (a leaf may have to be split).
 */
void nd_pageattr_restore(struct nd_area *area)
{
	struct nd_walk w = { };
	struct page *page;
	unsigned long va;
	unsigned int i;

	spin_lock(nd_pgd_lock);
	for (i = 0; i < area->nr_hidden; i++) {
		nd_pgd_lock_break(&w, i);
		page = nd_area_page(area, i);
		va = (unsigned long)page_address(page);
		if (nd_restore_one(&w, va, area->orig[i]))
			nd_leak_page(page, va);
	}
	spin_unlock(nd_pgd_lock);
	area->nr_hidden = 0;
}

/**
 * nd_pageattr_hide() - take every page of @area out of the direct map
 * @area: the allocation; @area->orig receives the entries it had.
 *
 * One flush on every CPU at the end, and one after each split.
 *
 * Context: May sleep (split tables are allocated with GFP_KERNEL).
 * Return: 0, or -errno with every entry restored.
 */
int nd_pageattr_hide(struct nd_area *area)
{
	unsigned long va, tries = 0;
	struct nd_walk w = { };
	unsigned int i, level;
	pte_t *kpte;
	int ret = 0;

	spin_lock(nd_pgd_lock);
	for (i = 0; i < area->nr_pages; i++) {
		nd_pgd_lock_break(&w, i);
		va = (unsigned long)page_address(nd_area_page(area, i));
retry:
		kpte = nd_walk_lookup(&w, va, &level);
		if (!kpte || !pte_present(*kpte) || !pte_write(*kpte)) {
			pr_err("direct map of %p is not a present writable entry\n",
			       (void *)va);
			ret = -EFAULT;
			break;
		}
		if (level != PG_LEVEL_4K) {
			/* Bounded: only a collapse racing us undoes a split. */
			if (++tries > 3UL * area->nr_pages) {
				ret = -EFAULT;
				break;
			}
			spin_unlock(nd_pgd_lock);
			nd_walk_forget(&w);
			ret = nd_split_leaf(va, false);
			spin_lock(nd_pgd_lock);
			if (ret)
				break;
			goto retry;
		}
		if (nd_fail(ND_FAIL_HIDE)) {
			ret = -EFAULT;
			break;
		}
		area->orig[i] = *kpte;
		set_pte_atomic(kpte, nd_pageattr_hidden_pte(area->orig[i],
							    area->prot));
		area->nr_hidden = i + 1;
	}
	spin_unlock(nd_pgd_lock);

	if (ret) {
		/* Nothing flushed for these entries yet: restoring needs none. */
		nd_pageattr_restore(area);
		return ret;
	}
	nd_tlb_flush_all();
	return 0;
}

/*
 * The entry that hides a whole 2M leaf.  Like nd_pageattr_hidden_pte(),
 * through pfn_pmd() for the L1TF inversion; PSE stays, so the walkers that
 * look at the entry still see a 2M leaf, now not present or read-only.
 */
static pte_t nd_pageattr_hidden_pmd(pte_t orig, enum nd_prot prot)
{
	pmd_t pmd = __pmd(pte_val(orig));

	return __pte(pmd_val(pfn_pmd(pmd_pfn(pmd),
				     nd_hidden_prot(pmd_flags(pmd), prot))));
}

/**
 * nd_pageattr_hide_block() - take a 2 MiB block out of the direct map whole
 * @va: direct-map address of the block, 2 MiB aligned; the block is ours.
 * @orig: room for PTRS_PER_PTE entries; receives what the direct map had.
 * @prot: how to hide it.
 *
 * Where a 2M leaf maps the block, that leaf itself is made not-present or
 * read-only: no split.  Inside a 1G leaf, that leaf is split once into 2M
 * leaves first (and flushed).  Where the range was split to 4K before, its
 * 512 entries are hidden.  The caller flushes the TLB once for all the
 * blocks it hides.
 *
 * Context: May sleep (a split table is allocated with GFP_KERNEL).
 * Return: the number of entries saved in @orig (1 or PTRS_PER_PTE), or
 * -errno with nothing hidden.
 */
int nd_pageattr_hide_block(unsigned long va, pte_t *orig, enum nd_prot prot)
{
	unsigned int i, level, tries = 3;
	pte_t *kpte;
	int ret;

	spin_lock(nd_pgd_lock);
	for (;;) {
		kpte = lookup_address(va, &level);
		if (!kpte || !pte_present(*kpte) || !pte_write(*kpte)) {
			ret = -EFAULT;
			goto out;
		}
		if (level != PG_LEVEL_1G)
			break;
		spin_unlock(nd_pgd_lock);
		ret = tries-- ? nd_split_leaf(va, false) : -EFAULT;
		spin_lock(nd_pgd_lock);
		if (ret)
			goto out;
	}

	if (level == PG_LEVEL_2M) {
		orig[0] = *kpte;
		set_pte_atomic(kpte, nd_pageattr_hidden_pmd(orig[0], prot));
		ret = 1;
		goto out;
	}
	ret = -EFAULT;
	if (level != PG_LEVEL_4K)
		goto out;

	/* 2 MiB aligned, so the block is the whole table, in order. */
	for (i = 0; i < PTRS_PER_PTE; i++) {
		if (!pte_present(kpte[i]) || !pte_write(kpte[i])) {
			while (i--)
				set_pte_atomic(&kpte[i], orig[i]);
			goto out;
		}
		orig[i] = kpte[i];
		set_pte_atomic(&kpte[i], nd_pageattr_hidden_pte(orig[i], prot));
	}
	ret = PTRS_PER_PTE;
out:
	spin_unlock(nd_pgd_lock);
	return ret;
}

/* The 4K entry that @orig (one 2M leaf, or 512 4K entries) had for page @i. */
static pte_t nd_block_orig_pte(const pte_t *orig, unsigned int nr,
			       unsigned int i)
{
	pmd_t pmd = __pmd(pte_val(orig[0]));

	if (nr != 1)
		return orig[i];
	return pfn_pte(pmd_pfn(pmd) + i, pgprot_large_2_4k(pmd_pgprot(pmd)));
}

/**
 * nd_pageattr_restore_block() - undo nd_pageattr_hide_block()
 * @va: the block's direct-map address.
 * @orig: the entries nd_pageattr_hide_block() saved.
 * @nr: how many it saved.
 * @prot: how it was hidden.
 *
 * The hidden 2M leaf comes back whole while a 2M leaf still maps the
 * block's frames (with a flush if it was rewritten beyond what hiding
 * did).  If the kernel's CPA split it meanwhile (any set_memory_*() on one
 * of its pages does), each 4K entry gets what splitting the original leaf
 * gives.
 *
 * Context: Process context, may sleep (a leaf may have to be split).
 * Return: 0, or -EFAULT when some page could not be restored: the caller
 * must then never free the block.
 */
int nd_pageattr_restore_block(unsigned long va, const pte_t *orig,
			      unsigned int nr, enum nd_prot prot)
{
	struct nd_walk w = { };
	unsigned int i, level;
	bool flush = false;
	pte_t *kpte;
	int ret = 0;

	spin_lock(nd_pgd_lock);
	kpte = lookup_address(va, &level);
	/* Still one 2M leaf of the block's own frames: it comes back whole. */
	if (nr == 1 && kpte && level == PG_LEVEL_2M &&
	    pmd_pfn(*(pmd_t *)kpte) == pmd_pfn(__pmd(pte_val(orig[0])))) {
		/* Rewritten beyond what hiding did: stale attributes, flush. */
		flush = !pte_same(*kpte, nd_pageattr_hidden_pmd(orig[0], prot));
		set_pte_atomic(kpte, orig[0]);
		goto out;
	}
	for (i = 0; i < PTRS_PER_PTE && !ret; i++)
		ret = nd_restore_one(&w, va + i * PAGE_SIZE,
				     nd_block_orig_pte(orig, nr, i));
out:
	spin_unlock(nd_pgd_lock);
	if (flush)
		nd_tlb_flush_all();
	if (ret)
		pr_err("cannot put the block at %p back into the direct map: kept, never freed\n",
		       (void *)va);
	return ret;
}

/**
 * nd_pageattr_seal() - make the area's own mapping read-only, or writable
 * @area: a live area.
 * @seal: true to take write access away, false to give it back.
 *
 * Only the area's vmap mapping changes (4K entries that vmap() made and
 * that nobody else writes while the area is live).  Taking write access
 * away needs a flush on every CPU, which the caller makes; giving it back
 * needs none (a stale read-only entry costs a spurious fault at most).
 * Read-only drops Dirty too: !RW with Dirty is a shadow-stack entry.
 *
 * Return: 0, or -EFAULT if the mapping is not made of 4K entries.
 */
int nd_pageattr_seal(struct nd_area *area, bool seal)
{
	unsigned int i, level;
	pte_t *kpte;

	for (i = 0; i < area->nr_pages; i++) {
		kpte = lookup_address((unsigned long)area->addr + i * PAGE_SIZE,
				      &level);
		if (!kpte || level != PG_LEVEL_4K || !pte_present(*kpte))
			return -EFAULT;
		if (seal)
			set_pte_atomic(kpte, pte_clear_flags(*kpte, _PAGE_RW |
							      _PAGE_DIRTY));
		else
			set_pte_atomic(kpte, pte_set_flags(*kpte, _PAGE_RW |
							    _PAGE_DIRTY));
	}
	return 0;
}
