// SPDX-License-Identifier: GPL-2.0
/*
 * Pools of 2 MiB blocks kept out of the direct map, so that nd_vmalloc()
 * needs neither a split nor a TLB flush in the steady state.
 *
 * A block is an order-9 allocation (so 2 MiB aligned) hidden whole by
 * nd_pageattr_hide_block(): a 2M leaf is made not-present (or read-only)
 * with no split, a 1G leaf is split once into 2M leaves.  Each node has
 * two pools, one for each enum nd_prot, since a block is hidden one way
 * for all its pages.  Both kinds share one cap, pool_max_mb: it bounds
 * what the pools keep from the page allocator, which costs the system
 * the same whichever way the blocks are hidden, and one knob is what an
 * administrator can reason about.  A kind at the cap falls back to the
 * per-page path, while the shrinker gives back whatever is fully free.
 *
 * nd_vmalloc() carves pages out of the blocks of the caller's node and
 * vmap()s them; only a call that had to take new blocks flushes, once for
 * all of them, before any page of theirs is handed out.  nd_vfree()
 * wipes through the caller's mapping and hands the pages back, still
 * hidden: no restore.  The pool's pages are therefore always zero.
 *
 * A freed page is not handed out again at once: vunmap() is lazy, so other
 * CPUs may still hold a TLB entry for the old owner's address until the
 * kernel purges its lazy areas, and through it could read the next owner's
 * secret.  Freed pages wait on a stale list until one flush on every CPU
 * covers them all: when 2 MiB worth have gathered, or when the pool would
 * otherwise have to grow or give up (a new block's flush covers them too).
 * So the steady state costs at most one flush per 2 MiB freed.
 *
 * A block is split_page()d when it enters the pool, as vmalloc splits its
 * pages: each page has its own reference, so get_page()/put_page() on it
 * by a driver cannot free it out of the block.
 *
 * A shrinker gives fully free blocks back to the page allocator, restored
 * first (no flush: a not-present entry is never cached, and a stale
 * read-only one costs a spurious fault at most), and pool_max_mb caps
 * what the pools hold.  Every caller of the pool is in process
 * context (nd_vfree() from atomic context defers to a worker), so a
 * spinlock_t is enough, PREEMPT_RT included.
 */

#include <linux/mm.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

#include "compat.h"
#include "nd_internal.h"
#include "nd_trace.h"

static unsigned int pool_max_mb = ND_POOL_DEFAULT_MB;
module_param(pool_max_mb, uint, 0644);
MODULE_PARM_DESC(pool_max_mb,
		 "most MiB of hidden 2 MiB blocks kept for reuse; 0 turns the pool off");

#define ND_BLOCK_MB	(PMD_SIZE >> 20)

struct nd_block {
	struct list_head node;		/* in @pool */
	struct nd_pool *pool;		/* whose lock guards @used, @nr_free */
	struct page *page;		/* the first of ND_BLOCK_PAGES, split */
	enum nd_prot prot;		/* how its pages are hidden */
	unsigned int nr_free;
	unsigned int nr_stale;		/* of its pages on @pool's stale list */
	unsigned int nr_orig;		/* 1 (a 2M leaf) or PTRS_PER_PTE */
	DECLARE_BITMAP(used, ND_BLOCK_PAGES);
	pte_t orig[PTRS_PER_PTE];	/* what the direct map had */
};

/* One per NUMA node and enum nd_prot. */
struct nd_pool {
	spinlock_t lock;		/* the lists, counts and blocks' bitmaps */
	struct list_head blocks;
	unsigned long nr_blocks;
	unsigned long nr_free;		/* free and flushed: can be handed out */
	struct list_head stale;		/* freed, not flushed yet (page->lru) */
	unsigned long nr_stale;
};

/* By node, then kind: nd_pool_of(). */
#define ND_POOL_KINDS	2
static struct nd_pool *nd_pools;
static unsigned int nd_nr_pools;
/* Block of every pooled page, by pfn >> ND_BLOCK_ORDER; read under RCU. */
static DEFINE_XARRAY(nd_block_index);
static atomic_long_t nd_pool_blocks_total;
static struct shrinker *nd_pool_shrinker;

