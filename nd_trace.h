/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace events of nodirect_alloc (tracefs: events/nodirect_alloc/): who
 * allocated, freed, flushed, split and why a call was refused, for perf,
 * trace-cmd and bpftrace.  trace.c alone defines CREATE_TRACE_POINTS.
 *
 * No string fields: __assign_str() changed its arguments in 6.10, and a
 * reason is an enum, which tools decode through TRACE_DEFINE_ENUM.
 */

/* Once, outside the part define_trace.h reads again. */
#ifndef _ND_TRACE_ENUMS_H
#define _ND_TRACE_ENUMS_H

/* The call a refusal answers. */
enum nd_trace_op {
	ND_OP_VMALLOC,
	ND_OP_VFREE,
	ND_OP_VSEAL,
	ND_OP_KMALLOC,
	ND_OP_KFREE,
};

/* Why a call was refused. */
enum nd_trace_why {
	ND_WHY_SIZE,		/* 0, too large, or too many pages */
	ND_WHY_PROT,		/* no such enum nd_prot */
	ND_WHY_GFP,		/* cannot sleep, or flags we do not take */
	ND_WHY_HIBERNATION,	/* a hibernation image may be made now */
	ND_WHY_GOING_DOWN,	/* reboot, power off or kexec under way */
	ND_WHY_NOMEM,		/* memory could not be had */
	ND_WHY_NOT_OURS,	/* not an allocation of ours, or freed */
	ND_WHY_INSIDE,		/* points inside an allocation or object */
	ND_WHY_WRONG_KIND,	/* an nd_kmalloc() page given to nd_vfree() */
};

/* Where hibernation was refused (see hibernate.c). */
enum nd_trace_pm_stage {
	ND_PM_PREPARE,		/* PM_HIBERNATION_PREPARE */
	ND_PM_FREEZE_NOIRQ,	/* the last device callback */
	ND_PM_SYSCORE,		/* interrupts off, one CPU */
};

#endif /* _ND_TRACE_ENUMS_H */

#undef TRACE_SYSTEM
#define TRACE_SYSTEM nodirect_alloc

#if !defined(_ND_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _ND_TRACE_H

#include <linux/tracepoint.h>

#include "nd_internal.h"

TRACE_DEFINE_ENUM(ND_NOT_PRESENT);
TRACE_DEFINE_ENUM(ND_READ_ONLY);
TRACE_DEFINE_ENUM(ND_OP_VMALLOC);
TRACE_DEFINE_ENUM(ND_OP_VFREE);
TRACE_DEFINE_ENUM(ND_OP_VSEAL);
TRACE_DEFINE_ENUM(ND_OP_KMALLOC);
TRACE_DEFINE_ENUM(ND_OP_KFREE);
TRACE_DEFINE_ENUM(ND_WHY_SIZE);
TRACE_DEFINE_ENUM(ND_WHY_PROT);
TRACE_DEFINE_ENUM(ND_WHY_GFP);
TRACE_DEFINE_ENUM(ND_WHY_HIBERNATION);
TRACE_DEFINE_ENUM(ND_WHY_GOING_DOWN);
TRACE_DEFINE_ENUM(ND_WHY_NOMEM);
TRACE_DEFINE_ENUM(ND_WHY_NOT_OURS);
TRACE_DEFINE_ENUM(ND_WHY_INSIDE);
TRACE_DEFINE_ENUM(ND_WHY_WRONG_KIND);
TRACE_DEFINE_ENUM(ND_PM_PREPARE);
TRACE_DEFINE_ENUM(ND_PM_FREEZE_NOIRQ);
TRACE_DEFINE_ENUM(ND_PM_SYSCORE);
TRACE_DEFINE_ENUM(PG_LEVEL_2M);
TRACE_DEFINE_ENUM(PG_LEVEL_1G);

#define nd_show_prot(p)							\
	__print_symbolic(p, { ND_NOT_PRESENT, "not_present" },		\
			    { ND_READ_ONLY, "read_only" })

#define nd_show_op(o)							\
	__print_symbolic(o, { ND_OP_VMALLOC, "nd_vmalloc" },		\
			    { ND_OP_VFREE, "nd_vfree" },		\
			    { ND_OP_VSEAL, "nd_vseal" },		\
			    { ND_OP_KMALLOC, "nd_kmalloc" },		\
			    { ND_OP_KFREE, "nd_kfree" })

