# rnnfx — one plain Makefile.
#
# The engine (engine/*.c) is built once as a static library and linked by the
# plugin, the tools and the tests. Sources are found by wildcard, so adding a
# file needs no edit here:
#   engine/*.c           -> $(BUILD)/librnnfx.a   (*_avx2.c / *_avx512.c get ISA flags)
#   tools/common/*.c     -> $(BUILD)/librnnfx-tools.a (code shared by the programs)
#   tools/rnnfx-*.c      -> $(BUILD)/bin/rnnfx-*  (one program each)
#   plugin/*.c           -> $(BUILD)/rnnfx.lv2/rnnfx.so, with ttl/ and presets/
#   tests/support/*.c    -> linked into every test
#   tests/test_*.c       -> $(BUILD)/tests/test_* (cmocka), run by `make test`
#   tests/test_*.sh      -> run by `make test` after the binaries
#   bench/...            -> see `make bench`
#
# The plugin and the engine are never built with fast-math options: they break
# isnan() and can change the host's floating-point mode.

PREFIX ?=
DESTDIR ?=
BUILD ?= build
CC ?= cc

# Neither given: the user's own folders. A DESTDIR (a package being staged)
# without PREFIX means the usual /usr/local under it, never $HOME.
ifeq ($(PREFIX)$(DESTDIR),)
LV2DIR ?= $(HOME)/.lv2
BINDIR ?= $(HOME)/.local/bin
else
LV2DIR ?= $(DESTDIR)$(or $(PREFIX),/usr/local)/lib/lv2
BINDIR ?= $(DESTDIR)$(or $(PREFIX),/usr/local)/bin
endif

# --- dependencies, each checked with a clear message ------------------------
PKGS := json-c sndfile samplerate lv2 lilv-0 cmocka portaudio-2.0
DEB_json-c := libjson-c-dev
DEB_sndfile := libsndfile1-dev
DEB_samplerate := libsamplerate0-dev
DEB_lv2 := lv2-dev
DEB_lilv-0 := liblilv-dev
DEB_cmocka := libcmocka-dev
DEB_portaudio-2.0 := portaudio19-dev
ifeq ($(filter clean uninstall,$(MAKECMDGOALS)),)
$(foreach p,$(PKGS),$(if $(shell pkg-config --exists $(p) && echo ok),,\
  $(error missing dependency '$(p)': install it with 'apt-get install $(DEB_$(p))' or run tools/setup-debian.sh)))
endif
pc_cflags = $(shell pkg-config --cflags $(1))
pc_libs = $(shell pkg-config --libs $(1))

WARN := -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
OPT ?= -O2
CFLAGS ?= $(OPT) -g
BASE_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -fPIC $(WARN) -Iengine
LDLIBS_ENGINE := $(call pc_libs,json-c samplerate sndfile) -lm -lpthread

# x86 kernel files get their instruction-set flags; on other machines they
# compile to nothing (their code is behind #if __x86_64__) and get none.
ifneq ($(filter x86_64 i%86,$(shell uname -m)),)
AVX2_FLAGS := -mavx2 -mfma -mf16c
AVX512_FLAGS := -mavx512f -mavx512vl -mavx512dq -mavx512bw -mavx2 -mfma -mf16c
endif