static struct nd_pool *nd_pool_of(int nid, enum nd_prot prot)
{
	BUILD_BUG_ON(ND_READ_ONLY + 1 != ND_POOL_KINDS);
	return &nd_pools[nid * ND_POOL_KINDS + prot];
}

static unsigned long nd_pool_shrink(unsigned long max,
				    const struct nd_pool *keep);

/* Whether @more blocks would take the pools past pool_max_mb. */
static bool nd_pool_over_cap(unsigned int more)
{
	return atomic_long_read(&nd_pool_blocks_total) + more >
	       READ_ONCE(pool_max_mb) / ND_BLOCK_MB;
}

static unsigned long nd_block_va(const struct nd_block *b)
{
	return (unsigned long)page_address(b->page);
}

/* Its pages, one by one: the buddy allocator merges them again. */
static void nd_block_free_pages(struct nd_block *b)
{
	unsigned int i;

	for (i = 0; i < ND_BLOCK_PAGES; i++)
		__free_page(b->page + i);
}

/* A block that could not be restored is kept out of the page allocator. */
static void nd_block_leak(struct nd_block *b)
{
	atomic_long_add(ND_BLOCK_PAGES, &nd_stats.leaked_pages);
	kfree(b);
}

/**
 * nd_pool_vet_block() - keep a fresh block out of the pool if the image reaches it
 * @page: an order-ND_BLOCK_ORDER block the caller just allocated (not
 *        compound), in the direct map.
 *
 * Context: Process context.
 * Return: true if the block may be hidden.  False if it lies in the kernel
 * image's range: the block is consumed then, its pages there set aside
 * (nd_kimage_keep()) and the rest freed.
 */
bool nd_pool_vet_block(struct page *page)
{
	unsigned int i;

	if (!nd_pageattr_kimage(page_to_pfn(page), ND_BLOCK_PAGES))
		return true;
	/* split_page() wants a block of one owner, never a compound one. */
	VM_WARN_ON_ONCE(PageCompound(page) || page_ref_count(page) != 1);
	split_page(page, ND_BLOCK_ORDER);
	for (i = 0; i < ND_BLOCK_PAGES; i++)
		if (!nd_kimage_keep(page + i))
			__free_page(page + i);
	return false;
}

/*
 * A zeroed order-9 block on @nid with no page in the kernel image's range.
 * Bounded: each block refused keeps a page that is never handed to us
 * again.
 */
static struct page *nd_block_alloc(int nid)
{
	struct page *page;

	do {
		page = alloc_pages_node(nid, GFP_KERNEL | __GFP_ZERO |
					__GFP_NOWARN | __GFP_NORETRY,
					ND_BLOCK_ORDER);
	} while (page && !nd_pool_vet_block(page));
	return page;
}

/* Hide a fresh block taken on @nid; not yet in any pool.  No flush. */
static struct nd_block *nd_block_new(int nid, enum nd_prot prot)
{
	struct nd_block *b;
	int ret;

	if (atomic_long_inc_return(&nd_pool_blocks_total) * ND_BLOCK_MB >
	    READ_ONCE(pool_max_mb))
		goto full;
	/* The caller falls back when the pool cannot grow: no OOM kill. */
	b = kzalloc(sizeof(*b), GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY);
	if (!b)
		goto full;
	/* Zeroed now, through the direct map, while it still reaches them. */
	b->page = nd_fail(ND_FAIL_BLOCK) ? NULL : nd_block_alloc(nid);
	if (!b->page)
		goto free;
	split_page(b->page, ND_BLOCK_ORDER);
	b->prot = prot;
	ret = nd_pageattr_hide_block(nd_block_va(b), b->orig, prot);
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
	if (nd_pageattr_restore_block(nd_block_va(b), b->orig, b->nr_orig,
				      b->prot)) {
		nd_block_leak(b);
		goto full;
	}
free_pages:
	nd_block_free_pages(b);
free:
	kfree(b);
full:
	atomic_long_dec(&nd_pool_blocks_total);
	return NULL;
}

/*
 * Give a block that is out of every pool and fully free back, counted in
 * @counter: pool_blocks_returned for a block that was taken, or
 * pool_blocks_rolled_back for one a failed call never put in a pool.
 */
