// SPDX-License-Identifier: GPL-2.0
/*
 * Small objects outside the direct map: nd_kmalloc() carves objects of 16
 * to PAGE_SIZE / 2 bytes, in power-of-two size classes, out of single
 * hidden pages that nd_vmalloc() gives it (from the pool: no flush, no
 * split in the steady state).  A 32-byte key then costs 32 bytes of a
 * hidden page, not a whole page and a vmap area of its own.
 *
 * Each page is a "slab" of one class; its bookkeeping (which objects are
 * used) lives in the direct map, the objects never do.  Objects are wiped
 * on nd_kfree(), and pages come zeroed, so every object starts zeroed.  A
 * page whose objects are all free goes back to the pool from a worker a
 * little later (an object freed and allocated again in a loop should not
 * map and unmap a page each time).
 *
 * nd_kfree() may run in any context but NMI: it takes only a class's raw
 * spinlock (a bitmap update and a wipe of at most PAGE_SIZE / 2 bytes) and
 * finds the slab through a hash table under RCU: one bucket, where an
 * xarray indexed by vmalloc page numbers walked nine levels on every free.
 */

#include <linux/bitmap.h>
#include <linux/hashtable.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "nd_internal.h"
#include "nd_trace.h"

#define ND_KMALLOC_MIN_SHIFT	4
#define ND_KMALLOC_MIN		BIT(ND_KMALLOC_MIN_SHIFT)
#define ND_KCLASSES		(PAGE_SHIFT - ND_KMALLOC_MIN_SHIFT)

/* One hidden page of objects of one size. */
struct nd_slab {
	struct list_head node;		/* in the class's partial list */
	struct hlist_node hnode;	/* in nd_slab_hash */
	struct rcu_head rcu;
	struct nd_kclass *cls;
	u8 *page;			/* from nd_vmalloc_internal() */
	unsigned int nr_used;
	bool dead;			/* being given back */
	DECLARE_BITMAP(used, PAGE_SIZE / ND_KMALLOC_MIN);
};

struct nd_kclass {
	raw_spinlock_t lock;		/* @partial, and each slab's @used */
	struct list_head partial;	/* slabs with a free object */
	unsigned int size;
	unsigned int shift;		/* log2(@size): no division per free */
	unsigned int per_slab;
	unsigned long objects;		/* live objects, under @lock */
	atomic_long_t slabs;		/* pages held */
};

static struct nd_kclass nd_kclasses[ND_KCLASSES];
/*
 * Every slab, by its page's vmalloc address; read under RCU, changed under
 * nd_slab_hash_lock (in process context only: growing and releasing).
 */
static DEFINE_HASHTABLE(nd_slab_hash, 7);
static DEFINE_SPINLOCK(nd_slab_hash_lock);

static void nd_kmalloc_release_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(nd_kmalloc_release_work, nd_kmalloc_release_fn);

/* The slab whose page holds @ptr, or NULL.  Under RCU. */
static struct nd_slab *nd_slab_find(const void *ptr)
{
	unsigned long key = (unsigned long)ptr >> PAGE_SHIFT;
	struct nd_slab *slab;

	hash_for_each_possible_rcu(nd_slab_hash, slab, hnode, key)
		if ((unsigned long)slab->page >> PAGE_SHIFT == key)
			return slab;
	return NULL;
}

static struct nd_kclass *nd_kclass_of(size_t size)
{
	unsigned int shift = max_t(unsigned int, ND_KMALLOC_MIN_SHIFT,
				   order_base_2(size));

	return &nd_kclasses[shift - ND_KMALLOC_MIN_SHIFT];
}

/* Take a free object of @cls from a partial slab; NULL if there is none. */
static void *nd_kclass_take(struct nd_kclass *cls)
{
	struct nd_slab *slab;
	unsigned long flags;
	unsigned int bit;
	void *obj = NULL;

	raw_spin_lock_irqsave(&cls->lock, flags);
	slab = list_first_entry_or_null(&cls->partial, struct nd_slab, node);
	if (slab) {
		bit = find_first_zero_bit(slab->used, cls->per_slab);
		__set_bit(bit, slab->used);
		if (++slab->nr_used == cls->per_slab)
			list_del_init(&slab->node);
		obj = slab->page + bit * cls->size;
		cls->objects++;
	}
	raw_spin_unlock_irqrestore(&cls->lock, flags);
	return obj;
}

/* A new hidden page for @cls, put on its partial list. */
static int nd_kclass_grow(struct nd_kclass *cls, gfp_t gfp)
{
	gfp_t meta_gfp = nd_meta_gfp(gfp);
	struct nd_slab *slab;
	unsigned long flags;

	slab = nd_fail_as(ND_FAIL_SLAB, meta_gfp) ? NULL :
	       kzalloc(sizeof(*slab), meta_gfp);
	if (!slab)
		return -ENOMEM;
	slab->cls = cls;
	slab->page = nd_vmalloc_internal(PAGE_SIZE, gfp | __GFP_ZERO);
	if (!slab->page) {
		kfree(slab);
		return -ENOMEM;
	}
	spin_lock(&nd_slab_hash_lock);
	hash_add_rcu(nd_slab_hash, &slab->hnode,
		     (unsigned long)slab->page >> PAGE_SHIFT);
	spin_unlock(&nd_slab_hash_lock);
	atomic_long_inc(&cls->slabs);

	raw_spin_lock_irqsave(&cls->lock, flags);
	list_add(&slab->node, &cls->partial);
	raw_spin_unlock_irqrestore(&cls->lock, flags);
	return 0;
}

