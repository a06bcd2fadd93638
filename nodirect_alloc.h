/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nodirect_alloc: kernel memory that is not reachable through the direct map.
 *
 * This header is the whole consumer API.
 */
#ifndef _NODIRECT_ALLOC_H
#define _NODIRECT_ALLOC_H

#include <linux/types.h>
#include <linux/gfp.h>

/**
 * enum nd_prot - what becomes of the direct-map alias of each backing page
 * @ND_NOT_PRESENT: the alias faults on any access.
 * @ND_READ_ONLY: the alias can be read but faults on write.
 */
enum nd_prot {
	ND_NOT_PRESENT,
	ND_READ_ONLY,
};

/*
 * The memory returned here must only be reached through the returned
 * address.  Never hand it to anything that goes through its struct page:
 * scatterlists, bio, skb, swiotlb, kmap_local_page() or page_address() would
 * all use the direct map, and fault.  Never call set_memory_*() or
 * set_pages_*() on it either, on the returned address or on a page's
 * direct-map address: the kernel applies such a call to the direct-map
 * alias too (set_memory_rw() would make a hidden page writable there, for
 * this owner and the pool's next one), and it changes 4K entries under a
 * lock of its own that this module cannot take.  For a read-only mapping
 * use nd_vseal().  Nor free it with vfree(), kvfree() or vrealloc(), nor
 * give it to set_vm_flush_reset_perms().  A reference taken with
 * get_page() does not keep a page past nd_vfree(): the page goes back to
 * the pool, or to the page allocator once the reference is dropped.
 *
 * Hibernation is refused while anything is allocated, and allocations are
 * refused while it is under way.  To let it happen, free your secrets in a
 * PM notifier at PM_HIBERNATION_PREPARE and allocate them again at
 * PM_POST_HIBERNATION, with a priority from -99 to 99 (the default 0 will
 * do): this module checks at -100, after you, and lets allocations in
 * again at 100, before you.
 */

/**
 * nd_vmalloc_prot() - allocate virtually contiguous memory outside the direct map
 * @size: bytes to allocate, at least 1; rounded up to whole pages.
 * @gfp: allocation flags; must allow blocking (GFP_KERNEL), may add
 *       __GFP_ZERO, __GFP_NOWARN, __GFP_NORETRY, __GFP_RETRY_MAYFAIL,
 *       __GFP_ACCOUNT.
 * @prot: %ND_NOT_PRESENT or %ND_READ_ONLY.
 *
 * Allocates with vmalloc, then changes the direct-map entry of every backing
 * page and flushes the TLB of every CPU once.  When this returns, reading a
 * backing page through its direct-map address faults on every CPU
 * (%ND_NOT_PRESENT), or writing it does (%ND_READ_ONLY).
 *
 * Memory not charged to a cgroup (no __GFP_ACCOUNT) comes from the
 * module's pools of 2 MiB blocks that are hidden already, one pool per
 * @prot, while the pools are on (module parameter pool_max_mb): then no
 * flush is needed, unless a pool has to take new blocks.
 *
 * Context: Process context, may sleep.  Not from interrupts, nor with
 *          interrupts disabled or a spinlock held.
 * Return: the vmalloc address of the memory, or NULL on a bad argument or
 *         when memory could not be had; nothing is left changed then.
 */
void *nd_vmalloc_prot(unsigned long size, gfp_t gfp, enum nd_prot prot);

/**
 * nd_vmalloc() - allocate memory with no direct-map alias
 * @size: bytes to allocate, at least 1.
 *
 * Same as nd_vmalloc_prot(@size, GFP_KERNEL, ND_NOT_PRESENT).
 *
 * Context: Process context, may sleep.
 * Return: the vmalloc address of the memory, or NULL.
 */
void *nd_vmalloc(unsigned long size);

/**
 * nd_vzalloc() - allocate zeroed memory with no direct-map alias
 * @size: bytes to allocate, at least 1.
 *
 * Same as nd_vmalloc_prot(@size, GFP_KERNEL | __GFP_ZERO, ND_NOT_PRESENT).
 *
 * Context: Process context, may sleep.
 * Return: the vmalloc address of the zeroed memory, or NULL.
 */
