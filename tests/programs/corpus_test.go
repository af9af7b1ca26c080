package programs_test

// Big third-party programs from npm packages, opt-in (they are too big to commit): set
//
//	HLWASM_CORPUS_YOSYS=DIR  the @yowasp/yosys package directory (node_modules/@yowasp/yosys)
//	HLWASM_CORPUS_RUBY=DIR   the @ruby/3.4-wasm-wasi package directory
//	HLWASM_CORPUS_CLANG=DIR  the @yowasp/clang package directory
//
// (`npm install @yowasp/yosys @ruby/3.4-wasm-wasi @yowasp/clang` in a scratch directory). Without the
// variable a test skips saying so; with it, anything missing fails.

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tetratelabs/wazero"
	wapi "github.com/tetratelabs/wazero/api"
	wasip1 "github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/internal/wasmbin"
	"github.com/hlwasm/hlwasm/wasi"
)

func corpusDir(t *testing.T, env string) string {
	dir := os.Getenv(env)
	if dir == "" {
		t.Skipf("%s is not set (opt-in: the npm package directory)", env)
	}
	return dir
}

const counterV = `module counter(input clk, input rst, input en, output reg [7:0] q, output wrap);
  always @(posedge clk)
    if (rst) q <= 0; else if (en) q <= q + 1;
  assign wrap = en && (q == 8'hff);
endmodule
`

// TestCorpusYosys synthesizes a small design with YoWASP's Yosys (a 30.8 MB WASI command,
// ABC included): hlwasm on wazero and in a micro-VM must print the same and leave the same
// netlists.
func TestCorpusYosys(t *testing.T) {
	pkg := corpusDir(t, "HLWASM_CORPUS_YOSYS")
	wasmPath := filepath.Join(pkg, "gen", "yosys.core.wasm")
	_, err := os.Stat(wasmPath)
	require.NoError(t, err)
	// The techmap library is a JavaScript object in the package: node writes it out.
	share := t.TempDir()
	script := fmt.Sprintf(`import { filesystem } from %q;
import { mkdirSync, writeFileSync } from 'node:fs';
function dump(dir, tree) {
  mkdirSync(dir, { recursive: true });
  for (const [k, v] of Object.entries(tree)) {
    if (typeof v === 'string' || v instanceof Uint8Array) writeFileSync(dir + '/' + k, v);
    else dump(dir + '/' + k, v);
  }
}
dump(%q, filesystem);`, "file://"+filepath.Join(pkg, "gen", "resources-yosys.js"), share)
	out, err := exec.Command("node", "--input-type=module", "-e", script).CombinedOutput()
	require.NoError(t, err, "node: %s", out)
	in := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(in, "counter.v"), []byte(counterV), 0o644))
	c := progCase{
		name: "synth", wasm: wasmPath, writable: true, wguest: "/tmp",
		mounts: []mount{{filepath.Join(share, "share"), "/share"}, {in, "/in"}},
		args: []string{"yosys", "-Q", "-T", "-p", "read_verilog /in/counter.v; synth -top counter; abc; opt_clean; stat; " +
			"write_verilog -noattr /tmp/out.v; write_json /tmp/out.json"},
	}
	wasm, err := os.ReadFile(wasmPath)
	require.NoError(t, err)
	// wazero's own WASI is no reference here: Yosys fails on it in its ABC step
	// ("Assert `n >= 0' failed in kernel/io.cc:315"), so hlwasm's two engines are compared
	// with each other, and the result checked.
	t0 := time.Now()
	ref := runReference(t, c, wasm)
	t.Logf("wazero's WASI (%v): exit %d, stderr %q", time.Since(t0).Round(time.Millisecond), ref.code, ref.stderr)
	var res [2]result
	for i, e := range []host.Engine{host.EngineWazero, host.EngineMicroVM} {
		t0 := time.Now()
		res[i] = runHost(t, c, wasm, e)
		t.Logf("%v: %v", e, time.Since(t0).Round(time.Millisecond))
	}
	require.Equal(t, res[0], res[1], "wazero and micro-VM engines")
	require.Equal(t, uint32(0), res[1].code, "stderr %q", res[1].stderr)
	// ABC saves stdout with fd_renumber(1, 7) and renumbers a file onto the vacated 1, and
	// back: what it and Yosys print afterwards must arrive.
	require.Contains(t, res[1].stdout, "Re-integrating ABC results")
	require.Contains(t, res[1].stdout, "Number of cells")
	require.Contains(t, res[1].files["out.v"], "module counter(")
	require.Contains(t, res[1].files["out.json"], `"counter"`)
}