static void nd_block_release(struct nd_block *b, atomic_long_t *counter)
{
	bool leaked;

	xa_erase(&nd_block_index, page_to_pfn(b->page) >> ND_BLOCK_ORDER);
	atomic_long_dec(&nd_pool_blocks_total);
	leaked = nd_pageattr_restore_block(nd_block_va(b), b->orig, b->nr_orig,
					   b->prot);
	trace_nd_pool_release(page_to_pfn(b->page), b->prot,
			      counter == &nd_stats.pool_blocks_rolled_back,
			      leaked);
	if (leaked) {
		nd_block_leak(b);
		return;
	}
	nd_block_free_pages(b);
	kfree(b);
	atomic_long_inc(counter);
}

/* Take up to @nr free pages from @pool into @pages; returns how many. */
static unsigned int nd_pool_grab(struct nd_pool *pool, struct page **pages,
				 unsigned int nr)
{
	struct nd_block *b;
	unsigned int got = 0, bit;

	spin_lock(&pool->lock);
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
	spin_unlock(&pool->lock);
	return got;
}

/* The block a pool page belongs to (NULL for any other page). */
static struct nd_block *nd_page_block(struct page *page)
{
	return xa_load(&nd_block_index, page_to_pfn(page) >> ND_BLOCK_ORDER);
}

/* Make a page of one of @pool's blocks free again; @pool->lock held. */
static void nd_pool_free_locked(struct nd_pool *pool, struct nd_block *b,
				struct page *page)
{
	__clear_bit(page_to_pfn(page) & (ND_BLOCK_PAGES - 1), b->used);
	b->nr_free++;
	pool->nr_free++;
}

/* Whether a flush would leave @b fully free, so that it can be given back. */
static bool nd_block_free_once_flushed(const struct nd_block *b)
{
	return b->nr_free + b->nr_stale == ND_BLOCK_PAGES;
}

/* Take @pool's stale pages; they must not be handed out before a flush. */
static unsigned long nd_pool_take_stale(struct nd_pool *pool,
					struct list_head *stale)
{
	unsigned long n;

	spin_lock(&pool->lock);
	list_splice_init(&pool->stale, stale);
	n = pool->nr_stale;
	pool->nr_stale = 0;
	spin_unlock(&pool->lock);
	return n;
}

/* After a flush on every CPU that began once they were unmapped. */
static void nd_pool_free_stale(struct nd_pool *pool, struct list_head *stale)
{
	struct page *page, *next;
	struct nd_block *b;

	spin_lock(&pool->lock);
	list_for_each_entry_safe(page, next, stale, lru) {
		list_del(&page->lru);
		b = nd_page_block(page);
		b->nr_stale--;
		nd_pool_free_locked(pool, b, page);
	}
	spin_unlock(&pool->lock);
}

/* One flush, and every page freed to @pool before it can be reused. */
static void nd_pool_clean(struct nd_pool *pool)
{
	LIST_HEAD(stale);

	if (!nd_pool_take_stale(pool, &stale))
		return;
	nd_tlb_flush_all();
	atomic_long_inc(&nd_stats.pool_stale_flushes);
	nd_pool_free_stale(pool, &stale);
}

/**
 * nd_pool_put() - give pages taken by nd_pool_take() back to the pool
 * @pages: the pages, already wiped.
 * @nr: how many.
 * @mapped: whether they were vmap()ed (and vunmap()ed since): then another
 *          CPU may still translate the old address, and they wait for a
 *          flush before they are handed out again.
 *
 * Context: Process context, may sleep (the flush that 2 MiB of stale pages
 * call for).
 */
void nd_pool_put(struct page **pages, unsigned int nr, bool mapped)
{
	struct nd_pool *pool, *full = NULL;
	struct nd_block *b;
	unsigned int i;

	for (i = 0; i < nr; i++) {
		b = nd_page_block(pages[i]);
		if (WARN_ON_ONCE(!b))
			continue;
		/*
		 * The pool the block was put in: its pages may be of another
		 * node if the page allocator fell back, or the caller moved.
		 */
		pool = b->pool;
		spin_lock(&pool->lock);
		if (mapped) {
			list_add_tail(&pages[i]->lru, &pool->stale);
			b->nr_stale++;
			if (++pool->nr_stale >= ND_BLOCK_PAGES)
				full = pool;
		} else {
			nd_pool_free_locked(pool, b, pages[i]);
		}
		spin_unlock(&pool->lock);
	}
	if (full)
		nd_pool_clean(full);
}

