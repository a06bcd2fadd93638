// SPDX-License-Identifier: GPL-2.0
/*
 * kcore_read: read kernel memory through /proc/kcore, as a debugger or an
 * attacker with root would, to check what a live allocation gives away.
 *
 *   kcore_read ADDR LEN [STRING]
 *
 * Prints how many bytes came back; with STRING, exits 3 if they contain it.
 * Exits 2 when /proc/kcore has no segment for ADDR or the read fails.
 */

#define _GNU_SOURCE
#include <linux/elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int find_segment(int fd, unsigned long addr, struct elf64_phdr *seg)
{
	struct elf64_hdr eh;
	int i;

	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG))
		return -1;
	for (i = 0; i < eh.e_phnum; i++) {
		if (pread(fd, seg, sizeof(*seg),
			  eh.e_phoff + (off_t)i * eh.e_phentsize) != sizeof(*seg))
			return -1;
		if (seg->p_type == PT_LOAD && addr >= seg->p_vaddr &&
		    addr - seg->p_vaddr < seg->p_memsz)
			return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	unsigned long addr, len;
	struct elf64_phdr seg;
	char *buf;
	ssize_t got;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: %s ADDR LEN [STRING]\n", argv[0]);
		return 1;
	}
	addr = strtoul(argv[1], NULL, 16);
	len = strtoul(argv[2], NULL, 0);
	buf = calloc(1, len + 1);
	fd = open("/proc/kcore", O_RDONLY);
	if (!buf || fd < 0 || find_segment(fd, addr, &seg)) {
		printf("kcore_read: no /proc/kcore segment for %lx\n", addr);
		return 2;
	}
	got = pread(fd, buf, len, seg.p_offset + (addr - seg.p_vaddr));
	if (got < 0) {
		perror("kcore_read: pread");
		return 2;
	}
	printf("kcore_read: %zd bytes at %lx\n", got, addr);
	if (argc > 3 && memmem(buf, got, argv[3], strlen(argv[3]))) {
		printf("kcore_read: found \"%s\"\n", argv[3]);
		return 3;
	}
	return 0;
}
