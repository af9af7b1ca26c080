#!/bin/sh
# Rebuilds the wit test fixtures. Run from the repository root:
#   sh tests/testdata/wit/build.sh
# Needs Go, clang-19 and wasm-ld-19; the component fixtures also need npx (jco), see
# components.sh.
set -eu
d=tests/testdata/wit
go run ./$d/gen $d
clang-19 --target=wasm32 -nostdlib -O2 -fuse-ld=/usr/bin/wasm-ld-19 \
	-Wl,--no-entry -Wl,--export-memory -Wl,--allow-undefined \
	-o $d/rt.wasm $d/rt.c
clang-19 --target=wasm32 -nostdlib -O2 -fuse-ld=/usr/bin/wasm-ld-19 \
	-Wl,--no-entry -Wl,--export-memory \
	-o $d/res.wasm $d/res.c
