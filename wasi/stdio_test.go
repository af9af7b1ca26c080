package wasi_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/wasi"
)

// stdioCall runs fd_read or fd_write (iovec at 100 over [1000, +n), count at 8) with ctx in a
// goroutine and fails the test if it has not returned within 5 s (a blocked call).
func stdioCall(t *testing.T, in *wasi.Instance, mem api.ByteMemory, ctx context.Context, name string, fd uint64, n uint32) (wasi.Errno, error) {
	t.Helper()
	mem.WriteUint32Le(100, 1000)
	mem.WriteUint32Le(104, n)
	type res struct {
		e   wasi.Errno
		err error
	}
	done := make(chan res, 1)
	go func() {
		e, err := callRaw(t, in, ctx, mem, name, fd, 100, 1, 8)
		done <- res{e, err}
	}()
	select {
	case r := <-done:
		return r.e, r.err
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not return", name)
		return 0, nil
	}
}

func shortCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}

// TestStdinBlockedPipe: fd_read on a pipe nobody writes ends with the call's deadline (a
// pollable file: its read deadline), and the next read gets what is written later.
func TestStdinBlockedPipe(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { r.Close(); w.Close() })
	in, err := wasi.NewInstance(wasi.Config{Stdin: r})
	require.NoError(t, err)
	mem := make(api.ByteMemory, 1<<17)
	_, err = stdioCall(t, in, mem, shortCtx(t), "fd_read", 0, 100)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = w.Write([]byte("later"))
	require.NoError(t, err)
	e, err := stdioCall(t, in, mem, context.Background(), "fd_read", 0, 100)
	require.NoError(t, err)
	require.Equal(t, wasi.ErrnoSuccess, e)
	require.Equal(t, "later", string(mem[1000:1000+u32(mem, 8)]))
}

func u32(m api.ByteMemory, off uint32) uint32 { v, _ := m.ReadUint32Le(off); return v }

// TestStdinBlockedReader: a reader without deadlines (io.Pipe) is read in a goroutine the call
// leaves when its context ends; what that read gets is the next read's, on any Instance
// sharing the reader, in order.
func TestStdinBlockedReader(t *testing.T) {
	r, w := io.Pipe()
	t.Cleanup(func() { r.Close() })
	cfg := wasi.Config{Stdin: r}
	in1, err := wasi.NewInstance(cfg)
	require.NoError(t, err)
	in2, err := wasi.NewInstance(cfg)
	require.NoError(t, err)
	mem := make(api.ByteMemory, 1<<17)
	_, err = stdioCall(t, in1, mem, shortCtx(t), "fd_read", 0, 100)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	go func() {
		_, _ = w.Write([]byte("first"))
		_, _ = w.Write([]byte("second"))
		w.Close()
	}()
	var got []string
	for _, in := range []*wasi.Instance{in2, in1, in2, in1} {
		e, err := stdioCall(t, in, mem, context.Background(), "fd_read", 0, 3)
		require.NoError(t, err)
		require.Equal(t, wasi.ErrnoSuccess, e)
		got = append(got, string(mem[1000:1000+u32(mem, 8)]))
	}
	require.Equal(t, "firstsecond", strings.Join(got, "")+readAll(t, in1, mem))
}

func readAll(t *testing.T, in *wasi.Instance, mem api.ByteMemory) string {
	var out string
	for {
		e, err := stdioCall(t, in, mem, context.Background(), "fd_read", 0, 100)
		require.NoError(t, err)
		require.Equal(t, wasi.ErrnoSuccess, e)
		if u32(mem, 8) == 0 {
			return out
		}
		out += string(mem[1000 : 1000+u32(mem, 8)])
	}
}

// TestStdoutFullPipe: fd_write to a pipe nobody reads ends with the call's deadline.
func TestStdoutFullPipe(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { r.Close(); w.Close() })
	in, err := wasi.NewInstance(wasi.Config{Stdout: w})
	require.NoError(t, err)
	mem := make(api.ByteMemory, 1<<17)
	ctx := shortCtx(t)
	for i := 0; ; i++ {
		require.Less(t, i, 1000, "the pipe never filled")
		e, err := stdioCall(t, in, mem, ctx, "fd_write", 1, 65536)
		if err != nil {
			require.ErrorIs(t, err, context.DeadlineExceeded)
			break
		}
		require.Equal(t, wasi.ErrnoSuccess, e)
	}
}

// gate is a writer that blocks until opened, recording what it got.
type gate struct {
	open chan struct{}
	mu   sync.Mutex
	got  []string
}

func (g *gate) Write(b []byte) (int, error) {
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	g.got = append(g.got, string(b))
	return len(b), nil
}

