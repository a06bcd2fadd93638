// SPDX-License-Identifier: GPL-2.0
/*
 * A pool of 2 MiB blocks kept out of the direct map, so that nd_vmalloc()
 * needs neither a split nor a TLB flush in the steady state.
 *
 * A block is an order-9 allocation (so 2 MiB aligned) hidden whole by
 * nd_pageattr_hide_block(): a 2M leaf is made not-present with no split, a
 * 1G leaf is split once into 2M leaves.  nd_vmalloc() carves pages out of
 * the blocks of the caller's node and vmap()s them; only a call that had
 * to take new blocks flushes, once for all of them, before any page of
 * theirs is handed out.  nd_vfree() wipes through the caller's mapping and
 * hands the pages back, still hidden: no restore, no flush.  The pool's
 * pages are therefore always zero.
 *
 * A shrinker gives fully free blocks back to the page allocator, restored
 * first (no flush: a not-present entry is never cached), and pool_max_mb
 * caps what the pool holds.
 */

#include <linux/mm.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include "compat.h"
#include "nd_internal.h"

static unsigned int pool_max_mb = ND_POOL_DEFAULT_MB;
module_param(pool_max_mb, uint, 0644);
MODULE_PARM_DESC(pool_max_mb,
		 "most MiB of hidden 2 MiB blocks kept for reuse; 0 turns the pool off");

#define ND_BLOCK_MB	(PMD_SIZE >> 20)

struct nd_block {
	struct list_head node;		/* in @pool */
	struct nd_pool *pool;		/* whose lock guards @used, @nr_free */
	struct page *page;		/* the first of ND_BLOCK_PAGES */
	unsigned int nr_free;
	unsigned int nr_orig;		/* 1 (a 2M leaf) or PTRS_PER_PTE */
	DECLARE_BITMAP(used, ND_BLOCK_PAGES);
	pte_t orig[PTRS_PER_PTE];	/* what the direct map had */
};

/* One per NUMA node. */
struct nd_pool {
	spinlock_t lock;		/* irqsave: nd_vfree() runs anywhere */
	struct list_head blocks;
	unsigned long nr_blocks;
	unsigned long nr_free;
};

static struct nd_pool *nd_pools;
/* Block of every pooled page, by pfn >> ND_BLOCK_ORDER; read under RCU. */
static DEFINE_XARRAY(nd_block_index);
static atomic_long_t nd_pool_blocks_total;
static struct shrinker *nd_pool_shrinker;

static unsigned long nd_block_va(const struct nd_block *b)
{
	return (unsigned long)page_address(b->page);
}

/* Hide a fresh block taken on @nid; not yet in any pool.  No flush. */
static struct nd_block *nd_block_new(int nid)
{
	struct nd_block *b;
	int ret;

	if (atomic_long_inc_return(&nd_pool_blocks_total) * ND_BLOCK_MB >
	    READ_ONCE(pool_max_mb))
		goto full;
	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		goto full;
	/* Zeroed now, through the direct map, while it still reaches them. */
	b->page = nd_fail(ND_FAIL_BLOCK) ? NULL :
		  alloc_pages_node(nid, GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN |
				   __GFP_NORETRY, ND_BLOCK_ORDER);
	if (!b->page)
		goto free;
	ret = nd_pageattr_hide_block(nd_block_va(b), b->orig);
	if (ret < 0)
		goto free_pages;
	b->nr_orig = ret;
	b->nr_free = ND_BLOCK_PAGES;
	if (xa_err(xa_store(&nd_block_index,
			    page_to_pfn(b->page) >> ND_BLOCK_ORDER, b,
			    GFP_KERNEL)))
		goto restore;
	return b;

restore:
	nd_pageattr_restore_block(nd_block_va(b), b->orig, b->nr_orig);
free_pages:
	__free_pages(b->page, ND_BLOCK_ORDER);
free:
	kfree(b);
full:
	atomic_long_dec(&nd_pool_blocks_total);
	return NULL;
}

/* Give a block that is out of every pool and fully free back. */
static void nd_block_release(struct nd_block *b)
{
	xa_erase(&nd_block_index, page_to_pfn(b->page) >> ND_BLOCK_ORDER);
	nd_pageattr_restore_block(nd_block_va(b), b->orig, b->nr_orig);
	__free_pages(b->page, ND_BLOCK_ORDER);
	kfree(b);
	atomic_long_dec(&nd_pool_blocks_total);
	atomic_long_inc(&nd_stats.pool_blocks_returned);
}

