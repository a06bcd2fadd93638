# SPDX-License-Identifier: GPL-2.0
#
# Entry points for people: build the module, run the VM tests, show the demo.

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
# Build directory: the harness builds one copy per kernel in build/<kver>.
BUILD ?= $(CURDIR)

ND_SRCS := Kbuild dkms.conf nodirect_alloc.c nodirect_alloc.h nd_internal.h nd_trace.h \
	   compat.h sysfs.c hibernate.c kmalloc.c area.c pages.c pool.c kimage.c \
	   pageattr_x86.c tlbflush.c stats.c trace.c $(wildcard selftest/*.c selftest/*.h)

.PHONY: all module debug clean check secureboot demo bench style deb dkms-install dkms-remove

all: module

module:
ifneq ($(abspath $(BUILD)),$(CURDIR))
	@mkdir -p $(BUILD)
	@cp -p --parents $(ND_SRCS) $(BUILD)/
endif
	$(MAKE) -C $(KDIR) M=$(abspath $(BUILD)) $(ND_KBUILD_FLAGS) modules

debug:
	$(MAKE) module ND_KBUILD_FLAGS="CONFIG_ND_DEBUG=y"

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	rm -rf build

# Every test on every kernel of the matrix (selftest/kernels.sh) and the
# DKMS tiers; ends with "N passed, N failed".
check:
	bash selftest/check.sh

# The Secure Boot tier alone, on Debian 12 and 13 (the DKMS module loads
# under lockdown); ends with "N passed, N failed".
secureboot:
	bash selftest/secureboot.sh --alone

# Boot a VM and show a hidden page faulting through __va.
demo:
	bash selftest/demo.sh

# Boot VMs and measure what hiding costs; writes bench/results.md.
bench:
	bash selftest/bench.sh

style:
	bash selftest/style.sh

# The Debian package (nodirect-alloc-dkms_<version>_all.deb, in build/deb/),
# built from a copy of the sources so the tree stays clean. Its version is
# the one in dkms.conf; the changelog is written here from it.
ND_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
DEB_DIR := build/deb
deb:
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	cp -r --parents $(ND_SRCS) debian $(DEB_DIR)/src/
	printf '%s\n' 'nodirect-alloc ($(ND_VERSION)) unstable; urgency=medium' '' \
	  '  * Built from the nodirect_alloc source tree.' '' \
	  " -- nodirect_alloc developers <nodirect-alloc@localhost>  $$(date -R)" \
	  >$(DEB_DIR)/src/debian/changelog
	cd $(DEB_DIR)/src && dpkg-buildpackage -b -us -uc -tc >../build.log 2>&1 || \
	  { tail -n 20 ../build.log; exit 1; }
	@ls $(DEB_DIR)/nodirect-alloc-dkms_$(ND_VERSION)_all.deb

# Install the source into DKMS on this machine and build it for the
# running kernel (what the package's postinst does), or take it out again.
dkms-install:
	mkdir -p /usr/src/nodirect_alloc-$(ND_VERSION)
	cp --parents $(ND_SRCS) /usr/src/nodirect_alloc-$(ND_VERSION)/
	dkms install nodirect_alloc/$(ND_VERSION)

dkms-remove:
	dkms remove nodirect_alloc/$(ND_VERSION) --all
	rm -rf /usr/src/nodirect_alloc-$(ND_VERSION)