/**
 * nd_pool_take() - hidden, zeroed pages for an allocation
 * @pages: receives @nr pages.
 * @nr: how many.
 * @prot: how they are to be hidden: which pool.
 *
 * Takes free pages of the current node's pool, and new blocks when those
 * are too few.  New blocks cost one TLB flush in all, made before any of
 * their pages is handed out; reuse costs none.
 *
 * Context: Process context, may sleep.
 * Return: 0, or -ENOMEM with nothing taken (no order-9 block could be
 * had, or the pool is at pool_max_mb): the caller falls back.
 */
int nd_pool_take(struct page **pages, unsigned int nr, enum nd_prot prot)
{
	int nid = numa_mem_id();
	struct nd_pool *pool = nd_pool_of(nid, prot);
	unsigned int got, want_blocks, i;
	struct nd_block *b, *next;
	LIST_HEAD(fresh);
	LIST_HEAD(stale);

	if (!READ_ONCE(pool_max_mb))
		return -ENOMEM;

	got = nd_pool_grab(pool, pages, nr);
	if (got == nr) {
		atomic_long_inc(&nd_stats.pool_hits);
		return 0;
	}
	/* 2 MiB freed since the last flush: flushing beats growing. */
	if (READ_ONCE(pool->nr_stale) >= ND_BLOCK_PAGES) {
		nd_pool_clean(pool);
		got += nd_pool_grab(pool, pages + got, nr - got);
		if (got == nr) {
			atomic_long_inc(&nd_stats.pool_hits);
			return 0;
		}
	}

	want_blocks = DIV_ROUND_UP(nr - got, ND_BLOCK_PAGES);
	/*
	 * At the cap, fully free blocks of the other pools make room: idle
	 * read-only blocks must not push not-present calls (nd_kmalloc()'s
	 * pages among them) onto the per-page path, nor the other way round.
	 */
	if (nd_pool_over_cap(want_blocks))
		nd_pool_shrink(want_blocks * ND_BLOCK_PAGES, pool);
	/* Past the cap: not one block is taken (and zeroed, and hidden). */
	if (nd_pool_over_cap(want_blocks))
		want_blocks = 0;
	for (i = 0; i < want_blocks; i++) {
		b = nd_block_new(nid, prot);
		if (!b)
			break;
		list_add_tail(&b->node, &fresh);
	}
	if (!want_blocks || i < want_blocks) {
		/* Nothing flushed, so nothing of theirs handed out yet. */
		list_for_each_entry_safe(b, next, &fresh, node)
			nd_block_release(b, &nd_stats.pool_blocks_rolled_back);
		/* Last resort before giving up: what was freed, flushed. */
		nd_pool_clean(pool);
		got += nd_pool_grab(pool, pages + got, nr - got);
		if (got == nr) {
			atomic_long_inc(&nd_stats.pool_hits);
			return 0;
		}
		nd_pool_put(pages, got, false);
		atomic_long_inc(&nd_stats.pool_fallbacks);
		return -ENOMEM;
	}
	/* The flush that hides the new blocks covers the stale pages too. */
	nd_pool_take_stale(pool, &stale);
	nd_tlb_flush_all();
	atomic_long_add(want_blocks, &nd_stats.pool_blocks_taken);
	trace_nd_pool_grow(nid, prot, want_blocks);
	nd_pool_free_stale(pool, &stale);

	spin_lock(&pool->lock);
	list_for_each_entry(b, &fresh, node) {
		b->pool = pool;
		pool->nr_blocks++;
		pool->nr_free += ND_BLOCK_PAGES;
	}
	list_splice_tail(&fresh, &pool->blocks);
	spin_unlock(&pool->lock);

	/* Others may have taken pages of the new blocks meanwhile. */
	got += nd_pool_grab(pool, pages + got, nr - got);
	if (got < nr) {
		nd_pool_put(pages, got, false);
		atomic_long_inc(&nd_stats.pool_fallbacks);
		return -ENOMEM;
	}
	atomic_long_inc(&nd_stats.pool_misses);
	return 0;
}

