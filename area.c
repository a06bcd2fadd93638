// SPDX-License-Identifier: GPL-2.0
/*
 * One hidden area: the gate every allocation passes, the registry that
 * finds a live area, hiding an area's pages (which pages.c provides) and
 * what unmakes it (wipe, unseal, restore, the deferred-free worker).
 * Sealing, and the wipe of everything live at shutdown, work on
 * registered areas.
 */

#include <linux/mutex.h>
#include <linux/sched/mm.h>
#include <linux/rcupdate.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "nd_internal.h"
#include "nd_trace.h"

/*
 * Live allocations by address.  nd_vfree() may run in hard interrupt
 * context, so a raw spinlock (a spinlock_t sleeps under PREEMPT_RT); what
 * it guards is an rbtree insert, erase or lookup: O(log n), bounded.
 */
static DEFINE_RAW_SPINLOCK(nd_registry_lock);
static struct rb_root nd_registry = RB_ROOT;

/* Set once the kernel is going away: allocations refused, frees wiped at once. */
static bool nd_going_down;

/*
 * The gate every allocation passes: taken for reading around each, for
 * writing to close it (hibernation is near: hibernate.c closes it).
 */
static DECLARE_RWSEM(nd_gate_rwsem);
static bool nd_gate_closed;

/**
 * nd_gate_enter() - enter an allocation, unless the gate is closed
 *
 * Context: Process context, may sleep.
 * Return: true if the caller may allocate; it then calls nd_gate_leave().
 */
bool nd_gate_enter(void)
{
	down_read(&nd_gate_rwsem);
	if (!nd_gate_closed && !nd_is_going_down())
		return true;
	up_read(&nd_gate_rwsem);
	return false;
}

/**
 * nd_gate_leave() - leave an allocation nd_gate_enter() let in
 *
 * Never inlined: the race test holds a registration here with a kprobe.
 */
noinline void nd_gate_leave(void)
{
	up_read(&nd_gate_rwsem);
}

/**
 * nd_gate_is_closed() - whether nd_gate_enter() refuses now
 *
 * Return: true between nd_gate_set_closed(true) and (false).
 */
bool nd_gate_is_closed(void)
{
	return READ_ONCE(nd_gate_closed);
}

/**
 * nd_gate_set_closed() - close or open the gate
 * @closed: refuse allocations from now on, or let them in again.
 *
 * Closing waits for the allocations inside to leave.
 *
 * Context: Process context, may sleep.
 */
void nd_gate_set_closed(bool closed)
{
	down_write(&nd_gate_rwsem);
	WRITE_ONCE(nd_gate_closed, closed);
	up_write(&nd_gate_rwsem);
}

/* Allocations freed from atomic context wait here for vfree(). */
static LLIST_HEAD(nd_free_list);

/*
 * Restore and free a wiped area: its pages go back to the pool, still
 * hidden, or into the direct map and then to the page allocator.  Never
 * in atomic context: a restore may have to split a leaf the kernel
 * changed, under pgd_lock (a sleeping lock under PREEMPT_RT, and one the
 * kernel takes with interrupts on).
 */
static void nd_area_finish(struct nd_area *area)
{
	/* A free may come from under the caller's filesystem or I/O locks. */
	unsigned int noio = memalloc_noio_save();

	if (area->wipe_later) {
		if (area->sealed)
			nd_pageattr_seal(area, false);
		memzero_explicit(area->addr, area->nr_pages * PAGE_SIZE);
	}
	if (area->pooled) {
		vunmap(area->addr);
		nd_pool_put(area->pages, area->nr_pages, true);
		kvfree(area->pages);
	} else {
		nd_pageattr_restore(area);
		vfree(area->addr);
	}
	kvfree(area);
	memalloc_noio_restore(noio);
}

static void nd_free_work_fn(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&nd_free_list);
	struct nd_area *area, *next;

	llist_for_each_entry_safe(area, next, list, free_node) {
		nd_area_finish(area);
		atomic_long_dec(&nd_stats.pending_frees);
	}
}

static DECLARE_WORK(nd_free_work, nd_free_work_fn);

/* Wait until every deferred free has reached vfree(). */
void nd_deferred_flush(void)
{
	flush_work(&nd_free_work);
}

