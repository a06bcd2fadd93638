/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernels we build for (Debian's 6.1 and 6.12),
 * as capabilities probed from their headers, never from version numbers.
 */
#ifndef _ND_COMPAT_H
#define _ND_COMPAT_H

#include <linux/shrinker.h>
#include <linux/slab.h>

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
