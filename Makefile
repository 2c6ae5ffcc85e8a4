# npsgw: `make` builds build/npsd and build/npsctl; `make test` runs every test tier; see README.md.
CC ?= gcc
BUILD ?= build
PKGS := libdpdk libconfig libpcap libmicrohttpd
DPDK_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
DPDK_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# How npsd links DPDK. shared (the default): Debian's librte_*.so, the drivers loaded as plugins. static: the
# static libraries, every driver built in, and the drivers' per-packet calls into the EAL and mempool direct instead
# of through __tls_get_addr() and the PLT (about 5 cycles per packet, docs/BENCHMARKS.md "Stop 30"); but DPDK
# secondary processes cannot attach to it (npsd starts with --no-shconf): dpdk-dumpcap hands npsd a mempool that
# names its handler by an index into each process's own table, which a static npsd fills in another order than the
# plugin loader, and npsd crashed. The choice is kept in $(BUILD)/.dpdk-link-choice until changed on the command line
# or `make clean`. The unit tests and npsctl always use the shared libraries.
ifndef DPDK_LINK
DPDK_LINK := $(or $(shell cat $(BUILD)/.dpdk-link-choice 2>/dev/null),shared)
endif
ifeq ($(filter $(DPDK_LINK),shared static),)
$(error DPDK_LINK must be shared or static, not "$(DPDK_LINK)")
endif
NPSD_DPDK_LIBS := $(if $(filter static,$(DPDK_LINK)),$(shell pkg-config --static --libs libdpdk 2>/dev/null) \
	$(shell pkg-config --libs libconfig libpcap libmicrohttpd 2>/dev/null),$(DPDK_LIBS))
OPT ?= -O3
CFLAGS ?= $(OPT) -g
CFLAGS += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror=implicit-function-declaration \
	-I. -DALLOW_EXPERIMENTAL_API -DNPSGW_VERSION=\"0.1.0\" -MMD -MP $(EXTRA_CFLAGS)
LDLIBS += -lIPSec_MB -lm -lpthread
# `make V=1` shows the full commands.
Q := $(if $(V),,@)

LIB_SRCS := $(wildcard lib/*/*.c)
NF_SRCS := $(wildcard nf/*.c nf/*/*.c)
DP_SRCS := $(wildcard dataplane/*.c dataplane/nodes/*.c)
CTL_SRCS := dataplane/npsctl/main.c
UNIT_SRCS := $(wildcard test/unit/test_*.c)
# A network function's unit tests live in its folder (nf/X/test_*.c); each lists the objects it links below.
NF_TEST_SRCS := $(wildcard nf/*/test_*.c)

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
NF_SRCS := $(filter-out $(NF_TEST_SRCS),$(NF_SRCS))
NF_OBJS := $(NF_SRCS:%.c=$(BUILD)/obj/%.o)
DP_OBJS := $(DP_SRCS:%.c=$(BUILD)/obj/%.o)
DP_LIB_OBJS := $(filter-out $(BUILD)/obj/dataplane/main.o,$(DP_OBJS))
UNIT_BINS := $(patsubst %.c,$(BUILD)/test/%,$(notdir $(UNIT_SRCS) $(NF_TEST_SRCS)))

