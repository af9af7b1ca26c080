package wit_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/wit"
)

// The generated bindings for the round-trip world compile, vet cleanly and work: a small
// program in a temporary module implements Imports and calls Exports on the guest.
func TestBindgenCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module")
	}
	w := loadRT(t)
	src, err := os.ReadFile(testdata + "rt.wit")
	require.NoError(t, err)
	code, err := wit.Bindgen(w, wit.BindgenOptions{Package: "rt", WIT: string(src)})
	require.NoError(t, err)
	require.Contains(t, string(code), "type Mixed struct {")
	require.Contains(t, string(code), "HostEchoMixed(ctx context.Context, x Mixed) (Mixed, error)")
	require.Contains(t, string(code), "func (e Exports) GuestEchoShape(ctx context.Context, x Shape) (Shape, error)")
	require.Contains(t, string(code), "ColorBlue")

	repo, err := filepath.Abs("..")
	require.NoError(t, err)
	dir := t.TempDir()
	// hlwasm's own go.mod (every requirement, indirect ones included) under another module
	// path, so the test module has hlwasm's build list and needs no module hlwasm's tests do
	// not already need: no network, and nothing only a warm module cache has.
	main, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(main), "\n")
	require.True(t, ok)
	gomod := "module gentest\n" + rest + "\nrequire github.com/hlwasm/hlwasm v0.0.0\n\nreplace github.com/hlwasm/hlwasm => " + repo + "\n"
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	require.NoError(t, err)
	wasm, err := filepath.Abs(testdata + "rt.wasm")
	require.NoError(t, err)
	files := map[string]string{
		"go.mod":   gomod,
		"go.sum":   string(sum),
		"rt/rt.go": string(code),
		"main.go":  strings.ReplaceAll(bindgenMain, "WASM", wasm),
	}
	// more worlds, only compiled and vetted: resources, awkward names
	rw, err := wit.LoadFile(testdata+"res.wit", "")
	require.NoError(t, err)
	code, err = wit.Bindgen(rw, wit.BindgenOptions{Package: "res"})
	require.NoError(t, err)
	files["res/res.go"] = string(code)
	xw, err := wit.LoadFile(testdata+"xres.wit", "")
	require.NoError(t, err)
	code, err = wit.Bindgen(xw, wit.BindgenOptions{Package: "xres"})
	require.NoError(t, err)
	require.Contains(t, string(code), "func (e Exports) StoreDropCounter(ctx context.Context, self wit.Handle) error")
	files["xres/xres.go"] = string(code)
	tw, err := wit.Load(strings.NewReader(trickyWIT), "")
	require.NoError(t, err)
	code, err = wit.Bindgen(tw, wit.BindgenOptions{})
	require.NoError(t, err)
	files["tricky/tricky.go"] = string(code)
	for name, body := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
	}
	goBin := "go" // go test puts its own GOROOT/bin first in PATH
	for _, args := range [][]string{{"vet", "./..."}, {"run", "."}} {
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		// -mod=readonly, not -mod=mod: that loads the whole module graph, the go.mod of every
		// module hlwasm's go.sum names (gopkg.in/check.v1, yaml.v3's test dependency, among
		// them), which only a warm module cache has.
		cmd.Env = append(os.Environ(), "GOFLAGS="+os.Getenv("GOFLAGS")+" -mod=readonly", "GOPROXY=off", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "go %v:\n%s", args, out)
		if args[0] == "run" {
			require.Equal(t, "{3 7 hi 1.5 true} rect({x: 1, y: 2}) hello, gen [run]\n", string(out))
		}
	}
}

// bindgenMain uses the generated package with a tiny wazero host.
const bindgenMain = `package main

import (
	"context"
	"fmt"
	"os"

	"github.com/tetratelabs/wazero"
	wapi "github.com/tetratelabs/wazero/api"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/wit"
	"gentest/rt"
)

type host struct {
	rt.Imports // the echo functions are not called here
	logs []string
}

func (h *host) HostLog(ctx context.Context, msg string) error { h.logs = append(h.logs, msg); return nil }
func (h *host) RootLog(ctx context.Context, msg string) error { h.logs = append(h.logs, "run"); return nil }
func (h *host) HostEchoShape(ctx context.Context, x rt.Shape) (rt.Shape, error) { return x, nil }
func (h *host) HostEchoMixed(ctx context.Context, x rt.Mixed) (rt.Mixed, error) { x.A++; return x, nil }

func main() {
	ctx := context.Background()
	w, err := rt.LoadWorld()
	check(err)
	h := &host{}
	funcs, err := rt.HostFunctions(w, h)
	check(err)
	r := wazero.NewRuntime(ctx)
	mods := map[string]wazero.HostModuleBuilder{}
	for _, f := range funcs {
		if mods[f.ModuleName] == nil {
			mods[f.ModuleName] = r.NewHostModuleBuilder(f.ModuleName)
		}
		fn := f.Fn
		pt, rt := conv(f.ParamTypes), conv(f.ResultTypes)
		mods[f.ModuleName].NewFunctionBuilder().WithGoModuleFunction(wapi.GoModuleFunc(func(ctx context.Context, m wapi.Module, stack []uint64) {
			in := memInst{m}
			if err := fn(api.WithCaller(ctx, in), in.Memory(), stack); err != nil {
				panic(err)
			}
		}), pt, rt).Export(f.Name)
	}
	for _, b := range mods {
		_, err := b.Instantiate(ctx)
		check(err)
	}
	wasm, err := os.ReadFile("WASM")
	check(err)
	m, err := r.Instantiate(ctx, wasm)
	check(err)
	e := rt.Exports{World: w, Instance: memInst{m}}
	mx, err := e.GuestEchoMixed(ctx, rt.Mixed{A: 2, B: 7, C: "hi", D: 1.5, E: true})
	check(err)
	sh, err := e.GuestEchoShape(ctx, wit.Variant{Case: "rect", Payload: rt.Point{X: 1, Y: 2}})
	check(err)
	f, _ := w.Func("guest#echo-shape", true)
	shs, err := wit.FormatWAVE(f.Result, sh)
	check(err)
	hello, err := e.Run(ctx, "gen")
	check(err)
	fmt.Println(mx, shs, hello, h.logs[:1])
}

// memInst exposes a wazero module's memory as api.Memory through a copy-free view.
type memInst struct{ m wapi.Module }

func (i memInst) Memory() api.Memory {
	buf, _ := i.m.Memory().Read(0, i.m.Memory().Size())
	return api.ByteMemory(buf)
}
func (i memInst) Call(ctx context.Context, name string, params ...uint64) ([]uint64, error) {
	return i.m.ExportedFunction(name).Call(ctx, params...)
}

func conv(ts []api.ValueType) []wapi.ValueType {
	out := make([]wapi.ValueType, len(ts))
	for i, t := range ts {
		out[i] = wapi.ValueType(t)
	}
	return out
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}
`

const trickyWIT = `package t:tricky;
interface exports {
  /// Named like the generated Exports type.
  record exports { %type: u8, func-name: option<list<string>> }
  type alias = tuple<u8, exports>;
  map: func(%type: u32, ctx: string, e: alias) -> result;
}
interface other {
  record exports { x: u8 }
  get: func() -> exports;
}
world tricky {
  import exports;
  export exports;
  import other;
  export other;
  export map: func(err: list<tuple<bool, char>>) -> result<_, string>;
}
`
