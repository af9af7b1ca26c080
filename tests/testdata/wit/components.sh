#!/bin/sh
# Rebuilds the component fixtures with jco (wasm-tools component embed/new), after build.sh.
# Run from the repository root: sh tests/testdata/wit/components.sh
# Needs node and npm (installs @bytecodealliance/jco in a temporary directory).
set -eu
d=$(pwd)/tests/testdata/wit
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm init -y >/dev/null && npm install --silent @bytecodealliance/jco@1 >/dev/null)
cp "$d/mkcomp.mjs" "$tmp/"
cd "$tmp"
node mkcomp.mjs "$d/rt.wasm" "$d/rt.wit" rt "$d/rt.component.wasm" "$d/rt.embed.wasm"
# the same guest with UTF-16 strings: refused at load
node mkcomp.mjs "$d/rt.wasm" "$d/rt.wit" rt "$d/rt-utf16.component.wasm" "" utf16
node mkcomp.mjs "$d/res.wasm" "$d/res.wit" res "$d/res.component.wasm"
