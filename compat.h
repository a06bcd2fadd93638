/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernels we build for (Debian 12's 6.1 and 6.12,
 * Debian 13's 6.12, trixie-backports' 7.x), as capabilities probed from
 * their headers, never from version numbers; the one exception is a
 * behaviour of vmalloc() that no header shows (ND_VMALLOC_TAKES_RUNS).
 */
#ifndef _ND_COMPAT_H
#define _ND_COMPAT_H

#include <linux/gfp.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <asm/hardirq.h>

/*
 * alloc_pages_bulk() fills an array since 6.14 (a macro); before, that was
 * alloc_pages_bulk_array().
 */
#ifdef alloc_pages_bulk
#define nd_alloc_pages_bulk(gfp, nr, pages)	alloc_pages_bulk(gfp, nr, pages)
#else
#define nd_alloc_pages_bulk(gfp, nr, pages)	alloc_pages_bulk_array(gfp, nr, pages)
#endif

/*
 * ND_VMALLOC_TAKES_RUNS (set by Kbuild from the kernel's major version):
 * 7.x's vmalloc() takes its pages as runs of contiguous pages where the
 * page allocator has them free; 6.x's takes single pages, which come back
 * hot from the per-CPU free lists.  Our per-page path takes its pages the
 * way this kernel's vmalloc() does.  A run walks one direct-map table for
 * many pages, but on 6.12 each new run came from a range not split yet,
 * and split it, call after call; on 7.3 runs came back from split ranges.
 */
#ifndef ND_VMALLOC_TAKES_RUNS
#define ND_VMALLOC_TAKES_RUNS	0
#endif

/*
 * irq_stat became an array of counts indexed by IRQ_COUNT_* (7.x), which
 * came with inc_perf_irq_stat().
 */
#ifdef inc_perf_irq_stat
#define nd_irq_stat_calls(cpu)	per_cpu(irq_stat, cpu).counts[IRQ_COUNT_CALL_FUNCTION]
#define nd_irq_stat_tlb(cpu)	per_cpu(irq_stat, cpu).counts[IRQ_COUNT_TLB]
#else
#define nd_irq_stat_calls(cpu)	per_cpu(irq_stat, cpu).irq_call_count
#define nd_irq_stat_tlb(cpu)	per_cpu(irq_stat, cpu).irq_tlb_count
#endif

/*
 * Drop this CPU's whole TLB, global entries and every PCID included (see
 * tlbflush.c for why this route).  Kernels without CONFIG_PARAVIRT have
 * no inline route: there __flush_tlb_all() must be exported to us.
 */
#include <linux/kvm_types.h>
#ifdef CONFIG_PARAVIRT
#include <asm/tlbflush.h>
static inline void nd_flush_tlb_all_local(void)
{
	if (cpu_feature_enabled(X86_FEATURE_PGE))
		__flush_tlb_global();
	else
		__flush_tlb_local();
}
#elif defined(EXPORT_SYMBOL_FOR_KVM)
#error "no TLB flush route: without CONFIG_PARAVIRT, __flush_tlb_all() is exported to KVM only"
#else
#define nd_flush_tlb_all_local()	__flush_tlb_all()
#endif

/*
 * syscore callbacks take a context pointer, and are registered through a
 * struct syscore, on 7.x.  The header shows it only in a declaration,
 * so Kbuild greps for it (ND_HAVE_STRUCT_SYSCORE).
 */
#include <linux/syscore_ops.h>
#ifdef ND_HAVE_STRUCT_SYSCORE
#define ND_DEFINE_SYSCORE(name, check)					\
	static int name##_suspend(void *data) { return check(); }	\
	static const struct syscore_ops name##_ops = {			\
		.suspend = name##_suspend,				\
	};								\
	static struct syscore name = { .ops = &name##_ops }
#define nd_register_syscore(s)		register_syscore(s)
#define nd_unregister_syscore(s)	unregister_syscore(s)
#else
#define ND_DEFINE_SYSCORE(name, check)					\
	static int name##_suspend(void) { return check(); }		\
	static struct syscore_ops name = { .suspend = name##_suspend }
#define nd_register_syscore(s)		register_syscore_ops(s)
#define nd_unregister_syscore(s)	unregister_syscore_ops(s)
#endif

typedef unsigned long (*nd_shrink_fn)(struct shrinker *,
				      struct shrink_control *);

/*
 * seeks = 0: our free blocks cost nothing to rebuild, so reclaim trims
 * them hard (half of what we count, each pass).
 */
#ifdef SHRINKER_ALLOCATED
/* The kernel allocates shrinkers (shrinker_alloc(), since 6.7). */
static inline struct shrinker *nd_shrinker_create(const char *name,
						  nd_shrink_fn count,
						  nd_shrink_fn scan)
{
	struct shrinker *s = shrinker_alloc(0, "%s", name);

	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = 0;
	shrinker_register(s);
	return s;
}

static inline void nd_shrinker_destroy(struct shrinker *s)
{
	shrinker_free(s);
}
#else
/* The caller owns the shrinker (register_shrinker() with a name). */
static inline struct shrinker *nd_shrinker_create(const char *name,
						  nd_shrink_fn count,
						  nd_shrink_fn scan)
{
	struct shrinker *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = 0;
	if (register_shrinker(s, "%s", name)) {
		kfree(s);
		return NULL;
	}
	return s;
}

static inline void nd_shrinker_destroy(struct shrinker *s)
{
	unregister_shrinker(s);
	kfree(s);
}
#endif

#endif /* _ND_COMPAT_H */
