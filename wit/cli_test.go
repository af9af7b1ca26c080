package wit_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/wit"
)

func TestCallWAVEAndTrace(t *testing.T) {
	w := loadRT(t)
	var trace strings.Builder
	funcs, err := w.Bind(w.TraceImports(&trace))
	require.NoError(t, err)
	wasm, err := os.ReadFile(testdata + "rt.wasm")
	require.NoError(t, err)
	inst := instantiate(t, wasm, funcs)
	ctx := context.Background()
	for _, c := range []struct{ fn, arg, out string }{
		{"guest#echo-mixed", `{a: 1, b: 2, c: "x", d: 1, e: true}`, `{a: 0, b: 0, c: "", d: 0, e: false}`},
		{"guest#echo-shape", `label("x")`, `circle(0)`},
		{"guest#echo-res", `err("x")`, `ok(0)`},
		{"guest#echo-opt-opt", `some(some(1))`, `none`},
		{"run", `"cli"`, `"hello, cli"`},
	} {
		got, err := w.CallWAVE(ctx, inst, c.fn, []string{c.arg})
		require.NoError(t, err, c.fn)
		require.Equal(t, c.out, got, c.fn)
	}
	require.Contains(t, trace.String(), "import test:rt/host@0.1.0#echo-mixed({a: 1, b: 2, c: \"x\", d: 1, e: true})\n")
	require.Contains(t, trace.String(), "import root-log(\"cli\")\n")
	out, err := w.CallWAVE(ctx, inst, "guest#set-realloc-mode", []string{"0"})
	require.NoError(t, err)
	require.Equal(t, "", out)
	_, err = w.CallWAVE(ctx, inst, "guest#echo-u8", []string{"256"})
	require.ErrorIs(t, err, wit.ErrWAVE)
}
