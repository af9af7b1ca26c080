package components_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/components"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/internal/machine"
	"github.com/hlwasm/hlwasm/wasi"
)

func requireKVM(t *testing.T) {
	if !machine.KVMAvailable() {
		if os.Getenv("HLWASM_SKIP_KVM") == "1" {
			t.Skip("HLWASM_SKIP_KVM=1 and /dev/kvm is not usable")
		}
		t.Fatal("/dev/kvm is not usable (set HLWASM_SKIP_KVM=1 to skip)")
	}
}

// program is one run: arguments, stdin, and a preopen /w made from files (writable or not).
type program struct {
	args     []string
	stdin    string
	files    map[string]string
	writable bool
}

func (p program) config(t *testing.T, out, errOut *bytes.Buffer) wasi.Config {
	dir := t.TempDir()
	for name, content := range p.files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	t.Cleanup(func() { root.Close() })
	pre := wasi.Preopen{GuestPath: "/w", FS: root.FS()}
	if p.writable {
		pre.FS, pre.Writable = wasi.RootFS(root), true
	}
	return wasi.Config{Args: p.args, Env: []string{"GREETING=hi", "X=1"}, Stdin: strings.NewReader(p.stdin),
		Stdout: out, Stderr: errOut, Preopens: []wasi.Preopen{pre}}
}

// preview1 runs the core program as WASI preview1 on wazero: the reference.
func preview1(t *testing.T, core string, p program) (string, string, error) {
	return preview1On(t, host.EngineWazero, core, p)
}

// preview1On runs the core program as WASI preview1 on engine e.
func preview1On(t *testing.T, e host.Engine, core string, p program) (string, string, error) {
	var out, errOut bytes.Buffer
	cfg := p.config(t, &out, &errOut)
	ctx := context.Background()
	rt, err := host.NewRuntime(ctx, host.Config{Engine: e, WASI: &cfg})
	require.NoError(t, err)
	defer rt.Close(ctx)
	mod, err := rt.LoadModule(ctx, read(t, "../wasi/"+core))
	require.NoError(t, err)
	defer mod.Close(ctx)
	_, err = mod.Call(ctx, "_start")
	return out.String(), errOut.String(), err
}

// command runs the component made of that program and the preview1 adapter.
func command(t *testing.T, rt *host.Runtime, comp string, p program) (string, string, error) {
	var out, errOut bytes.Buffer
	ctx := context.Background()
	c, err := components.LoadCommand(ctx, rt, read(t, "../wasi/"+comp), p.config(t, &out, &errOut))
	require.NoError(t, err)
	defer c.Close(ctx)
	err = c.Run(ctx)
	return out.String(), errOut.String(), err
}

