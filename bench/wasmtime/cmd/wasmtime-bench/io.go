package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/bytecodealliance/wasmtime-go/v39"
)

// catFlag collects -cat NAME=PATH.
type catFlag [][2]string

func (c *catFlag) String() string { return fmt.Sprint(*c) }
func (c *catFlag) Set(v string) error {
	name, path, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("want NAME=PATH, got %q", v)
	}
	*c = append(*c, [2]string{name, path})
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "wasmtime-bench:", err)
	os.Exit(1)
}

// benchHostCalls times calls1000 of hostcalls.wasm (1,000 calls of env.add) on one instance.
func benchHostCalls(path string, n int) {
	wasm, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	engine := wasmtime.NewEngine()
	mod, err := wasmtime.NewModule(engine, wasm)
	if err != nil {
		fail(err)
	}
	store := wasmtime.NewStore(engine)
	inst, err := linker(engine).Instantiate(store, mod)
	if err != nil {
		fail(err)
	}
	f := inst.GetFunc(store, "calls1000")
	emit(timeItNamed("host-calls-1000", n, func() error {
		v, err := f.Call(store)
		if err == nil && v != int32(1000) {
			err = fmt.Errorf("calls1000 returned %v, want 1000", v)
		}
		return err
	}))
}

// benchCat times a WASI cat program as `wasmtime run --dir DIR::/ prog /INPUT` would run it
// (new engine, compile, instantiate, _start), its stdout going to a file whose SHA-256 must be
// sum.
func benchCat(name, prog, dir, input, sum string, runs int) {
	wasm, err := os.ReadFile(prog)
	if err != nil {
		fail(err)
	}
	out, err := os.MkdirTemp("", "wasmtime-bench-cat-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(out)
	outFile := filepath.Join(out, "stdout")
	emit(timeItNamed("cat-"+name, runs, func() error {
		engine := wasmtime.NewEngine()
		mod, err := wasmtime.NewModule(engine, wasm)
		if err != nil {
			return err
		}
		cfg := wasmtime.NewWasiConfig()
		cfg.SetArgv([]string{"cat", "/" + input})
		if err := cfg.SetStdoutFile(outFile); err != nil {
			return err
		}
		if err := cfg.PreopenDir(dir, "/", wasmtime.DIR_READ, wasmtime.FILE_READ); err != nil {
			return err
		}
		store := wasmtime.NewStore(engine)
		store.SetWasi(cfg)
		l := wasmtime.NewLinker(engine)
		if err := l.DefineWasi(); err != nil {
			return err
		}
		inst, err := l.Instantiate(store, mod)
		if err != nil {
			return err
		}
		if _, err := inst.GetFunc(store, "_start").Call(store); err != nil {
			if werr, ok := err.(*wasmtime.Error); !ok {
				return err
			} else if code, ok := werr.ExitStatus(); !ok || code != 0 {
				return err
			}
		}
		return checkSum(outFile, sum)
	}))
}

func checkSum(path, want string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != want {
		return fmt.Errorf("output differs from the input (sha256 %s, want %s)", got, want)
	}
	return nil
}
