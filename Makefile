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
# the engine built hosted under ASan+UBSan: unit tests, the spec suite, a short fuzz run.
test: check-guest
	$(GO) vet ./...
	$(GO) test -timeout 30m ./...
	@mkdir -p $(BUILD) && $(GO) test -count=1 -v -run TestSpec ./tests/spectest > $(BUILD)/spectest.log; \
	  status=$$?; grep -E '^[A-Za-z0-9_.-]+\.json: |^spectest: ' $(BUILD)/spectest.log; exit $$status
	$(MAKE) -C wasmguest/hosted ci FUZZ_TIME=$(FUZZ_TIME)
	$(MAKE) --no-print-directory soak SOAK_TIME=20s

FUZZ_TIME ?= 60

# The benchmark table: hlwasm, the raw KVM floors, wazero and Wasmtime (built from its own
# module so cgo stays out of hlwasm) in one run, with a chart.
bench: cli
	cd bench/wasmtime && $(GO) build -o $(CURDIR)/$(BUILD)/wasmtime-bench ./cmd/wasmtime-bench
	$(BUILD)/hlwasm bench --resets --wasmtime $(BUILD)/wasmtime-bench --chart $(BUILD)/bench.svg

# The soak test (tests/soak): calls with random deadlines and cancellations, traps, WASI stdio
# and sandbox churn from 8 goroutines for SOAK_TIME (default 2m), every result checked, then a
# leak check (fds, goroutines, threads, RSS). The full log is build/soak.log.
.PHONY: soak
soak:
	@mkdir -p $(BUILD) && SOAK_TIME=$(or $(SOAK_TIME),2m) $(GO) test -count=1 -v -timeout 0 -run 'TestSoak$$' ./tests/soak > $(BUILD)/soak.log 2>&1; \
	  status=$$?; if [ $$status = 0 ]; then grep -E 'soak: |calibration|baseline|end, modules|soak summary|^(---|ok|PASS)' $(BUILD)/soak.log; else cat $(BUILD)/soak.log; fi; exit $$status

clean:
	rm -rf $(BUILD)