/* Take up to @nr free pages from @pool into @pages; returns how many. */
static unsigned int nd_pool_grab(struct nd_pool *pool, struct page **pages,
				 unsigned int nr)
{
	struct nd_block *b;
	unsigned int got = 0, bit;
	unsigned long flags;

	spin_lock_irqsave(&pool->lock, flags);
	list_for_each_entry(b, &pool->blocks, node) {
		while (b->nr_free && got < nr) {
			bit = find_first_zero_bit(b->used, ND_BLOCK_PAGES);
			__set_bit(bit, b->used);
			b->nr_free--;
			pages[got++] = b->page + bit;
		}
		if (got == nr)
			break;
	}
	pool->nr_free -= got;
	spin_unlock_irqrestore(&pool->lock, flags);
	return got;
}

/**
 * nd_pool_put() - give pages taken by nd_pool_take() back to the pool
 * @pages: the pages, already wiped and no longer mapped anywhere else.
 * @nr: how many.
 *
 * Context: Any context.
 */
void nd_pool_put(struct page **pages, unsigned int nr)
{
	unsigned long flags, pfn;
	struct nd_pool *pool;
	struct nd_block *b;
	unsigned int i;

	for (i = 0; i < nr; i++) {
		pfn = page_to_pfn(pages[i]);
		b = xa_load(&nd_block_index, pfn >> ND_BLOCK_ORDER);
		if (WARN_ON_ONCE(!b))
			continue;
		/*
		 * The pool the block was put in: its pages may be of another
		 * node if the page allocator fell back, or the caller moved.
		 */
		pool = b->pool;
		spin_lock_irqsave(&pool->lock, flags);
		__clear_bit(pfn & (ND_BLOCK_PAGES - 1), b->used);
		b->nr_free++;
		pool->nr_free++;
		spin_unlock_irqrestore(&pool->lock, flags);
	}
}

/**
 * nd_pool_take() - hidden, zeroed pages for an allocation
 * @pages: receives @nr pages.
 * @nr: how many.
 *
 * Takes free pages of the current node's pool, and new blocks when those
 * are too few.  New blocks cost one TLB flush in all, made before any of
 * their pages is handed out; reuse costs none.
 *
 * Context: Process context, may sleep.
 * Return: 0, or -ENOMEM with nothing taken (no order-9 block could be
 * had, or the pool is at pool_max_mb): the caller falls back.
 */
int nd_pool_take(struct page **pages, unsigned int nr)
{
	int nid = numa_mem_id();
	struct nd_pool *pool = &nd_pools[nid];
	unsigned int got, want_blocks, i;
	struct nd_block *b, *next;
	unsigned long flags;
	LIST_HEAD(fresh);

	if (!READ_ONCE(pool_max_mb))
		return -ENOMEM;

	got = nd_pool_grab(pool, pages, nr);
	if (got < nr) {
		want_blocks = DIV_ROUND_UP(nr - got, ND_BLOCK_PAGES);
		for (i = 0; i < want_blocks; i++) {
			b = nd_block_new(nid);
			if (!b)
				break;
			list_add_tail(&b->node, &fresh);
		}
		if (i < want_blocks) {
			/* Nothing flushed, so nothing handed out yet. */
			list_for_each_entry_safe(b, next, &fresh, node)
				nd_block_release(b);
			nd_pool_put(pages, got);
			atomic_long_inc(&nd_stats.pool_fallbacks);
			return -ENOMEM;
		}
		nd_tlb_flush_all();
		atomic_long_add(want_blocks, &nd_stats.pool_blocks_taken);

		spin_lock_irqsave(&pool->lock, flags);
		list_for_each_entry(b, &fresh, node) {
			b->pool = pool;
			pool->nr_blocks++;
			pool->nr_free += ND_BLOCK_PAGES;
		}
		list_splice_tail(&fresh, &pool->blocks);
		spin_unlock_irqrestore(&pool->lock, flags);

		/* Others may have taken pages of the new blocks meanwhile. */
		got += nd_pool_grab(pool, pages + got, nr - got);
		if (got < nr) {
			nd_pool_put(pages, got);
			atomic_long_inc(&nd_stats.pool_fallbacks);
			return -ENOMEM;
		}
		atomic_long_inc(&nd_stats.pool_misses);
	} else {
		atomic_long_inc(&nd_stats.pool_hits);
	}
	return 0;
}

