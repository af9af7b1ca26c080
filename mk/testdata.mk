# mk/testdata.mk — the one place that builds committed Wasm: every committed .wasm (and the two
# committed files derived from one) is listed below with its source and recipe, and built by a
# rule in this file from its committed sources. Included by the top-level Makefile; also
# usable alone. Paths are relative to the repository root (run make there):
#
#   make -f mk/testdata.mk fixtures        rebuild everything in place (needs all the tools)
#   make -f mk/testdata.mk FILE            rebuild one file, e.g. tests/testdata/traps.wasm
#   make -f mk/testdata.mk check-testdata  rebuild everything into a temporary directory and
#                                          compare it with the committed files (see below)
#
# Group targets: testdata (tests/testdata, without the components), components, bench-wasm,
# examples-wasm, spectest-wasm, internal-wasm, engine-wasm.
#
# Inventory (source -> committed output; recipe):
#
#   WAT, wabt's wat2wasm (TD_WAT):
#     tests/testdata/{arith,fresh,hostcall,imports,linked_a,linked_b,mem4g,nested,simdleft,traps}.wat -> .wasm
#     tests/soak/testdata/soak.wat -> soak.wasm
#     tests/testdata/wasi/{stdio,ioscript}.wat -> .wasm
#     examples/guests/add.wat -> add.wasm (and the copy examples/embed/add.wasm)
#     tests/spectest/spectest.wat -> spectest.wasm (the `spectest` module of the spec suite, for
#       the Go runner's wazero backend, which has no 64-bit tables)
#     internal/bench/modules/{bench,hostcalls}.wat -> .wasm
#     internal/wazeroengine/testdata/host.wat -> host.wasm
#     wasmguest/engine/tests/wat/{edge,slots,fuel}.wat -> .wasm
#     internal/wasmbin/testdata/{empty,imports,plain}.wat -> .wasm (--enable-extended-const)
#   WAT with a 64-bit table, which wabt 1.0.32 cannot read: the spec's reference interpreter
#   ($(TD_SPEC_INTERP), below) assembles it (`wasm -d x.wat -o x.wasm`):
#     wasmguest/engine/tests/wat/gc.wat -> gc.wasm (GC: struct and array types; TD_WAT_GC)
#     wasmguest/engine/tests/wat/{jit3,jit3b,jit3m,jit3ea,jit3eb,jit3ec}.wat -> .wasm (the
#       compile tier's 3.0 tests: tail calls, typed references, memory64, exceptions; TD_WAT_GC)
#     tests/spectest/spectest.wat plus the spec's 64-bit `table64` export (added by the recipe)
#       -> spectest64.wasm (the `spectest` module of the micro-VM backend and of the hosted C
#       runner, which includes wasmguest/hosted/spectest_wasm.inc, the same bytes as a C
#       initializer made with od)
#   C, clang-19 --target=wasm32 -mcpu=mvp, freestanding (TD_C):
#     tests/testdata/c_basic.c -> c_basic.wasm (--export-dynamic)
#     bench/kernels/{fib,sha256,nbody,qsort,gemm,simd}.c (+ rt.h) -> bench/*.wasm (simd: -msimd128)
#     examples/guests/hello.c -> hello.wasm
#   C, clang-19 --target=wasm32 -nostdlib, memory exported (WIT guests, TD_WIT_C):
#     examples/wit/guest/hello.c -> examples/wit/hello.wasm
#     tests/testdata/wit/rt.c (+ rt_gen.c) -> rt.wasm (--allow-undefined: the WIT imports)
#     tests/testdata/wit/res.c -> res.wasm
#     tests/testdata/wit/xres.c -> xres.wasm (exported resources: imports the canonical built-ins)
#   C, clang-19 --target=wasm32-wasi + wasi-libc (TD_WASI_C):
#     tests/testdata/wasi/c/{cprog,p2prog}.c -> tests/testdata/wasi/{cprog,p2prog}.wasm
#     tests/testdata/wasi/c/p2reactor.c -> tests/testdata/wasi/p2reactor.wasm (-mexec-model=reactor
#       -DNOTE), p2lib.wasm (the same without -DNOTE)
#   Rust std, Debian's rustc 1.63 (/usr/bin/rustc, packages rustc and libstd-rust-dev-wasm32;
#   no crates) --target wasm32-wasi (TD_RUST; compared byte for byte when that rustc is installed):
#     tests/testdata/wasi/rust/rprog.rs -> tests/testdata/wasi/rprog.wasm
#   Go, GOOS=wasip1 (TD_GO_WASM; byte-identical only with the Go release that built them):
#     tests/testdata/wasi/go/{hello,stdlib,reactor} -> tests/testdata/wasi/{hello,stdlib,reactor}-go.wasm
#     bench/gobig -> bench/gobig.wasm (WASI imports replaced by stubs, bench/gobig/stubimports)
#   Components, jco $(TD_JCO_VERSION) from npm (wasm-tools component embed/new, mk/mkcomp.mjs):
#     tests/testdata/wit/rt.wasm + rt.wit -> rt.component.wasm, rt.embed.wasm, rt-utf16.component.wasm
#     tests/testdata/wit/res.wasm + res.wit -> res.component.wasm
#     tests/testdata/wit/xres.wasm + xres.wit -> xres.component.wasm
#     tests/testdata/wasi/{p2reactor,p2lib}.wasm + p2reactor.wit -> {p2reactor,p2lib}.component.wasm
#       (worlds p2reactor, p2lib; with jco's preview1 reactor adapter: components of several
#       core modules)
#   Copied, not built here (TD_WAZERO_COPIES): wazero's example `cat` programs, which wazero
#   v1.12.0 ships prebuilt (cargo-wasi, tinygo, zig-cc; their sources are beside them in the
#   module, but this repository has none of those toolchains). Copied from the module cache
#   (`go mod download` fetches it: it is a dependency) and compared byte for byte like the rest:
#     $(wazero)/imports/wasi_snapshot_preview1/example/testdata/{cargo-wasi,tinygo,zig-cc}/cat.wasm
#       -> internal/bench/modules/cat-{cargo,tinygo,zig-cc}.wasm (`hlwasm bench`'s cat scenarios)
#   WASI 0.2 commands, jco's wasm-tools component new with jco's preview1 command adapter
#   (mk/mkcmd.mjs):
#     tests/testdata/wasi/{cprog,p2prog,rprog}.wasm -> tests/testdata/wasi/{cprog,p2prog,rprog}.component.wasm
#   Spec tests of proposals wazero's module does not ship (TD_SPEC), wabt's wast2json: the .wast
#     files are copied unchanged from github.com/WebAssembly/testsuite at commit
#     $(TD_SPEC_COMMIT) (the main folder: WebAssembly 3.0) and committed beside their outputs;
#     wast2json (wabt 1.0.32, Debian's) converts each into X.json + X.N.wasm:
#     tests/spectest/testdata/relaxed-simd/{i16x8_relaxed_q15mulr_s,i32x4_relaxed_trunc,
#       i8x16_relaxed_swizzle,relaxed_dot_product,relaxed_laneselect,relaxed_madd_nmadd,
#       relaxed_min_max}.wast (--enable-relaxed-simd; wabt 1.0.32 knows the two dot products by
#       their pre-standard names, so the recipe renames i16x8.relaxed_dot_i8x16_i7x16_s and
#       i32x4.relaxed_dot_i8x16_i7x16_add_s to i16x8.dot_i8x16_i7x16_s and
#       i32x4.dot_i8x16_i7x16_add_s in a copy first: same binary encoding)
#     tests/spectest/testdata/multi-memory/{address0,address1,align0,binary0,data0,data1,
#       data_drop0,exports0,float_exprs0,float_exprs1,float_memory0,imports0..4,linking0..3,
#       load0..2,memory-multi,memory_copy0,memory_copy1,memory_fill0,memory_init0,
#       memory_size0..3,memory_trap0,memory_trap1,start0,store0..2,traps0,
#       simd_memory-multi}.wast (--enable-multi-memory: the multi-memory proposal's files)
#   Spec tests in WebAssembly 3.0 text that wabt 1.0.32 cannot read (TD_SPEC3), converted by
#     our tests/spectest/wastconv: the spec's reference interpreter ($(TD_SPEC_INTERP), built
#     from github.com/WebAssembly/spec at commit $(TD_SPEC_INTERP_COMMIT), interpreter/ `make`)
#     rewrites each script with binary modules (`wasm -d x.wast -o x.bin.wast`), wastconv turns
#     that into X.json + X.N.wasm (the wast2json layout). The .wast files are copied unchanged
#     from that spec commit's test/core/<dir> (the same files as the WebAssembly testsuite's):
#     tests/spectest/testdata/memory64/{address64,align64,binary_leb128_64,bulk64,
#       call_indirect64,endianness64,float_memory64,load64,memory64,memory64-imports,
#       memory_copy64,memory_fill64,memory_grow64,memory_init64,memory_redundancy64,
#       memory_trap64,table64,table_copy64,table_copy_mixed,table_fill64,table_get64,
#       table_grow64,table_init64,table_set64,table_size64}.wast (all of test/core/memory64)
#     tests/spectest/testdata/gc/{array,array_copy,array_fill,array_init_data,array_init_elem,
#       array_new_data,array_new_elem,binary-gc,br_on_cast,br_on_cast_fail,extern,i31,ref_cast,
#       ref_eq,ref_test,struct,type-subtyping}.wast (all of test/core/gc) and tag.wast (from
#       test/core/exceptions: the exception-handling tests that need GC types)
#   Go generators (outputs committed beside the generator):
#     tests/testdata/malformed/gen.go -> malformed/*.wasm + malformed/README.md
#     tests/testdata/wit/gen -> tests/testdata/wit/rt.wit, rt_gen.c (sources of rt.wasm)
#
# check-testdata rebuilds all of it into a temporary directory (TD_OUT) and requires each
# output to equal the committed file byte for byte, with two exceptions (tests/testdata/
# README.md says why): the Go-built modules are compared byte for byte only when the local Go
# release is the one that built them (the version string in the binary), otherwise they must
# build and have the same imports and exports; the components are built and compared when node
# and npm are installed (jco is installed from npm into build/), else skipped with a message.
# It also fails when a committed .wasm is missing from this inventory.
#
# Outputs are deterministic for a given toolchain (clang-19/wasm-ld-19, wabt's wat2wasm, Go,
# jco): no debug info (so no paths), no timestamps, fixed file modes.

