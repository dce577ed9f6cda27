# livejobfs - build, test, demo, bench, install.
#   make              build ./livejobfs
#   make test         install missing packages, build, run unit and mounted tests
#   make demo         install missing packages, build, run mnt-example/ on a mount
#   make test SANITIZE=address,undefined   the same suite under ASan+UBSan
#   make install PREFIX=/usr/local DESTDIR=

CC       ?= cc
PREFIX   ?= /usr/local
DESTDIR  ?=
SANITIZE ?=
VERSION  := 0.1.0

comma := ,
ifeq ($(SANITIZE),)
BUILD    := build
else
BUILD    := build/san-$(subst $(comma),-,$(SANITIZE))
endif

PKGS     := fuse3 jansson libpcre2-8 liburing
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -DLJ_VERSION=\"$(VERSION)\" \
            -Iengine -MMD -MP -fno-strict-aliasing
LDLIBS   += -lpthread
ifneq ($(SANITIZE),)
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SANITIZE)
endif

# pkg-config flags are looked up only when the packages are there, so that
# `make test` on a fresh machine can first install them (scripts/deps.sh).
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

ENGINE_SRC := $(wildcard engine/*.c) $(wildcard engine/ops/*.c)
FS_SRC     := $(wildcard fs/*.c)
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_LIB   := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))

ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o)
FS_OBJ     := $(FS_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_LIBOBJ:= $(UNIT_LIB:%.c=$(BUILD)/%.o)

.PHONY: all deps test unit mounted demo bench install clean
all: livejobfs

deps:
	@sh scripts/deps.sh

ifeq ($(SANITIZE),)
livejobfs: $(BUILD)/livejobfs
	cp $< $@
else
livejobfs: $(BUILD)/livejobfs
endif

$(BUILD)/livejobfs: $(FS_OBJ) $(BUILD)/libengine.a
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

$(BUILD)/libengine.a: $(ENGINE_OBJ)
	@rm -f $@
	@echo "  AR      $@"
	@ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(UNIT_LIBOBJ) $(BUILD)/libengine.a
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(CFLAGS) $(PKG_CFLAGS) -Itests/unit -o $@ $< $(UNIT_LIBOBJ) $(BUILD)/libengine.a \
		$(LDFLAGS) $(PKG_LIBS) -lcmocka $(LDLIBS)

# The daemon under test: the sanitized build when SANITIZE is set.
export LIVEJOBFS_BIN = $(abspath $(BUILD)/livejobfs)

test: deps
	$(MAKE) --no-print-directory unit mounted

unit: $(BUILD)/livejobfs $(UNIT_BIN)
	@sh tests/run-unit.sh $(UNIT_BIN)

mounted: $(BUILD)/livejobfs
	@sh tests/mnt/run.sh

demo: deps
	$(MAKE) --no-print-directory livejobfs
	@sh scripts/demo.sh

bench: deps
	$(MAKE) --no-print-directory livejobfs
	@sh bench/run.sh

install: livejobfs
	install -D -m 0755 livejobfs $(DESTDIR)$(PREFIX)/bin/livejobfs
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/livejobfs/README.md

clean:
	rm -rf build livejobfs

-include $(ENGINE_OBJ:.o=.d) $(FS_OBJ:.o=.d)

# ---- fuzzing (make fuzz FUZZ_SECONDS=N) ----
# libFuzzer targets (fuzz/fuzz_*.c) for the spec parser, the schema
# validator, the template and replace params checks, the ctl parser and
# the ERE-to-PCRE2 translation (checked against regexec),
# each linked with the engine sources built by clang with ASan and UBSan
# into build/fuzz/. `make fuzz` runs each for FUZZ_SECONDS (fuzz/run.sh),
# and fails when one finds a crash, a leak, a timeout or an out-of-memory,
# leaving the input in build/fuzz/. clang and the libFuzzer runtime are
# installed when missing (scripts/fuzz-deps.sh).
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_DIR     := build/fuzz
FUZZ_TARGETS := spec schema template replace ctl ere
FUZZ_CFLAGS  := -g -O1 -std=c11 -Wall -D_GNU_SOURCE -DLJ_VERSION=\"$(VERSION)\" -Iengine \
                -fno-strict-aliasing -fno-omit-frame-pointer -MMD -MP \
                -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_OBJ     := $(ENGINE_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
FUZZ_BIN     := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)

.PHONY: fuzz fuzz-build fuzz-deps
fuzz: fuzz-deps
	$(MAKE) --no-print-directory fuzz-build
	@sh fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_DIR) $(FUZZ_TARGETS)

fuzz-deps: deps
	@FUZZ_CC=$(FUZZ_CC) sh scripts/fuzz-deps.sh

fuzz-build: $(FUZZ_BIN)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(shell pkg-config --cflags jansson libpcre2-8 2>/dev/null) -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz_common.h $(FUZZ_OBJ)
	@mkdir -p $(dir $@)
	@echo "  FUZZLD  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) \
		$(shell pkg-config --libs jansson libpcre2-8 2>/dev/null || echo -ljansson -lpcre2-8) -lpthread

.SECONDARY: $(FUZZ_OBJ)
-include $(FUZZ_OBJ:.o=.d) $(FUZZ_BIN:=.d)
