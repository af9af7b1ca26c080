package components_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	wapi "github.com/tetratelabs/wazero/api"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/components"
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
		{[]byte{8, 3, 1, 2, 0}, "exported resources"},
		{[]byte{8, 2, 1, 0x0b}, "canonical built-in"},
		{[]byte{8, 6, 1, 1, 0, 0, 1, 6}, "async"},
	} {
		_, err := components.Decode(append(pre, c.sec...), "")
		require.ErrorIs(t, err, components.ErrUnsupported, c.feature)
		require.ErrorContains(t, err, c.feature)
	}
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

type mem struct{ m wapi.Memory }

func (m mem) Size() uint32 { return m.m.Size() }
func (m mem) Read(o, n uint32) ([]byte, bool) {
	b, ok := m.m.Read(o, n)
	return append([]byte(nil), b...), ok
}
func (m mem) Write(o uint32, b []byte) bool { return m.m.Write(o, b) }
func (m mem) ReadString(o, n uint32) (string, bool) {
	b, ok := m.m.Read(o, n)
	return string(b), ok
}
func (m mem) ReadUint8(o uint32) (byte, bool)       { return m.m.ReadByte(o) }
func (m mem) ReadUint16Le(o uint32) (uint16, bool)  { return m.m.ReadUint16Le(o) }
func (m mem) ReadUint32Le(o uint32) (uint32, bool)  { return m.m.ReadUint32Le(o) }
func (m mem) ReadUint64Le(o uint32) (uint64, bool)  { return m.m.ReadUint64Le(o) }
func (m mem) WriteUint8(o uint32, v byte) bool      { return m.m.WriteByte(o, v) }
func (m mem) WriteUint16Le(o uint32, v uint16) bool { return m.m.WriteUint16Le(o, v) }
func (m mem) WriteUint32Le(o uint32, v uint32) bool { return m.m.WriteUint32Le(o, v) }
func (m mem) WriteUint64Le(o uint32, v uint64) bool { return m.m.WriteUint64Le(o, v) }

type inst struct{ mod wapi.Module }

func (i inst) Memory() api.Memory { return mem{i.mod.Memory()} }
func (i inst) Call(ctx context.Context, name string, params ...uint64) ([]uint64, error) {
	fn := i.mod.ExportedFunction(name)
	if fn == nil {
		return nil, errors.New("no export " + name)
	}
	return fn.Call(ctx, params...)
}

func instantiate(t *testing.T, wasm []byte, funcs []api.HostFunction) inst {
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	t.Cleanup(func() { rt.Close(ctx) })
	mods := map[string]wazero.HostModuleBuilder{}
	var order []string
	for _, f := range funcs {
		b, ok := mods[f.ModuleName]
		if !ok {
			b = rt.NewHostModuleBuilder(f.ModuleName)
			mods[f.ModuleName], order = b, append(order, f.ModuleName)
		}
		fn := f.Fn
		b.NewFunctionBuilder().WithGoModuleFunction(wapi.GoModuleFunc(func(ctx context.Context, mod wapi.Module, stack []uint64) {
			in := inst{mod}
			if err := fn(api.WithCaller(ctx, in), in.Memory(), stack); err != nil {
				panic(err)
			}
		}), vts(f.ParamTypes), vts(f.ResultTypes)).Export(f.Name)
	}
	for _, m := range order {
		_, err := mods[m].Instantiate(ctx)
		require.NoError(t, err)
	}
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName(""))
	require.NoError(t, err)
	return inst{mod}
}

func vts(ts []api.ValueType) []wapi.ValueType {
	out := make([]wapi.ValueType, len(ts))
	for i, t := range ts {
		out[i] = wapi.ValueType(t)
	}
	return out
}

func TestImportedResourceComponent(t *testing.T) {
	c, err := components.Decode(read(t, "res.component.wasm"), "")
	require.NoError(t, err)
	_, err = c.World.Func("test:res/store#[resource-drop]counter", false)
	require.NoError(t, err)
	require.Contains(t, c.Imports, [2]string{"test:res/store", "[resource-drop]counter"})
}
