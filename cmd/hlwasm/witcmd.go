package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/hlwasm/hlwasm/components"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/wit"
)

// privateTempDir points TMPDIR at a directory only this user can write before WIT tooling
// runs: go.bytecodealliance.org caches wasm-tools' compiled native code under os.TempDir(),
// and a shared, writable cache directory would let another user plant code that hlwasm runs.
func privateTempDir() {
	if os.Getenv("HLWASM_KEEP_TMPDIR") != "" {
		return
	}
	base, err := os.UserCacheDir()
	if err != nil {
		return
	}
	dir := filepath.Join(base, "hlwasm", "tmp")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	if fi, err := os.Stat(dir); err == nil && fi.Mode().Perm() == 0o700 {
		os.Setenv("TMPDIR", dir)
	}
}

// callWIT is `hlwasm call --wit`: arguments and results in WAVE, imports traced to stderr
// (each returns its type's zero value), for a core module with a WIT world or a component.
// An exported resource's constructor or static function can be called (its handle prints as
// a number), but nothing that takes a handle: the sandbox, and so the handle, ends with the call.
func callWIT(ctx context.Context, cfg host.Config, witPath, world, path string, wasm []byte, fn string, args []string,
	stdout, stderr io.Writer) error {
	privateTempDir()
	var w *wit.World
	var err error
	if components.Detect(wasm) == components.KindComponent {
		c, err := components.Decode(wasm, world)
		if errors.Is(err, components.ErrUnsupported) && world == "" {
			if _, lerr := components.DecodeLink(wasm); lerr == nil { // several core modules: the adapter's shape
				return callReactor(ctx, cfg, path, wasm, fn, args, stdout, stderr)
			}
		}
		if err != nil {
			return fmt.Errorf("decoding component %s: %w", path, err)
		}
		wasm, w = c.Core, c.World
	} else {
		if witPath == "" {
			return usagef("call: %s is a core module: --wit WORLD.wit is needed to call it with WIT values", path)
		}
		if w, err = wit.LoadFile(witPath, world); err != nil {
			return usagef("call: --wit: %v", err)
		}
	}
	if err := refuseHandleParams(w, fn); err != nil {
		return err
	}
	funcs, err := w.Bind(w.TraceImports(stderr))
	if err != nil {
		return err
	}
	cfg.HostFunctions = append(cfg.HostFunctions, funcs...)
	l, err := load(ctx, cfg, path, wasm)
	if err != nil {
		return err
	}
	defer l.close(ctx)
	sb, err := l.mod.NewSandbox(ctx)
	if err != nil {
		return err
	}
	defer sb.Close(ctx)
	out, err := w.CallWAVE(ctx, sb, fn, args)
	if err != nil {
		return err
	}
	if out != "" {
		fmt.Fprintln(stdout, out)
	}
	return nil
}

// refuseHandleParams refuses to call fn from the command line when it takes a resource handle.
func refuseHandleParams(w *wit.World, fn string) error {
	if f, err := w.Func(fn, true); err == nil {
		if p, r := f.HandleParam(); p != nil {
			return usagef("call: %s takes a handle of the guest's resource %s (parameter %s): handles live in the sandbox of one call, so they cannot be passed from the command line; call it from Go (wit.World.Call, World.Drop)", fn, r, p.Name)
		}
	}
	return nil
}

// callReactor calls an export of a component of several core modules (a library built with
// the preview1 reactor adapter): WASI 0.2 from cfg.WASI, other imports traced to stderr.
func callReactor(ctx context.Context, cfg host.Config, path string, wasm []byte, fn string, args []string, stdout, stderr io.Writer) error {
	rt, wc, err := linkedRuntime(ctx, cfg)
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	l, err := components.DecodeLink(wasm)
	if err != nil {
		return fmt.Errorf("decoding component %s: %w", path, err)
	}
	if err := refuseHandleParams(l.World, fn); err != nil {
		return err
	}
	r, err := components.LoadReactor(ctx, rt, wasm, wc, l.World.TraceImports(stderr))
	if err != nil {
		return fmt.Errorf("loading %s: %w", path, err)
	}
	defer r.Close(ctx)
	sb, err := r.Module.NewSandbox(ctx)
	if err != nil {
		return err
	}
	defer sb.Close(ctx)
	out, err := r.World().CallWAVE(ctx, sb, fn, args)
	if err != nil {
		return err
	}
	if out != "" {
		fmt.Fprintln(stdout, out)
	}
	return nil
}

// cmdWIT is `hlwasm wit bindgen`.
func cmdWIT(ctx context.Context, args []string, stdout io.Writer) error {
	_ = ctx
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		args = []string{"bindgen", "--help"}
	}
	if len(args) == 0 || args[0] != "bindgen" {
		return usagef("wit: the only subcommand is bindgen")
	}
	fs := flag.NewFlagSet("wit bindgen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	world := fs.String("world", "", "world to generate bindings for (default: the only one)")
	pkg := fs.String("package", "bindings", "Go package name of the generated file")
	out := fs.String("o", "", "write to this file instead of stdout")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("wit bindgen: need WORLD.wit")
	}
	privateTempDir()
	src, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return usagef("wit bindgen: %v", err)
	}
	w, err := wit.LoadFile(fs.Arg(0), *world)
	if err != nil {
		return err
	}
	code, err := wit.Bindgen(w, wit.BindgenOptions{Package: *pkg, WIT: string(src)})
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(code)
		return err
	}
	return os.WriteFile(*out, code, 0o644)
}