// runHost runs c through the public API on engine e with hlwasm's WASI.
func runHost(t *testing.T, c progCase, wasm []byte, e host.Engine) result {
	ctx := context.Background()
	var stdout, stderr bytes.Buffer
	cfg, wdir := wasiConfig(t, c, &stdout, &stderr)
	rt, err := host.NewRuntime(ctx, host.Config{Engine: e, WASI: &cfg, CallTimeout: 10 * time.Minute})
	require.NoError(t, err)
	defer rt.Close(ctx)
	mod, err := rt.LoadModule(ctx, wasm)
	require.NoError(t, err)
	defer mod.Close(ctx)
	sb, err := mod.NewSandbox(ctx)
	require.NoError(t, err)
	defer sb.Close(ctx)
	_, err = sb.Call(ctx, "_start")
	return exited(t, result{stdout: stdout.String(), stderr: stderr.String(), files: snapshot(t, wdir)}, err, e.String())
}

// rubyInst is what the Ruby driver needs of an instance: calls, and writes and reads of its
// memory.
type rubyInst struct {
	call   func(ctx context.Context, name string, params ...uint64) ([]uint64, error)
	write  func(p uint32, b []byte) bool
	read32 func(p uint32) (uint32, bool)
}

// rubyStubs implement ruby.wasm's non-WASI imports: the old canonical ABI's resource table
// for its rb-abi-value handles, and JavaScript interop, which traps (nothing here uses it).
func rubyStubs(t *testing.T, wasm []byte) []api.HostFunction {
	info, err := wasmbin.Parse(wasm)
	require.NoError(t, err)
	reps := map[uint32]uint32{}
	next := uint32(0)
	var out []api.HostFunction
	for _, im := range info.Imports {
		if im.Module == "wasi_snapshot_preview1" {
			continue
		}
		require.Equal(t, wasmbin.KindFunc, im.Kind, "%s.%s", im.Module, im.Name)
		f := api.HostFunction{ModuleName: im.Module, Name: im.Name, ParamTypes: im.FuncType.Params, ResultTypes: im.FuncType.Results}
		name := im.Module + "." + im.Name
		switch {
		case strings.HasPrefix(im.Name, "resource_new_"):
			f.Fn = func(_ context.Context, _ api.Memory, s []uint64) error {
				next++
				reps[next] = uint32(s[0])
				s[0] = uint64(next)
				return nil
			}
		case strings.HasPrefix(im.Name, "resource_get_"):
			f.Fn = func(_ context.Context, _ api.Memory, s []uint64) error {
				r, ok := reps[uint32(s[0])]
				if !ok {
					return fmt.Errorf("%s: no handle %d", name, s[0])
				}
				s[0] = uint64(r)
				return nil
			}
		case strings.HasPrefix(im.Name, "resource_drop_"):
			f.Fn = func(context.Context, api.Memory, []uint64) error { return nil }
		default:
			f.Fn = func(context.Context, api.Memory, []uint64) error {
				return fmt.Errorf("%s: JavaScript interop is not available", name)
			}
		}
		out = append(out, f)
	}
	return out
}