.SECONDARY:
.PHONY: all test unit pcap-test fw-test nat-test ipsec-test e2e-test badinput-test bench demo clean debug format graph docs deps dpdk-link-flags FORCE
all: $(BUILD)/npsd $(BUILD)/npsctl

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),true,echo '  CC   $<')
	$(Q)$(CC) $(DPDK_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/npsd: $(DP_OBJS) $(NF_OBJS) $(LIB_OBJS) $(BUILD)/.dpdk-link-choice
	@$(if $(V),true,echo '  LD   $@')
	$(Q)$(CC) $(CFLAGS) -o $@ -Wl,--whole-archive $(filter %.o,$^) -Wl,--no-whole-archive $(NPSD_DPDK_LIBS) $(LDLIBS)

# npsd with DPDK's shared libraries whatever DPDK_LINK says, for the tests that stand in for a DPDK function with
# LD_PRELOAD (a static npsd calls its own copy): test/deploy/run.sh's test rte_flow engine, when npsd is static.
$(BUILD)/npsd-shared: $(DP_OBJS) $(NF_OBJS) $(LIB_OBJS)
	@$(if $(V),true,echo '  LD   $@')
	$(Q)$(CC) $(CFLAGS) -o $@ -Wl,--whole-archive $^ -Wl,--no-whole-archive $(DPDK_LIBS) $(LDLIBS)

# Holds DPDK_LINK; rewritten (so npsd relinks) only when it changes.
$(BUILD)/.dpdk-link-choice: FORCE
	@mkdir -p $(BUILD)
	@echo '$(DPDK_LINK)' | cmp -s - $@ || echo '$(DPDK_LINK)' >$@
FORCE:

# The DPDK link flags of npsd: bench/build-l3fwd.sh and bench/build-ipsec-secgw.sh link the references the same way.
dpdk-link-flags:
	@echo '$(NPSD_DPDK_LIBS)'

$(BUILD)/npsctl: $(BUILD)/obj/$(CTL_SRCS:.c=.o) $(LIB_OBJS)
	@$(if $(V),true,echo '  LD   $@')
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(DPDK_LIBS) $(LDLIBS)

# Each unit test is its own CUnit program linking the libraries; test_dp_X.c also links dataplane/X.c.
$(BUILD)/test/test_dp_%: $(BUILD)/obj/test/unit/test_dp_%.o $(BUILD)/obj/dataplane/%.o $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(V),true,echo '  LD   $@')
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(DPDK_LIBS) $(LDLIBS) -lcunit
$(BUILD)/test/test_dp_prometheus: $(BUILD)/obj/dataplane/metrics_names.o
$(BUILD)/test/test_dp_fib: $(BUILD)/obj/dataplane/fib6_trie.o
# The network functions' shared config pieces (nf/nf_conf.c: the sessions block), pure like their config models.
NF_PURE_OBJS := $(BUILD)/obj/nf/nf_conf.o
# Firewall tests: the pure parts of nf/fw (config model, classifier, packet parser).
FW_PURE_OBJS := $(addprefix $(BUILD)/obj/nf/fw/,fw_conf.o fw_conf_write.o fw_classify.o) $(NF_PURE_OBJS)
$(BUILD)/test/test_fw_%: $(BUILD)/obj/nf/fw/test_fw_%.o $(FW_PURE_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(V),true,echo '  LD   $@')
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(DPDK_LIBS) $(LDLIBS) -lcunit
# NAT and DS-Lite tests: their config models (pure); the engine tests list theirs as they come.
NAT_PURE_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard nf/nat/nat_conf.c nf/nat/nat_conf_write.c)) $(NF_PURE_OBJS)
DSLITE_PURE_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard nf/dslite/dslite_conf.c nf/dslite/dslite_conf_write.c))
$(BUILD)/test/test_nat_%: $(BUILD)/obj/nf/nat/test_nat_%.o $(NAT_PURE_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(V),true,echo '  LD   $@')
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(DPDK_LIBS) $(LDLIBS) -lcunit
$(BUILD)/test/test_nat_ports: $(BUILD)/obj/nf/nat/nat_ports.o
# The engine test defines the global `nat` itself: it links the engine, not nat.c.
$(BUILD)/test/test_nat_engine: $(BUILD)/obj/nf/nat/nat_engine.o $(BUILD)/obj/nf/nat/nat_ports.o
$(BUILD)/test/test_dslite_%: $(BUILD)/obj/nf/dslite/test_dslite_%.o $(NAT_PURE_OBJS) $(DSLITE_PURE_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(V),true,echo '  LD   $@')
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(DPDK_LIBS) $(LDLIBS) -lcunit
# IPsec tests: crypto, ESP codec, replay window and SPI table are pure (no graph); the config model too.
IPSEC_PURE_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard nf/ipsec/ipsec_crypto.c nf/ipsec/esp_*.c \
	nf/ipsec/ipsec_replay.c nf/ipsec/ipsec_spi.c nf/ipsec/ipsec_conf.c nf/ipsec/ipsec_conf_write.c)) $(NF_PURE_OBJS)
$(BUILD)/test/test_ipsec_%: $(BUILD)/obj/nf/ipsec/test_ipsec_%.o $(IPSEC_PURE_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(V),true,echo '  LD   $@')
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(DPDK_LIBS) $(LDLIBS) -lcunit
$(BUILD)/test/%: $(BUILD)/obj/test/unit/%.o $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(V),true,echo '  LD   $@')
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(DPDK_LIBS) $(LDLIBS) -lcunit

deps:
	bash scripts/install-deps.sh

unit: $(UNIT_BINS)
	bash test/run-unit.sh $(UNIT_BINS)

pcap-test: all
	bash test/pcap/run.sh
	bash nf/fw/test/run_pcap.sh

badinput-test: all
	bash test/pcap/run.sh badinput

