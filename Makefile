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
RT_SRCS   := wasmguest/rt/main.c wasmguest/rt/alloc.c wasmguest/rt/string.c wasmguest/rt/hostmod.c wasmguest/rt/io.c
RT_ASM    := wasmguest/rt/start.S

# Freestanding, position-dependent code for CPL3; no red zone, no unwind tables, no stack
# protector (there is no TLS), reproducible (no build ids, no absolute paths in output).
GUEST_CFLAGS := --target=x86_64-unknown-none-elf -std=c11 -O2 -ffreestanding -nostdlib -fno-pic \
  -fno-pie -mno-red-zone -mcmodel=small -fno-stack-protector -fno-asynchronous-unwind-tables \
  -fno-unwind-tables -fno-math-errno -fcf-protection=none -fno-ident -Wall -Wextra -Werror \
  -ffile-prefix-map=$(CURDIR)=. -I wasmguest/include -I $(ENGINE_DIR) $(ENGINE_CFLAGS)

GUEST_OBJS := $(patsubst %.c,$(BUILD)/guest/%.o,$(RT_SRCS) $(ENGINE_PATHS)) \
              $(patsubst %.S,$(BUILD)/guest/%.o,$(RT_ASM))

.PHONY: all guest cli test setup check-guest fuzz go-fuzz clean bench
all: guest cli

# The Debian packages the tests need: clang/lld/llvm 19 with the sanitizer, fuzzer and wasm32
# runtimes (guest image, hosted engine, C fixtures), wasi-libc and wabt. `make setup` installs
# those missing (apt-get as root, else through sudo); `make test` runs it first.
SETUP_PKGS := clang-19 lld-19 llvm-19 wabt libclang-rt-19-dev wasi-libc libclang-rt-19-dev-wasm32
SUDO       := $(if $(filter 0,$(shell id -u)),,sudo)

setup:
	@missing=$$(for p in $(SETUP_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing" $$missing; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

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
check-guest: setup
	@rm -rf $(BUILD)/guest && mkdir -p $(BUILD) && cp $(GUEST_BIN) $(BUILD)/guest.bin.committed
	@$(MAKE) --no-print-directory -B $(GUEST_BIN) >/dev/null
	@cmp $(GUEST_BIN) $(BUILD)/guest.bin.committed && echo 'guest image: committed = fresh build'

cli:
	$(GO) build -o $(BUILD)/hlwasm ./cmd/hlwasm

# What CI runs (.ci/run: exactly this, on an empty module cache): set-up, the committed guest
# image matches a fresh build, go vet, staticcheck, Go tests (real programs, host API, CLI), the
# packages with concurrency under the race detector (~3 min), the spec suite through micro-VMs
# (once, on its own with -v so that its per-file counts and summary lines show; the log is kept
# in build/spectest.log), the fast Go fuzz targets for TEST_FUZZ_TIME inputs each, the
# engine's edge-case tests and compiled-code walk, and the engine built hosted under ASan+UBSan:
# unit tests, the spec suite, a short libFuzzer run; then a short soak.
test: check-guest
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(GO) test -timeout 30m -skip '^TestSpec$$' ./...
	$(GO) test -race -timeout 20m ./host/ ./wasi/ ./internal/machine/
	@mkdir -p $(BUILD) && $(GO) test -count=1 -v -run TestSpec ./tests/spectest > $(BUILD)/spectest.log; \
	  status=$$?; grep -E '^[A-Za-z0-9_.-]+\.json: |^spectest: ' $(BUILD)/spectest.log; exit $$status
	$(MAKE) -C wasmguest/engine/tests edge codewalk OUT=$(CURDIR)/$(BUILD)/engine-tests
	$(MAKE) --no-print-directory go-fuzz GO_FUZZ_TIME=$(TEST_FUZZ_TIME) GO_FUZZ="$(GO_FUZZ_TEST)"
	$(MAKE) -C wasmguest/hosted ci FUZZ_TIME=$(FUZZ_TIME)
	$(MAKE) --no-print-directory soak SOAK_TIME=20s

# From the Go module proxy at a fixed version (the newest release; it supports Go 1.26).
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Seconds per libFuzzer target (make test, make fuzz) and per Go fuzz target (make fuzz).
FUZZ_TIME ?= 60
# make test runs each Go fuzz target for a number of inputs, not seconds: a -fuzztime duration
# that expires while a worker is busy (FuzzParse compiles inputs with wazero) fails the run with
# "context deadline exceeded", a Go fuzzing flake that CI hit.
TEST_FUZZ_TIME ?= 10000x

# The Go fuzz targets (package:name): the host's parsers of untrusted bytes. A failing input
# is written to the package's testdata/fuzz/<name>/: commit it as a regression seed.
GO_FUZZ := ./internal/wasmbin:FuzzParse ./wit:FuzzWAVE ./wit:FuzzLift ./components:FuzzStructure \
  ./components:FuzzDecode ./components:FuzzLink ./internal/machine:FuzzMailbox ./internal/machine:FuzzSnapshotFile
# make test skips FuzzDecode (wasm-tools under wazero: ~20 inputs a second, little in seconds).
GO_FUZZ_TEST := $(filter-out %:FuzzDecode,$(GO_FUZZ))

# Minimizing every new interesting input takes up to a minute by default (FuzzDecode spent half
# of a 2-minute run on it): 10 s leaves the time to fuzzing.
GO_FUZZ_FLAGS ?= -fuzzminimizetime=10s

go-fuzz:
	@for t in $(GO_FUZZ); do \
	  echo "== $${t##*:} ($${t%%:*}, $(GO_FUZZ_TIME))"; \
	  $(GO) test -run '^$$' -fuzz "^$${t##*:}\$$" -fuzztime $(GO_FUZZ_TIME) $(GO_FUZZ_FLAGS) $${t%%:*} || exit 1; \
	done

# Every fuzz target for FUZZ_TIME seconds: the Go ones, then the libFuzzer ones (with the
# hosted engine's unit and spec tests: wasmguest/hosted's ci).
fuzz:
	$(MAKE) --no-print-directory go-fuzz GO_FUZZ_TIME=$(FUZZ_TIME)s
	$(MAKE) -C wasmguest/hosted ci FUZZ_TIME=$(FUZZ_TIME)

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