/**
 * nd_area_hide() - take the pages of an existing mapping out of the direct map
 * @addr: a vmalloc or vmap address.
 * @pages: the pages mapped at @addr, or NULL to look them up; must stay
 *         valid as long as the area.
 * @nr_pages: pages mapped at @addr.
 * @prot: how to hide them.
 * @gfp: the caller's, for the area's bookkeeping.
 *
 * Context: Process context, may sleep.
 * Return: the new area, or an ERR_PTR() with nothing changed.
 */
struct nd_area *nd_area_hide(void *addr, struct page **pages,
			     unsigned int nr_pages, enum nd_prot prot,
			     gfp_t gfp)
{
	gfp_t meta_gfp = nd_meta_kvgfp(gfp);
	struct nd_area *area;
	int ret;

	area = nd_fail_as(ND_FAIL_META, meta_gfp) ? NULL :
	       kvzalloc(struct_size(area, orig, nr_pages), meta_gfp);
	if (!area)
		return ERR_PTR(-ENOMEM);
	area->addr = addr;
	area->pages = pages;
	area->nr_pages = nr_pages;
	area->prot = prot;

	ret = nd_pageattr_hide(area);
	if (ret) {
		kvfree(area);
		return ERR_PTR(ret);
	}
	return area;
}

/**
 * nd_area_unhide() - put the pages back into the direct map, drop the area
 * @area: from nd_area_hide(); the mapping itself is the caller's to free.
 */
void nd_area_unhide(struct nd_area *area)
{
	nd_pageattr_restore(area);
	kvfree(area);
}

static bool nd_area_less(struct rb_node *a, const struct rb_node *b)
{
	return rb_entry(a, struct nd_area, node)->addr <
	       rb_entry(b, struct nd_area, node)->addr;
}

/* The live area that contains @addr, if any.  Call with the lock held. */
static struct nd_area *nd_registry_find(const void *addr)
{
	struct rb_node *n = nd_registry.rb_node;
	struct nd_area *area;

	while (n) {
		area = rb_entry(n, struct nd_area, node);
		if (addr < area->addr)
			n = n->rb_left;
		else if (addr >= area->addr + area->nr_pages * PAGE_SIZE)
			n = n->rb_right;
		else
			return area;
	}
	return NULL;
}

/*
 * What an allocation cost, for its nd_alloc event: read at entry only
 * while the event is on, so a call costs nothing more when it is off.
 * A call that began with the event off (@start 0) reports no cost.
 */
struct nd_cost {
	u64 start;
	long flushes;
	long splits;
};

static long nd_splits(void)
{
	return atomic_long_read(&nd_stats.splits_2m) +
	       atomic_long_read(&nd_stats.splits_1g);
}

static void nd_cost_start(struct nd_cost *cost)
{
	cost->start = 0;
	if (!trace_nd_alloc_enabled())
		return;
	cost->start = ktime_get_ns();
	cost->flushes = atomic_long_read(&nd_stats.flushes);
	cost->splits = nd_splits();
}

/* @area's nd_alloc event, with what the call since @cost cost. */
static void nd_trace_alloc(const struct nd_area *area, unsigned long size,
			   const struct nd_cost *cost)
{
	/* The event was turned on during the call. */
	if (!cost->start) {
		trace_nd_alloc(area, size, 0, 0, 0);
		return;
	}
	trace_nd_alloc(area, size,
		       atomic_long_read(&nd_stats.flushes) - cost->flushes,
		       nd_splits() - cost->splits, ktime_get_ns() - cost->start);
}

/*
 * Make @area live: nd_vfree() finds it, the counters count it, and its
 * nd_alloc event says what the call since @cost cost.
 */
static void nd_register(struct nd_area *area, unsigned long size,
			const struct nd_cost *cost)
{
	unsigned long flags;

	/*
	 * Counted and traced before it can be found: once it is, a free (a
	 * wrong one from another CPU, say) may release @area at once.
	 */
	atomic_long_inc(&nd_stats.allocs);
	atomic_long_inc(&nd_stats.live_allocs);
	atomic_long_add(area->nr_pages, &nd_stats.live_pages);
	if (trace_nd_alloc_enabled())
		nd_trace_alloc(area, size, cost);

	raw_spin_lock_irqsave(&nd_registry_lock, flags);
	rb_add(&area->node, &nd_registry, nd_area_less);
	raw_spin_unlock_irqrestore(&nd_registry_lock, flags);
}

