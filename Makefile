# SPDX-License-Identifier: GPL-2.0
#
# Entry points for people: build the module, run the VM tests, show the demo.

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
# Build directory: the harness builds one copy per kernel in build/<kver>.
BUILD ?= $(CURDIR)

ND_SRCS := Kbuild dkms.conf nodirect_alloc.c nodirect_alloc.h nd_internal.h \
	   pageattr_x86.c tlbflush.c $(wildcard selftest/*.c selftest/*.h)

.PHONY: all module debug clean check demo bench style

all: module

module:
ifneq ($(abspath $(BUILD)),$(CURDIR))
	@mkdir -p $(BUILD)
	@cp --parents $(ND_SRCS) $(BUILD)/
endif
	$(MAKE) -C $(KDIR) M=$(abspath $(BUILD)) $(ND_KBUILD_FLAGS) modules

debug:
	$(MAKE) module ND_KBUILD_FLAGS="CONFIG_ND_DEBUG=y"

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	rm -rf build

# Every test on both kernels; ends with "N passed, N failed".
check:
	bash selftest/check.sh

# Boot a VM and show a hidden page faulting through __va.
demo:
	bash selftest/demo.sh

# Boot VMs and measure what hiding costs; writes bench/results.md.
bench:
	bash selftest/bench.sh

style:
	bash selftest/style.sh
