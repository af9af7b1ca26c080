package components_test

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/components"
	"github.com/hlwasm/hlwasm/internal/wazeroengine"
	"github.com/hlwasm/hlwasm/wit"
)

const testdata = "../tests/testdata/wit/"

func read(t *testing.T, name string) []byte {
	b, err := os.ReadFile(testdata + name)
	require.NoError(t, err)
	return b
}

func TestDetect(t *testing.T) {
	require.Equal(t, components.KindModule, components.Detect(read(t, "rt.wasm")))
	require.Equal(t, components.KindComponent, components.Detect(read(t, "rt.component.wasm")))
	require.Equal(t, components.KindUnknown, components.Detect([]byte("nope")))
}

func TestDecodeComponent(t *testing.T) {
	c, err := components.Decode(read(t, "rt.component.wasm"), "")
	require.NoError(t, err)
	require.Len(t, c.Modules, 3) // main, wit-component shim, fixups
	require.Equal(t, components.KindModule, components.Detect(c.Core))
	require.Contains(t, c.Exports, "cabi_realloc")
	require.True(t, c.HasExport("cabi_post_run"))
	require.Contains(t, c.Imports, [2]string{"$root", "root-log"})
	f, err := c.World.Func("test:rt/guest@0.1.0#echo-mixed", true)
	require.NoError(t, err)
	require.Equal(t, "echo-mixed: func(x: mixed) -> mixed", f.String())
	// every core import of the main module is an import of the world
	for _, imp := range c.Imports {
		found := false
		for _, f := range c.World.Imports {
			if f.Module == imp[0] && f.CoreName == imp[1] {
				found = true
			}
		}
		require.True(t, found, "%v", imp)
	}
	runRT(t, c)
}

func TestDecodeEmbedded(t *testing.T) {
	c, err := components.Decode(read(t, "rt.embed.wasm"), "")
	require.NoError(t, err)
	require.Len(t, c.Modules, 1)
	runRT(t, c)

	_, err = components.Decode(read(t, "rt.wasm"), "")
	require.ErrorIs(t, err, components.ErrNoWIT)
}

func TestRefused(t *testing.T) {
	_, err := components.Decode(read(t, "rt-utf16.component.wasm"), "")
	require.ErrorIs(t, err, components.ErrUnsupported)
	require.ErrorContains(t, err, "utf16")

	pre := []byte("\x00asm\x0d\x00\x01\x00")
	for _, c := range []struct {
		sec     []byte
		feature string
	}{
		{[]byte{4, 10, 0, 'a', 's', 'm', 0x0d, 0, 1, 0, 1, 0}, "core modules in nested components"},
		{[]byte{9, 0}, "start"},
		{[]byte{12, 0}, "values"},
		{[]byte{8, 3, 1, 7, 0}, "async resource.drop"},
		{[]byte{8, 2, 1, 0x0b}, "canonical built-in"},
		{[]byte{8, 6, 1, 1, 0, 0, 1, 6}, "async"},
	} {
		_, err := components.Decode(append(pre, c.sec...), "")
		require.ErrorIs(t, err, components.ErrUnsupported, c.feature)
		require.ErrorContains(t, err, c.feature)
	}
	// resource.new and resource.rep (exported resources) are accepted
	_, err = components.Decode(append(pre, 8, 5, 2, 2, 0, 4, 0), "")
	require.ErrorContains(t, err, "no core module defines a memory")
	for _, bad := range [][]byte{
		append(pre, 8, 0xff),                // section past the end
		append(pre, 1, 0x80, 0x80),          // truncated LEB
		append(pre, 8, 3, 0xff, 0xff, 0xff), // count past the end
	} {
		_, err := components.Decode(bad, "")
		require.ErrorIs(t, err, components.ErrMalformed)
	}
}

// runRT runs a few round trips through the component's core module.
func runRT(t *testing.T, c *components.Component) {
	ctx := context.Background()
	w := c.World
	impls := map[string]any{}
	var logs []string
	for _, f := range w.Imports {
		name := f.Name
		impls[f.Key()] = wit.DynamicFunc(func(_ context.Context, args []wit.Value) (wit.Value, error) {
			if name == "log" || name == "root-log" {
				logs = append(logs, args[0].(string))
				return nil, nil
			}
			if name == "spill" {
				return wit.List(args), nil
			}
			return args[0], nil
		})
	}
	funcs, err := w.Bind(impls)
	require.NoError(t, err)
	inst := instantiate(t, c.Core, funcs)
	for key, wave := range map[string]string{
		"guest#echo-mixed":  `{a: 1, b: 2, c: "three", d: 4.5, e: false}`,
		"guest#echo-shapes": `[label("x"), big(3)]`,
		"guest#make-nested": `[[1, 2, 3], [], [65535]]`,
		"run":               `"hello, comp"`,
	} {
		f, err := w.Func(key, true)
		require.NoError(t, err)
		var args []any
		if len(f.Params) == 1 {
			arg := wave
			if key == "run" {
				arg = `"comp"`
			}
			v, err := wit.ParseWAVE(f.Params[0].Type, arg)
			require.NoError(t, err)
			args = append(args, v)
		}
		got, err := w.CallFunc(ctx, inst, f, args...)
		require.NoError(t, err)
		s, err := wit.FormatWAVE(f.Result, got)
		require.NoError(t, err)
		require.Equal(t, wave, s, key)
	}
	require.Equal(t, []string{"comp", "from host#log"}, logs)
}

func instantiate(t *testing.T, wasm []byte, funcs []api.HostFunction) *wazeroengine.Instance {
	ctx := context.Background()
	mod, err := wazeroengine.Load(ctx, wasm, funcs, wazeroengine.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { mod.Close() })
	in, err := mod.Instantiate(ctx)
	require.NoError(t, err)
	return in
}
