// SPDX-License-Identifier: GPL-2.0
/*
 * memhog: take and touch MB megabytes of anonymous memory, as a program
 * under memory pressure would, so that the kernel has to reclaim.
 *
 *   memhog MB
 *
 * Exits 0 once every page was touched; an OOM kill or a failed mmap is the
 * failure.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MB (1024UL * 1024)

int main(int argc, char **argv)
{
	unsigned long mb, i;
	char *p;

	if (argc != 2) {
		fprintf(stderr, "usage: %s MB\n", argv[0]);
		return 1;
	}
	mb = strtoul(argv[1], NULL, 0);
	p = mmap(NULL, mb * MB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("memhog: mmap");
		return 2;
	}
	for (i = 0; i < mb; i++)
		memset(p + i * MB, 0x6d, MB);
	printf("memhog: touched %lu MB\n", mb);
	return 0;
}
