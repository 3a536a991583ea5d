# xjk: one Makefile for the BPF programs, the agent (xjkd), the tools and the tests.
#
#   make            build everything into build/
#   make deps       install the Debian packages the project needs (idempotent)
#   make unit       fast unit tier (cmocka, no root)
#   make check      every tier: unit, BPF_PROG_RUN, netns integration with real Tomcats
#   make demo       the seed's scenario in a throwaway netns lab
#   make bench      side-by-side benchmarks against the peers (docs/performance.md)

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

.PHONY: all deps unit integ check demo bench fuzz format clean install
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

$(B) $(B)/bpf $(B)/agent $(B)/tools $(B)/tests $(B)/tests/bpf:
	@mkdir -p $@

unit:
	@tools/deps.sh --unit
	@$(MAKE) -s all
	@B=$(B) tests/run.sh unit

integ: all
	@tests/run.sh integ

check:
	@tools/deps.sh
	@$(MAKE) -s all
	@B=$(B) tests/run.sh all

demo:
	@tools/deps.sh
	@$(MAKE) -s all
	@tools/demo.sh

bench:
	@tools/deps.sh
	@$(MAKE) -s all
	@for s in tools/bench/bench-*.sh; do "$$s" || exit 1; done

format:
	clang-format -i $(wildcard agent/*.[ch] bpf/*.[ch] include/*.h tools/*.c tests/unit/*.[ch])

clean:
	rm -rf $(B)

-include $(wildcard $(B)/*/*.d)
