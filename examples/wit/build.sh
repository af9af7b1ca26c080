#!/bin/sh
# Builds examples/wit/hello.wasm. Run from the repository root: sh examples/wit/build.sh
set -eu
clang-19 --target=wasm32 -nostdlib -O2 -fuse-ld=/usr/bin/wasm-ld-19 \
	-Wl,--no-entry -Wl,--export-memory \
	-o examples/wit/hello.wasm examples/wit/guest/hello.c
