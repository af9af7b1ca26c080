package programs_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/host"
	"github.com/hlwasm/hlwasm/wasi"
)

// TestOutputSurvivesTheEnd: small writes are batched (wasi/buffering.go); output written right
// before a trap, a deadline or proc_exit still reaches stdout, on a long-lived sandbox and on a
// pooled one (Module.Call), to a bytes.Buffer and to a pipe.
func TestOutputSurvivesTheEnd(t *testing.T) {
	const lines = 7
	want := strings.Repeat("hello from wasm\n", lines)
	ends := []struct {
		export string
		check  func(t *testing.T, err error)
	}{
		{"then_trap", func(t *testing.T, err error) { require.ErrorIs(t, err, host.ErrTrap) }},
		{"then_exit", func(t *testing.T, err error) {
			var exit *api.ExitError
			require.ErrorAs(t, err, &exit)
			require.Equal(t, uint32(3), exit.Code)
		}},
		{"then_spin", func(t *testing.T, err error) { require.ErrorIs(t, err, host.ErrDeadline) }},
	}
	for _, engine := range engines {
		for _, end := range ends {
			t.Run(engine.String()+"/"+end.export, func(t *testing.T) {
				var out bytes.Buffer
				mod := stdioModule(t, engine, &wasi.Config{Stdout: &out}, 1)
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				defer cancel()
				_, err := mod.Call(ctx, end.export, lines)
				end.check(t, err)
				require.Equal(t, want, out.String(), "Module.Call")

				out.Reset()
				sb, err := mod.NewSandbox(context.Background())
				require.NoError(t, err)
				defer sb.Close(context.Background())
				ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
				defer cancel()
				_, err = sb.Call(ctx, end.export, lines)
				end.check(t, err)
				require.Equal(t, want, out.String(), "Sandbox.Call")
			})
		}
		t.Run(engine.String()+"/pipe", func(t *testing.T) {
			r, w, err := os.Pipe()
			require.NoError(t, err)
			t.Cleanup(func() { r.Close(); w.Close() })
			mod := stdioModule(t, engine, &wasi.Config{Stdout: w}, 1)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, err = mod.Call(ctx, "then_spin", lines)
			require.ErrorIs(t, err, host.ErrDeadline)
			w.Close()
			got := make([]byte, len(want)+1)
			n, _ := r.Read(got)
			require.Equal(t, want, string(got[:n]))
		})
	}
}

// failingWriter fails every write with EPIPE.
type failingWriter struct{ writes int }

func (w *failingWriter) Write([]byte) (int, error) {
	w.writes++
	return 0, syscall.EPIPE
}

// TestOutputErrorReachesProgram: a batched write's host error is reported to the program's
// next write (write2 returns the second write's errno: EIO for EPIPE), and when the program
// writes no more, the call fails with wasi.ErrOutput.
func TestOutputErrorReachesProgram(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.String(), func(t *testing.T) {
			fw := &failingWriter{}
			mod := stdioModule(t, engine, &wasi.Config{Stdout: fw}, 1)
			ctx := context.Background()
			sb, err := mod.NewSandbox(ctx)
			require.NoError(t, err)
			defer sb.Close(ctx)
			// The first write is batched; the second flushes nothing yet (it fits), so the
			// error surfaces at the end of the call.
			_, err = sb.Call(ctx, "write2")
			require.ErrorIs(t, err, wasi.ErrOutput)
			require.True(t, errors.Is(err, syscall.EPIPE), "%v", err)
			require.Equal(t, 1, fw.writes, "one host write for the whole batch")
			// flood: 64 KiB writes go straight through: the error is immediate.
			res, err := sb.Call(ctx, "flood")
			require.NoError(t, err)
			require.Equal(t, uint64(wasi.ErrnoIo), res[0])
		})
	}
}

// TestOutputOrderAcrossHostFunctions: output batched before a host function of the host's own
// (here hlwasm.log, writing to the same buffer) is written before it runs: the order is the
// guest's.
func TestOutputOrderAcrossHostFunctions(t *testing.T) {
	for _, engine := range engines {
		t.Run(engine.String(), func(t *testing.T) {
			var out bytes.Buffer
			mod := stdioModuleWith(t, host.Config{Engine: engine, WASI: &wasi.Config{Stdout: &out}, Log: &out})
			_, err := mod.Call(context.Background(), "log_between")
			require.NoError(t, err)
			require.Equal(t, "hello from wasm\nerr\nhello from wasm\n", out.String())
		})
	}
}
