# xjk: one Makefile for the BPF programs, the agent (xjkd), the tools and the tests.
#
#   make            build everything into build/
#   make deps       install the Debian packages the project needs (idempotent)
#   make unit       fast unit tier (cmocka, no root)
#   make check      every tier: unit, BPF_PROG_RUN, netns integration with real Tomcats;
#                   then check-san, and check-valgrind over CHECK_VALGRIND
#   make demo       the seed's scenario in a throwaway netns lab
#   make bench      side-by-side benchmarks against the peers (docs/performance.md)
#   make soak       SOAK_MINUTES (30) of mixed load and faults on xjkd (docs/reliability.md; not in check)
#   make fuzz       every libFuzzer harness in tests/fuzz/ for FUZZ_SECONDS each
#   make check-san  unit tier and xjkd integration tests built with ASan+UBSan
#   make check-valgrind  xjkd integration tests with every xjkd under valgrind
#   SANITIZE=1      build with -fsanitize=address,undefined (use its own B=)

CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
B        ?= build
TRIPLE   := $(shell gcc -dumpmachine)
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -MMD -MP \
            -Iinclude -Iagent -I$(B) $(shell pkg-config --cflags libnl-route-3.0 2>/dev/null)
LDLIBS   += -lbpf -lelf -lz -lnl-route-3 -lnl-3 -lpthread -lm
ifeq ($(SANITIZE),1)
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# ASan's instrumentation blinds gcc's length tracking: format-truncation then
# warns about snprintf calls the regular build proves safe.
CFLAGS   += $(SANFLAGS) -Wno-format-truncation
LDFLAGS  += $(SANFLAGS)
endif
BPFFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
            -Iinclude -I/usr/include/$(TRIPLE)

