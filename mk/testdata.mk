# mk/testdata.mk — builds the committed Wasm fixtures, benchmark kernels and example guests from
# their committed sources. Included by the top-level Makefile; also usable alone:
#   make -f mk/testdata.mk testdata bench-wasm examples-wasm
# Paths are relative to the repository root (run make there).
#
#   testdata         tests/testdata/*.wasm (+ tests/testdata/malformed/*, from gen.go) and
#                    tests/soak/testdata/*.wasm
#   bench-wasm       bench/*.wasm from bench/kernels/*.c, and bench/gobig.wasm (Go, wasip1,
#                    imports stubbed out)
#   examples-wasm    examples/guests/*.wasm (+ the copy examples/embed/add.wasm)
#   wasm-repro-check rebuild all of the above from scratch and require byte-identical output
#
# Outputs are deterministic for a given toolchain (clang-19/wasm-ld-19, wabt's wat2wasm, and for
# gobig.wasm the Go release): no debug info (so no paths), no timestamps, fixed file modes.
# Go toolchain upgrades change gobig.wasm; the C/WAT outputs only change with clang/wabt.

# Do not let this fragment's first rule become the including Makefile's default goal.
TD_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

TD_CLANG    ?= clang-19
TD_WAT2WASM ?= wat2wasm
TD_GO       ?= go

# Freestanding wasm32: no libc, no imports, no entry point. -mcpu=mvp keeps the output to the
# Wasm 1.0 instruction set (no sign-ext, bulk memory, multivalue or reference types), so the
# binaries run on any engine. --strip-debug keeps the name section (for backtraces) but no
# DWARF, which would embed build paths.
TD_CFLAGS   := --target=wasm32 -mcpu=mvp -O2 -nostdlib -ffreestanding -Wall -Wno-unused-function
TD_LDFLAGS  := -Wl,--no-entry -Wl,--strip-debug

# every tests/testdata/*.wat (traps, arith, hostcall, nested, and the lead's fresh, imports)
TD_WAT_FIXTURES   := $(patsubst %.wat,%.wasm,$(wildcard tests/testdata/*.wat))
TD_C_FIXTURES     := tests/testdata/c_basic.wasm
TD_SOAK_FIXTURES  := $(patsubst %.wat,%.wasm,$(wildcard tests/soak/testdata/*.wat))
TD_MALFORMED      := tests/testdata/malformed/README.md
BENCH_KERNELS     := fib sha256 nbody qsort gemm
BENCH_WASM        := $(BENCH_KERNELS:%=bench/%.wasm)
BENCH_GOWASM      := bench/gobig.wasm
EXAMPLES_WASM     := examples/guests/add.wasm examples/guests/hello.wasm examples/embed/add.wasm

TD_ALL_WASM := $(TD_WAT_FIXTURES) $(TD_SOAK_FIXTURES) $(TD_C_FIXTURES) $(BENCH_WASM) $(BENCH_GOWASM) \
	$(filter-out examples/embed/add.wasm,$(EXAMPLES_WASM))

.PHONY: testdata bench-wasm examples-wasm wasm-repro-check

testdata: $(TD_WAT_FIXTURES) $(TD_SOAK_FIXTURES) $(TD_C_FIXTURES) $(TD_MALFORMED)
bench-wasm: $(BENCH_WASM) $(BENCH_GOWASM)
examples-wasm: $(EXAMPLES_WASM)

# --- WAT ---
tests/testdata/%.wasm: tests/testdata/%.wat
	$(TD_WAT2WASM) $< -o $@
	chmod 644 $@

tests/soak/testdata/%.wasm: tests/soak/testdata/%.wat
	$(TD_WAT2WASM) $< -o $@
	chmod 644 $@

examples/guests/%.wasm: examples/guests/%.wat
	$(TD_WAT2WASM) $< -o $@
	chmod 644 $@

# --- C ---
# --export-dynamic exports every non-static function (c_basic.c also marks them export_name).
tests/testdata/c_basic.wasm: tests/testdata/c_basic.c
	$(TD_CLANG) $(TD_CFLAGS) $(TD_LDFLAGS) -Wl,--export-dynamic -o $@ $<
	chmod 644 $@

examples/guests/%.wasm: examples/guests/%.c
	$(TD_CLANG) $(TD_CFLAGS) $(TD_LDFLAGS) -o $@ $<
	chmod 644 $@

bench/%.wasm: bench/kernels/%.c bench/kernels/rt.h
	$(TD_CLANG) $(TD_CFLAGS) $(TD_LDFLAGS) -o $@ $<
	chmod 644 $@

# go:embed cannot reach ../guests, so the embed example keeps a copy.
examples/embed/add.wasm: examples/guests/add.wasm
	cp $< $@
	chmod 644 $@

# --- generated malformed binaries (README.md lists them; all are written by one run) ---
$(TD_MALFORMED): tests/testdata/malformed/gen.go
	$(TD_GO) run ./tests/testdata/malformed/gen.go -o tests/testdata/malformed

# --- a ~4 MiB Go-built module for BenchmarkCompileGoModule ---
# Built for wasip1, then its 16 WASI imports are replaced by `unreachable` stubs (same function
# indices) so that engines that refuse imports (hlwasm) can load it too. Only the stubbed module
# is committed.
# .SECONDARY: after `make clean` removes build/, a missing intermediate alone does not force a
# rebuild of the committed bench/gobig.wasm.
.SECONDARY: build/bench/gobig-wasip1.wasm
build/bench/gobig-wasip1.wasm: bench/gobig/main.go
	@mkdir -p $(dir $@)
	GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 $(TD_GO) build -trimpath -buildvcs=false -o $@ ./bench/gobig

$(BENCH_GOWASM): build/bench/gobig-wasip1.wasm bench/gobig/stubimports/main.go
	$(TD_GO) run ./bench/gobig/stubimports < $< > $@.tmp && mv $@.tmp $@
	chmod 644 $@

# Rebuild everything twice from scratch (make -B) and compare the two builds byte for byte.
wasm-repro-check:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(MAKE) --no-print-directory -B -f mk/testdata.mk testdata bench-wasm examples-wasm >/dev/null; \
	for f in $(TD_ALL_WASM) tests/testdata/malformed/*.wasm; do \
		mkdir -p "$$tmp/$$(dirname $$f)"; cp "$$f" "$$tmp/$$f"; done; \
	$(MAKE) --no-print-directory -B -f mk/testdata.mk testdata bench-wasm examples-wasm >/dev/null; \
	status=0; for f in $(TD_ALL_WASM) tests/testdata/malformed/*.wasm; do \
		cmp -s "$$f" "$$tmp/$$f" || { echo "not reproducible: $$f"; status=1; }; done; \
	[ $$status = 0 ] && echo "wasm-repro-check: all outputs byte-identical"; exit $$status

ifneq ($(TD_SAVED_DEFAULT_GOAL),)
.DEFAULT_GOAL := $(TD_SAVED_DEFAULT_GOAL)
else ifeq ($(words $(MAKEFILE_LIST)),1)
.DEFAULT_GOAL := testdata
else
.DEFAULT_GOAL :=
endif