#define nd_show_why(w)							\
	__print_symbolic(w, { ND_WHY_SIZE, "size" },			\
			    { ND_WHY_PROT, "prot" },			\
			    { ND_WHY_GFP, "gfp" },			\
			    { ND_WHY_HIBERNATION, "hibernation" },	\
			    { ND_WHY_GOING_DOWN, "going_down" },	\
			    { ND_WHY_NOMEM, "nomem" },			\
			    { ND_WHY_NOT_OURS, "not_ours" },		\
			    { ND_WHY_INSIDE, "inside" },		\
			    { ND_WHY_WRONG_KIND, "wrong_kind" })

#define nd_show_stage(s)						\
	__print_symbolic(s, { ND_PM_PREPARE, "prepare" },		\
			    { ND_PM_FREEZE_NOIRQ, "freeze_noirq" },	\
			    { ND_PM_SYSCORE, "syscore" })

/*
 * An area made live: @size is what the caller asked for; @flushes and
 * @splits are the module's flushes and splits during the call (exact when
 * calls do not overlap; the nd_flush and nd_split events say whose), @ns
 * its time from entry to registration.  @internal: a page of nd_kmalloc().
 */
TRACE_EVENT(nd_alloc,
	TP_PROTO(const struct nd_area *area, unsigned long size,
		 unsigned long flushes, unsigned long splits, u64 ns),
	TP_ARGS(area, size, flushes, splits, ns),
	TP_STRUCT__entry(
		__field(const void *, addr)
		__field(unsigned long, size)
		__field(unsigned int, nr_pages)
		__field(int, prot)
		__field(bool, pooled)
		__field(bool, internal)
		__field(unsigned int, flushes)
		__field(unsigned int, splits)
		__field(u64, ns)
	),
	TP_fast_assign(
		__entry->addr = area->addr;
		__entry->size = size;
		__entry->nr_pages = area->nr_pages;
		__entry->prot = area->prot;
		__entry->pooled = area->pooled;
		__entry->internal = area->internal;
		__entry->flushes = flushes;
		__entry->splits = splits;
		__entry->ns = ns;
	),
	TP_printk("addr=%p size=%lu pages=%u prot=%s path=%s internal=%d flushes=%u splits=%u ns=%llu",
		  __entry->addr, __entry->size, __entry->nr_pages,
		  nd_show_prot(__entry->prot),
		  __entry->pooled ? "pool" : "page", __entry->internal,
		  __entry->flushes, __entry->splits, __entry->ns)
);

/* An area freed: @deferred when its restore waits for a worker. */
TRACE_EVENT(nd_free,
	TP_PROTO(const struct nd_area *area, bool deferred),
	TP_ARGS(area, deferred),
	TP_STRUCT__entry(
		__field(const void *, addr)
		__field(unsigned int, nr_pages)
		__field(int, prot)
		__field(bool, pooled)
		__field(bool, internal)
		__field(bool, sealed)
		__field(bool, deferred)
	),
	TP_fast_assign(
		__entry->addr = area->addr;
		__entry->nr_pages = area->nr_pages;
		__entry->prot = area->prot;
		__entry->pooled = area->pooled;
		__entry->internal = area->internal;
		__entry->sealed = area->sealed;
		__entry->deferred = deferred;
	),
	TP_printk("addr=%p pages=%u prot=%s path=%s internal=%d sealed=%d deferred=%d",
		  __entry->addr, __entry->nr_pages,
		  nd_show_prot(__entry->prot),
		  __entry->pooled ? "pool" : "page", __entry->internal,
		  __entry->sealed, __entry->deferred)
);

/* One TLB flush on every online CPU; @cpus: how many ran it. */
TRACE_EVENT(nd_flush,
	TP_PROTO(unsigned int cpus, unsigned long caller),
	TP_ARGS(cpus, caller),
	TP_STRUCT__entry(
		__field(unsigned int, cpus)
		__field(unsigned long, caller)
	),
	TP_fast_assign(
		__entry->cpus = cpus;
		__entry->caller = caller;
	),
	TP_printk("cpus=%u caller=%pS", __entry->cpus, (void *)__entry->caller)
);

/* A direct-map leaf split into 512 entries of the next size down. */
TRACE_EVENT(nd_split,
	TP_PROTO(unsigned long va, unsigned int level, bool restore),
	TP_ARGS(va, level, restore),
	TP_STRUCT__entry(
		__field(unsigned long, va)
		__field(unsigned int, level)
		__field(bool, restore)
	),
	TP_fast_assign(
		__entry->va = va;
		__entry->level = level;
		__entry->restore = restore;
	),
	TP_printk("va=%p level=%s restore=%d", (void *)__entry->va,
		  __print_symbolic(__entry->level, { PG_LEVEL_2M, "2M" },
				   { PG_LEVEL_1G, "1G" }),
		  __entry->restore)
);