# Do not let this fragment's first rule become the including Makefile's default goal.
TD_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

TD_CLANG       ?= clang-19
TD_WASM_LD     ?= /usr/bin/wasm-ld-19
TD_WAT2WASM    ?= wat2wasm
TD_WASM_OBJDUMP ?= wasm-objdump
TD_GO          ?= go
TD_NODE        ?= node
TD_NPM         ?= npm
TD_WASI_SYSROOT ?= /usr
TD_JCO_VERSION := 1.35.0
TD_JCO_DIR     := build/jco-$(TD_JCO_VERSION)

# Output root: empty builds in place; check-testdata sets a temporary directory.
TD_OUT ?=
TD_O := $(if $(TD_OUT),$(abspath $(TD_OUT))/)

# ---- the inventory ----
TD_WAT := $(addsuffix .wasm,$(addprefix tests/testdata/,arith fresh hostcall imports linked_a linked_b mem4g \
	nested simdleft traps) \
	tests/testdata/wasi/stdio tests/testdata/wasi/ioscript tests/soak/testdata/soak examples/guests/add tests/spectest/spectest \
	internal/bench/modules/bench internal/bench/modules/hostcalls internal/wazeroengine/testdata/host \
	wasmguest/engine/tests/wat/edge wasmguest/engine/tests/wat/slots wasmguest/engine/tests/wat/fuel)