/* Release up to @max fully free blocks of every pool; returns pages freed. */
static unsigned long nd_pool_shrink(unsigned long max)
{
	unsigned long freed = 0, flags;
	struct nd_block *b, *next;
	struct nd_pool *pool;
	LIST_HEAD(victims);
	int nid;

	for_each_node(nid) {
		pool = &nd_pools[nid];
		spin_lock_irqsave(&pool->lock, flags);
		list_for_each_entry_safe(b, next, &pool->blocks, node) {
			if (freed >= max)
				break;
			if (b->nr_free != ND_BLOCK_PAGES)
				continue;
			list_move(&b->node, &victims);
			pool->nr_blocks--;
			pool->nr_free -= ND_BLOCK_PAGES;
			freed += ND_BLOCK_PAGES;
		}
		spin_unlock_irqrestore(&pool->lock, flags);
	}
	list_for_each_entry_safe(b, next, &victims, node)
		nd_block_release(b);
	return freed;
}

/**
 * nd_pool_drain() - give every fully free block back
 *
 * Context: Process context.
 * Return: the number of pages given back.
 */
unsigned long nd_pool_drain(void)
{
	return nd_pool_shrink(ULONG_MAX);
}

/**
 * nd_pool_stats() - what the pool holds now
 * @blocks: receives the number of blocks held.
 * @free_pages: receives the number of pages free in them.
 */
void nd_pool_stats(unsigned long *blocks, unsigned long *free_pages)
{
	int nid;

	*blocks = 0;
	*free_pages = 0;
	for_each_node(nid) {
		*blocks += READ_ONCE(nd_pools[nid].nr_blocks);
		*free_pages += READ_ONCE(nd_pools[nid].nr_free);
	}
}

/**
 * nd_pool_max() - the cap on what the pool holds
 *
 * Return: pool_max_mb; 0 when nd_vmalloc() does not take from the pool.
 */
unsigned int nd_pool_max(void)
{
	return READ_ONCE(pool_max_mb);
}

/**
 * nd_pool_set_max() - change pool_max_mb
 * @mb: the new cap; 0 turns the pool off.
 *
 * Return: the old cap.
 */
unsigned int nd_pool_set_max(unsigned int mb)
{
	return xchg(&pool_max_mb, mb);
}

static unsigned long nd_pool_count(struct shrinker *s,
				   struct shrink_control *sc)
{
	unsigned long n = 0, flags;
	struct nd_pool *pool;
	struct nd_block *b;
	int nid;

	for_each_node(nid) {
		pool = &nd_pools[nid];
		spin_lock_irqsave(&pool->lock, flags);
		list_for_each_entry(b, &pool->blocks, node)
			if (b->nr_free == ND_BLOCK_PAGES)
				n += ND_BLOCK_PAGES;
		spin_unlock_irqrestore(&pool->lock, flags);
	}
	return n ?: SHRINK_EMPTY;
}

static unsigned long nd_pool_scan(struct shrinker *s,
				  struct shrink_control *sc)
{
	unsigned long freed = nd_pool_shrink(sc->nr_to_scan);

	return freed ?: SHRINK_STOP;
}

/**
 * nd_pool_init() - set up an empty pool per node and the shrinker
 *
 * Return: 0 or -ENOMEM.
 */
int __init nd_pool_init(void)
{
	int nid;

	nd_pools = kcalloc(nr_node_ids, sizeof(*nd_pools), GFP_KERNEL);
	if (!nd_pools)
		return -ENOMEM;
	for_each_node(nid) {
		spin_lock_init(&nd_pools[nid].lock);
		INIT_LIST_HEAD(&nd_pools[nid].blocks);
	}
	nd_pool_shrinker = nd_shrinker_create(KBUILD_MODNAME "-pool",
					      nd_pool_count, nd_pool_scan);
	if (!nd_pool_shrinker) {
		kfree(nd_pools);
		return -ENOMEM;
	}
	return 0;
}

/**
 * nd_pool_exit() - give every block back; nothing may be live any more
 */
void nd_pool_exit(void)
{
	unsigned long blocks, free_pages;

	nd_shrinker_destroy(nd_pool_shrinker);
	nd_pool_drain();
	nd_pool_stats(&blocks, &free_pages);
	WARN_ON_ONCE(blocks);
	kfree(nd_pools);
}