/* New 2 MiB blocks hidden and put in the pool of @nid and @prot. */
TRACE_EVENT(nd_pool_grow,
	TP_PROTO(int nid, enum nd_prot prot, unsigned int blocks),
	TP_ARGS(nid, prot, blocks),
	TP_STRUCT__entry(
		__field(int, nid)
		__field(int, prot)
		__field(unsigned int, blocks)
	),
	TP_fast_assign(
		__entry->nid = nid;
		__entry->prot = prot;
		__entry->blocks = blocks;
	),
	TP_printk("nid=%d prot=%s blocks=%u", __entry->nid,
		  nd_show_prot(__entry->prot), __entry->blocks)
);

/*
 * A block given back to the page allocator: taken before, or
 * @rolled_back (a call that failed never put it in a pool); @leaked when
 * it could not be restored and is kept instead.
 */
TRACE_EVENT(nd_pool_release,
	TP_PROTO(unsigned long pfn, enum nd_prot prot, bool rolled_back,
		 bool leaked),
	TP_ARGS(pfn, prot, rolled_back, leaked),
	TP_STRUCT__entry(
		__field(unsigned long, pfn)
		__field(int, prot)
		__field(bool, rolled_back)
		__field(bool, leaked)
	),
	TP_fast_assign(
		__entry->pfn = pfn;
		__entry->prot = prot;
		__entry->rolled_back = rolled_back;
		__entry->leaked = leaked;
	),
	TP_printk("pfn=0x%lx prot=%s rolled_back=%d leaked=%d", __entry->pfn,
		  nd_show_prot(__entry->prot), __entry->rolled_back,
		  __entry->leaked)
);

/*
 * A call refused, counted in bad_calls or failures: @size for an
 * allocation, @ptr for a free or a seal.
 */
TRACE_EVENT(nd_refuse,
	TP_PROTO(enum nd_trace_op op, enum nd_trace_why why, unsigned long size,
		 const void *ptr, void *caller),
	TP_ARGS(op, why, size, ptr, caller),
	TP_STRUCT__entry(
		__field(int, op)
		__field(int, why)
		__field(unsigned long, size)
		__field(const void *, ptr)
		__field(void *, caller)
	),
	TP_fast_assign(
		__entry->op = op;
		__entry->why = why;
		__entry->size = size;
		__entry->ptr = ptr;
		__entry->caller = caller;
	),
	TP_printk("op=%s why=%s size=%lu ptr=%p caller=%pS",
		  nd_show_op(__entry->op), nd_show_why(__entry->why),
		  __entry->size, __entry->ptr, __entry->caller)
);

/* Hibernation refused: what would have reached the image. */
TRACE_EVENT(nd_hibernate_refuse,
	TP_PROTO(enum nd_trace_pm_stage stage, long live, unsigned long blocks,
		 long leaked),
	TP_ARGS(stage, live, blocks, leaked),
	TP_STRUCT__entry(
		__field(int, stage)
		__field(long, live)
		__field(unsigned long, blocks)
		__field(long, leaked)
	),
	TP_fast_assign(
		__entry->stage = stage;
		__entry->live = live;
		__entry->blocks = blocks;
		__entry->leaked = leaked;
	),
	TP_printk("stage=%s live=%ld blocks=%lu leaked=%ld",
		  nd_show_stage(__entry->stage), __entry->live,
		  __entry->blocks, __entry->leaked)
);

/* An object of nd_kmalloc(): @size asked, @class the size class served. */
TRACE_EVENT(nd_kmalloc,
	TP_PROTO(const void *ptr, size_t size, unsigned int class),
	TP_ARGS(ptr, size, class),
	TP_STRUCT__entry(
		__field(const void *, ptr)
		__field(size_t, size)
		__field(unsigned int, class)
	),
	TP_fast_assign(
		__entry->ptr = ptr;
		__entry->size = size;
		__entry->class = class;
	),
	TP_printk("ptr=%p size=%zu class=%u", __entry->ptr, __entry->size,
		  __entry->class)
);

TRACE_EVENT(nd_kfree,
	TP_PROTO(const void *ptr, unsigned int class),
	TP_ARGS(ptr, class),
	TP_STRUCT__entry(
		__field(const void *, ptr)
		__field(unsigned int, class)
	),
	TP_fast_assign(
		__entry->ptr = ptr;
		__entry->class = class;
	),
	TP_printk("ptr=%p class=%u", __entry->ptr, __entry->class)
);

#endif /* _ND_TRACE_H */

/* Out of tree: define_trace.h finds this file through -I$(src) (Kbuild). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE nd_trace
#include <trace/define_trace.h>
