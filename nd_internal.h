/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interfaces between the parts of nodirect_alloc; not for consumers.
 */
#ifndef _ND_INTERNAL_H
#define _ND_INTERNAL_H

#include <linux/atomic.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/rbtree.h>
#include <linux/sched/mm.h>
#include <linux/vmalloc.h>

#include "nodirect_alloc.h"

/* One live allocation, and the direct-map entries it changed. */
struct nd_area {
	struct rb_node node;		/* in the registry, keyed by @addr */
	struct llist_node free_node;	/* deferred freeing */
	void *addr;			/* vmalloc (or vmap) address */
	/*
	 * The pages, if known: the pool's (the area owns the array), or
	 * those nd_map_pages() gave vmap() (the vmap area owns them).
	 */
	struct page **pages;
	unsigned int nr_pages;
	unsigned int nr_hidden;		/* entries of @orig now changed */
	enum nd_prot prot;
	bool pooled;			/* @pages go back to the pool */
	bool wipe_later;		/* freed in atomic context, not wiped */
	bool internal;			/* a page of nd_kmalloc(): not the caller's */
	bool sealed;			/* nd_vseal(): the alias is read-only */
	/* Under the registry lock: */
	bool held;			/* nd_vseal() is working on it */
	bool free_pending;		/* freed meanwhile: the sealer releases */
	pte_t orig[];			/* per page, the entry before hiding */
};

/* Page @i of @area, from its page array when it has one. */
static inline struct page *nd_area_page(const struct nd_area *area,
					unsigned int i)
{
	return area->pages ? area->pages[i] :
			     vmalloc_to_page(area->addr + i * PAGE_SIZE);
}

/* Counters shown in /sys/kernel/nodirect_alloc/. */
struct nd_stats {
	atomic_long_t live_allocs;
	atomic_long_t live_pages;
	atomic_long_t allocs;
	atomic_long_t frees;
	atomic_long_t deferred_frees;
	atomic_long_t failures;
	atomic_long_t bad_calls;
	atomic_long_t flushes;
	atomic_long_t flush_cpus;
	atomic_long_t splits_2m;
	atomic_long_t splits_1g;
	atomic_long_t pool_hits;
	atomic_long_t pool_misses;
	atomic_long_t pool_fallbacks;
	atomic_long_t pool_blocks_taken;
	atomic_long_t pool_blocks_returned;
	atomic_long_t pool_blocks_rolled_back;	/* never taken: a call failed */
	atomic_long_t pool_stale_flushes;	/* before freed pages are reused */
	atomic_long_t leaked_pages;		/* could not be restored: kept */
	atomic_long_t pending_frees;		/* deferred, pages still hidden */
	atomic_long_t seals;
	atomic_long_t kimage_pages;		/* set aside: nd_kimage_keep() */
};

/*
 * How hard the caller wants memory tried for (no warning, no retry, no
 * OOM kill), passed on to the module's own bookkeeping allocations.
 */
#define ND_GFP_EFFORT	(__GFP_NOWARN | __GFP_NORETRY | __GFP_RETRY_MAYFAIL)

static inline gfp_t nd_meta_gfp(gfp_t gfp)
{
	return GFP_KERNEL | (gfp & ND_GFP_EFFORT);
}

/* The same for kvmalloc(), which does not take __GFP_NORETRY: no OOM kill. */
static inline gfp_t nd_meta_kvgfp(gfp_t gfp)
{
	return GFP_KERNEL | (gfp & __GFP_NOWARN) |
	       (gfp & (__GFP_NORETRY | __GFP_RETRY_MAYFAIL) ?
		__GFP_RETRY_MAYFAIL : 0);
}

/*
 * A GFP_NOFS or GFP_NOIO caller's scope around everything allocated on its
 * behalf, as __vmalloc_node_range() does: the GFP_KERNEL of our own
 * bookkeeping, split tables and pool blocks would otherwise let reclaim
 * recurse into the caller's filesystem or block device.
 */
static inline unsigned int nd_memalloc_save(gfp_t gfp)
{
	if (!(gfp & __GFP_IO))
		return memalloc_noio_save();
	if (!(gfp & __GFP_FS))
		return memalloc_nofs_save();
	return 0;
}

static inline void nd_memalloc_restore(gfp_t gfp, unsigned int flags)
{
	if (!(gfp & __GFP_IO))
		memalloc_noio_restore(flags);
	else if (!(gfp & __GFP_FS))
		memalloc_nofs_restore(flags);
}

/* nd_vfree() in atomic context wipes at once up to this many pages. */
#define ND_ATOMIC_WIPE_PAGES	16

extern struct nd_stats nd_stats;

/* Places where a test can make the next pass fail. */
enum nd_fail_site {
	ND_FAIL_PAGE,		/* one page of an allocation */
	ND_FAIL_MAP,		/* vmap() of the pages */
	ND_FAIL_META,		/* the area's own bookkeeping */
	ND_FAIL_SPLIT,		/* a table for splitting a large leaf */
	ND_FAIL_HIDE,		/* writing one page's hidden entry */
	ND_FAIL_BLOCK,		/* a 2 MiB block for the pool */
	ND_FAIL_SLAB,		/* the structure of a page of nd_kmalloc() */
	ND_FAIL_NR,
};

/* A 2 MiB block: what a 2M leaf of the direct map maps. */
#define ND_BLOCK_ORDER	(PMD_SHIFT - PAGE_SHIFT)
#define ND_BLOCK_PAGES	BIT(ND_BLOCK_ORDER)

/*
 * The layers, top down, one heading each below.  A file calls functions of
 * its own layer and of those below it, never above (selftest/layers.sh
 * checks the built objects); the tests in selftest/ may call any layer.
 */

