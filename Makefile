# SPDX-License-Identifier: GPL-2.0
#
# husk: kernel-style build driven by Kbuild.
#
#   make            build everything          make O=dir   build out of tree
#   make V=1        show every command        make deps    install Debian packages
#   make run        build and run huskd       make test    build and run all tests
#   make check-unit C unit tests only         make bench   benchmarks
#   make install    PREFIX=/usr/local DESTDIR= (huskd, husk-init, huskctl, its man page and completion)

srctree := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
O ?= $(srctree)
objtree := $(abspath $(O))
export srctree objtree

ifeq ($(V),1)
Q :=
quiet_echo = @:
else
Q := @
quiet_echo = @printf '  %-7s %s\n'
endif

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config
PREFIX ?= /usr/local
DESTDIR ?=

HUSK_VERSION := 0.1.0
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wshadow -Wformat=2 -Wundef
husk_cflags := -std=gnu11 -D_GNU_SOURCE -DHUSK_VERSION='"$(HUSK_VERSION)"' \
	-I$(srctree) -I$(objtree)/bpf -fno-strict-aliasing $(WARN) $(CFLAGS)

# BPF: CO-RE objects against the running kernel's BTF, one skeleton each.
ARCH_BPF := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
BTF_VMLINUX ?= /sys/kernel/btf/vmlinux
bpf_cflags := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH_BPF) -I$(objtree)/bpf -I$(srctree)/bpf \
	-idirafter /usr/include/$(shell $(CC) -dumpmachine) -Wall -Wno-unused-function

.DEFAULT_GOAL := all
include $(srctree)/Kbuild

all-progs := $(progs-y)
all-tests := $(tests-y)
bpf-skels := $(addprefix $(objtree)/,$(addsuffix .skel.h,$(bpf-y)))

# Per-program rules: objects, cflags from pkg-config, link.
define prog_template
$(1)-obj := $$(addprefix $$(objtree)/,$$($(1)-objs))
$(1)-pkgcflags := $$(if $$($(1)-pkgs),$$(shell $$(PKG_CONFIG) --cflags $$($(1)-pkgs)))
$(1)-pkglibs := $$(if $$($(1)-pkgs),$$(shell $$(PKG_CONFIG) --libs $$($(1)-pkgs)))
$$($(1)-obj): extra_cflags += $$($(1)-pkgcflags)
$$(objtree)/$(1): $$($(1)-obj)
	$$(quiet_echo) LD $(1)
	$$(Q)$$(CC) $$($(1)-ldflags) -o $$@ $$^ $$($(1)-pkglibs) $$($(1)-ldlibs)
all-objs += $$($(1)-obj)
endef
$(foreach p,$(all-progs) $(all-tests),$(eval $(call prog_template,$(p))))

.PHONY: all
all: $(bpf-skels) $(addprefix $(objtree)/,$(all-progs) $(all-tests))

$(objtree)/%.o: $(srctree)/%.c | $(bpf-skels)
	$(quiet_echo) CC $*.o
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(husk_cflags) $(extra_cflags) -MMD -MP -c -o $@ $<

$(objtree)/bpf/vmlinux.h: $(BTF_VMLINUX)
	$(quiet_echo) GEN bpf/vmlinux.h
	$(Q)mkdir -p $(dir $@)
	$(Q)$(BPFTOOL) btf dump file $< format c > $@.tmp && mv $@.tmp $@

$(objtree)/bpf/%.bpf.o: $(srctree)/bpf/%.bpf.c $(objtree)/bpf/vmlinux.h
	$(quiet_echo) CLANG bpf/$*.bpf.o
	$(Q)$(CLANG) $(bpf_cflags) -MMD -MP -MF $@.d -MT $@ -c -o $@.tmp.o $< && \
		$(BPFTOOL) gen object $@ $@.tmp.o && rm -f $@.tmp.o

$(objtree)/bpf/%.skel.h: $(objtree)/bpf/%.bpf.o
	$(quiet_echo) GEN bpf/$*.skel.h
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@.tmp && mv $@.tmp $@

# Keep the objects: huskd and the tests load the skeletons, not the files.
.SECONDARY: $(addprefix $(objtree)/,$(addsuffix .bpf.o,$(bpf-y)))
-include $(wildcard $(objtree)/bpf/*.bpf.o.d)

-include $(sort $(all-objs:.o=.d))

.PHONY: deps
deps:
	$(Q)$(srctree)/scripts/deps.sh

# One command that runs huskd with its embedded defaults on a fresh machine.
.PHONY: run
run: deps
	$(Q)$(MAKE) --no-print-directory -f $(srctree)/Makefile all
	exec $(objtree)/huskd

.PHONY: check-unit
check-unit: all
	$(Q)set -e; for t in $(all-tests); do \
		printf '  %-7s %s\n' TEST $$t; $(objtree)/$$t; done

# The whole suite: unit tests, then the bats suites (as root).
.PHONY: test check
test check: deps
	$(Q)$(MAKE) --no-print-directory -f $(srctree)/Makefile check-unit
	$(Q)HUSK_BUILD=$(objtree) HUSK_SRC=$(srctree) $(srctree)/scripts/run-bats.sh $(srctree)/tests

.PHONY: bench
bench: deps
	$(Q)$(MAKE) --no-print-directory -f $(srctree)/Makefile all
	$(Q)HUSK_BUILD=$(objtree) HUSK_SRC=$(srctree) $(srctree)/tests/bench/run.sh

.PHONY: install
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/libexec/husk \
		$(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 0755 $(objtree)/huskd $(DESTDIR)$(PREFIX)/sbin/huskd
	install -m 0755 $(objtree)/husk-init $(DESTDIR)$(PREFIX)/libexec/husk/husk-init
	install -m 0755 $(objtree)/huskctl $(DESTDIR)$(PREFIX)/sbin/huskctl
	install -m 0644 $(srctree)/tools/huskctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/huskctl.8
	install -m 0644 $(srctree)/tools/huskctl.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/huskctl

.PHONY: clean
clean:
	$(Q)rm -f $(addprefix $(objtree)/,$(all-progs) $(all-tests)) $(bpf-skels)
	$(Q)rm -f $(objtree)/bpf/vmlinux.h $(objtree)/bpf/*.bpf.o
	$(Q)find $(objtree) -name '*.[od]' -not -path '*/.git/*' -delete

.PHONY: format
format:
	clang-format -i $$(git -C $(srctree) ls-files '*.c' '*.h')