// rubyEval initializes the VM as the package's JavaScript driver does and evaluates each
// script, returning each's protect state (0: no exception).
func rubyEval(t *testing.T, ctx context.Context, inst rubyInst, scripts []string) []int32 {
	alloc := func(b []byte, align uint32) uint32 {
		res, err := inst.call(ctx, "cabi_realloc", 0, 0, uint64(align), uint64(len(b)))
		require.NoError(t, err)
		p := uint32(res[0])
		require.True(t, inst.write(p, b))
		return p
	}
	args := []string{"ruby.wasm", "-EUTF-8", "-e_=0"} // as the package's JavaScript driver
	list := make([]byte, 8*len(args))
	for i, a := range args {
		p := alloc(append([]byte(a), 0), 1) // ruby-init uses the strings as C strings
		binary32(list[8*i:], p, uint32(len(a)))
	}
	_, err := inst.call(ctx, "ruby-init: func(args: list<string>) -> ()", uint64(alloc(list, 4)), uint64(len(args)))
	require.NoError(t, err)
	_, err = inst.call(ctx, "ruby-init-loadpath: func() -> ()")
	require.NoError(t, err)
	var states []int32
	for _, s := range scripts {
		res, err := inst.call(ctx, "rb-eval-string-protect: func(str: string) -> tuple<handle<rb-abi-value>, s32>",
			uint64(alloc([]byte(s), 1)), uint64(len(s)))
		require.NoError(t, err)
		st, ok := inst.read32(uint32(res[0]) + 4)
		require.True(t, ok)
		states = append(states, int32(st))
	}
	return states
}

func binary32(b []byte, x, y uint32) {
	for i := range 4 {
		b[i], b[4+i] = byte(x>>(8*i)), byte(y>>(8*i))
	}
}

func wazeroTypes(ts []api.ValueType) []wapi.ValueType {
	out := make([]wapi.ValueType, len(ts))
	for i, vt := range ts {
		out[i] = map[api.ValueType]wapi.ValueType{api.ValueTypeI32: wapi.ValueTypeI32, api.ValueTypeI64: wapi.ValueTypeI64,
			api.ValueTypeF32: wapi.ValueTypeF32, api.ValueTypeF64: wapi.ValueTypeF64}[vt]
	}
	return out
}

