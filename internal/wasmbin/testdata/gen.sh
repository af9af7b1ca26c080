#!/bin/sh
# Regenerates the .wasm test inputs from the .wat sources (run by go generate).
set -e
cd "$(dirname "$0")"
for f in *.wat; do wat2wasm --enable-extended-const "$f" -o "${f%.wat}.wasm"; done
