# tests/fuzz/fuzz.mk - fuzz targets (STYLE.md C8, example 11), included by
# the Makefile. One target per decoder: tests/fuzz/fuzz_<name>.c with its
# seed corpus in tests/fuzz/corpus/<name>/.
#
#   make fuzz-replay   gcc + ASan/UBSan, each target linked with
#                      replay_main.c and run once over its corpus; part of
#                      `make test`. Build dir: build/fuzz-replay/.
#   make fuzz          clang + libFuzzer, each target fuzzed FUZZ_SECONDS
#                      (default 60) on its corpus, which libFuzzer grows in
#                      place. Build dir: build/fuzz/; crashing inputs land in
#                      build/fuzz/artifacts/<name>/. Not part of `make test`.
#
# A crash that is a bug in src/ is reproduced with
#   build/fuzz-replay/fuzz_<name> FILE
# and kept in tests/fuzz/crashes/<name>/ (never replayed) until fixed; then
# it moves into the corpus as a regression input.
#
# Targets link only the layers they exercise: src/core, src/proto, src/db,
# src/ds, src/server/config.c and the WAL codec (src/storage/wal.c, io.c),
# through an archive so each takes what it needs. fuzz_config also wraps
# fopen() (see fuzz_config.c).
#
# What reads untrusted bytes, and its target: network input (resp_parse),
# config files and inline commands (config, split_args), patterns (glob),
# and what recovery and engram-check read from disk: WAL segments (wal),
# record bodies (effect) and the collection values of snapshots (values).

FUZZ_TARGETS := resp_parse split_args config glob effect values wal wal_damage
FUZZ_SECONDS ?= 60
FUZZ_CLANG ?= clang
FUZZ_GCC ?= gcc
FUZZ_PKGS := clang libclang-rt-14-dev

FUZZ_LIB_SRCS := $(sort $(wildcard src/core/*.c src/proto/*.c src/db/*.c src/ds/*.c)) \
                 src/server/config.c src/storage/wal.c src/storage/io.c
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_LDFLAGS_config := -Wl,--wrap=fopen
# Extra libFuzzer options per target. The glob matcher is O(plen * slen) by
# design, and with coverage instrumentation a 3 KB input takes ~40 ms, so
# glob inputs are capped at 1 KB (measured: ~180 exec/s at 3 KB, ~4000 at
# 1 KB). The 1000-star limit needs longer patterns: its seeds (stars-1000,
# stars-1001) are replayed by fuzz-replay but not mutated by the fuzzer.
FUZZ_OPTS_glob := -max_len=1024

# gcc replay build
FUZZ_R := build/fuzz-replay
FUZZ_R_CFLAGS := $(BASE) -O1 -DDEBUG $(FUZZ_SAN)
FUZZ_R_OBJS := $(FUZZ_LIB_SRCS:%.c=$(FUZZ_R)/%.o) $(FUZZ_R)/tests/fuzz/replay_main.o \
               $(FUZZ_TARGETS:%=$(FUZZ_R)/tests/fuzz/fuzz_%.o)
FUZZ_R_BINS := $(FUZZ_TARGETS:%=$(FUZZ_R)/fuzz_%)

# clang libFuzzer build
FUZZ_F := build/fuzz
FUZZ_F_CFLAGS := $(BASE) -O1 -DDEBUG -fsanitize=fuzzer,address,undefined \
                 -fno-sanitize-recover=all
FUZZ_F_OBJS := $(FUZZ_LIB_SRCS:%.c=$(FUZZ_F)/%.o) $(FUZZ_TARGETS:%=$(FUZZ_F)/tests/fuzz/fuzz_%.o)
FUZZ_F_BINS := $(FUZZ_TARGETS:%=$(FUZZ_F)/fuzz_%)

.PHONY: fuzz fuzz-replay fuzz-deps

fuzz-replay:: $(FUZZ_R_BINS)
	@for t in $(FUZZ_TARGETS); do \
	  $(FUZZ_R)/fuzz_$$t tests/fuzz/corpus/$$t || \
	    { echo "fuzz-replay $$t: FAILED (reproduce: $(FUZZ_R)/fuzz_$$t -v tests/fuzz/corpus/$$t)"; exit 1; }; \
	done

$(FUZZ_R)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $< (fuzz-replay)"
	@$(FUZZ_GCC) $(FUZZ_R_CFLAGS) -c -o $@ $<

$(FUZZ_R)/libengram.a: $(FUZZ_LIB_SRCS:%.c=$(FUZZ_R)/%.o)
	@rm -f $@ && ar rcs $@ $^

$(FUZZ_R)/fuzz_%: $(FUZZ_R)/tests/fuzz/fuzz_%.o $(FUZZ_R)/tests/fuzz/replay_main.o \
                  $(FUZZ_R)/libengram.a
	$(FUZZ_GCC) $(FUZZ_SAN) -o $@ $^ $(FUZZ_LDFLAGS_$*) $(LDLIBS)

# One fuzz-run-<name> per target (they may run in parallel under make -j).
fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)

fuzz-run-%: $(FUZZ_F)/fuzz_%
	@mkdir -p $(FUZZ_F)/artifacts/$* tests/fuzz/corpus/$*
	@echo "fuzz $*: $(FUZZ_SECONDS) s"
	$< -max_total_time=$(FUZZ_SECONDS) -timeout=10 $(FUZZ_OPTS_$*) \
	  $(if $(wildcard tests/fuzz/$*.dict),-dict=tests/fuzz/$*.dict) \
	  -artifact_prefix=$(FUZZ_F)/artifacts/$*/ tests/fuzz/corpus/$*

# The libFuzzer runtime comes from Debian's libclang-rt-14-dev: install it
# when root, else say how (like the Makefile's `deps`).
fuzz-deps:
	@missing=""; \
	for p in $(FUZZ_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "missing fuzz packages; run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

$(FUZZ_F)/%.o: %.c | fuzz-deps
	@mkdir -p $(dir $@)
	@echo "  CC $< (fuzz)"
	@$(FUZZ_CLANG) $(FUZZ_F_CFLAGS) -c -o $@ $<

$(FUZZ_F)/libengram.a: $(FUZZ_LIB_SRCS:%.c=$(FUZZ_F)/%.o)
	@rm -f $@ && ar rcs $@ $^

$(FUZZ_F)/fuzz_%: $(FUZZ_F)/tests/fuzz/fuzz_%.o $(FUZZ_F)/libengram.a | fuzz-deps
	$(FUZZ_CLANG) -fsanitize=fuzzer,address,undefined -o $@ $^ $(FUZZ_LDFLAGS_$*) $(LDLIBS)

# Keep the objects make would see as intermediate (built by chained rules):
# the targets' own objects only. The library objects are named as the
# archives' prerequisites, so they are not intermediate; listing them here
# made make skip a missing one (a source newly added to FUZZ_LIB_SRCS) when
# the archive was newer than its source, and the link then failed.
.SECONDARY: $(FUZZ_R)/tests/fuzz/replay_main.o $(FUZZ_TARGETS:%=$(FUZZ_R)/tests/fuzz/fuzz_%.o) \
            $(FUZZ_TARGETS:%=$(FUZZ_F)/tests/fuzz/fuzz_%.o)
-include $(FUZZ_R_OBJS:.o=.d) $(FUZZ_F_OBJS:.o=.d)