/* Whether some block of @pool is fully free but for stale pages. */
static bool nd_pool_flush_frees_block(struct nd_pool *pool)
{
	struct nd_block *b;
	bool ret = false;

	spin_lock(&pool->lock);
	list_for_each_entry(b, &pool->blocks, node) {
		if (b->nr_stale && nd_block_free_once_flushed(b)) {
			ret = true;
			break;
		}
	}
	spin_unlock(&pool->lock);
	return ret;
}

/*
 * Release up to @max fully free blocks of every pool but @keep (NULL for
 * none); returns pages freed.
 */
static unsigned long nd_pool_shrink(unsigned long max,
				    const struct nd_pool *keep)
{
	unsigned long freed = 0;
	struct nd_block *b, *next;
	struct nd_pool *pool;
	LIST_HEAD(victims);
	unsigned int i;

	for (i = 0; i < nd_nr_pools && freed < max; i++) {
		pool = &nd_pools[i];
		if (pool == keep)
			continue;
		/* Stale pages keep their block busy: flush if that frees one. */
		if (nd_pool_flush_frees_block(pool))
			nd_pool_clean(pool);
		spin_lock(&pool->lock);
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
		spin_unlock(&pool->lock);
	}
	list_for_each_entry_safe(b, next, &victims, node)
		nd_block_release(b, &nd_stats.pool_blocks_returned);
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
	return nd_pool_shrink(ULONG_MAX, NULL);
}

/**
 * nd_pool_stats() - what the pools hold now, both kinds
 * @blocks: receives the number of blocks held.
 * @free_pages: receives the number of pages free in them.
 */
void nd_pool_stats(unsigned long *blocks, unsigned long *free_pages)
{
	unsigned int i;

	*blocks = 0;
	*free_pages = 0;
	for (i = 0; i < nd_nr_pools; i++) {
		*blocks += READ_ONCE(nd_pools[i].nr_blocks);
		*free_pages += READ_ONCE(nd_pools[i].nr_free);
	}
}

/**
 * nd_pool_blocks() - blocks held by the pools of one kind
 * @prot: the kind.
 *
 * Return: their number, summed over the nodes.
 */
unsigned long nd_pool_blocks(enum nd_prot prot)
{
	unsigned long n = 0;
	int nid;

	for_each_node(nid)
		n += READ_ONCE(nd_pool_of(nid, prot)->nr_blocks);
	return n;
}

/**
 * nd_pool_stale() - pages freed to the pool and waiting for a flush
 *
 * Return: their number, summed over the nodes.
 */
unsigned long nd_pool_stale(void)
{
	unsigned long n = 0;
	unsigned int i;

	for (i = 0; i < nd_nr_pools; i++)
		n += READ_ONCE(nd_pools[i].nr_stale);
	return n;
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
	unsigned long n = 0;
	struct nd_pool *pool;
	struct nd_block *b;
	unsigned int i;

	for (i = 0; i < nd_nr_pools; i++) {
		pool = &nd_pools[i];
		spin_lock(&pool->lock);
		/* Stale pages count where a scan's flush frees their block. */
		list_for_each_entry(b, &pool->blocks, node)
			if (nd_block_free_once_flushed(b))
				n += ND_BLOCK_PAGES;
		spin_unlock(&pool->lock);
	}
	return n ?: SHRINK_EMPTY;
}

static unsigned long nd_pool_scan(struct shrinker *s,
				  struct shrink_control *sc)
{
	unsigned long freed = nd_pool_shrink(sc->nr_to_scan, NULL);

	return freed ?: SHRINK_STOP;
}

/**
 * nd_pool_init() - set up empty pools (per node and kind) and the shrinker
 *
 * Return: 0 or -ENOMEM.
 */
int __init nd_pool_init(void)
{
	unsigned int i;

	/* Every node id, possible or not: loops need not ask which. */
	nd_nr_pools = nr_node_ids * ND_POOL_KINDS;
	nd_pools = kcalloc(nd_nr_pools, sizeof(*nd_pools), GFP_KERNEL);
	if (!nd_pools)
		return -ENOMEM;
	for (i = 0; i < nd_nr_pools; i++) {
		spin_lock_init(&nd_pools[i].lock);
		INIT_LIST_HEAD(&nd_pools[i].blocks);
		INIT_LIST_HEAD(&nd_pools[i].stale);
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