/* Layer 1, nodirect_alloc.c: the exported API, its checks, init/exit. */
bool nd_size_ok(unsigned long size, unsigned long ram_pages);
bool nd_gfp_ok(gfp_t gfp, void *caller);

/* Layer 1, sysfs.c: /sys/kernel/nodirect_alloc/. */
int nd_sysfs_init(void);
void nd_sysfs_exit(void);

/* Layer 2, hibernate.c: hibernation, reboot and kexec. */
int nd_pm_init(void);
void nd_pm_exit(void);

/* Layer 3, kmalloc.c: small objects in hidden pages. */
/* The largest object nd_kmalloc() serves: beyond, nd_vmalloc(). */
#define ND_KMALLOC_MAX		(PAGE_SIZE / 2)
void nd_kmalloc_init(void);
void nd_kmalloc_exit(void);
void *nd_kmalloc_flags(size_t size, gfp_t gfp, void *caller);
void nd_kfree_caller(const void *ptr, void *caller);
void nd_kmalloc_release_now(void);
void nd_kmalloc_stats(size_t size, unsigned long *objects,
		      unsigned long *pages);
ssize_t nd_kmalloc_show_classes(char *buf);
unsigned long nd_kmalloc_meta_bytes(size_t size);
unsigned long nd_kmalloc_index_bytes(void);

/* Layer 4, area.c: one hidden area, the registry, the gate. */
bool nd_gate_enter(void);
void nd_gate_leave(void);
bool nd_gate_is_closed(void);
void nd_gate_set_closed(bool closed);
void *nd_vmalloc_try(unsigned long size, gfp_t gfp, enum nd_prot prot,
		     bool internal, bool *refused);
void *nd_vmalloc_internal(unsigned long size, gfp_t gfp);
struct nd_area *nd_area_hide(void *addr, struct page **pages,
			     unsigned int nr_pages, enum nd_prot prot,
			     gfp_t gfp);
void nd_area_unhide(struct nd_area *area);
void *nd_adopt(void *addr, struct page **pages, unsigned long size,
	       enum nd_prot prot, gfp_t gfp);
void nd_area_free(const void *addr, bool internal, const char *what,
		  void *caller);
void nd_vfree_internal(const void *addr);
int nd_area_seal(const void *addr, const char *what, void *caller);
unsigned long nd_area_meta_bytes(const void *addr);
void nd_deferred_flush(void);
unsigned long nd_wipe_live(bool for_good);
bool nd_is_going_down(void);
unsigned long nd_release_all(void);

/* Layer 5, pages.c: an area's pages and their vmap(). */
void *nd_map_pages(unsigned long size, gfp_t gfp, struct page ***pagesp);
void *nd_map_pool_pages(unsigned long size, gfp_t gfp, enum nd_prot prot,
			struct page ***pagesp);

/* Layer 6, pool.c: 2 MiB blocks kept hidden. */
/* On by default: it beats vmalloc+vfree itself (bench/results.md). */
#define ND_POOL_DEFAULT_MB	64
int nd_pool_init(void);
void nd_pool_exit(void);
int nd_pool_take(struct page **pages, unsigned int nr, enum nd_prot prot);
void nd_pool_put(struct page **pages, unsigned int nr, bool mapped);
unsigned long nd_pool_drain(void);
bool nd_pool_vet_block(struct page *page);
void nd_pool_stats(unsigned long *blocks, unsigned long *free_pages);
unsigned long nd_pool_blocks(enum nd_prot prot);
unsigned int nd_pool_set_max(unsigned int mb);
unsigned int nd_pool_max(void);
unsigned long nd_pool_stale(void);

/* Layer 7, kimage.c: pages the kernel image maps, set aside. */
bool nd_kimage_keep(struct page *page);
bool nd_kimage_replace(struct page **pages, unsigned int nr_pages, gfp_t gfp);
void nd_kimage_release(void);

/* Layer 8, pageattr_x86.c: the direct map's entries. */
int nd_pageattr_init(void);
int nd_pageattr_hide(struct nd_area *area);
void nd_pageattr_restore(struct nd_area *area);
pte_t nd_pageattr_hidden_pte(pte_t orig, enum nd_prot prot);
int nd_pageattr_hide_block(unsigned long va, pte_t *orig, enum nd_prot prot);
int nd_pageattr_restore_block(unsigned long va, const pte_t *orig,
			      unsigned int nr, enum nd_prot prot);
int nd_pageattr_seal(struct nd_area *area, bool seal);
bool nd_pageattr_kimage(unsigned long pfn, unsigned long nr);

/* Layer 9, tlbflush.c: every CPU's TLB. */
void nd_tlb_flush_all(void);

/* Layer 10, trace.c: the events of nd_trace.h. */

/* Layer 10, stats.c: the counters (nd_stats) and fault injection. */
void nd_fail_arm(enum nd_fail_site site, unsigned int nth);
bool nd_fail(enum nd_fail_site site);
bool nd_fail_as(enum nd_fail_site site, gfp_t gfp);
gfp_t nd_fail_gfp(enum nd_fail_site site);

/*
 * selftest/selftest.c: what the module parameters ask the tests to do at
 * load, and their end at unload; the one way in from the module.
 */
struct nd_test_params {
	const char *selftest;	/* selftest=, NULL or "0" for none */
	bool need_1g;		/* selftest_need_1g= */
	bool demo;		/* demo= */
	unsigned int stress;	/* stress=, seconds */
	int bench;		/* bench= */
};

int nd_test_run(const struct nd_test_params *p);
void nd_test_exit(void);

#endif /* _ND_INTERNAL_H */