ENGINE_SRC := $(wildcard engine/*.c)
ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o)
ENGINE_LIB := $(BUILD)/librnnfx.a

TOOLS_COMMON_SRC := $(wildcard tools/common/*.c)
TOOLS_COMMON_OBJ := $(TOOLS_COMMON_SRC:%.c=$(BUILD)/%.o)
TOOLS_LIB := $(BUILD)/librnnfx-tools.a
TOOL_SRC := $(wildcard tools/rnnfx-*.c)
TOOLS := $(TOOL_SRC:tools/%.c=$(BUILD)/bin/%)
TOOLS_LDLIBS := $(call pc_libs,sndfile portaudio-2.0)

PLUGIN_SRC := $(wildcard plugin/*.c)
PLUGIN_OBJ := $(PLUGIN_SRC:%.c=$(BUILD)/%.o)
BUNDLE := $(BUILD)/rnnfx.lv2
PLUGIN_SO := $(BUNDLE)/rnnfx.so
BUNDLE_DATA := $(strip $(wildcard ttl/*.ttl) $(wildcard presets/*.ttl) $(wildcard presets/*.json) \
                       $(wildcard presets/*.wav) $(wildcard presets/LICENSE-*))

TEST_SUPPORT_SRC := $(wildcard tests/support/*.c)
TEST_SUPPORT_OBJ := $(TEST_SUPPORT_SRC:%.c=$(BUILD)/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TESTS := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_SCRIPTS := $(sort $(wildcard tests/test_*.sh))
TEST_LDLIBS := $(call pc_libs,cmocka sndfile lilv-0) -ldl

BENCH_SRC := $(wildcard bench/bench_*.c)
BENCHES := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.SECONDARY:
.PHONY: all engine tools plugin tests test bench bench-train bench-peers install uninstall clean demo
all: engine tools plugin tests

engine: $(ENGINE_LIB)
tools: $(TOOLS)
plugin: $(PLUGIN_SO)
tests: $(TESTS)

# --- engine ------------------------------------------------------------------
$(BUILD)/engine/%.o: engine/%.c $(wildcard engine/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $(call pc_cflags,json-c samplerate sndfile) \
	  $(if $(findstring _avx512,$*),$(AVX512_FLAGS),$(if $(findstring _avx2,$*),$(AVX2_FLAGS))) -c $< -o $@

# kernel bodies shared by several ISA builds (*.inc) are dependencies of every engine object
$(ENGINE_OBJ): $(wildcard engine/*.inc)

$(ENGINE_LIB): $(ENGINE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# --- tools -------------------------------------------------------------------
$(BUILD)/tools/%.o: tools/%.c $(wildcard engine/*.h tools/common/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -Itools/common $(call pc_cflags,sndfile portaudio-2.0 json-c) -c $< -o $@

$(TOOLS_LIB): $(TOOLS_COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/tools/%.o $(TOOLS_LIB) $(ENGINE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(TOOLS_LIB) $(ENGINE_LIB) $(TOOLS_LDLIBS) $(LDLIBS_ENGINE)

# --- plugin ------------------------------------------------------------------
$(BUILD)/plugin/%.o: plugin/%.c $(wildcard engine/*.h plugin/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -fvisibility=hidden $(call pc_cflags,lv2) -c $< -o $@

# Only lv2_descriptor is exported: plugin objects are built with hidden
# visibility and the static engine's symbols are hidden by --exclude-libs.
PLUGIN_LDFLAGS := -shared -Wl,--no-undefined -Wl,--exclude-libs,ALL
$(PLUGIN_SO): $(PLUGIN_OBJ) $(ENGINE_LIB) $(BUNDLE_DATA)
	@mkdir -p $(BUNDLE)
ifneq ($(PLUGIN_OBJ),)
	$(CC) $(CFLAGS) $(PLUGIN_LDFLAGS) -o $@ $(PLUGIN_OBJ) $(ENGINE_LIB) $(LDLIBS_ENGINE)
endif
ifneq ($(BUNDLE_DATA),)
	cp $(BUNDLE_DATA) $(BUNDLE)/
endif

# --- tests -------------------------------------------------------------------
$(BUILD)/tests/%.o: tests/%.c $(wildcard engine/*.h plugin/*.h tests/support/*.h tools/common/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -Itests/support -Itools/common \
	  $(call pc_cflags,cmocka sndfile lilv-0 lv2 json-c) -c $< -o $@

# test_fuzz_corpus.c includes the fuzz harnesses: a changed harness rebuilds it
$(BUILD)/tests/test_fuzz_corpus.o: $(wildcard tests/fuzz/*.c tests/fuzz/*.h)

$(BUILD)/tests/test_%: $(BUILD)/tests/test_%.o $(TEST_SUPPORT_OBJ) $(TOOLS_LIB) $(ENGINE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(TEST_SUPPORT_OBJ) $(TOOLS_LIB) $(ENGINE_LIB) $(TEST_LDLIBS) $(TOOLS_LDLIBS) $(LDLIBS_ENGINE)

# Runs every cmocka binary, then every test script; prints one summary line
# and fails if anything failed.
test: all
	@BUILD=$(BUILD) sh tests/run-all.sh $(TESTS) $(TEST_SCRIPTS)

# --- benchmarks (figures, not pass/fail) ----------------------------------------
$(BUILD)/bench/%: bench/%.c $(ENGINE_LIB) $(TOOLS_LIB) $(wildcard bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) -O3 -Itools/common $(call pc_cflags,sndfile lilv-0 lv2) -o $@ $< \
	  $(TOOLS_LIB) $(ENGINE_LIB) $(call pc_libs,lilv-0) $(TOOLS_LDLIBS) $(LDLIBS_ENGINE)

bench: all $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done
	@for s in $(sort $(wildcard bench/bench_*.sh)); do echo "== $$s"; BUILD=$(BUILD) sh $$s || exit 1; done

bench-train: all
	BUILD=$(BUILD) sh bench/train/run.sh

# rnnfx against RTNeural and NAM built from checkouts you name
# (bench/peers/README.md): RTNEURAL=dir XSIMD=dir NAM=dir. Not part of
# `bench`, which needs nothing beyond Debian's packages.
bench-peers: $(ENGINE_LIB)
	BUILD=$(BUILD) CC="$(CC)" RTNEURAL="$(RTNEURAL)" XSIMD="$(XSIMD)" NAM="$(NAM)" sh bench/peers/run.sh

demo: all
	BUILD=$(BUILD) sh tools/demo.sh

# --- fuzzing (clang + libFuzzer; not part of `all`) ------------------------------
# `make fuzz` builds tests/fuzz/fuzz_*.c into $(BUILD)/fuzz/ with the engine
# and tools/common recompiled under ASan+UBSan and coverage instrumentation;
# `make fuzz-run FUZZ_SECONDS=60` runs each for that long on its seeds (the
# committed corpus tests/fuzz/corpus/<name>/ plus the test data), keeping new
# inputs in $(BUILD)/fuzz/work/<name>/ and any crash in $(BUILD)/fuzz/.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -g -O1 $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_ENGINE_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/fuzz/obj/%.o)
FUZZ_TOOLS_OBJ := $(TOOLS_COMMON_SRC:%.c=$(BUILD)/fuzz/obj/%.o)
FUZZ_SEEDS_fuzz_model := tests/data/bad tests/data/interop tests/data/refs presets
FUZZ_OPTS_fuzz_model := -max_len=131072 -dict=tests/fuzz/model.dict
FUZZ_SEEDS_fuzz_arch :=
FUZZ_OPTS_fuzz_arch := -max_len=4096
FUZZ_SEEDS_fuzz_midi := tests/data/midi tests/data/midi/bad tests/data/midi/nottingham
FUZZ_OPTS_fuzz_midi := -max_len=16384
FUZZ_SEEDS_fuzz_manifest :=
FUZZ_OPTS_fuzz_manifest := -max_len=4096
FUZZ_SEEDS_fuzz_ir :=
FUZZ_OPTS_fuzz_ir := -max_len=65536
FUZZ_SEEDS_fuzz_checkpoint :=
FUZZ_OPTS_fuzz_checkpoint := -max_len=65536
.PHONY: fuzz fuzz-run fuzz-check

fuzz-check:
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { echo "make fuzz: '$(FUZZ_CC)' not found: install clang (apt-get install clang libclang-rt-dev) or set FUZZ_CC" >&2; exit 1; }
	@printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
	  | $(FUZZ_CC) -fsanitize=fuzzer,address,undefined -x c - -o /dev/null >/dev/null 2>&1 || \
	  { echo "make fuzz: '$(FUZZ_CC)' cannot link libFuzzer with ASan/UBSan: install the compiler runtime (apt-get install libclang-rt-dev, or libclang-rt-14-dev for clang 14)" >&2; exit 1; }

fuzz: fuzz-check $(FUZZ_BINS)

$(BUILD)/fuzz/obj/%.o: %.c $(wildcard engine/*.h engine/*.inc tools/common/*.h tests/fuzz/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(BASE_CFLAGS) $(FUZZ_CFLAGS) -Itools/common \
	  $(call pc_cflags,json-c samplerate sndfile portaudio-2.0) \
	  $(if $(findstring _avx512,$*),$(AVX512_FLAGS),$(if $(findstring _avx2,$*),$(AVX2_FLAGS))) -c $< -o $@

$(BUILD)/fuzz/libengine.a: $(FUZZ_ENGINE_OBJ)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/fuzz/libtools.a: $(FUZZ_TOOLS_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzz/obj/tests/fuzz/fuzz_%.o $(BUILD)/fuzz/libtools.a $(BUILD)/fuzz/libengine.a | fuzz-check
	$(FUZZ_CC) -g $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(TOOLS_LDLIBS) $(LDLIBS_ENGINE)

# -timeout: a hang counts; -rss_limit_mb: so does an allocation a hostile size
# can make huge. Pin with e.g. FUZZ_TASKSET='taskset -c 1'.
fuzz_name = $(1:fuzz_%=%)
fuzz_run_one = mkdir -p $(BUILD)/fuzz/work/$(fuzz_name) && echo "== $(1) for $(FUZZ_SECONDS) s" && \
  $(FUZZ_TASKSET) $(BUILD)/fuzz/$(1) $(BUILD)/fuzz/work/$(fuzz_name) tests/fuzz/corpus/$(fuzz_name) \
  $(FUZZ_SEEDS_$(1)) $(FUZZ_OPTS_$(1)) -timeout=5 -rss_limit_mb=2048 \
  -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/$(1)-;
fuzz-run: fuzz
	@set -e; $(foreach f,$(notdir $(FUZZ_BINS)),$(call fuzz_run_one,$(f)))

# --- install -------------------------------------------------------------------
install: all
	mkdir -p $(LV2DIR)/rnnfx.lv2 $(BINDIR)
	cp -r $(BUNDLE)/. $(LV2DIR)/rnnfx.lv2/
	$(if $(TOOLS),cp $(TOOLS) $(BINDIR)/)

uninstall:
	rm -rf $(LV2DIR)/rnnfx.lv2
	rm -f $(addprefix $(BINDIR)/,$(notdir $(TOOLS)))

clean:
	rm -rf $(BUILD)