/**
 * nd_kmalloc_flags() - an object of @size bytes outside the direct map
 * @size: 1 to ND_KMALLOC_MAX bytes.
 * @gfp: as for nd_vmalloc_prot(), checked (nd_gfp_ok()).
 * @caller: who asked, for the messages.
 *
 * Return: the zeroed object, or NULL.
 */
void *nd_kmalloc_flags(size_t size, gfp_t gfp, void *caller)
{
	struct nd_kclass *cls;
	unsigned int flags;
	void *obj;
	int ret;

	/* A page already hidden would otherwise serve it unwiped. */
	if (nd_is_going_down()) {
		atomic_long_inc(&nd_stats.failures);
		trace_nd_refuse(ND_OP_KMALLOC, ND_WHY_GOING_DOWN, size, NULL,
				caller);
		return NULL;
	}
	cls = nd_kclass_of(size);
	while (!(obj = nd_kclass_take(cls))) {
		/* The page's structure too, in a GFP_NOFS/NOIO caller's scope. */
		flags = nd_memalloc_save(gfp);
		ret = nd_kclass_grow(cls, gfp);
		nd_memalloc_restore(gfp, flags);
		if (ret) {
			atomic_long_inc(&nd_stats.failures);
			/* Or hibernation was near: nd_vmalloc_internal() does not say. */
			trace_nd_refuse(ND_OP_KMALLOC, ND_WHY_NOMEM, size, NULL,
					caller);
			if (!(gfp & __GFP_NOWARN))
				pr_err_ratelimited("nd_kmalloc from %pS: could not allocate %zu bytes\n",
						   caller, size);
			return NULL;
		}
	}
	trace_nd_kmalloc(obj, size, cls->size);
	return obj;
}

/**
 * nd_kfree_caller() - wipe and free an object of nd_kmalloc()
 * @ptr: the object; NULL is a no-op.
 * @caller: who asked, for the messages.
 *
 * A pointer that is not the start of a live object is refused, counted and
 * reported; nothing is freed then.
 */
void nd_kfree_caller(const void *ptr, void *caller)
{
	enum nd_trace_why twhy;
	struct nd_kclass *cls;
	struct nd_slab *slab;
	unsigned long flags;
	unsigned int off;
	const char *why;

	if (!ptr)
		return;
	rcu_read_lock();
	slab = nd_slab_find(ptr);
	if (!slab) {
		why = "not from nd_kmalloc";
		twhy = ND_WHY_NOT_OURS;
		goto bad;
	}
	cls = slab->cls;
	off = offset_in_page(ptr);
	if (off & (cls->size - 1)) {
		why = "inside an object";
		twhy = ND_WHY_INSIDE;
		goto bad;
	}
	raw_spin_lock_irqsave(&cls->lock, flags);
	if (slab->dead || !__test_and_clear_bit(off >> cls->shift, slab->used)) {
		raw_spin_unlock_irqrestore(&cls->lock, flags);
		why = "already freed";
		twhy = ND_WHY_NOT_OURS;
		goto bad;
	}
	memzero_explicit(slab->page + off, cls->size);
	cls->objects--;
	if (slab->nr_used-- == cls->per_slab)
		list_add(&slab->node, &cls->partial);
	/* Read first: a free in a loop costs no atomic, no timer update. */
	if (!slab->nr_used && !delayed_work_pending(&nd_kmalloc_release_work))
		schedule_delayed_work(&nd_kmalloc_release_work, HZ);
	raw_spin_unlock_irqrestore(&cls->lock, flags);
	rcu_read_unlock();
	trace_nd_kfree(ptr, cls->size);
	return;

bad:
	rcu_read_unlock();
	atomic_long_inc(&nd_stats.bad_calls);
	trace_nd_refuse(ND_OP_KFREE, twhy, 0, ptr, caller);
	pr_err_ratelimited("nd_kfree(%p) from %pS: %s; nothing freed\n", ptr,
			   caller, why);
}

