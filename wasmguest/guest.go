// Package wasmguest embeds the guest image: a freestanding C program (the Wasm engine and its
// dispatch loop at CPL3, plus tiny CPL0 exception stubs) that package machine loads into every
// micro-VM. The image is built by `make guest` from wasmguest/rt and wasmguest/engine and is
// committed, so building hlwasm needs no C toolchain.
package wasmguest

import _ "embed"

// Image is the flat guest image, loaded at abi.ImageBase.
//
//go:embed guest.bin
var Image []byte
