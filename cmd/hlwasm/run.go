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

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/components"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/wasi"
)

// exitStatus ends hlwasm with the guest's own exit code.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// cmdRun runs a WASI command (a preview1 module's _start, or a wasi:cli/command component's
// run) with stdio passed through.
func cmdRun(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var dirs, rwDirs, env listFlag
	fs.Var(&dirs, "dir", "preopen a host directory READ-ONLY (unlike wazero's --mount): `HOST[:GUEST]` (repeatable); writes fail with EROFS")
	fs.Var(&rwDirs, "dir-rw", "preopen a host directory read-write: `HOST[:GUEST]` (repeatable)")
	fs.Var(&env, "env", "set an environment variable for the guest: `K=V` (repeatable)")
	var lim limitFlags
	lim.register(fs, 10*time.Minute, "program")
	engine := fs.String("engine", "microvm", "microvm, or wazero (in-process: no hardware isolation)")
	tier := fs.String("tier", "compiled", "compiled (machine code), or interp (the interpreter); micro-VM engine only")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	timeout := &lim.timeout
	if fs.NArg() < 1 {
		return usagef("run: need PROG.wasm")
	}
	path := fs.Arg(0)
	wc := &wasi.Config{
		Args:   append([]string{filepath.Base(path)}, fs.Args()[1:]...),
		Stdin:  stdin,
		Stdout: stdout,
		Stderr: stderr,
		RefusedWrite: func(preopen, op, path string) {
			fmt.Fprintf(stderr, "hlwasm: refused %s of %q: the preopen %s is read-only (--dir); --dir-rw makes it writable\n",
				op, path, preopen)
		},
	}
	for _, kv := range env {
		if !strings.Contains(kv, "=") {
			return usagef("run: --env %q: want K=V", kv)
		}
		wc.Env = append(wc.Env, kv)
	}
	for _, d := range []struct {
		specs    []string
		writable bool
	}{{dirs, false}, {rwDirs, true}} {
		writable := d.writable
		for _, spec := range d.specs {
			hostDir, guestDir, ok := strings.Cut(spec, ":")
			if !ok {
				guestDir = hostDir
			}
			root, err := os.OpenRoot(hostDir)
			if err != nil {
				return usagef("run: --dir %s: %v", spec, err)
			}
			defer root.Close()
			p := wasi.Preopen{GuestPath: guestDir, FS: root.FS()}
			if writable {
				p.FS, p.Writable = wasi.RootFS(root), true
			}
			wc.Preopens = append(wc.Preopens, p)
		}
	}
	cfg := host.Config{WASI: wc}
	lim.apply(&cfg)
	var err error
	if cfg.Engine, err = host.ParseEngine(*engine); err != nil {
		return usagef("run: --engine: %v", err)
	}
	if cfg.Tier, err = host.ParseTier(*tier); err != nil {
		return usagef("run: --tier: %v", err)
	}
	wasm, err := os.ReadFile(path)
	if err != nil {
		return usagef("run: %v", err)
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	if components.Detect(wasm) == components.KindComponent {
		return runCommand(ctx, cfg, path, wasm, *timeout)
	}
	l, err := load(ctx, cfg, path, wasm)
	if err != nil {
		return exitCodeOf(err, *timeout)
	}
	defer l.close(ctx)
	mod := l.mod
	if _, ok := mod.ExportedFunction("_start"); !ok {
		return usagef("run: %s has no _start (a reactor module? use hlwasm call)", path)
	}
	sb, err := mod.NewSandbox(ctx)
	if err != nil {
		return exitCodeOf(err, *timeout)
	}
	defer sb.Close(ctx)
	_, err = sb.Call(ctx, "_start")
	return exitCodeOf(err, *timeout)
}

// linkedRuntime is the runtime for a component of several core modules: cfg without its WASI
// preview1 configuration, which the component's WASI 0.2 host gets instead (returned).
func linkedRuntime(ctx context.Context, cfg host.Config) (*host.Runtime, wasi.Config, error) {
	wc := *cfg.WASI
	cfg.WASI = nil
	cfg.NoSnapshot = true // one run (see load)
	rt, err := host.NewRuntime(ctx, cfg)
	return rt, wc, err
}

// runCommand runs a wasi:cli/command component (its WASI 0.2 imports served with cfg.WASI).
func runCommand(ctx context.Context, cfg host.Config, path string, wasm []byte, timeout time.Duration) error {
	rt, wc, err := linkedRuntime(ctx, cfg)
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	c, err := components.LoadCommand(ctx, rt, wasm, wc)
	if err != nil {
		return exitCodeOf(fmt.Errorf("loading %s: %w", path, err), timeout)
	}
	defer c.Close(ctx)
	return exitCodeOf(c.Run(ctx), timeout)
}

// exitCodeOf turns a WASI exit into hlwasm's exit status and names timeouts.
func exitCodeOf(err error, timeout time.Duration) error {
	var exit *api.ExitError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, wasi.ErrOutput):
		return err
	case errors.As(err, &exit):
		if exit.Code == 0 {
			return nil
		}
		return exitStatus(int(exit.Code))
	case errors.Is(err, host.ErrDeadline) && timeout > 0:
		return fmt.Errorf("timed out after %v: %w", timeout, err)
	}
	return err
}