void *nd_vzalloc(unsigned long size);

/**
 * nd_vfree() - wipe and free memory from nd_vmalloc_prot()
 * @addr: the address nd_vmalloc*() returned, or NULL.
 *
 * Zeroes the memory through its vmalloc address, puts every backing page
 * back into the direct map exactly as it was, then frees it; pages from the
 * pool go back to the pool instead, zeroed and still hidden, and reach the
 * direct map again when the pool gives their block back.  No TLB flush is
 * needed for either.  An address that nd_vmalloc*() did not return, or
 * that was already freed, is reported and left alone.
 *
 * A free may race nd_vseal() of the same area: the area is gone for
 * every later call at once (a second free or a seal is refused), and
 * nd_vseal() wipes, restores and frees it when it is done.  A call after
 * the free is only refused until the address is reused by a new
 * allocation: then it acts on that one, as a stale kfree() would.
 *
 * Context: Any context but NMI.  From atomic context an area of up to 16
 *          pages is wiped (and unsealed first, if sealed) at once, a
 *          larger one (bounded work in hard interrupts, PREEMPT_RT
 *          included) by the worker that then restores, unmaps and frees
 *          it, before any page is reused.
 */
void nd_vfree(const void *addr);

/**
 * nd_vseal() - make a live allocation read-only through its own address too
 * @addr: what nd_vmalloc*() returned.
 *
 * For a secret that never changes once it is set: after this, a write
 * through @addr faults on every CPU (one TLB flush), while reads work.
 * The direct-map alias stays as nd_vmalloc*() left it.  There is no
 * unseal: a sealed secret stays sealed until nd_vfree(), which still
 * wipes, restores and frees it.  Sealing a sealed area again is harmless,
 * and returns only once the seal holds on every CPU (seals of all areas
 * are made one at a time).  An nd_vfree() of the area may race this
 * call, from any context: the area stays until the seal is done, then
 * this call wipes, restores and frees it (see nd_vfree()).
 *
 * Context: Process context, may sleep.
 * Return: 0, or -EINVAL (reported, nothing changed) for a pointer that is
 *         not the start of a live nd_vmalloc*() area, or an object of
 *         nd_kmalloc().
 */
int nd_vseal(const void *addr);

/**
 * nd_kmalloc() - a small object outside the direct map
 * @size: 1 to PAGE_SIZE / 2 bytes (2048 on x86_64); larger sizes are
 *        refused: use nd_vmalloc().
 * @gfp: as for nd_vmalloc_prot(): must allow blocking.
 *
 * Objects of a size class (16, 32, ... 2048 bytes) share hidden pages of
 * the module's pool, so 1000 keys of 32 bytes take 8 pages, not 1000.
 * The object is reachable only through the returned address, which is
 * aligned to its size class.  It comes zeroed.
 *
 * Pages are shared, so __GFP_ACCOUNT does not charge per object: a call
 * that has to take a new page for its class charges that whole page to
 * its cgroup, and the objects later carved from it, whoever asks for them,
 * are charged to nobody; an object may also land on a page charged to
 * another cgroup, or to none.  For memory that must be charged exactly,
 * use nd_vmalloc_prot() with __GFP_ACCOUNT.
 *
 * Context: Process context, may sleep.
 * Return: the object, or NULL.
 */
void *nd_kmalloc(size_t size, gfp_t gfp);

/**
 * nd_kzalloc() - a zeroed small object outside the direct map
 * @size: as for nd_kmalloc().
 * @gfp: as for nd_kmalloc().
 *
 * Context: Process context, may sleep.
 * Return: the zeroed object, or NULL.
 */
void *nd_kzalloc(size_t size, gfp_t gfp);

/**
 * nd_kfree() - wipe and free an object of nd_kmalloc()
 * @ptr: the object; NULL is a no-op.
 *
 * The object's bytes are zeroed at once.  A page whose objects are all
 * free goes back to the pool a little later.  A pointer that is not the
 * start of a live object (inside one, from elsewhere, freed already) is
 * reported and left alone.
 *
 * Context: Any context but NMI.
 */
void nd_kfree(const void *ptr);

#endif /* _NODIRECT_ALLOC_H */
