package wasi_test

import (
	"context"
	"io/fs"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/wasi"
)

// guest is an Instance, its functions by name and a 64 KiB memory.
type guest struct {
	t     *testing.T
	in    *wasi.Instance
	fns   map[string]api.HostFunction
	mem   api.ByteMemory
	clock *fakeClock
}

func newGuest(t *testing.T, cfg wasi.Config) *guest {
	t.Helper()
	clock := &fakeClock{now: time.Unix(1700000000, 5)}
	if cfg.Clock == nil {
		cfg.Clock = clock
	}
	in, err := wasi.NewInstance(cfg)
	require.NoError(t, err)
	g := &guest{t: t, in: in, fns: map[string]api.HostFunction{}, mem: make(api.ByteMemory, 65536), clock: clock}
	for _, f := range in.Functions() {
		g.fns[f.Name] = f
	}
	return g
}

// call invokes name and returns its errno.
func (g *guest) call(name string, params ...uint64) wasi.Errno {
	g.t.Helper()
	return g.callCtx(context.Background(), name, params...)
}

// callCtx is call with the call's context (a WithStdio one, say).
func (g *guest) callCtx(ctx context.Context, name string, params ...uint64) wasi.Errno {
	g.t.Helper()
	f, ok := g.fns[name]
	require.True(g.t, ok, name)
	require.Len(g.t, params, len(f.ParamTypes), name)
	stack := make([]uint64, max(len(params), 1))
	copy(stack, params)
	require.NoError(g.t, f.Fn(ctx, g.mem, stack), name)
	return wasi.Errno(stack[0])
}

// put writes data at off.
func (g *guest) put(off uint32, data []byte) { copy(g.mem[off:], data) }

// iovecs writes iovec pairs at off.
func (g *guest) iovecs(off uint32, pairs ...uint32) {
	for i, v := range pairs {
		require.True(g.t, g.mem.WriteUint32Le(off+4*uint32(i), v))
	}
}

func (g *guest) u32(off uint32) uint32 { v, _ := g.mem.ReadUint32Le(off); return v }
func (g *guest) u64(off uint32) uint64 { v, _ := g.mem.ReadUint64Le(off); return v }

// fakeClock is a manual clock: Sleep advances it.
type fakeClock struct {
	now   time.Time
	mono  time.Duration
	slept []time.Duration
}

func (c *fakeClock) Now() time.Time           { return c.now }
func (c *fakeClock) Monotonic() time.Duration { return c.mono }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.slept = append(c.slept, d)
	c.mono += d
	c.now = c.now.Add(d)
	return ctx.Err()
}

// testFS has files, a subdirectory and symlinks inside and outside.
func testFS() fstest.MapFS {
	return fstest.MapFS{
		"hello.txt":        {Data: []byte("hello, world\n"), ModTime: time.Unix(1600000000, 0)},
		"sub/nested.txt":   {Data: []byte("nested")},
		"sub/deeper/x.txt": {Data: []byte("x")},
		"link_in":          {Mode: fs.ModeSymlink | 0o777, Data: []byte("sub/nested.txt")},
		"link_dir":         {Mode: fs.ModeSymlink | 0o777, Data: []byte("sub")},
		"link_out":         {Mode: fs.ModeSymlink | 0o777, Data: []byte("../outside")},
		"link_abs":         {Mode: fs.ModeSymlink | 0o777, Data: []byte("/etc/passwd")},
		"sub/link_up":      {Mode: fs.ModeSymlink | 0o777, Data: []byte("../hello.txt")},
		"sub/link_esc":     {Mode: fs.ModeSymlink | 0o777, Data: []byte("../../hello.txt")},
		"loop1":            {Mode: fs.ModeSymlink | 0o777, Data: []byte("loop2")},
		"loop2":            {Mode: fs.ModeSymlink | 0o777, Data: []byte("loop1")},
	}
}
