package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hlwasm/hlwasm/components"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/internal/values"
	"github.com/hlwasm/hlwasm/wasi"
)

func cmdCall(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	timeout := fs.Duration("timeout", 10*time.Second, "stop the call after this long (0: no limit)")
	maxMem := fs.String("max-memory", "", "cap on the module's linear memory, e.g. 64MiB (default 1GiB)")
	maxSandbox := fs.String("max-sandbox-memory", "", "cap on all guest memory of the sandbox (linear memory, tables, engine data), e.g. 512MiB")
	engine := fs.String("engine", "microvm", "microvm, or wazero (in-process: no hardware isolation)")
	tier := fs.String("tier", "compiled", "compiled (machine code), or interp (the interpreter); micro-VM engine only")
	witPath := fs.String("wit", "", "WIT file or directory declaring the module's world: arguments and results in WAVE")
	world := fs.String("world", "", "with --wit: the world (default: the only one)")
	if err := fs.Parse(args); err != nil {
		return usagef("call: %v", err)
	}
	if fs.NArg() < 2 {
		return usagef("call: need MODULE.wasm and FUNC")
	}
	path, fn, fargs := fs.Arg(0), fs.Arg(1), fs.Args()[2:]
	// WASI is linked for modules that import it: no arguments, stdio passed through.
	cfg := host.Config{WASI: &wasi.Config{Args: []string{filepath.Base(path)}, Stdin: stdin, Stdout: stdout, Stderr: stderr}}
	var err error
	if cfg.Engine, err = host.ParseEngine(*engine); err != nil {
		return usagef("call: --engine: %v", err)
	}
	if cfg.Tier, err = host.ParseTier(*tier); err != nil {
		return usagef("call: --tier: %v", err)
	}
	if *maxMem != "" {
		pages, err := parsePages(*maxMem)
		if err != nil {
			return usagef("call: --max-memory: %v", err)
		}
		cfg.MaxMemoryPages = pages
	}
	if *maxSandbox != "" {
		if cfg.MaxSandboxMemory, err = parseSize(*maxSandbox); err != nil {
			return usagef("call: --max-sandbox-memory: %v", err)
		}
	}
	if *timeout == 0 { // said explicitly: no limit at all, not the library's default
		cfg.CallTimeout, cfg.LoadTimeout = host.NoTimeout, host.NoTimeout
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

// parsePages parses a byte size (plain bytes or with KiB/MiB/GiB, KB/MB/GB, K/M/G suffixes)
// and returns it in 64 KiB pages, rounded down.
// parseSize reads a byte size such as 64MiB, 1GB or 4096.
func parseSize(s string) (uint64, error) {
	mult := uint64(1)
	num := strings.TrimSpace(s)
	for _, u := range []struct {
		suffix string
		mult   uint64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000_000},
		{"GB", 1000_000_000}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}} {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSuffix(num, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(num), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad size %q", s)
	}
	if n > (1<<50)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

func parsePages(s string) (uint32, error) {
	n, err := parseSize(s)
	if err != nil {
		return 0, err
	}
	if n > 4<<30 {
		return 0, fmt.Errorf("size %q exceeds 4GiB", s)
	}
	pages := n / 65536
	if pages == 0 {
		return 0, fmt.Errorf("size %q is less than one 64KiB page", s)
	}
	return uint32(pages), nil
}