/*
 * nd_adopt(), registering the area as @internal (a page of nd_kmalloc())
 * from the start: no consumer's stale nd_vfree() or nd_vseal() of a
 * reused address may ever find it as its own.
 */
static void *nd_adopt_as(void *addr, struct page **pages, unsigned long size,
			 enum nd_prot prot, gfp_t gfp, bool internal,
			 const struct nd_cost *cost)
{
	struct nd_area *area;

	area = nd_area_hide(addr, pages, PAGE_ALIGN(size) >> PAGE_SHIFT, prot,
			    gfp);
	if (IS_ERR(area))
		return NULL;
	area->internal = internal;
	nd_register(area, size, cost);
	return addr;
}

/**
 * nd_adopt() - hide the pages of a fresh mapping and register it
 * @addr: from nd_map_pages() or vmalloc(); still the caller's to free if
 *        this fails.
 * @pages: what nd_map_pages() gave, or NULL.
 * @size: bytes allocated at @addr.
 * @prot: how to hide the pages.
 * @gfp: the caller's, for the bookkeeping.
 *
 * Context: Process context, may sleep.
 * Return: @addr, now to be freed with nd_vfree(), or NULL.
 */
void *nd_adopt(void *addr, struct page **pages, unsigned long size,
	       enum nd_prot prot, gfp_t gfp)
{
	struct nd_cost cost;

	nd_cost_start(&cost);
	return nd_adopt_as(addr, pages, size, prot, gfp, false, &cost);
}

/*
 * An allocation served by the pool of its @prot: no split, and no flush
 * unless the pool had to grow.  NULL, with nothing taken, when the pool is
 * off or cannot serve it.  Memory charged to a cgroup (__GFP_ACCOUNT) is
 * never taken from the pool, which nobody is charged for.
 */
static void *nd_vmalloc_pooled(unsigned long size, gfp_t gfp,
			       enum nd_prot prot, bool internal,
			       const struct nd_cost *cost)
{
	gfp_t meta_gfp = nd_meta_gfp(gfp);
	struct nd_area *area;
	struct page **pages;
	void *addr;

	if (!nd_pool_max() || (gfp & __GFP_ACCOUNT))
		return NULL;
	area = nd_fail_as(ND_FAIL_META, meta_gfp) ? NULL :
	       kzalloc(sizeof(*area), meta_gfp);
	if (!area)
		return NULL;
	addr = nd_map_pool_pages(size, gfp, prot, &pages);
	if (!addr) {
		kfree(area);
		return NULL;
	}
	area->addr = addr;
	area->pages = pages;
	area->pooled = true;
	area->nr_pages = PAGE_ALIGN(size) >> PAGE_SHIFT;
	area->prot = prot;
	area->internal = internal;
	nd_register(area, size, cost);
	return addr;
}

/*
 * Wipe, restore and free an area that is no longer in the registry.  Pool
 * pages stay hidden: they go back to the pool wiped.
 */
static void nd_area_release(struct nd_area *area)
{
	bool atomic = !preemptible() || rcu_preempt_depth();

	/*
	 * The wipe comes before the restore, so no secret is ever readable
	 * elsewhere.  In atomic context only a small area is wiped here, to
	 * keep the work bounded; a larger one stays hidden until the worker
	 * wipes it, and stays sealed until then too: unsealing costs a walk
	 * per page.
	 */
	if (atomic && area->nr_pages > ND_ATOMIC_WIPE_PAGES &&
	    !READ_ONCE(nd_going_down)) {
		area->wipe_later = true;
	} else {
		/* Writable again for the wipe; a stale read-only TLB entry
		 * only costs a spurious fault, which the kernel resolves.
		 */
		if (area->sealed)
			nd_pageattr_seal(area, false);
		memzero_explicit(area->addr, area->nr_pages * PAGE_SIZE);
	}

	atomic_long_dec(&nd_stats.live_allocs);
	atomic_long_sub(area->nr_pages, &nd_stats.live_pages);
	atomic_long_inc(&nd_stats.frees);
	trace_nd_free(area, atomic);

	/*
	 * In atomic context only the wipe is done at once; the restore and
	 * the free follow from a worker, before any page can be reused.
	 */
	if (!atomic) {
		nd_area_finish(area);
		return;
	}
	/* Hibernation waits for these: their pages are still hidden. */
	atomic_long_inc(&nd_stats.pending_frees);
	atomic_long_inc(&nd_stats.deferred_frees);
	llist_add(&area->free_node, &nd_free_list);
	schedule_work(&nd_free_work);
}

