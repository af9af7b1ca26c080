package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hlwasm/hlwasm/components"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/internal/values"
	"github.com/hlwasm/hlwasm/wasi"
)

func cmdCall(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	var lim limitFlags
	lim.register(fs, 10*time.Second, "call")
	engine := fs.String("engine", "microvm", "microvm, or wazero (in-process: no hardware isolation)")
	tier := fs.String("tier", "compiled", "compiled (machine code), or interp (the interpreter); micro-VM engine only")
	witPath := fs.String("wit", "", "WIT file or directory declaring the module's world: arguments and results in WAVE")
	world := fs.String("world", "", "with --wit: the world (default: the only one)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	timeout := &lim.timeout
	if fs.NArg() < 2 {
		return usagef("call: need MODULE.wasm and FUNC")
	}
	path, fn, fargs := fs.Arg(0), fs.Arg(1), fs.Args()[2:]
	// WASI is linked for modules that import it: no arguments, stdio passed through.
	cfg := host.Config{WASI: &wasi.Config{Args: []string{filepath.Base(path)}, Stdin: stdin, Stdout: stdout, Stderr: stderr}}
	lim.apply(&cfg)
	var err error
	if cfg.Engine, err = host.ParseEngine(*engine); err != nil {
		return usagef("call: --engine: %v", err)
	}
	if cfg.Tier, err = host.ParseTier(*tier); err != nil {
		return usagef("call: --tier: %v", err)
	}
	wasm, err := os.ReadFile(path)
	if err != nil {
		return usagef("call: %v", err)
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	if *witPath != "" || components.Detect(wasm) == components.KindComponent {
		err := callWIT(ctx, cfg, *witPath, *world, path, wasm, fn, fargs, stdout, stderr)
		if errors.Is(err, host.ErrDeadline) {
			return fmt.Errorf("call timed out after %v: %w", *timeout, err)
		}
		return err
	}
	l, err := load(ctx, cfg, path, wasm)
	if err != nil {
		return err
	}
	defer l.close(ctx)
	mod := l.mod
	def, ok := mod.ExportedFunction(fn)
	if !ok {
		return usagef("call: %s has no exported function %q (exports: %s)", path, fn, exportList(mod))
	}
	if len(fargs) != len(def.ParamTypes) {
		return usagef("call: %s takes %d arguments %v, got %d", fn, len(def.ParamTypes), def.ParamTypes, len(fargs))
	}
	params := make([]uint64, 0, len(fargs))
	for i, a := range fargs {
		v, err := values.Parse(def.ParamTypes[i], a)
		if err != nil {
			return usagef("call: argument %d (%s): %v", i+1, def.ParamTypes[i], err)
		}
		params = append(params, v)
	}
	sb, err := mod.NewSandbox(ctx)
	if err != nil {
		return err
	}
	defer sb.Close(ctx)
	res, err := sb.Call(ctx, fn, params...)
	if err != nil {
		if errors.Is(err, host.ErrDeadline) {
			return fmt.Errorf("call timed out after %v: %w", *timeout, err)
		}
		return err
	}
	for i, v := range res {
		fmt.Fprintln(stdout, values.Format(def.ResultTypes[i], v))
	}
	return nil
}

func exportList(mod *host.Module) string {
	var names []string
	for n := range mod.ExportedFunctions() {
		names = append(names, n)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