// TestCorpusRuby runs CRuby 3.4 (the package's 30.6 MB ruby+stdlib.wasm, a reactor with the
// old wit-bindgen exports and its standard library packed in by wasi-vfs) evaluating scripts as
// the package's JavaScript driver does: wazero's own WASI and hlwasm on both engines print the
// same. Its JavaScript-interop imports are stubs that fail if called.
func TestCorpusRuby(t *testing.T) {
	pkg := corpusDir(t, "HLWASM_CORPUS_RUBY")
	wasm, err := os.ReadFile(filepath.Join(pkg, "dist", "ruby+stdlib.wasm"))
	require.NoError(t, err)
	scripts := []string{
		`puts "Hello from Ruby #{RUBY_VERSION} on #{RUBY_PLATFORM}"`,
		`h = Hash.new(0); "the quick brown fox jumps over the lazy dog the end".split.each { |w| h[w] += 1 }; p h.sort_by { |k, v| [-v, k] }.first(3)`,
		`puts (1..30).reduce(:*); puts 2**100; printf("%.10f %e\n", Math::PI, 1.0/3)`,
		`def fib(n) = n < 2 ? n : fib(n-1) + fib(n-2); puts fib(24)`,
		`puts [3,1,2].sort.inspect, "héllo".upcase, "abc".each_char.map(&:ord).sum`,
		`raise "boom"`,
		`$stderr.puts "to stderr"; puts :after_error`,
		`require "json"; puts JSON.generate({"a" => [1, 2.5, nil, true], "b" => "ü"}); p JSON.parse('{"x": [1, {"y": null}]}')`,
		`require "set"; require "digest"; s = Set[3, 1, 2]; p s.include?(2), s.sort; puts Digest::SHA256.hexdigest("abc") rescue puts "digest: #{$!.class}"`,
		`$stdout.flush; $stderr.flush`, // Ruby buffers them; nothing flushes at exit here
	}
	ctx := context.Background()
	run := func(name string, f func(stdout, stderr *bytes.Buffer) []int32) (string, string, []int32) {
		var stdout, stderr bytes.Buffer
		t0 := time.Now()
		st := f(&stdout, &stderr)
		t.Logf("%s: %v", name, time.Since(t0).Round(time.Millisecond))
		return stdout.String(), stderr.String(), st
	}
	wantOut, wantErr, wantSt := run("wazero (reference)", func(stdout, stderr *bytes.Buffer) []int32 {
		rt := wazero.NewRuntime(ctx)
		defer rt.Close(ctx)
		wasip1.MustInstantiate(ctx, rt)
		byMod := map[string]wazero.HostModuleBuilder{}
		for _, f := range rubyStubs(t, wasm) {
			b, ok := byMod[f.ModuleName]
			if !ok {
				b = rt.NewHostModuleBuilder(f.ModuleName)
				byMod[f.ModuleName] = b
			}
			fn := f.Fn
			b.NewFunctionBuilder().WithGoModuleFunction(wapi.GoModuleFunc(func(ctx context.Context, _ wapi.Module, s []uint64) {
				if err := fn(ctx, nil, s); err != nil {
					panic(err)
				}
			}), wazeroTypes(f.ParamTypes), wazeroTypes(f.ResultTypes)).Export(f.Name)
		}
		for _, b := range byMod {
			_, err := b.Instantiate(ctx)
			require.NoError(t, err)
		}
		mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithStdout(stdout).WithStderr(stderr).
			WithRandSource(&detRand{}).WithSysWalltime().WithSysNanotime().WithStartFunctions("_initialize").WithName(""))
		require.NoError(t, err)
		return rubyEval(t, ctx, rubyInst{
			call: func(ctx context.Context, name string, params ...uint64) ([]uint64, error) {
				return mod.ExportedFunction(name).Call(ctx, params...)
			},
			write: mod.Memory().Write, read32: mod.Memory().ReadUint32Le,
		}, scripts)
	})
	require.Contains(t, wantOut, "Hello from Ruby 3.4")
	require.Contains(t, wantOut, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n") // the stdlib loaded
	require.Contains(t, wantOut, `{"a":[1,2.5,null,true],"b":"ü"}`)
	for i, st := range wantSt {
		require.Equal(t, i == 5, st != 0, "script %d (only raise fails): state %d", i, st)
	}
	for _, e := range []host.Engine{host.EngineWazero, host.EngineMicroVM} {
		out, errOut, st := run(e.String(), func(stdout, stderr *bytes.Buffer) []int32 {
			cfg := wasi.Config{Stdout: stdout, Stderr: stderr, Rand: &detRand{}}
			rt, err := host.NewRuntime(ctx, host.Config{Engine: e, WASI: &cfg, HostFunctions: rubyStubs(t, wasm), CallTimeout: 5 * time.Minute})
			require.NoError(t, err)
			defer rt.Close(ctx)
			mod, err := rt.LoadModule(ctx, wasm)
			require.NoError(t, err)
			defer mod.Close(ctx)
			sb, err := mod.NewSandbox(ctx)
			require.NoError(t, err)
			defer sb.Close(ctx)
			return rubyEval(t, ctx, rubyInst{call: sb.Call,
				write:  func(p uint32, b []byte) bool { return sb.Memory().Write(p, b) },
				read32: func(p uint32) (uint32, bool) { return sb.Memory().ReadUint32Le(p) },
			}, scripts)
		})
		require.Equal(t, wantOut, out, e.String())
		require.Equal(t, wantErr, errOut, e.String())
		require.Equal(t, wantSt, st, e.String())
	}
	t.Logf("states %v\nstdout:\n%s\nstderr:\n%s", wantSt, wantOut, wantErr)
}