TD_WAT_EXT := $(addsuffix .wasm,$(addprefix internal/wasmbin/testdata/,empty imports plain))
TD_WAT3    := tests/testdata/wasm3.wasm
TD_WAT_SPEC := tests/spectest/spectest64.wasm
TD_WAT_GC  := $(addsuffix .wasm,$(addprefix wasmguest/engine/tests/wat/,gc jit3 jit3b jit3m jit3ea jit3eb jit3ec))
BENCH_KERNELS := fib sha256 nbody qsort gemm simd
BENCH_WASM    := $(BENCH_KERNELS:%=bench/%.wasm)
TD_C       := tests/testdata/c_basic.wasm $(BENCH_WASM) examples/guests/hello.wasm
TD_WIT_C   := examples/wit/hello.wasm tests/testdata/wit/rt.wasm tests/testdata/wit/res.wasm \
	tests/testdata/wit/xres.wasm
TD_WASI_C  := tests/testdata/wasi/cprog.wasm tests/testdata/wasi/p2prog.wasm tests/testdata/wasi/p2reactor.wasm \
	tests/testdata/wasi/p2lib.wasm
TD_RUST    := tests/testdata/wasi/rprog.wasm
TD_GO_WASI := $(addprefix tests/testdata/wasi/,hello-go.wasm stdlib-go.wasm reactor-go.wasm)
TD_GO_WASM := $(TD_GO_WASI) bench/gobig.wasm
TD_COMPONENTS := $(addprefix tests/testdata/wit/,rt.component.wasm rt.embed.wasm \
	rt-utf16.component.wasm res.component.wasm xres.component.wasm) \
	tests/testdata/wasi/cprog.component.wasm tests/testdata/wasi/p2prog.component.wasm \
	tests/testdata/wasi/rprog.component.wasm tests/testdata/wasi/p2reactor.component.wasm \
	tests/testdata/wasi/p2lib.component.wasm
