package wit_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// Round trips through the guest (host -> export -> import -> host), on wazero's interpreter.
func BenchmarkRoundTrip(b *testing.B) {
	w := loadRT(b)
	var logs []string
	funcs, err := w.Bind(typedHost(&logs))
	require.NoError(b, err)
	wasm, err := os.ReadFile(testdata + "rt.wasm")
	require.NoError(b, err)
	ctx := context.Background()
	for _, c := range []struct {
		name, key string
		arg       any
	}{
		{"u32", "guest#echo-u32", uint32(7)},
		{"string", "guest#echo-string", "hello, world"},
		{"mixed", "guest#echo-mixed", mixed{1, 2, "three", 4, true}},
		{"bytes-64k", "guest#echo-bytes", make([]byte, 64<<10)},
	} {
		b.Run(c.name, func(b *testing.B) {
			inst := instantiate(b, wasm, funcs) // fresh: the guest's bump allocator never frees
			for b.Loop() {
				if _, err := w.Call(ctx, inst, c.key, c.arg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