// TestStdoutBlockedWriter: a blocked writer without deadlines is left by the call when its
// context ends; the next write waits for it, so output keeps its order.
func TestStdoutBlockedWriter(t *testing.T) {
	g := &gate{open: make(chan struct{})}
	in, err := wasi.NewInstance(wasi.Config{Stdout: g, Stderr: g})
	require.NoError(t, err)
	mem := make(api.ByteMemory, 1<<17)
	copy(mem[1000:], "first")
	_, err = stdioCall(t, in, mem, shortCtx(t), "fd_write", 1, 5)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	copy(mem[1000:], "second")
	// Waiting for the abandoned write also ends with the call's context.
	_, err = stdioCall(t, in, mem, shortCtx(t), "fd_write", 2, 6)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	close(g.open)
	e, err := stdioCall(t, in, mem, context.Background(), "fd_write", 2, 6)
	require.NoError(t, err)
	require.Equal(t, wasi.ErrnoSuccess, e)
	require.Equal(t, []string{"first", "second"}, g.got)
}

// TestSharedStdioSerialized: Instances made from one Config write to its Stdout in turns (the
// race detector would see two goroutines in bytes.Buffer.Write otherwise), one fd_write at a
// time, and read its Stdin in turns.
func TestSharedStdioSerialized(t *testing.T) {
	var out bytes.Buffer
	cfg := wasi.Config{Stdout: &out, Stderr: &out, Stdin: strings.NewReader(strings.Repeat("x", 8*100*10))}
	var wg sync.WaitGroup
	var total sync.Map
	for i := range 8 {
		in, err := wasi.NewInstance(cfg)
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			mem := make(api.ByteMemory, 1<<16)
			copy(mem[1000:], "line "+string(rune('a'+i))+"\n")
			mem.WriteUint32Le(100, 1000)
			mem.WriteUint32Le(104, 7)
			mem.WriteUint32Le(108, 2000)
			mem.WriteUint32Le(112, 10)
			n := 0
			for range 100 {
				_, err := callRaw(t, in, context.Background(), mem, "fd_write", uint64(1+i%2), 100, 1, 8)
				if err != nil {
					panic(err)
				}
				_, err = callRaw(t, in, context.Background(), mem, "fd_read", 0, 108, 1, 8)
				if err != nil {
					panic(err)
				}
				n += int(u32(mem, 8))
			}
			total.Store(i, n)
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 800)
	for _, l := range lines {
		require.Regexp(t, "^line [a-h]$", l)
	}
	sum := 0
	total.Range(func(_, v any) bool { sum += v.(int); return true })
	require.Equal(t, 8000, sum)
}

// TestWithStdio: a context's streams replace the Config's for the calls made with it.
func TestWithStdio(t *testing.T) {
	var cfgOut, out, errs bytes.Buffer
	in, err := wasi.NewInstance(wasi.Config{Stdout: &cfgOut, Stderr: &cfgOut, Stdin: strings.NewReader("config")})
	require.NoError(t, err)
	ctx := wasi.WithStdio(context.Background(), wasi.Stdio{Stdin: strings.NewReader("per call"), Stdout: &out, Stderr: &errs})
	mem := make(api.ByteMemory, 1<<16)
	e, err := stdioCall(t, in, mem, ctx, "fd_read", 0, 100)
	require.NoError(t, err)
	require.Equal(t, wasi.ErrnoSuccess, e)
	require.Equal(t, "per call", string(mem[1000:1000+u32(mem, 8)]))
	_, err = stdioCall(t, in, mem, ctx, "fd_write", 1, 3)
	require.NoError(t, err)
	_, err = stdioCall(t, in, mem, ctx, "fd_write", 2, 4)
	require.NoError(t, err)
	require.Equal(t, "per", out.String())
	require.Equal(t, "per ", errs.String())
	require.Empty(t, cfgOut.String())
	// Nil streams in Stdio are empty and discarding, not the Config's.
	ctx = wasi.WithStdio(context.Background(), wasi.Stdio{})
	e, err = stdioCall(t, in, mem, ctx, "fd_read", 0, 100)
	require.NoError(t, err)
	require.Equal(t, wasi.ErrnoSuccess, e)
	require.Zero(t, u32(mem, 8))
	_, err = stdioCall(t, in, mem, ctx, "fd_write", 1, 3)
	require.NoError(t, err)
	require.Empty(t, cfgOut.String())
	// Without it, the Config's.
	e, err = stdioCall(t, in, mem, context.Background(), "fd_read", 0, 100)
	require.NoError(t, err)
	require.Equal(t, "config", string(mem[1000:1000+u32(mem, 8)]))
	require.Equal(t, wasi.ErrnoSuccess, e)
}