const helloC = `#include <stdio.h>
#include <math.h>
int main(int argc, char **argv) {
	double s = 0;
	for (int i = 1; i < argc * 1000; i++) s += sin(i) / i;
	printf("hello from clang-in-wasm: %d args, %.9f\n", argc, s);
	return 0;
}
`

// TestCorpusClang compiles and links a C program with YoWASP's Clang/LLD (LLVM 22, a 75.5 MB
// WASI command, multi-call: argv[0] picks clang or wasm-ld) against the wasi-libc its package
// ships: the object file and the linked program must be byte-identical on wazero's own WASI,
// on hlwasm's wazero engine and in a micro-VM, and the program must print the same on all
// three.
func TestCorpusClang(t *testing.T) {
	pkg := corpusDir(t, "HLWASM_CORPUS_CLANG")
	wasmPath := filepath.Join(pkg, "gen", "llvm.core.wasm")
	wasm, err := os.ReadFile(wasmPath)
	require.NoError(t, err)
	usr := t.TempDir() // the package's sysroot (headers, libc, compiler-rt), mounted at /usr
	untar(t, filepath.Join(pkg, "gen", "llvm-resources.tar"), usr)
	src := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(src, "hello.c"), []byte(helloC), 0o644))
	step := func(name string, in string, args ...string) result {
		c := progCase{name: name, wasm: wasmPath, writable: true, compiler: true, env: []string{"TMPDIR=/w"},
			mounts: []mount{{usr, "/usr"}, {in, "/in"}}, args: args}
		t0 := time.Now()
		ref := runReference(t, c, wasm)
		t.Logf("%s: wazero %v", name, time.Since(t0).Round(time.Millisecond))
		for _, e := range []host.Engine{host.EngineWazero, host.EngineMicroVM} {
			t0 := time.Now()
			got := runHost(t, c, wasm, e)
			t.Logf("%s: hlwasm %v %v", name, e, time.Since(t0).Round(time.Millisecond))
			require.Equal(t, ref, got, "%s on %v", name, e)
		}
		require.Equal(t, uint32(0), ref.code, "%s: stderr %q", name, ref.stderr)
		return ref
	}
	obj := step("compile", src, "clang", "-O2", "-c", "/in/hello.c", "-o", "/w/hello.o")
	require.Contains(t, obj.files, "hello.o")
	objDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(objDir, "hello.o"), []byte(obj.files["hello.o"]), 0o644))
	lib := "/usr/lib/wasm32-wasip1"
	linked := step("link", objDir, "wasm-ld", lib+"/crt1-command.o", "/in/hello.o", "-L"+lib, "-lc", "-lm",
		"/usr/lib/wasm32-unknown-wasip1/libclang_rt.builtins.a", "-o", "/w/hello.wasm")
	hello := []byte(linked.files["hello.wasm"])
	require.NotEmpty(t, hello)
	c := progCase{name: "hello", args: []string{"hello", "a", "b"}}
	ref := runReference(t, c, hello)
	require.Contains(t, ref.stdout, "hello from clang-in-wasm: 3 args")
	for _, e := range []host.Engine{host.EngineWazero, host.EngineMicroVM} {
		require.Equal(t, ref, runHost(t, c, hello, e), "the compiled program on %v", e)
	}
}

// untar extracts a tar file's regular files and directories into dir (names stay inside it).
func untar(t *testing.T, file, dir string) {
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	tr := tar.NewReader(f)
	root, err := os.OpenRoot(dir)
	require.NoError(t, err)
	defer root.Close()
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		require.NoError(t, err)
		name := filepath.Clean(strings.TrimPrefix(h.Name, "/"))
		switch h.Typeflag {
		case tar.TypeDir:
			require.NoError(t, root.MkdirAll(name, 0o755))
		case tar.TypeReg:
			require.NoError(t, root.MkdirAll(filepath.Dir(name), 0o755))
			w, err := root.Create(name)
			require.NoError(t, err)
			_, err = io.Copy(w, tr)
			require.NoError(t, err)
			require.NoError(t, w.Close())
		}
	}
}