TD_COPIES  := examples/embed/add.wasm wasmguest/hosted/spectest_wasm.inc
TD_WAZERO_CATS := cargo tinygo zig-cc
TD_WAZERO_COPIES := $(TD_WAZERO_CATS:%=internal/bench/modules/cat-%.wasm)
TD_MALFORMED_CASES := $(sort $(wildcard tests/testdata/malformed/*.wasm))
TD_MALFORMED := $(TD_MALFORMED_CASES) tests/testdata/malformed/README.md
TD_WIT_GEN := tests/testdata/wit/rt.wit tests/testdata/wit/rt_gen.c
TD_WAST2JSON ?= wast2json
TD_SPEC_COMMIT := 193e551ff22663995b1ac95dc62344133669e14b
TD_SPEC_DIRS := relaxed-simd multi-memory
TD_SPEC_FLAGS_relaxed-simd := --enable-relaxed-simd
TD_SPEC_FLAGS_multi-memory := --enable-multi-memory
# The spec's reference interpreter (see the inventory): default, the copy beside the checkout.
TD_SPEC_INTERP ?= ../tools/spec/interpreter/wasm
TD_SPEC_INTERP_COMMIT := 285a9032950cbad6a9f84de11183008e286092a2
TD_SPEC3_DIRS := memory64 gc
# The outputs are what is committed (wildcard): each .wast gives X.json and X.0.wasm, X.1.wasm...
TD_SPEC_OUT = $(wildcard tests/spectest/testdata/$(1)/*.json tests/spectest/testdata/$(1)/*.wasm)
TD_SPEC := $(foreach d,$(TD_SPEC_DIRS) $(TD_SPEC3_DIRS),$(call TD_SPEC_OUT,$(d)))

# Compared byte for byte by check-testdata, always.
TD_EXACT := $(TD_WAT) $(TD_WAT_EXT) $(TD_WAT3) $(TD_WAT_SPEC) $(TD_WAT_GC) $(TD_C) $(TD_WIT_C) $(TD_WASI_C) $(TD_COPIES) $(TD_WAZERO_COPIES) \
	$(TD_MALFORMED) $(TD_WIT_GEN) $(TD_SPEC)
# Every committed .wasm must be one of these.
TD_ALL_WASM := $(filter %.wasm,$(TD_EXACT) $(TD_GO_WASM) $(TD_COMPONENTS) $(TD_RUST))

.PHONY: fixtures testdata components bench-wasm examples-wasm spectest-wasm internal-wasm \
	engine-wasm spec-testdata check-testdata wasm-repro-check td-compare

fixtures: $(addprefix $(TD_O),$(TD_EXACT) $(TD_GO_WASM) $(TD_RUST) $(TD_COMPONENTS))
testdata: $(addprefix $(TD_O),$(filter tests/testdata/%,$(TD_EXACT) $(TD_GO_WASM) $(TD_RUST)))
components: $(addprefix $(TD_O),$(TD_COMPONENTS))
bench-wasm: $(addprefix $(TD_O),$(BENCH_WASM) bench/gobig.wasm)
examples-wasm: $(addprefix $(TD_O),$(filter examples/%,$(TD_WAT) $(TD_C) $(TD_WIT_C) $(TD_COPIES)))
spectest-wasm: $(addprefix $(TD_O),tests/spectest/spectest.wasm tests/spectest/spectest64.wasm \
	wasmguest/hosted/spectest_wasm.inc)
internal-wasm: $(addprefix $(TD_O),$(filter internal/%,$(TD_WAT)) $(TD_WAT_EXT) $(TD_WAZERO_COPIES))
engine-wasm: $(addprefix $(TD_O),$(filter wasmguest/%,$(TD_WAT)) $(TD_WAT_GC))
# Converts every proposal's .wast again (also the first time, when no output is committed yet).
spec-testdata: $(addprefix td-spec-,$(TD_SPEC_DIRS) $(TD_SPEC3_DIRS))

# ---- WAT ----
$(addprefix $(TD_O),$(TD_WAT)): $(TD_O)%.wasm: %.wat
	@mkdir -p $(@D)
	$(TD_WAT2WASM) $< -o $@
	chmod 644 $@

# plain.wat has an extended constant expression (i32.add in a global initializer).
$(addprefix $(TD_O),$(TD_WAT_EXT)): $(TD_O)%.wasm: %.wat
	@mkdir -p $(@D)
	$(TD_WAT2WASM) --enable-extended-const $< -o $@
	chmod 644 $@

# wasm3.wat: WebAssembly 3.0 features (legacy exception handling, tail calls, extended const).
$(addprefix $(TD_O),$(TD_WAT3)): $(TD_O)%.wasm: %.wat
	@mkdir -p $(@D)
	$(TD_WAT2WASM) --enable-exceptions --enable-tail-call --enable-extended-const $< -o $@
	chmod 644 $@

# ---- C, freestanding wasm32 ----
# No libc, no imports, no entry point. -mcpu=mvp keeps the output to the Wasm 1.0 instruction
# set (no sign-ext, bulk memory, multivalue or reference types), so the binaries run on any
# engine. --strip-debug keeps the name section (for backtraces) but no DWARF, which would embed
# build paths.
TD_CFLAGS   := --target=wasm32 -mcpu=mvp -O2 -nostdlib -ffreestanding -Wall -Wno-unused-function
TD_LDFLAGS  := -Wl,--no-entry -Wl,--strip-debug

# --export-dynamic exports every non-static function (c_basic.c also marks them export_name).
$(TD_O)tests/testdata/c_basic.wasm: tests/testdata/c_basic.c
	@mkdir -p $(@D)
	$(TD_CLANG) $(TD_CFLAGS) $(TD_LDFLAGS) -Wl,--export-dynamic -o $@ $<
	chmod 644 $@

$(TD_O)examples/guests/hello.wasm: examples/guests/hello.c
	@mkdir -p $(@D)
	$(TD_CLANG) $(TD_CFLAGS) $(TD_LDFLAGS) -o $@ $<
	chmod 644 $@

$(addprefix $(TD_O),$(BENCH_WASM)): $(TD_O)bench/%.wasm: bench/kernels/%.c bench/kernels/rt.h
	@mkdir -p $(@D)
	$(TD_CLANG) $(TD_CFLAGS) $(if $(filter simd,$*),-msimd128) $(TD_LDFLAGS) -o $@ $<
	chmod 644 $@

# ---- C, WIT guests: the canonical ABI needs the memory exported ----
TD_WIT_CFLAGS := --target=wasm32 -nostdlib -O2 -fuse-ld=$(TD_WASM_LD) -Wl,--no-entry \
	-Wl,--export-memory

$(TD_O)examples/wit/hello.wasm: examples/wit/guest/hello.c
	@mkdir -p $(@D)
	$(TD_CLANG) $(TD_WIT_CFLAGS) -o $@ $<

# rt.c includes rt_gen.c (generated by tests/testdata/wit/gen, committed).
$(TD_O)tests/testdata/wit/rt.wasm: tests/testdata/wit/rt.c tests/testdata/wit/rt_gen.c
	@mkdir -p $(@D)
	$(TD_CLANG) $(TD_WIT_CFLAGS) -Wl,--allow-undefined -o $@ $<

$(TD_O)tests/testdata/wit/res.wasm: tests/testdata/wit/res.c
	@mkdir -p $(@D)
	$(TD_CLANG) $(TD_WIT_CFLAGS) -o $@ $<

$(TD_O)tests/testdata/wit/xres.wasm: tests/testdata/wit/xres.c
	@mkdir -p $(@D)
	$(TD_CLANG) $(TD_WIT_CFLAGS) -Wall -Wextra -Werror -o $@ $<

# ---- C, WASI preview1 with wasi-libc ----
# Needs Debian's wasi-libc (sysroot /usr) and libclang-rt-19-dev-wasm32 (compiler-rt builtins:
# wasi-libc's calloc needs __muloti4).
$(TD_O)tests/testdata/wasi/cprog.wasm $(TD_O)tests/testdata/wasi/p2prog.wasm: $(TD_O)tests/testdata/wasi/%.wasm: \
		tests/testdata/wasi/c/%.c
	@mkdir -p $(@D)
	$(TD_CLANG) --target=wasm32-wasi --sysroot=$(TD_WASI_SYSROOT) -O2 -Wl,--strip-all -o $@ $< -lm

$(TD_O)tests/testdata/wasi/p2reactor.wasm $(TD_O)tests/testdata/wasi/p2lib.wasm: tests/testdata/wasi/c/p2reactor.c
	@mkdir -p $(@D)
	$(TD_CLANG) --target=wasm32-wasi --sysroot=$(TD_WASI_SYSROOT) -mexec-model=reactor -O2 -Wall -Wextra -Werror \
	  $(if $(findstring p2reactor,$(@F)),-DNOTE) -Wl,--strip-all -o $@ $<

# ---- Rust, wasm32-wasi, Debian's rustc (no cargo, no crates) ----
# The source path is remapped so that panic locations name ./rprog.rs, not this checkout.
TD_RUSTC ?= /usr/bin/rustc
TD_HAVE_RUST := $(shell $(TD_RUSTC) --version 2>/dev/null | grep -q '^rustc 1\.63\.' && echo yes)
$(TD_O)tests/testdata/wasi/rprog.wasm: tests/testdata/wasi/rust/rprog.rs
	@mkdir -p $(@D)
	cd tests/testdata/wasi/rust && $(TD_RUSTC) --target wasm32-wasi -C opt-level=2 -C strip=symbols \
	  -C debuginfo=0 --remap-path-prefix=$(CURDIR)/tests/testdata/wasi/rust=. -o $(abspath $@) rprog.rs
	chmod 644 $@

# ---- Go, GOOS=wasip1 ----
TD_GOFLAGS_WASM := -trimpath -ldflags='-s -w -buildid='

$(TD_O)tests/testdata/wasi/hello-go.wasm: tests/testdata/wasi/go/hello/main.go
$(TD_O)tests/testdata/wasi/stdlib-go.wasm: tests/testdata/wasi/go/stdlib/main.go
$(TD_O)tests/testdata/wasi/hello-go.wasm $(TD_O)tests/testdata/wasi/stdlib-go.wasm: $(TD_O)tests/testdata/wasi/%-go.wasm:
	@mkdir -p $(@D)
	cd tests/testdata/wasi/go/$* && GOOS=wasip1 GOARCH=wasm $(TD_GO) build $(TD_GOFLAGS_WASM) -o $(abspath $@) .

$(TD_O)tests/testdata/wasi/reactor-go.wasm: tests/testdata/wasi/go/reactor/main.go
	@mkdir -p $(@D)
	cd tests/testdata/wasi/go/reactor && GOOS=wasip1 GOARCH=wasm $(TD_GO) build -buildmode=c-shared \
	  $(TD_GOFLAGS_WASM) -o $(abspath $@) .

# A ~4 MiB Go-built module for BenchmarkCompileGoModule. Built for wasip1, then its 16 WASI
# imports are replaced by `unreachable` stubs (same function indices) so that engines that
# refuse imports (hlwasm) can load it too. Only the stubbed module is committed.
# .SECONDARY: after `make clean` removes build/, a missing intermediate alone does not force a
# rebuild of the committed bench/gobig.wasm.
.SECONDARY: $(TD_O)build/bench/gobig-wasip1.wasm
$(TD_O)build/bench/gobig-wasip1.wasm: bench/gobig/main.go
	@mkdir -p $(dir $@)
	GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 $(TD_GO) build -trimpath -buildvcs=false -o $@ ./bench/gobig

$(TD_O)bench/gobig.wasm: $(TD_O)build/bench/gobig-wasip1.wasm bench/gobig/stubimports/main.go
	@mkdir -p $(@D)
	$(TD_GO) run ./bench/gobig/stubimports < $< > $@.tmp && mv $@.tmp $@
	chmod 644 $@

# ---- components: jco (bundling wasm-tools) from npm, pinned, installed once under build/ ----
# mkcomp.mjs must sit beside node_modules to import jco, so it is copied there.
TD_JCO_STAMP := $(TD_JCO_DIR)/node_modules/@bytecodealliance/jco/package.json
$(TD_JCO_STAMP):
	rm -rf $(TD_JCO_DIR) && mkdir -p $(TD_JCO_DIR)
	cd $(TD_JCO_DIR) && $(TD_NPM) init -y >/dev/null && \
	  $(TD_NPM) install --silent --no-audit --no-fund @bytecodealliance/jco@$(TD_JCO_VERSION) >/dev/null
# jco is an order-only prerequisite: installing it does not make the components out of date.
TD_MKCOMP = cp mk/mkcomp.mjs $(TD_JCO_DIR)/ && cd $(TD_JCO_DIR) && $(TD_NODE) mkcomp.mjs
TD_WITDIR := $(CURDIR)/tests/testdata/wit

$(TD_O)tests/testdata/wit/rt.component.wasm $(TD_O)tests/testdata/wit/rt.embed.wasm &: \
		tests/testdata/wit/rt.wasm tests/testdata/wit/rt.wit mk/mkcomp.mjs | $(TD_JCO_STAMP)
	@mkdir -p $(@D)
	$(TD_MKCOMP) $(TD_WITDIR)/rt.wasm $(TD_WITDIR)/rt.wit rt $(abspath $(@D))/rt.component.wasm \
	  $(abspath $(@D))/rt.embed.wasm

# The same guest with UTF-16 strings: refused at load.
$(TD_O)tests/testdata/wit/rt-utf16.component.wasm: tests/testdata/wit/rt.wasm tests/testdata/wit/rt.wit \
		mk/mkcomp.mjs | $(TD_JCO_STAMP)
	@mkdir -p $(@D)
	$(TD_MKCOMP) $(TD_WITDIR)/rt.wasm $(TD_WITDIR)/rt.wit rt $(abspath $@) "" utf16

$(TD_O)tests/testdata/wit/res.component.wasm: tests/testdata/wit/res.wasm tests/testdata/wit/res.wit \
		mk/mkcomp.mjs | $(TD_JCO_STAMP)
	@mkdir -p $(@D)
	$(TD_MKCOMP) $(TD_WITDIR)/res.wasm $(TD_WITDIR)/res.wit res $(abspath $@)

$(TD_O)tests/testdata/wit/xres.component.wasm: tests/testdata/wit/xres.wasm tests/testdata/wit/xres.wit \
		mk/mkcomp.mjs | $(TD_JCO_STAMP)
	@mkdir -p $(@D)
	$(TD_MKCOMP) $(TD_WITDIR)/xres.wasm $(TD_WITDIR)/xres.wit xres $(abspath $@)

$(TD_O)tests/testdata/wasi/p2reactor.component.wasm $(TD_O)tests/testdata/wasi/p2lib.component.wasm: \
		$(TD_O)tests/testdata/wasi/%.component.wasm: tests/testdata/wasi/%.wasm tests/testdata/wasi/p2reactor.wit \
		mk/mkcomp.mjs | $(TD_JCO_STAMP)
	@mkdir -p $(@D)
	$(TD_MKCOMP) $(CURDIR)/$< $(CURDIR)/tests/testdata/wasi/p2reactor.wit $* $(abspath $@) "" "" reactor

# WASI 0.2 commands: the preview1 programs above with jco's preview1 command adapter.
$(TD_O)tests/testdata/wasi/cprog.component.wasm $(TD_O)tests/testdata/wasi/p2prog.component.wasm \
		$(TD_O)tests/testdata/wasi/rprog.component.wasm: \
		$(TD_O)tests/testdata/wasi/%.component.wasm: tests/testdata/wasi/%.wasm mk/mkcmd.mjs | $(TD_JCO_STAMP)
	@mkdir -p $(@D)
	cp mk/mkcmd.mjs $(TD_JCO_DIR)/ && cd $(TD_JCO_DIR) && $(TD_NODE) mkcmd.mjs $(CURDIR)/$< $(abspath $@)

# ---- copies and derived files ----
# go:embed cannot reach ../guests, so the embed example keeps a copy.
$(TD_O)examples/embed/add.wasm: examples/guests/add.wasm
	@mkdir -p $(@D)
	cp $< $@
	chmod 644 $@

# wazero's prebuilt cat programs, from the module cache (the version go.mod requires).
TD_WAZERO_DIR = $(shell $(TD_GO) mod download github.com/tetratelabs/wazero >/dev/null 2>&1; \
	$(TD_GO) list -m -f '{{.Dir}}' github.com/tetratelabs/wazero)
TD_WAZERO_CAT_SRC = $(TD_WAZERO_DIR)/imports/wasi_snapshot_preview1/example/testdata/$(if $(filter cargo,$(1)),cargo-wasi,$(1))/cat.wasm
$(addprefix $(TD_O),$(TD_WAZERO_COPIES)): $(TD_O)internal/bench/modules/cat-%.wasm:
	@mkdir -p $(@D)
	cp $(call TD_WAZERO_CAT_SRC,$*) $@
	chmod 644 $@

# GC text, which wabt 1.0.32 cannot read: the reference interpreter assembles it.
$(addprefix $(TD_O),$(TD_WAT_GC)): $(TD_O)%.wasm: %.wat
	@mkdir -p $(@D)
	$(TD_SPEC_INTERP) -d $< -o $@
	chmod 644 $@

# spectest.wat with the reference interpreter's 64-bit table (spectest.ml's table64) after "table".
$(TD_O)tests/spectest/spectest64.wasm: tests/spectest/spectest.wat
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	sed 's|^  (table (export "table") 10 20 funcref)$$|&\n  (table (export "table64") i64 10 20 funcref)|' $< > $$tmp/spectest64.wat; \
	grep -q '"table64"' $$tmp/spectest64.wat; mkdir -p $(@D); \
	$(TD_SPEC_INTERP) -d $$tmp/spectest64.wat -o $@; chmod 644 $@

# The hosted spec runner's copy of spectest64.wasm, as a C initializer.
TD_WASM_TO_C = od -An -v -tx1 $(1) | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1, /g' -e 's/, $$/,/'
$(TD_O)wasmguest/hosted/spectest_wasm.inc: tests/spectest/spectest64.wasm
	@mkdir -p $(@D)
	{ echo '// Generated from tests/spectest/spectest64.wasm by mk/testdata.mk. DO NOT EDIT.'; \
	  $(call TD_WASM_TO_C,$<); } > $@.tmp && mv $@.tmp $@

# ---- spec tests: wast2json ----
# Each .wast is converted in a scratch directory (so "source_filename" is the bare file name and
# no path gets in), then its outputs are copied next to it (or into TD_OUT).
TD_SPEC_RENAME := -e 's/i16x8\.relaxed_dot_i8x16_i7x16_s/i16x8.dot_i8x16_i7x16_s/g' \
	-e 's/i32x4\.relaxed_dot_i8x16_i7x16_add_s/i32x4.dot_i8x16_i7x16_add_s/g'
define TD_SPEC_RULE
td-spec-$(1) $(addprefix $(TD_O),$(call TD_SPEC_OUT,$(1))) &: $(wildcard tests/spectest/testdata/$(1)/*.wast)
	@set -e; tmp=$$$$(mktemp -d); trap 'rm -rf "$$$$tmp"' EXIT; \
	mkdir -p $(TD_O)tests/spectest/testdata/$(1); \
	for w in tests/spectest/testdata/$(1)/*.wast; do b=$$$$(basename $$$$w .wast); \
	  sed $(TD_SPEC_RENAME) $$$$w > $$$$tmp/$$$$b.wast; \
	  (cd $$$$tmp && $(TD_WAST2JSON) $(TD_SPEC_FLAGS_$(1)) $$$$b.wast -o $$$$b.json); \
	  rm $$$$tmp/$$$$b.wast; done; \
	chmod 644 $$$$tmp/*; cp $$$$tmp/* $(TD_O)tests/spectest/testdata/$(1)/
endef
$(foreach d,$(TD_SPEC_DIRS),$(eval $(call TD_SPEC_RULE,$(d))))

# ---- spec tests: the reference interpreter and wastconv ----
define TD_SPEC3_RULE
td-spec-$(1) $(addprefix $(TD_O),$(call TD_SPEC_OUT,$(1))) &: $(wildcard tests/spectest/testdata/$(1)/*.wast) $(wildcard tests/spectest/wastconv/*.go)
	@set -e; tmp=$$$$(mktemp -d); trap 'rm -rf "$$$$tmp"' EXIT; \
	mkdir -p $(TD_O)tests/spectest/testdata/$(1); \
	$(TD_GO) build -o $$$$tmp/wastconv ./tests/spectest/wastconv; \
	for w in tests/spectest/testdata/$(1)/*.wast; do b=$$$$(basename $$$$w .wast); \
	  $$$$tmp/wastconv -interp $(TD_SPEC_INTERP) -o $$$$tmp/$$$$b.json $$$$w; done; \
	rm $$$$tmp/wastconv; chmod 644 $$$$tmp/*; cp $$$$tmp/* $(TD_O)tests/spectest/testdata/$(1)/
endef
$(foreach d,$(TD_SPEC3_DIRS),$(eval $(call TD_SPEC3_RULE,$(d))))

# ---- Go generators ----
# malformed/: README.md lists the cases; all are written by one run.
$(addprefix $(TD_O),$(TD_MALFORMED)) &: tests/testdata/malformed/gen.go
	@mkdir -p $(TD_O)tests/testdata/malformed
	$(TD_GO) run ./tests/testdata/malformed/gen.go -o $(TD_O)tests/testdata/malformed

$(addprefix $(TD_O),$(TD_WIT_GEN)) &: tests/testdata/wit/gen/main.go
	@mkdir -p $(TD_O)tests/testdata/wit
	$(TD_GO) run ./tests/testdata/wit/gen $(TD_O)tests/testdata/wit

# ---- the check ----
TD_HAVE_NODE := $(shell command -v $(TD_NODE) >/dev/null 2>&1 && command -v $(TD_NPM) >/dev/null 2>&1 && echo yes)
TD_CHECKED := $(TD_EXACT) $(TD_GO_WASM) $(if $(TD_HAVE_NODE),$(TD_COMPONENTS)) $(if $(TD_HAVE_RUST),$(TD_RUST))

check-testdata:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(MAKE) --no-print-directory -f mk/testdata.mk TD_OUT="$$tmp" td-compare

# Runs with TD_OUT set: builds every checked output there, then compares.
# Imports and exports by kind and name (indices left out), for the Go-built modules.
TD_IFACE = { $(TD_WASM_OBJDUMP) -x -j Import $(1) 2>/dev/null | sed -n 's/^ - \([a-z]*\)\[[0-9]*\].*<- \(.*\)$$/import \1 \2/p'; \
	$(TD_WASM_OBJDUMP) -x -j Export $(1) 2>/dev/null | sed -n 's/^ - \([a-z]*\)\[[0-9]*\].*-> \(.*\)$$/export \1 \2/p'; }
TD_GOVERSION = $(shell $(TD_GO) env GOVERSION)
td-compare: $(if $(TD_O),$(addprefix $(TD_O),$(TD_CHECKED)))
	@test -n "$(TD_OUT)" || { echo "td-compare: run make check-testdata"; exit 2; }
	@status=0; n=0; ni=0; \
	for f in $(TD_EXACT) $(if $(TD_HAVE_NODE),$(TD_COMPONENTS)) $(if $(TD_HAVE_RUST),$(TD_RUST)); do n=$$((n+1)); \
	  cmp -s "$$f" "$(TD_O)$$f" || { echo "check-testdata: $$f differs from a fresh build"; status=1; }; done; \
	if [ -z "$(TD_HAVE_RUST)" ]; then \
	  echo "check-testdata: SKIPPED $(TD_RUST) (needs Debian's rustc 1.63 with wasm32-wasi at $(TD_RUSTC))"; fi; \
	if [ -z "$(TD_HAVE_NODE)" ]; then \
	  echo "check-testdata: SKIPPED $(TD_COMPONENTS) (needs node and npm for jco $(TD_JCO_VERSION))"; fi; \
	for f in $(TD_GO_WASM); do \
	  built=$$(grep -ao 'go1\.[0-9]*\(\.[0-9]*\)\?' "$$f" | sort -u | tr '\n' ' ' | sed 's/ $$//'); \
	  if [ "$$built" = "$(TD_GOVERSION)" ]; then \
	    n=$$((n+1)); cmp -s "$$f" "$(TD_O)$$f" || { echo "check-testdata: $$f differs from a fresh build"; status=1; }; \
	  else ni=$$((ni+1)); \
	    echo "check-testdata: $$f was built by '$$built', not $(TD_GOVERSION): comparing imports and exports only"; \
	    $(call TD_IFACE,"$$f") > "$(TD_O)iface.committed"; $(call TD_IFACE,"$(TD_O)$$f") > "$(TD_O)iface.fresh"; \
	    cmp -s "$(TD_O)iface.committed" "$(TD_O)iface.fresh" && [ -s "$(TD_O)iface.fresh" ] || \
	      { echo "check-testdata: $$f: imports/exports differ from a fresh build"; \
	        diff "$(TD_O)iface.committed" "$(TD_O)iface.fresh" || true; status=1; }; \
	  fi; done; \
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	  for f in $$(git ls-files '*.wasm'); do \
	    case " $(TD_ALL_WASM) " in *" $$f "*) ;; \
	    *) echo "check-testdata: $$f is committed but not in mk/testdata.mk's inventory"; status=1;; esac; done; \
	fi; \
	[ $$status = 0 ] && echo "check-testdata: $$n files equal a fresh build byte for byte$$( \
	  [ $$ni = 0 ] || echo ", $$ni the same imports and exports")"; exit $$status

# The old name.
wasm-repro-check: check-testdata

ifneq ($(TD_SAVED_DEFAULT_GOAL),)
.DEFAULT_GOAL := $(TD_SAVED_DEFAULT_GOAL)
else ifeq ($(words $(MAKEFILE_LIST)),1)
.DEFAULT_GOAL := fixtures
else
.DEFAULT_GOAL :=
endif
