# engram - GNU Makefile (STYLE.md C9). Modes build into their own folders:
#   make           release server: bin/engram-server (build/release)
#   make debug     build/debug/engram-server (-O0 -DDEBUG)
#   make asan      build/asan/engram-server (ASan + UBSan)
#   make run       release build, started on 127.0.0.1:6379 with ./data
#   make test      install test dependencies if root and missing, then unit +
#                  integration tests against the ASan build
SHELL := /bin/bash
CC ?= gcc
WERROR ?= 1

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wmissing-declarations -Wold-style-definition -Wpointer-arith -Wcast-align \
        -Wformat=2 -Wvla -Wundef -Wimplicit-fallthrough -Wnull-dereference -Wwrite-strings
ifeq ($(WERROR),1)
WARN += -Werror
endif
BASE := -std=c11 -D_GNU_SOURCE -g -fno-omit-frame-pointer -MMD -MP -Isrc -Itests $(WARN)
LDLIBS := -lm -lpthread

MODE ?= release
ifeq ($(MODE),release)
MODE_FLAGS := -O2
else ifeq ($(MODE),debug)
MODE_FLAGS := -O0 -DDEBUG
else ifeq ($(MODE),asan)
MODE_FLAGS := -O1 -DDEBUG -fsanitize=address,undefined -fno-sanitize-recover=all
endif
CFLAGS := $(BASE) $(MODE_FLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(MODE_FLAGS)

BUILD := build/$(MODE)
SRCS := $(shell find src -name '*.c' | sort)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
OBJS := $(SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(shell find tests/unit tests/harness -name '*.c' 2>/dev/null | sort)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/%.o)

SERVER := $(BUILD)/engram-server
UNIT := $(BUILD)/engram-unit

PY := /usr/bin/python3
TEST_PKGS := python3-pytest python3-redis redis-tools redis-server

.PHONY: all release debug asan run test test-unit test-integration deps clean bench bench-transfer bench-collections format lint

all: release

release:
	@$(MAKE) --no-print-directory MODE=release build-mode
	@mkdir -p bin && cp build/release/engram-server bin/.engram-server.tmp && mv -f bin/.engram-server.tmp bin/engram-server

debug:
	@$(MAKE) --no-print-directory MODE=debug build-mode

asan:
	@$(MAKE) --no-print-directory MODE=asan build-mode

.PHONY: build-mode
build-mode: $(SERVER) $(UNIT)

$(SERVER): $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(UNIT): $(LIB_OBJS) $(UNIT_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

-include $(OBJS:.o=.d) $(UNIT_OBJS:.o=.d)

run: release
	@mkdir -p data
	./bin/engram-server --port 6379 --bind 127.0.0.1 --dir ./data

# Install what the tests need from Debian's packages (root only), or say how.
deps:
	@missing=""; \
	for p in $(TEST_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing test packages; run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

test-unit: asan
	./build/asan/engram-unit

test-integration: asan
	ENGRAM_SERVER=$(CURDIR)/build/asan/engram-server $(PY) -m pytest -q -p no:cacheprovider \
		tests/integration $$(test -d tests/crash && echo tests/crash)

# Layer rules (STYLE.md C1). Formatting (clang-format) is not enforced yet.
lint:
	@bash tools/check-layers.sh

test: deps
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory release
	@$(MAKE) --no-print-directory test-unit
	@$(MAKE) --no-print-directory fuzz-replay
	@$(MAKE) --no-print-directory test-integration

# Fuzz targets (tests/fuzz): `fuzz-replay` replays the corpora with gcc +
# ASan in every test run; `fuzz` runs libFuzzer (clang) for a bounded time.
-include tests/fuzz/fuzz.mk
-include tools/engram-check.mk
fuzz-replay::

bench: release
	bash bench/compare.sh

# Transactions benchmark (issue 4): engram vs redis-server vs PostgreSQL.
# The script builds its load generator, bench/transfer.c, into build/bench/.
bench-transfer: release
	bash bench/transfer.sh

# Collections benchmark (issue 5): lists, sets, hashes, sorted sets, memory.
bench-collections: release
	bash bench/collections.sh

format:
	clang-format -i $$(find src tests -name '*.[ch]')

clean:
	rm -rf build bin