/*
 * Allocate and hide; NULL on failure.  Everything it allocates on the way
 * (bookkeeping, split tables, pool blocks) honours the caller's
 * GFP_NOFS/GFP_NOIO through a memalloc scope.
 */
static void *nd_vmalloc_scoped(unsigned long size, gfp_t gfp,
			       enum nd_prot prot, bool internal)
{
	unsigned int flags = nd_memalloc_save(gfp);
	struct page **pages = NULL;
	struct nd_cost cost;
	void *addr;

	nd_cost_start(&cost);
	addr = nd_vmalloc_pooled(size, gfp, prot, internal, &cost);
	if (!addr) {
		addr = nd_map_pages(size, gfp, &pages);
		if (addr &&
		    !nd_adopt_as(addr, pages, size, prot, gfp, internal, &cost)) {
			vfree(addr);
			addr = NULL;
		}
	}

	nd_memalloc_restore(gfp, flags);
	return addr;
}

/**
 * nd_vmalloc_try() - allocate and hide, unless the gate is closed
 * @size: bytes, checked (nd_size_ok()).
 * @gfp: checked (nd_gfp_ok()).
 * @prot: how to hide the pages.
 * @internal: a page of nd_kmalloc(), not a caller's area.
 * @refused: set if the gate refused (hibernation is near, or the kernel
 *           is going down).
 *
 * Context: Process context, may sleep.
 * Return: the address, or NULL, counted nowhere: that is the caller's.
 */
void *nd_vmalloc_try(unsigned long size, gfp_t gfp, enum nd_prot prot,
		     bool internal, bool *refused)
{
	void *addr;

	/* Nothing new is hidden while a hibernation image may be made. */
	*refused = !nd_gate_enter();
	if (*refused)
		return NULL;
	addr = nd_vmalloc_scoped(size, gfp, prot, internal);
	nd_gate_leave();
	return addr;
}

/*
 * The live area that starts at @addr and is @internal or not, taken out of
 * the registry if @take, else held for nd_vseal().  NULL, after a message
 * naming @what and @caller, for anything else; NULL too, silently, when
 * @take finds the area held: the sealer releases it when it is done, so
 * that a free (which may come from hard irq) never pulls it from under a
 * seal.
 */
static struct nd_area *nd_area_get(const void *addr, bool internal,
				   bool take, const char *what, void *caller)
{
	enum nd_trace_why why;
	struct nd_area *area;
	unsigned long flags;
	void *start = NULL;
	bool ok = false;

	raw_spin_lock_irqsave(&nd_registry_lock, flags);
	area = nd_registry_find(addr);
	if (area) {
		start = area->addr;
		ok = start == addr && area->internal == internal;
		if (ok && take) {
			rb_erase(&area->node, &nd_registry);
			if (area->held) {
				area->free_pending = true;
				area = NULL;
			}
		} else if (ok) {
			area->held = true;
		}
	}
	raw_spin_unlock_irqrestore(&nd_registry_lock, flags);
	if (ok)
		return area;

	atomic_long_inc(&nd_stats.bad_calls);
	if (area && area->internal != internal) {
		why = ND_WHY_WRONG_KIND;
		pr_err_ratelimited("%s(%p) from %pS: an object of nd_kmalloc(); nothing done\n",
				   what, addr, caller);
	} else if (start) {
		why = ND_WHY_INSIDE;
		pr_err_ratelimited("%s(%p) from %pS: points inside the allocation at %p; nothing done\n",
				   what, addr, caller, start);
	} else {
		why = ND_WHY_NOT_OURS;
		pr_err_ratelimited("%s(%p) from %pS: not from nd_vmalloc, or already freed; nothing done\n",
				   what, addr, caller);
	}
	trace_nd_refuse(take ? ND_OP_VFREE : ND_OP_VSEAL, why, 0, addr, caller);
	return NULL;
}