e2e-test: all
	bash test/e2e/run.sh

# The firewall's tiers alone: pcap behaviour and bad input, then network namespaces.
fw-test: all
	bash nf/fw/test/run_pcap.sh
	/usr/bin/python3 nf/fw/test/fw_live.py
	bash nf/fw/test/run.sh

# NAT44 and DS-Lite tiers alone.
nat-test: all
	bash nf/nat/test/run_pcap.sh
	bash nf/dslite/test/run_pcap.sh
	bash nf/nat/test/run.sh

# IPsec tiers alone: pcap interop with scapy's ESP, replay, bad input, MTU; then network namespaces.
ipsec-test: all
	bash nf/ipsec/test/run_pcap.sh
	bash nf/ipsec/test/run.sh

# All tiers: unit, pcap-in/pcap-out (incl. the bad-input corpus), end-to-end in network namespaces.
test: deps
	$(MAKE) all unit
	bash test/pcap/run.sh
	bash test/e2e/run.sh
	bash test/telemetry/run.sh
	bash test/visibility/run.sh
	bash test/txn/run.sh
	bash nf/fw/test/run_pcap.sh
	/usr/bin/python3 nf/fw/test/fw_live.py
	bash nf/fw/test/run.sh
	bash nf/nat/test/run_pcap.sh
	bash nf/dslite/test/run_pcap.sh
	bash nf/nat/test/run.sh
	bash nf/ipsec/test/run_pcap.sh
	bash nf/ipsec/test/run.sh
	bash test/deploy/run.sh
	bash bench/run --smoke --no-make
	bash bench/ab --smoke a=build/npsd b=build/npsd

# The README's two commands: each installs what it needs first (Debian packages only), then builds.
demo: deps
	$(MAKE) all
	bash scripts/demo.sh

bench: deps
	$(MAKE) all
	bash bench/run

debug:
	$(MAKE) BUILD=build-debug OPT="-O1" EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer" \
		LDLIBS="-lIPSec_MB -lm -lpthread -fsanitize=address,undefined"

# Docs generated from the code: the pipeline diagram from the live graph, the command reference from the table.
graph: all
	bash scripts/gen-graph.sh

docs: all
	bash scripts/gen-docs.sh
	bash scripts/gen-graph.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-debug

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- Installation and the Debian package (docs/DEPLOY-KVM.md) ----
# `make install` (PREFIX=/usr/local, DESTDIR for staging); `make deb` builds $(BUILD)/npsgw_VERSION_ARCH.deb with
# dpkg-deb; `make deploy-test` runs test/deploy/run.sh (virtio_user, lifecycle, self-checks, steering, packaging).
PREFIX ?= /usr/local
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
SBINDIR = $(PREFIX)/sbin
BINDIR = $(PREFIX)/bin
DATADIR = $(PREFIX)/share/npsgw
DOCDIR = $(PREFIX)/share/doc/npsgw
UNITDIR ?= $(PREFIX)/lib/systemd/system
HOST_SCRIPTS := scripts/hugepages.sh scripts/bind-vfio.sh scripts/create-vfs.sh scripts/check-host.sh
.PHONY: install uninstall deb deploy-test

install: all
	install -D -m 0755 $(BUILD)/npsd $(DESTDIR)$(SBINDIR)/npsd
	install -D -m 0755 $(BUILD)/npsctl $(DESTDIR)$(BINDIR)/npsctl
	install -d $(DESTDIR)$(DATADIR)/scripts $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/npsgw $(DESTDIR)$(UNITDIR)
	install -m 0755 $(HOST_SCRIPTS) $(DESTDIR)$(DATADIR)/scripts/
	install -m 0644 conf/example.conf $(DESTDIR)$(DATADIR)/example.conf
	[ -e $(DESTDIR)$(SYSCONFDIR)/npsgw/npsd.conf ] || \
		install -m 0640 conf/example.conf $(DESTDIR)$(SYSCONFDIR)/npsgw/npsd.conf
	install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DATADIR@|$(DATADIR)|g' \
		-e 's|@DOCDIR@|$(DOCDIR)|g' packaging/npsgw.service >$(DESTDIR)$(UNITDIR)/npsgw.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/npsgw.service

# Leaves $(SYSCONFDIR)/npsgw (the operator's configuration) in place.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/npsd $(DESTDIR)$(BINDIR)/npsctl $(DESTDIR)$(UNITDIR)/npsgw.service
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR)

deb: all
	bash packaging/mkdeb.sh $(BUILD)

deploy-test: all
	bash test/deploy/run.sh