AGENT_SRC := $(filter-out agent/main.c,$(wildcard agent/*.c))
AGENT_OBJ := $(AGENT_SRC:%.c=$(B)/%.o)
BPF_SRC   := $(wildcard bpf/*.bpf.c)
BPF_OBJ   := $(BPF_SRC:bpf/%.c=$(B)/bpf/%.o)
SKELS     := $(BPF_SRC:bpf/%.bpf.c=$(B)/%.skel.h)
TOOL_SRC  := $(wildcard tools/*.c)
TOOL_BIN  := $(TOOL_SRC:tools/%.c=$(B)/%)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
# BPF tests, benchmarks and harnesses (root): each test_/bench_/run_*.c links the other tests/bpf/*.c.
BPFT_MAIN := $(wildcard tests/bpf/test_*.c tests/bpf/bench_*.c tests/bpf/run_*.c)
BPFT_LIB  := $(patsubst tests/bpf/%.c,$(B)/tests/bpf/%.o,$(filter-out $(BPFT_MAIN),$(wildcard tests/bpf/*.c)))
BPFT_BIN  := $(BPFT_MAIN:tests/bpf/%.c=$(B)/tests/bpf/%)

# libFuzzer harnesses: the agent built again with clang and the fuzzer's
# coverage and sanitizers, in $(B)/fuzz so the regular objects stay as they are.
FUZZ_SECONDS ?= 60
FUZZ_B       := $(B)/fuzz
FUZZ_CFLAGS  := -O1 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -MMD -MP \
                -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
                -Iinclude -Iagent -Itests/fuzz -I$(B) $(shell pkg-config --cflags libnl-route-3.0 2>/dev/null)
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_MAIN    := $(filter-out tests/fuzz/fuzz_common.c,$(FUZZ_SRC))
FUZZ_BIN     := $(FUZZ_MAIN:tests/fuzz/%.c=$(FUZZ_B)/%)
SAN_B        ?= build-san
# integration scripts that run xjkd, for check-san (names as XJK_TESTS takes
# them); SAN_SLOW stretches their time bounds (XJK_SLOW, tests/integ/lib.sh)
# for an xjkd slowed by ASan on a shared machine (docs/testing.md)
SAN_INTEG    ?= ajp jkstatus lifecycle membership relay failover admin status-page \
                splice splice-gaps splice-window smuggling hostile load privdrop poolwait demo
SAN_SLOW     ?= 10
# check-valgrind: the same scripts but the demo (which starts its own xjkd),
# every xjkd under memcheck (XJKD_WRAP, tests/integ/lib.sh); any error or
# definite leak is a "not ok" (tests/run.sh).
VALGRIND     := valgrind --trace-children=yes --vgdb=no --leak-check=full --show-leak-kinds=definite \
                --errors-for-leak-kinds=definite --error-exitcode=99 \
                --error-markers=XJK-VALGRIND-ERROR,XJK-VALGRIND-END \
                --suppressions=$(CURDIR)/tests/valgrind.supp --log-file=%q{XJK_REPORTS}/valgrind.%p
VALGRIND_INTEG ?= $(filter-out demo,$(SAN_INTEG))
# the part of check-valgrind that make check runs: not the splice scripts,
# whose checks do not all hold under it, nor 82-load, for its time
# (docs/testing.md)
CHECK_VALGRIND ?= ajp jkstatus lifecycle membership relay failover admin status-page smuggling \
                  hostile privdrop poolwait

.PHONY: all deps unit integ check check-san check-valgrind demo bench soak fuzz fuzz-build format clean install
.DELETE_ON_ERROR:
.SECONDARY:

all: $(if $(wildcard agent/main.c),$(B)/xjkd) $(TOOL_BIN) $(UNIT_BIN) $(BPF_OBJ) $(BPFT_BIN)

deps:
	@tools/deps.sh

$(B)/bpf/%.bpf.o: bpf/%.bpf.c $(wildcard include/*.h bpf/*.h) | $(B)/bpf
	$(CLANG) $(BPFFLAGS) -c $< -o $@

$(B)/%.skel.h: $(B)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $* > $@

$(B)/agent/%.o: agent/%.c | $(B)/agent $(SKELS)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/libxjk.a: $(AGENT_OBJ)
	$(AR) rcs $@ $^

$(B)/xjkd: $(B)/agent/main.o $(B)/libxjk.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tools/%.o: tools/%.c | $(B)/tools $(SKELS)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/%: $(B)/tools/%.o $(B)/libxjk.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/tests/%.o: tests/unit/%.c | $(B)/tests $(SKELS)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/tests/test_%: $(B)/tests/test_%.o $(B)/libxjk.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(B)/tests/bpf/%.o: tests/bpf/%.c | $(B)/tests/bpf $(SKELS)
	$(CC) $(CFLAGS) -Itests/bpf -c $< -o $@

$(BPFT_BIN): %: %.o $(BPFT_LIB) $(B)/libxjk.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(FUZZ_B)/agent/%.o: agent/%.c | $(FUZZ_B)/agent $(SKELS)
	$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_B)/libxjk.a: $(AGENT_SRC:%.c=$(FUZZ_B)/%.o)
	$(AR) rcs $@ $^

$(FUZZ_B)/%.o: tests/fuzz/%.c | $(FUZZ_B)/agent
	$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

# --wrap: harness hosts never reach a resolver (tests/fuzz/fuzz_common.c).
$(FUZZ_B)/fuzz_%: $(FUZZ_B)/fuzz_%.o $(FUZZ_B)/fuzz_common.o $(FUZZ_B)/libxjk.a
	$(CLANG) -fsanitize=fuzzer,address,undefined -Wl,--wrap=getaddrinfo -o $@ $^ $(LDLIBS)

$(B) $(B)/bpf $(B)/agent $(B)/tools $(B)/tests $(B)/tests/bpf $(FUZZ_B)/agent:
	@mkdir -p $@

unit:
	@tools/deps.sh --unit
	@$(MAKE) -s all
	@B=$(B) tests/run.sh unit

integ: all
	@tests/run.sh integ

# Each pass prints its own count; XJK_TALLY adds them up for the last line. A
# failed pass does not stop the next ones: a run shows every failure.
check:
	@tools/deps.sh
	@$(MAKE) -s all
	@rm -f $(B)/check.tally
	@export XJK_TALLY=$(B)/check.tally; rc=0; \
	B=$(B) tests/run.sh all || rc=1; \
	$(MAKE) -s check-san || rc=1; \
	$(MAKE) -s check-valgrind VALGRIND_INTEG="$(CHECK_VALGRIND)" || rc=1; \
	exit $$rc

demo:
	@tools/deps.sh
	@$(MAKE) -s all
	@tools/demo.sh

bench:
	@tools/deps.sh
	@$(MAKE) -s all
	@for s in tools/bench/bench-*.sh; do "$$s" || exit 1; done

soak: all
	@B=$(B) tools/soak/run.sh

fuzz-build: $(FUZZ_BIN)

# Each harness starts from its seeds (tests/fuzz/corpus/NAME) and keeps what it
# learns in $(FUZZ_B)/corpus/NAME; a crash leaves $(FUZZ_B)/crash-NAME-*.
fuzz: fuzz-build
	@tests/fuzz/run.sh $(FUZZ_B) $(FUZZ_SECONDS)

check-san:
	@tools/deps.sh
	@$(MAKE) -s all B=$(SAN_B) SANITIZE=1
	@B=$(SAN_B) tests/run.sh unit
	@B=$(SAN_B) SANITIZE=1 XJK_SLOW=$(SAN_SLOW) XJK_TESTS="$(SAN_INTEG)" tests/run.sh integ

check-valgrind:
	@tools/deps.sh
	@$(MAKE) -s all
	@B=$(B) XJKD_WRAP="$(VALGRIND)" XJK_SLOW=20 XJK_TESTS="$(VALGRIND_INTEG)" tests/run.sh integ

format:
	clang-format -i $(wildcard agent/*.[ch] bpf/*.[ch] include/*.h tools/*.c tests/unit/*.[ch] tests/fuzz/*.[ch])

clean:
	rm -rf $(B)

# make install [PREFIX=/usr/local] [DESTDIR=staging dir]: binaries, man pages,
# the systemd unit (pointing at PREFIX), and the sample configuration unless
# one is there already. The BPF programs are built into xjkd (skeletons).
PREFIX    ?= /usr/local
SYSCONFDIR ?= /etc
UNITDIR   ?= /lib/systemd/system
install: $(B)/xjkd $(B)/xjkctl
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSCONFDIR)/xjk
	install -m 755 $(B)/xjkd $(B)/xjkctl $(DESTDIR)$(PREFIX)/sbin/
	install -m 644 docs/man/xjkd.8 docs/man/xjkctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 644 docs/man/xjk.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	sed 's|/usr/sbin/|$(PREFIX)/sbin/|; s|/etc/xjk/|$(SYSCONFDIR)/xjk/|' conf/xjkd.service \
		>$(DESTDIR)$(UNITDIR)/xjkd.service
	chmod 644 $(DESTDIR)$(UNITDIR)/xjkd.service
	for f in xjk.conf workers.properties; do \
		[ -e $(DESTDIR)$(SYSCONFDIR)/xjk/$$f ] || install -m 644 conf/$$f $(DESTDIR)$(SYSCONFDIR)/xjk/; \
	done

-include $(wildcard $(B)/*/*.d $(B)/*/*/*.d $(FUZZ_B)/*.d $(FUZZ_B)/*/*.d)
