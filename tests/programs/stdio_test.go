package programs_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/wasi"
)

// stdioWasm is tests/testdata/wasi/stdio.wat: _start (cat), echo, hello(n), flood.
const stdioWasm = ourData + "/stdio.wasm"

var engines = []host.Engine{host.EngineMicroVM, host.EngineWazero}

// stdioModule loads stdio.wasm on engine with cfg as the runtime's WASI configuration.
func stdioModule(t *testing.T, engine host.Engine, cfg *wasi.Config, pool int) *host.Module {
	t.Helper()
	return stdioModuleWith(t, host.Config{Engine: engine, WASI: cfg, PoolSize: pool})
}

// stdioModuleWith loads stdio.wasm on a runtime of cfg.
func stdioModuleWith(t *testing.T, cfg host.Config) *host.Module {
	t.Helper()
	ctx := context.Background()
	wasm, err := os.ReadFile(stdioWasm)
	require.NoError(t, err)
	rt, err := host.NewRuntime(ctx, cfg)
	if err != nil && cfg.Engine == host.EngineMicroVM && os.Getenv("HLWASM_SKIP_KVM") == "1" {
		t.Skip(err)
	}
	require.NoError(t, err)
	t.Cleanup(func() { rt.Close(ctx) })
	mod, err := rt.LoadModule(ctx, wasm)
	require.NoError(t, err)
	t.Cleanup(func() { mod.Close(ctx) })
	return mod
}

// TestStdioConcurrentCalls: concurrent Module.Call on sandboxes sharing the runtime's Stdout
// (a bytes.Buffer) write in turns: run with -race, which reports the shared buffer otherwise.
func TestStdioConcurrentCalls(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.String(), func(t *testing.T) {
			var out bytes.Buffer
			mod := stdioModule(t, engine, &wasi.Config{Stdout: &out, Stderr: &out}, 4)
			const calls, lines = 16, 20
			var wg sync.WaitGroup
			errs := make(chan error, calls)
			for range calls {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := mod.Call(context.Background(), "hello", lines)
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			require.Equal(t, strings.Repeat("hello from wasm\n", calls*lines), out.String())
		})
	}
}

// TestStdioPerCall: wasi.WithStdio gives each concurrent call its own stdin, stdout and stderr;
// the runtime's streams see nothing.
func TestStdioPerCall(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.String(), func(t *testing.T) {
			var shared bytes.Buffer
			mod := stdioModule(t, engine, &wasi.Config{Stdout: &shared, Stderr: &shared, Stdin: strings.NewReader("shared")}, 4)
			const calls = 16
			outs, errOuts := make([]bytes.Buffer, calls), make([]bytes.Buffer, calls)
			res := make([]uint64, calls)
			var wg sync.WaitGroup
			for i := range calls {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx := wasi.WithStdio(context.Background(), wasi.Stdio{
						Stdin: strings.NewReader(fmt.Sprintf("request %d", i)), Stdout: &outs[i], Stderr: &errOuts[i]})
					r, err := mod.Call(ctx, "echo")
					if err == nil {
						res[i] = r[0]
					}
				}()
			}
			wg.Wait()
			for i := range calls {
				want := fmt.Sprintf("request %d", i)
				require.Equal(t, uint64(len(want)), res[i], i)
				require.Equal(t, want, outs[i].String(), i)
				require.Equal(t, "err\n", errOuts[i].String(), i)
			}
			require.Empty(t, shared.String())
		})
	}
}

// blockedCall runs name on a fresh sandbox with a 200 ms deadline and requires it to fail
// with that deadline (host.ErrDeadline), soon: a guest blocked in host I/O is interruptible.
func blockedCall(t *testing.T, engine host.Engine, cfg *wasi.Config, name string) {
	t.Helper()
	mod := stdioModule(t, engine, cfg, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		sb, err := mod.NewSandbox(context.Background())
		if err != nil {
			done <- err
			return
		}
		defer sb.Close(context.Background())
		_, err = sb.Call(ctx, name)
		done <- err
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, host.ErrDeadline)
	case <-time.After(10 * time.Second):
		t.Fatalf("%s ignored its deadline", name)
	}
}

// TestStdinBlockedTimeout: a WASI program reading a stdin nobody writes (a pipe with
// deadlines, and a reader without) ends with the call's deadline.
func TestStdinBlockedTimeout(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.String()+"/os.Pipe", func(t *testing.T) {
			r, w, err := os.Pipe()
			require.NoError(t, err)
			t.Cleanup(func() { r.Close(); w.Close() })
			blockedCall(t, engine, &wasi.Config{Stdin: r}, "_start")
		})
		t.Run(engine.String()+"/io.Pipe", func(t *testing.T) {
			r, w := io.Pipe()
			t.Cleanup(func() { w.Close() })
			blockedCall(t, engine, &wasi.Config{Stdin: r}, "_start")
		})
	}
}

// TestStdoutFullTimeout: a WASI program writing to a pipe nobody reads ends with the call's
// deadline.
func TestStdoutFullTimeout(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.String(), func(t *testing.T) {
			r, w, err := os.Pipe()
			require.NoError(t, err)
			t.Cleanup(func() { r.Close(); w.Close() })
			blockedCall(t, engine, &wasi.Config{Stdout: w}, "flood")
		})
	}
}
