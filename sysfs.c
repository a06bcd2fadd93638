// SPDX-License-Identifier: GPL-2.0
/*
 * The counters and pool state in /sys/kernel/nodirect_alloc/.
 */

#include <linux/kobject.h>
#include <linux/sysfs.h>

#include "nd_internal.h"

/* Read-only counters in /sys/kernel/nodirect_alloc/. */
struct nd_stat_attr {
	struct kobj_attribute attr;
	atomic_long_t *val;
};

static ssize_t nd_stat_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	struct nd_stat_attr *sa = container_of(attr, struct nd_stat_attr, attr);

	return sysfs_emit(buf, "%ld\n", atomic_long_read(sa->val));
}

#define ND_STAT_ATTR(_name) __ATTR(_name, 0444, nd_stat_show, NULL)

static struct nd_stat_attr nd_stat_attrs[] = {
	{ ND_STAT_ATTR(live_allocs), &nd_stats.live_allocs },
	{ ND_STAT_ATTR(live_pages), &nd_stats.live_pages },
	{ ND_STAT_ATTR(allocs), &nd_stats.allocs },
	{ ND_STAT_ATTR(frees), &nd_stats.frees },
	{ ND_STAT_ATTR(deferred_frees), &nd_stats.deferred_frees },
	{ ND_STAT_ATTR(failures), &nd_stats.failures },
	{ ND_STAT_ATTR(bad_calls), &nd_stats.bad_calls },
	{ ND_STAT_ATTR(flushes), &nd_stats.flushes },
	{ ND_STAT_ATTR(flush_cpus), &nd_stats.flush_cpus },
	{ ND_STAT_ATTR(splits_2m), &nd_stats.splits_2m },
	{ ND_STAT_ATTR(splits_1g), &nd_stats.splits_1g },
	{ ND_STAT_ATTR(pool_hits), &nd_stats.pool_hits },
	{ ND_STAT_ATTR(pool_misses), &nd_stats.pool_misses },
	{ ND_STAT_ATTR(pool_fallbacks), &nd_stats.pool_fallbacks },
	{ ND_STAT_ATTR(pool_blocks_taken), &nd_stats.pool_blocks_taken },
	{ ND_STAT_ATTR(pool_blocks_returned), &nd_stats.pool_blocks_returned },
	{ ND_STAT_ATTR(pool_blocks_rolled_back),
	  &nd_stats.pool_blocks_rolled_back },
	{ ND_STAT_ATTR(pool_stale_flushes), &nd_stats.pool_stale_flushes },
	{ ND_STAT_ATTR(leaked_pages), &nd_stats.leaked_pages },
	{ ND_STAT_ATTR(seals), &nd_stats.seals },
	{ ND_STAT_ATTR(kimage_pages), &nd_stats.kimage_pages },
};

/* What the pool holds now, summed over its nodes. */
static ssize_t pool_blocks_show(struct kobject *kobj,
				struct kobj_attribute *attr, char *buf)
{
	unsigned long blocks, free_pages;

	nd_pool_stats(&blocks, &free_pages);
	return sysfs_emit(buf, "%lu\n", blocks);
}

/* Of those, the read-only ones. */
static ssize_t pool_read_only_blocks_show(struct kobject *kobj,
					  struct kobj_attribute *attr,
					  char *buf)
{
	return sysfs_emit(buf, "%lu\n", nd_pool_blocks(ND_READ_ONLY));
}

static ssize_t pool_free_pages_show(struct kobject *kobj,
				    struct kobj_attribute *attr, char *buf)
{
	unsigned long blocks, free_pages;

	nd_pool_stats(&blocks, &free_pages);
	return sysfs_emit(buf, "%lu\n", free_pages);
}

/* Per size class of nd_kmalloc(): "size:objects:pages", space apart. */
static ssize_t kmalloc_classes_show(struct kobject *kobj,
				    struct kobj_attribute *attr, char *buf)
{
	return nd_kmalloc_show_classes(buf);
}

static ssize_t kmalloc_objects_show(struct kobject *kobj,
				    struct kobj_attribute *attr, char *buf)
{
	unsigned long objects, pages;

	nd_kmalloc_stats(0, &objects, &pages);
	return sysfs_emit(buf, "%lu\n", objects);
}

static struct kobj_attribute nd_pool_attrs[] = {
	__ATTR_RO(pool_blocks),
	__ATTR_RO(pool_read_only_blocks),
	__ATTR_RO(pool_free_pages),
	__ATTR_RO(kmalloc_classes),
	__ATTR_RO(kmalloc_objects),
};

static struct attribute *nd_attrs[ARRAY_SIZE(nd_stat_attrs) +
				  ARRAY_SIZE(nd_pool_attrs) + 1];
static const struct attribute_group nd_attr_group = { .attrs = nd_attrs };
static struct kobject *nd_kobj;

/**
 * nd_sysfs_init() - show the counters in /sys/kernel/nodirect_alloc/
 *
 * Return: 0 or -errno.
 */
int __init nd_sysfs_init(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(nd_stat_attrs); i++)
		nd_attrs[i] = &nd_stat_attrs[i].attr.attr;
	for (i = 0; i < ARRAY_SIZE(nd_pool_attrs); i++)
		nd_attrs[ARRAY_SIZE(nd_stat_attrs) + i] = &nd_pool_attrs[i].attr;

	nd_kobj = kobject_create_and_add(KBUILD_MODNAME, kernel_kobj);
	if (!nd_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(nd_kobj, &nd_attr_group);
	if (ret)
		kobject_put(nd_kobj);
	return ret;
}

/**
 * nd_sysfs_exit() - undo nd_sysfs_init()
 */
void nd_sysfs_exit(void)
{
	sysfs_remove_group(nd_kobj, &nd_attr_group);
	kobject_put(nd_kobj);
}