func exitCode(err error) int {
	var e *api.ExitError
	if errors.As(err, &e) {
		return int(e.Code)
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestCommandMatchesPreview1: the component (main module + jco's preview1 adapter, its
// wasi:* imports served by wasi.Preview2 in one micro-VM) prints what the core program prints
// as preview1 on wazero.
func TestCommandMatchesPreview1(t *testing.T) {
	requireKVM(t)
	ctx := context.Background()
	rt, err := host.NewRuntime(ctx, host.Config{})
	require.NoError(t, err)
	defer rt.Close(ctx)
	files := map[string]string{"a.txt": "alpha\nbeta\n", "b.txt": "x"}
	for name, c := range map[string]struct {
		prog string
		p    program
	}{
		"files":    {"cprog", program{args: []string{"cprog", "/w/a.txt", "/w/missing", "-ls", "/w"}, files: files}},
		"write":    {"cprog", program{args: []string{"cprog", "-write", "/w"}, files: files, writable: true}},
		"readonly": {"cprog", program{args: []string{"cprog", "-write", "/w"}, files: files}},
		"hostile":  {"cprog", program{args: []string{"cprog", "-hostile", "/w"}, files: files}},
		"args":     {"p2prog", program{args: []string{"p2prog", "args", "a b", "ü"}}},
		"cat":      {"p2prog", program{args: []string{"p2prog", "cat"}, stdin: strings.Repeat("line of stdin\n", 10000)}},
		"clock":    {"p2prog", program{args: []string{"p2prog", "clock"}}},
		"random":   {"p2prog", program{args: []string{"p2prog", "random"}}},
		"exit0":    {"p2prog", program{args: []string{"p2prog", "exit", "0"}}},
		"unknown":  {"p2prog", program{args: []string{"p2prog", "nope"}}},
		// Rust std (rustc 1.63, wasm32-wasi)
		"rust-args":     {"rprog", program{args: []string{"rprog", "args", "a b", "ü"}}},
		"rust-cat":      {"rprog", program{args: []string{"rprog", "cat"}, stdin: strings.Repeat("line of stdin\n", 5000)}},
		"rust-read":     {"rprog", program{args: []string{"rprog", "read", "/w/a.txt", "/w/missing"}, files: files}},
		"rust-ls":       {"rprog", program{args: []string{"rprog", "ls", "/w"}, files: files}},
		"rust-write":    {"rprog", program{args: []string{"rprog", "write", "/w"}, files: files, writable: true}},
		"rust-readonly": {"rprog", program{args: []string{"rprog", "write", "/w"}, files: files}},
		"rust-compute":  {"rprog", program{args: []string{"rprog", "compute"}}},
		"rust-exit":     {"rprog", program{args: []string{"rprog", "exit", "7"}}},
		"rust-usage":    {"rprog", program{args: []string{"rprog"}}},
	} {
		t.Run(name, func(t *testing.T) {
			wantOut, wantErr, wantRes := preview1(t, c.prog+".wasm", c.p)
			out, errOut, res := command(t, rt, c.prog+".component.wasm", c.p)
			require.Equal(t, wantOut, out)
			require.Equal(t, wantErr, errOut)
			// WASI 0.2's exit takes a result: any nonzero status becomes 1 (as on Wasmtime).
			require.Equal(t, min(exitCode(wantRes), 1), exitCode(res), "%v / %v", wantRes, res)
		})
	}
}

// TestRustPreview1: the Rust program as a preview1 core module on micro-VMs prints exactly
// what it prints on wazero, with the same exit status (its component is in
// TestCommandMatchesPreview1).
func TestRustPreview1(t *testing.T) {
	requireKVM(t)
	files := map[string]string{"a.txt": "alpha beta\nbeta\n", "b.txt": "x"}
	for name, p := range map[string]program{
		"args":     {args: []string{"rprog", "args", "a b", "ü"}},
		"cat":      {args: []string{"rprog", "cat"}, stdin: strings.Repeat("line of stdin\n", 5000)},
		"read":     {args: []string{"rprog", "read", "/w/a.txt", "/w/missing"}, files: files},
		"write":    {args: []string{"rprog", "write", "/w"}, files: files, writable: true},
		"readonly": {args: []string{"rprog", "write", "/w"}, files: files},
		"compute":  {args: []string{"rprog", "compute"}},
		"exit":     {args: []string{"rprog", "exit", "7"}},
	} {
		t.Run(name, func(t *testing.T) {
			wantOut, wantErr, wantRes := preview1(t, "rprog.wasm", p)
			out, errOut, res := preview1On(t, host.EngineMicroVM, "rprog.wasm", p)
			require.Equal(t, wantOut, out)
			require.Equal(t, wantErr, errOut)
			require.Equal(t, exitCode(wantRes), exitCode(res), "%v / %v", wantRes, res)
			if name == "exit" {
				require.Equal(t, 7, exitCode(res))
			} else {
				require.NotEmpty(t, out+errOut)
			}
		})
	}
}

// TestCommandExitStatus: exit(3) is err, status 1; state is fresh on every run.
func TestCommandExitStatus(t *testing.T) {
	requireKVM(t)
	ctx := context.Background()
	rt, err := host.NewRuntime(ctx, host.Config{})
	require.NoError(t, err)
	defer rt.Close(ctx)
	var out bytes.Buffer
	c, err := components.LoadCommand(ctx, rt, read(t, "../wasi/p2prog.component.wasm"),
		wasi.Config{Args: []string{"p2prog", "exit", "3"}, Stdout: &out})
	require.NoError(t, err)
	defer c.Close(ctx)
	for range 3 {
		var exit *api.ExitError
		require.ErrorAs(t, c.Run(ctx), &exit)
		require.Equal(t, uint32(1), exit.Code)
	}
	require.Equal(t, strings.Repeat("exiting with 3\n", 3), out.String())
	require.Len(t, c.Link.Parts, 4) // main, adapter, shim, fixup
}

func TestCommandRefused(t *testing.T) {
	requireKVM(t)
	ctx := context.Background()
	rt, err := host.NewRuntime(ctx, host.Config{})
	require.NoError(t, err)
	defer rt.Close(ctx)
	comp := read(t, "../wasi/p2prog.component.wasm")
	_, err = components.LoadCommand(ctx, rt, comp[:len(comp)/2], wasi.Config{})
	require.ErrorIs(t, err, components.ErrMalformed)
	_, err = components.LoadCommand(ctx, rt, read(t, "../wasi/p2prog.wasm"), wasi.Config{})
	require.ErrorIs(t, err, components.ErrMalformed)
	_, err = components.LoadCommand(ctx, rt, read(t, "rt.component.wasm"), wasi.Config{})
	require.ErrorIs(t, err, components.ErrNotCommand)
	_, err = components.LoadCommand(ctx, rt, comp, wasi.Config{Args: []string{"a\x00b"}})
	require.ErrorIs(t, err, wasi.ErrConfig)

	wz, err := host.NewRuntime(ctx, host.Config{Engine: host.EngineWazero})
	require.NoError(t, err)
	defer wz.Close(ctx)
	_, err = components.LoadCommand(ctx, wz, comp, wasi.Config{})
	require.ErrorIs(t, err, host.ErrUnsupportedEngine)
}