/**
 * nd_area_free() - free the live area that starts at @addr
 * @addr: its address.
 * @internal: a page of nd_kmalloc(), or a caller's area.
 * @what: the function the caller called, for the messages.
 * @caller: who called it.
 *
 * Anything but the start of a live area of the kind is refused, counted
 * and reported (nd_area_get()); nothing is freed then.
 *
 * Context: Any, hard irq included; see nd_area_release().
 */
void nd_area_free(const void *addr, bool internal, const char *what,
		  void *caller)
{
	struct nd_area *area = nd_area_get(addr, internal, true, what, caller);

	if (area)
		nd_area_release(area);
}

/**
 * nd_vmalloc_internal() - a hidden area for nd_kmalloc()'s objects
 * @size: bytes.
 * @gfp: as for nd_vmalloc_prot().
 *
 * Like nd_vmalloc_prot(@size, @gfp, ND_NOT_PRESENT), but nd_vfree() and
 * nd_vseal() refuse the area, from the moment it is registered: its
 * objects belong to other callers.  A failure is not counted here:
 * nd_kmalloc() counts and reports it, once.
 *
 * Return: the address, or NULL.
 */
void *nd_vmalloc_internal(unsigned long size, gfp_t gfp)
{
	bool refused;

	return nd_vmalloc_try(size, gfp, ND_NOT_PRESENT, true, &refused);
}

/* A vmap_area and a vm_struct, which the kernel keeps for each area. */
#define ND_VMAP_META_BYTES	128

/* Bookkeeping bytes kmalloc'ed for @size bytes (kv*alloc may vmalloc). */
static unsigned long nd_meta_size(const void *p, size_t size)
{
	return is_vmalloc_addr(p) ? PAGE_ALIGN(size) : ksize(p);
}

/**
 * nd_area_meta_bytes() - bookkeeping bytes of the live area at @addr
 * @addr: its address.
 *
 * Return: the area structure, its page array and the kernel's vmap
 * bookkeeping; 0 if no area starts at @addr.
 */
unsigned long nd_area_meta_bytes(const void *addr)
{
	unsigned long flags, bytes = 0;
	struct nd_area *area;

	raw_spin_lock_irqsave(&nd_registry_lock, flags);
	area = nd_registry_find(addr);
	if (area && area->addr == addr) {
		bytes = ND_VMAP_META_BYTES +
			nd_meta_size(area, struct_size(area, orig, area->nr_pages));
		if (area->pooled)
			bytes += nd_meta_size(area->pages, area->nr_pages *
					      sizeof(*area->pages));
	}
	raw_spin_unlock_irqrestore(&nd_registry_lock, flags);
	return bytes;
}

/**
 * nd_vfree_internal() - free an area of nd_vmalloc_internal()
 * @addr: its address.
 */
void nd_vfree_internal(const void *addr)
{
	nd_area_free(addr, true, __func__, __builtin_return_address(0));
}

/*
 * One seal at a time: a caller that finds an area sealed must not return
 * before the flush that made the seal true has completed, or its next
 * write could still land through another CPU's stale writable entry.
 */
static DEFINE_MUTEX(nd_seal_lock);

/**
 * nd_area_seal() - make a caller's live area read-only through its alias
 * @addr: its start.
 * @what: the function the caller called, for the messages.
 * @caller: who called it.
 *
 * Sealing twice changes nothing and needs no second flush; neither call
 * returns before the flush that made the seal true has completed.
 *
 * Context: Process context, may sleep.
 * Return: 0, -EINVAL if @addr is not the start of a caller's live area
 * (reported as by nd_area_free()), or the -errno of the change.
 */
