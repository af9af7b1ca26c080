package wit_test

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	wapi "github.com/tetratelabs/wazero/api"

	"github.com/hlwasm/hlwasm/api"
)

// A minimal wazero host for the tests: it links []api.HostFunction, puts an api.Caller in
// the context of each host call (for cabi_realloc), and implements wit.Instance.

type wzMem struct{ m wapi.Memory }

func (m wzMem) Size() uint32 { return m.m.Size() }
func (m wzMem) Read(o, n uint32) ([]byte, bool) {
	b, ok := m.m.Read(o, n)
	return append([]byte(nil), b...), ok
}
func (m wzMem) Write(o uint32, b []byte) bool { return m.m.Write(o, b) }
func (m wzMem) ReadString(o, n uint32) (string, bool) {
	b, ok := m.m.Read(o, n)
	return string(b), ok
}
func (m wzMem) ReadUint8(o uint32) (byte, bool)       { return m.m.ReadByte(o) }
func (m wzMem) ReadUint16Le(o uint32) (uint16, bool)  { return m.m.ReadUint16Le(o) }
func (m wzMem) ReadUint32Le(o uint32) (uint32, bool)  { return m.m.ReadUint32Le(o) }
func (m wzMem) ReadUint64Le(o uint32) (uint64, bool)  { return m.m.ReadUint64Le(o) }
func (m wzMem) WriteUint8(o uint32, v byte) bool      { return m.m.WriteByte(o, v) }
func (m wzMem) WriteUint16Le(o uint32, v uint16) bool { return m.m.WriteUint16Le(o, v) }
func (m wzMem) WriteUint32Le(o uint32, v uint32) bool { return m.m.WriteUint32Le(o, v) }
func (m wzMem) WriteUint64Le(o uint32, v uint64) bool { return m.m.WriteUint64Le(o, v) }

type wzInst struct {
	mod   wapi.Module
	mu    sync.Mutex
	calls []string
}

func (i *wzInst) Memory() api.Memory {
	if m := i.mod.Memory(); m != nil {
		return wzMem{m}
	}
	return nil
}

func (i *wzInst) Call(ctx context.Context, name string, params ...uint64) ([]uint64, error) {
	i.mu.Lock()
	i.calls = append(i.calls, name)
	i.mu.Unlock()
	fn := i.mod.ExportedFunction(name)
	if fn == nil {
		return nil, os.ErrNotExist
	}
	return fn.Call(ctx, params...)
}

func (i *wzInst) HasExport(name string) bool { return i.mod.ExportedFunction(name) != nil }

func instantiate(t testing.TB, wasm []byte, funcs []api.HostFunction) *wzInst {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	t.Cleanup(func() { rt.Close(ctx) })
	mods := map[string]wazero.HostModuleBuilder{}
	var order []string
	for _, f := range funcs {
		b, ok := mods[f.ModuleName]
		if !ok {
			b = rt.NewHostModuleBuilder(f.ModuleName)
			mods[f.ModuleName] = b
			order = append(order, f.ModuleName)
		}
		fn := f.Fn
		b.NewFunctionBuilder().WithGoModuleFunction(wapi.GoModuleFunc(func(ctx context.Context, mod wapi.Module, stack []uint64) {
			inst := &wzInst{mod: mod}
			if err := fn(api.WithCaller(ctx, inst), inst.Memory(), stack); err != nil {
				panic(err)
			}
		}), vts(f.ParamTypes), vts(f.ResultTypes)).Export(f.Name)
	}
	for _, m := range order {
		if _, err := mods[m].Instantiate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName(""))
	if err != nil {
		t.Fatal(err)
	}
	return &wzInst{mod: mod}
}

func vts(ts []api.ValueType) []wapi.ValueType {
	out := make([]wapi.ValueType, len(ts))
	for i, t := range ts {
		out[i] = wapi.ValueType(t)
	}
	return out
}
