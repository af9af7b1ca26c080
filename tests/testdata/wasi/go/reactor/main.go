// Command reactor is a Go WASI reactor (-buildmode=c-shared): its //go:wasmexport functions are
// called after _initialize, e.g. `hlwasm call reactor-go.wasm add 2 3`.
package main

import (
	"fmt"
	"strings"
)

var calls int

//go:wasmexport add
func add(a, b int32) int32 {
	calls++
	return a + b
}

//go:wasmexport fib
func fib(n int64) int64 {
	a, b := int64(0), int64(1)
	for i := int64(0); i < n; i++ {
		a, b = b, a+b
	}
	return a
}

// shout prints through WASI stdout from an export: the runtime is initialized.
//
//go:wasmexport shout
func shout(n int32) int32 {
	s := strings.Repeat("hey ", int(n))
	fmt.Println(strings.TrimSpace(s))
	return int32(len(s))
}

//go:wasmexport calls
func callCount() int32 { return int32(calls) }

func main() {}
