package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/internal/bench"
)

// The scenarios of real programs against wazero (and Wasmtime, in wasmtime-bench): `hlwasm run`
// of wazero's own cat programs on a generated file, and one call that makes 1,000 host calls.

// catNames orders bench.Cats.
var catNames = []string{"cargo", "tinygo", "zig-cc"}

// catInput is the file the cat scenarios copy: size pseudo-random bytes (fixed seed) in dir,
// and its SHA-256, which every engine's output must match.
type catInput struct {
	dir, name string
	size      int64
	sum       [32]byte
}

func makeCatInput(dir string, size int64) (catInput, error) {
	in := catInput{dir: dir, name: "input.bin", size: size}
	f, err := os.Create(filepath.Join(dir, in.name))
	if err != nil {
		return in, err
	}
	defer f.Close()
	h := sha256.New()
	r := rand.New(rand.NewChaCha8([32]byte{'h', 'l', 'w', 'a', 's', 'm'}))
	buf := make([]byte, 1<<16)
	for left := size; left > 0; left -= int64(len(buf)) {
		b := buf[:min(int64(len(buf)), left)]
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		h.Write(b)
		if _, err := f.Write(b); err != nil {
			return in, err
		}
	}
	copy(in.sum[:], h.Sum(nil))
	return in, f.Close()
}

// hashWriter hashes and counts what a program writes to stdout.
type hashWriter struct {
	h hash.Hash
	n int64
}

func newHashWriter() *hashWriter { return &hashWriter{h: sha256.New()} }

func (w *hashWriter) Write(b []byte) (int, error) {
	w.n += int64(len(b))
	return w.h.Write(b)
}

// check reports whether w received exactly in's bytes.
func (w *hashWriter) check(in catInput) error {
	if w.n != in.size || !bytes.Equal(w.h.Sum(nil), in.sum[:]) {
		return fmt.Errorf("output differs from the input: %d bytes written of %d", w.n, in.size)
	}
	return nil
}

// benchCats times `hlwasm run --dir DIR:/ cat-X.wasm /input.bin` (in this process: runtime,
// load, sandbox, run) and the same program on wazero (runtime, compile, instantiate, run).
func benchCats(ctx context.Context, o benchOpts, in catInput, record recorder) error {
	for _, name := range catNames {
		wasm := bench.Cats[name]
		prog := filepath.Join(in.dir, "cat-"+name+".wasm")
		if err := os.WriteFile(prog, wasm, 0o644); err != nil {
			return err
		}
		scenario := "cat-" + name
		var stderr bytes.Buffer
		err := record(scenario, "microvm")(bench.Time(o.catRuns, func() error {
			w := newHashWriter()
			stderr.Reset()
			if err := cmdRun(ctx, []string{"--dir", in.dir + ":/", prog, "/" + in.name}, bytes.NewReader(nil), w, &stderr); err != nil {
				return fmt.Errorf("%w (stderr %q)", err, stderr.String())
			}
			return w.check(in)
		}))
		if err != nil {
			return err
		}
		if err := record(scenario, "wazero")(bench.Time(o.catRuns, func() error {
			return wazeroCat(ctx, wasm, in)
		})); err != nil {
			return err
		}
	}
	return nil
}

func wazeroCat(ctx context.Context, wasm []byte, in catInput) error {
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	w := newHashWriter()
	var stderr bytes.Buffer
	cfg := wazero.NewModuleConfig().WithArgs("cat", "/"+in.name).WithStdout(w).WithStderr(&stderr).
		WithFSConfig(wazero.NewFSConfig().WithReadOnlyDirMount(in.dir, "/"))
	_, err := r.InstantiateWithConfig(ctx, wasm, cfg)
	var exit *sys.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 0) {
		return fmt.Errorf("wazero: %w (stderr %q)", err, stderr.String())
	}
	return w.check(in)
}

// benchHostCalls times one call of hostcalls.wasm's calls1000 (1,000 host calls) on a parked
// sandbox, and on wazero.
func benchHostCalls(ctx context.Context, o benchOpts, record recorder) error {
	sb, done, err := benchSandbox(ctx, host.Config{HostFunctions: []api.HostFunction{bench.HostAdd}}, bench.HostCalls)
	if err != nil {
		return err
	}
	defer done()
	n := max(3, o.runs/100)
	if err := record("host-calls-1000", "microvm")(bench.Time(n, func() error {
		res, err := sb.Call(ctx, "calls1000")
		return want1000(res, err)
	})); err != nil {
		return err
	}
	r := wazero.NewRuntime(ctx)
	defer r.Close(ctx)
	if _, err := r.NewHostModuleBuilder("env").NewFunctionBuilder().
		WithFunc(func(a, b int32) int32 { return a + b }).Export("add").Instantiate(ctx); err != nil {
		return err
	}
	m, err := r.Instantiate(ctx, bench.HostCalls)
	if err != nil {
		return err
	}
	f := m.ExportedFunction("calls1000")
	return record("host-calls-1000", "wazero")(bench.Time(n, func() error {
		res, err := f.Call(ctx)
		return want1000(res, err)
	}))
}

func want1000(res []uint64, err error) error {
	if err == nil && !slices.Equal(res, []uint64{1000}) {
		err = fmt.Errorf("calls1000 returned %v, want [1000]", res)
	}
	return err
}

// vsWazero lists the scenarios held against wazero's time in the same run (goal: ≤ 2×; the
// kernels' goal is ≤ 1.5× wazero's compiler).
func vsWazero(scenario string) bool {
	return scenario == "host-calls-1000" || strings.HasPrefix(scenario, "cat-") || isKernel(scenario)
}