int nd_area_seal(const void *addr, const char *what, void *caller)
{
	struct nd_area *area;
	unsigned long flags;
	bool freed;
	int ret = 0;

	mutex_lock(&nd_seal_lock);
	area = nd_area_get(addr, false, false, what, caller);
	if (!area) {
		mutex_unlock(&nd_seal_lock);
		return -EINVAL;
	}
	/*
	 * Held: a racing nd_vfree() leaves the area to us.  Sealing twice
	 * changes nothing and needs no second flush.
	 */
	if (!area->sealed) {
		ret = nd_pageattr_seal(area, true);
		if (!ret) {
			area->sealed = true;
			nd_tlb_flush_all();
			atomic_long_inc(&nd_stats.seals);
		}
	}
	raw_spin_lock_irqsave(&nd_registry_lock, flags);
	area->held = false;
	freed = area->free_pending;
	raw_spin_unlock_irqrestore(&nd_registry_lock, flags);
	mutex_unlock(&nd_seal_lock);
	if (freed)
		nd_area_release(area);
	return ret;
}

/**
 * nd_is_going_down() - whether nd_wipe_live() has run
 *
 * Return: true from then on: no new allocation may be made.
 */
bool nd_is_going_down(void)
{
	return READ_ONCE(nd_going_down);
}

/* Under the registry lock: the first live area above @after, or NULL. */
static struct nd_area *nd_registry_next(unsigned long after)
{
	struct rb_node *n = nd_registry.rb_node;
	struct nd_area *area, *best = NULL;

	while (n) {
		area = rb_entry(n, struct nd_area, node);
		if ((unsigned long)area->addr > after) {
			best = area;
			n = n->rb_left;
		} else {
			n = n->rb_right;
		}
	}
	return best;
}

/**
 * nd_wipe_live() - wipe every live allocation in place
 * @for_good: the kernel is going away (reboot, power off, kexec): from
 *	here on allocations are refused (nd_is_going_down()) and frees in
 *	atomic context wipe at once, whatever their size.
 *
 * What an allocation holds would otherwise become ordinary RAM of whatever
 * runs next: another kernel, or a hibernation image restored over this
 * one (which is why that case, whose boot kernel may go on if the restore
 * fails, does not wipe for good).  The areas stay live,
 * registered and hidden, since their owners may still touch them; a
 * sealed one is unsealed for the wipe.  One area at a time is held, as
 * nd_vseal() holds one, so that a racing nd_vfree() leaves its release to
 * us, and no list is needed that could not be had.
 *
 * Context: Process context, may sleep.
 * Return: how many allocations were wiped.
 */
unsigned long nd_wipe_live(bool for_good)
{
	unsigned long after = 0, n = 0;
	struct nd_area *area;
	bool freed;

	if (for_good)
		WRITE_ONCE(nd_going_down, true);
	mutex_lock(&nd_seal_lock);
	for (;;) {
		raw_spin_lock_irq(&nd_registry_lock);
		area = nd_registry_next(after);
		if (area) {
			area->held = true;
			after = (unsigned long)area->addr;
		}
		raw_spin_unlock_irq(&nd_registry_lock);
		if (!area)
			break;
		if (area->sealed) {
			nd_pageattr_seal(area, false);
			area->sealed = false;
		}
		memzero_explicit(area->addr, area->nr_pages * PAGE_SIZE);
		n++;
		raw_spin_lock_irq(&nd_registry_lock);
		area->held = false;
		freed = area->free_pending;
		raw_spin_unlock_irq(&nd_registry_lock);
		if (freed)
			nd_area_release(area);
		cond_resched();
	}
	mutex_unlock(&nd_seal_lock);
	/* Frees that came from atomic context meanwhile. */
	nd_deferred_flush();
	return n;
}

/**
 * nd_release_all() - free everything still live
 *
 * Only when no caller can reach us any more: at unload, or when load fails.
 *
 * Return: how many allocations were still live.
 */
unsigned long nd_release_all(void)
{
	struct nd_area *area, *next;
	unsigned long n = 0;
	struct rb_root all;

	raw_spin_lock_irq(&nd_registry_lock);
	all = nd_registry;
	nd_registry = RB_ROOT;
	raw_spin_unlock_irq(&nd_registry_lock);

	rbtree_postorder_for_each_entry_safe(area, next, &all, node) {
		nd_area_release(area);
		n++;
	}
	nd_deferred_flush();
	return n;
}
