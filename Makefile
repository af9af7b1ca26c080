# hlwasm build. `make` rebuilds the guest image (committed, embedded with go:embed) and the CLI;
# `make test` runs everything CI runs. The guest image must rebuild byte-identically.
GO        ?= go
GUEST_CC  ?= clang-19
GUEST_LD  ?= ld.lld-19
OBJCOPY   ?= llvm-objcopy-19
BUILD     := build
GUEST_BIN := wasmguest/guest.bin

ENGINE_DIR := wasmguest/engine
include $(ENGINE_DIR)/engine.mk
include mk/testdata.mk
ENGINE_PATHS := $(addprefix $(ENGINE_DIR)/,$(ENGINE_SRCS))
RT_SRCS   := wasmguest/rt/main.c wasmguest/rt/alloc.c wasmguest/rt/string.c wasmguest/rt/hostmod.c
RT_ASM    := wasmguest/rt/start.S

# Freestanding, position-dependent code for CPL3; no red zone, no unwind tables, no stack
# protector (there is no TLS), reproducible (no build ids, no absolute paths in output).
GUEST_CFLAGS := --target=x86_64-unknown-none-elf -std=c11 -O2 -ffreestanding -nostdlib -fno-pic \
  -fno-pie -mno-red-zone -mcmodel=small -fno-stack-protector -fno-asynchronous-unwind-tables \
  -fno-unwind-tables -fno-math-errno -fcf-protection=none -fno-ident -Wall -Wextra -Werror \
  -ffile-prefix-map=$(CURDIR)=. -I wasmguest/include -I $(ENGINE_DIR) $(ENGINE_CFLAGS)

GUEST_OBJS := $(patsubst %.c,$(BUILD)/guest/%.o,$(RT_SRCS) $(ENGINE_PATHS)) \
              $(patsubst %.S,$(BUILD)/guest/%.o,$(RT_ASM))

.PHONY: all guest cli test check-guest clean bench
all: guest cli

guest: $(GUEST_BIN)

$(BUILD)/guest/%.o: %.c $(wildcard wasmguest/include/*.h $(ENGINE_DIR)/*.h wasmguest/rt/*.h)
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guest/%.o: %.S wasmguest/include/abi.h
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guest/guest.elf: $(GUEST_OBJS) wasmguest/rt/link.ld
	$(GUEST_LD) -nostdlib -static --build-id=none -z max-page-size=4096 -z norelro \
	  -T wasmguest/rt/link.ld -o $@ $(GUEST_OBJS)

$(GUEST_BIN): $(BUILD)/guest/guest.elf
	$(OBJCOPY) -O binary $< $@

# CI: the committed image must equal a fresh build.
check-guest:
	@rm -rf $(BUILD)/guest && mkdir -p $(BUILD) && cp $(GUEST_BIN) $(BUILD)/guest.bin.committed
	@$(MAKE) --no-print-directory -B $(GUEST_BIN) >/dev/null
	@cmp $(GUEST_BIN) $(BUILD)/guest.bin.committed && echo 'guest image: committed = fresh build'

cli:
	$(GO) build -o $(BUILD)/hlwasm ./cmd/hlwasm

# What CI runs (.ci/run installs the toolchain first): the committed guest image matches a fresh
# build, Go vet and tests (the spec suite through micro-VMs, real programs, host API, CLI), and
# the engine built hosted under ASan+UBSan: its edge-case tests, unit tests, the spec suite, a
# short fuzz run. TestSpec runs once, on its own with -v so that its per-file counts and
# summary lines can be shown (the log is kept in build/spectest.log).
test: check-guest
	$(GO) vet ./...
	$(GO) test -timeout 30m -skip '^TestSpec$$' ./...
	@mkdir -p $(BUILD) && $(GO) test -count=1 -v -run TestSpec ./tests/spectest > $(BUILD)/spectest.log; \
	  status=$$?; grep -E '^[A-Za-z0-9_.-]+\.json: |^spectest: ' $(BUILD)/spectest.log; exit $$status
	$(MAKE) -C wasmguest/engine/tests edge OUT=$(CURDIR)/$(BUILD)/engine-tests
	$(MAKE) -C wasmguest/hosted ci FUZZ_TIME=$(FUZZ_TIME)

FUZZ_TIME ?= 60

# The benchmark table: hlwasm, the raw KVM floors, wazero and Wasmtime (built from its own
# module so cgo stays out of hlwasm) in one run, with a chart.
bench: cli
	cd bench/wasmtime && $(GO) build -o $(CURDIR)/$(BUILD)/wasmtime-bench ./cmd/wasmtime-bench
	$(BUILD)/hlwasm bench --resets --wasmtime $(BUILD)/wasmtime-bench --chart $(BUILD)/bench.svg

clean:
	rm -rf $(BUILD)