/* Give back every slab with no object in use. */
static void nd_kmalloc_release(void)
{
	struct nd_slab *slab, *next;
	struct nd_kclass *cls;
	unsigned long flags;
	LIST_HEAD(empty);

	for (cls = nd_kclasses; cls < nd_kclasses + ND_KCLASSES; cls++) {
		raw_spin_lock_irqsave(&cls->lock, flags);
		list_for_each_entry_safe(slab, next, &cls->partial, node) {
			if (slab->nr_used)
				continue;
			slab->dead = true;
			list_move(&slab->node, &empty);
		}
		raw_spin_unlock_irqrestore(&cls->lock, flags);
	}
	list_for_each_entry_safe(slab, next, &empty, node) {
		spin_lock(&nd_slab_hash_lock);
		hash_del_rcu(&slab->hnode);
		spin_unlock(&nd_slab_hash_lock);
		atomic_long_dec(&slab->cls->slabs);
		nd_vfree_internal(slab->page);
		/* nd_kfree() may still look at it under RCU. */
		kfree_rcu(slab, rcu);
	}
}

static void nd_kmalloc_release_fn(struct work_struct *work)
{
	nd_kmalloc_release();
}

/**
 * nd_kmalloc_release_now() - give back empty pages now, not a little later
 *
 * Context: Process context.
 */
void nd_kmalloc_release_now(void)
{
	cancel_delayed_work_sync(&nd_kmalloc_release_work);
	nd_kmalloc_release();
}

/**
 * nd_kmalloc_stats() - objects live and pages held, in all or one class
 * @size: 0 for all classes, else the class that serves @size bytes.
 * @objects: receives the live objects.
 * @pages: receives the pages held.
 */
void nd_kmalloc_stats(size_t size, unsigned long *objects,
		      unsigned long *pages)
{
	struct nd_kclass *cls;

	*objects = 0;
	*pages = 0;
	for (cls = nd_kclasses; cls < nd_kclasses + ND_KCLASSES; cls++) {
		if (size && cls != nd_kclass_of(size))
			continue;
		*objects += READ_ONCE(cls->objects);
		*pages += atomic_long_read(&cls->slabs);
	}
}

/**
 * nd_kmalloc_meta_bytes() - what the bookkeeping of a class's pages takes
 * @size: the class that serves @size bytes.
 *
 * Return: bytes of slab and area structures, page arrays, and the
 * kernel's own vmap bookkeeping of each page.
 */
unsigned long nd_kmalloc_meta_bytes(size_t size)
{
	struct nd_kclass *cls = nd_kclass_of(size);
	unsigned long bytes = 0;
	struct nd_slab *slab;
	unsigned int bkt;

	spin_lock(&nd_slab_hash_lock);
	hash_for_each(nd_slab_hash, bkt, slab, hnode)
		if (slab->cls == cls)
			bytes += ksize(slab) + nd_area_meta_bytes(slab->page);
	spin_unlock(&nd_slab_hash_lock);
	return bytes;
}

/**
 * nd_kmalloc_index_bytes() - what the table that finds the slabs takes
 *
 * Return: its size, shared by all classes and the same for any number of
 * objects.
 */
unsigned long nd_kmalloc_index_bytes(void)
{
	return sizeof(nd_slab_hash);
}

/**
 * nd_kmalloc_show_classes() - "size:objects:pages" per class, for sysfs
 * @buf: a sysfs page.
 *
 * Return: bytes written.
 */
ssize_t nd_kmalloc_show_classes(char *buf)
{
	struct nd_kclass *cls;
	ssize_t len = 0;

	for (cls = nd_kclasses; cls < nd_kclasses + ND_KCLASSES; cls++)
		len += sysfs_emit_at(buf, len, "%s%u:%lu:%ld",
				     cls == nd_kclasses ? "" : " ", cls->size,
				     READ_ONCE(cls->objects),
				     atomic_long_read(&cls->slabs));
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}

/**
 * nd_kmalloc_init() - empty size classes
 */
void __init nd_kmalloc_init(void)
{
	unsigned int i;

	for (i = 0; i < ND_KCLASSES; i++) {
		raw_spin_lock_init(&nd_kclasses[i].lock);
		INIT_LIST_HEAD(&nd_kclasses[i].partial);
		nd_kclasses[i].shift = ND_KMALLOC_MIN_SHIFT + i;
		nd_kclasses[i].size = BIT(nd_kclasses[i].shift);
		nd_kclasses[i].per_slab = PAGE_SIZE / nd_kclasses[i].size;
	}
}

/**
 * nd_kmalloc_exit() - give every page back; objects still live are wiped
 *
 * Context: Process context, once no caller can reach us any more.
 */
void nd_kmalloc_exit(void)
{
	unsigned long objects, pages;
	struct nd_kclass *cls;
	struct nd_slab *slab;
	unsigned int bkt;

	cancel_delayed_work_sync(&nd_kmalloc_release_work);
	nd_kmalloc_stats(0, &objects, &pages);
	if (objects)
		pr_warn("unloading with %lu small objects live: wiped and freed\n",
			objects);
	/* Full slabs are on no list: find every slab through the hash. */
	for (cls = nd_kclasses; cls < nd_kclasses + ND_KCLASSES; cls++)
		cls->objects = 0;
	hash_for_each(nd_slab_hash, bkt, slab, hnode) {
		slab->nr_used = 0;
		if (list_empty(&slab->node))
			list_add(&slab->node, &slab->cls->partial);
	}
	nd_kmalloc_release();
}
