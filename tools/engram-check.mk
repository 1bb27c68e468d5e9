# tools/engram-check.mk - the offline WAL checker (tools/engram-check.c).
# Included by the Makefile (-include tools/engram-check.mk). It is built in
# every mode, like the server, by the `tools` target:
#   make           -> build/release/engram-check, copied to bin/engram-check
#   make asan      -> build/asan/engram-check (what the tests run)
#   make debug     -> build/debug/engram-check
# It links only src/core, src/proto and src/storage: no server code. Objects
# are shared with the server's build of the same mode (same CFLAGS: $(BASE)
# plus the mode's flags, -O2 in release).

CHECK_SRCS := tools/engram-check.c \
              $(sort $(wildcard src/core/*.c src/proto/*.c src/storage/*.c))
CHECK_OBJS := $(CHECK_SRCS:%.c=$(BUILD)/%.o)
CHECK := $(BUILD)/engram-check

.PHONY: tools
tools: $(CHECK)

# build-mode has no recipe, so this only adds a prerequisite: every mode
# that builds the server builds the checker too.
build-mode: tools

$(CHECK): $(CHECK_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

ifeq ($(MODE),release)
tools: bin/engram-check

bin/engram-check: $(CHECK)
	@mkdir -p bin && cp $< $@
endif

-include $(BUILD)/tools/engram-check.d
