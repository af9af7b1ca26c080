package wasi_test

import (
	"context"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/wasi"
)

// sub writes subscription i at 1000: a clock (tag 0) or fd (tag 1, 2) subscription.
func (g *guest) sub(i uint32, userdata uint64, tag uint8, idOrFd uint32, timeout uint64, flags uint16) {
	off := 1000 + 48*i
	clear(g.mem[off : off+48])
	g.mem.WriteUint64Le(off, userdata)
	g.mem[off+8] = tag
	g.mem.WriteUint32Le(off+16, idOrFd)
	g.mem.WriteUint64Le(off+24, timeout)
	g.mem.WriteUint16Le(off+40, flags)
}

// event decodes event i at 5000: userdata, errno, type.
func (g *guest) event(i uint32) (uint64, uint16, uint8) {
	off := 5000 + 32*i
	e, _ := g.mem.ReadUint16Le(off + 8)
	return g.u64(off), e, g.mem[off+10]
}

func TestPollClock(t *testing.T) {
	g := newGuest(t, wasi.Config{})
	// Two relative timeouts: sleeps the shorter one, reports it only.
	g.sub(0, 11, 0, 1, 5e6, 0)
	g.sub(1, 22, 0, 0, 2e6, 0)
	require.Equal(t, wasi.ErrnoSuccess, g.call("poll_oneoff", 1000, 5000, 2, 8))
	require.Equal(t, uint32(1), g.u32(8))
	ud, errno, typ := g.event(0)
	require.Equal(t, []uint64{22, 0, 0}, []uint64{ud, uint64(errno), uint64(typ)})
	require.Equal(t, []time.Duration{2e6}, g.clock.slept)
	// Absolute deadline on the monotonic clock.
	g.clock.mono = 1e9
	g.sub(0, 33, 0, 1, 1e9+3e6, 1)
	require.Equal(t, wasi.ErrnoSuccess, g.call("poll_oneoff", 1000, 5000, 1, 8))
	require.Equal(t, time.Duration(3e6), g.clock.slept[1])
	// A deadline in the past does not sleep.
	g.sub(0, 44, 0, 1, 5, 1)
	require.Equal(t, wasi.ErrnoSuccess, g.call("poll_oneoff", 1000, 5000, 1, 8))
	require.Len(t, g.clock.slept, 2)
	require.Equal(t, uint32(1), g.u32(8))
	// An unknown clock is an event error.
	g.sub(0, 55, 0, 9, 5, 0)
	require.Equal(t, wasi.ErrnoSuccess, g.call("poll_oneoff", 1000, 5000, 1, 8))
	_, errno, _ = g.event(0)
	require.Equal(t, uint16(wasi.ErrnoInval), errno)
}

func TestPollFd(t *testing.T) {
	g := newGuest(t, wasi.Config{})
	g.sub(0, 1, 0, 1, 1e9, 0) // clock, 1s
	g.sub(1, 2, 1, 0, 0, 0)   // stdin readable
	g.sub(2, 3, 2, 1, 0, 0)   // stdout writable
	g.sub(3, 4, 1, 42, 0, 0)  // bad fd
	require.Equal(t, wasi.ErrnoSuccess, g.call("poll_oneoff", 1000, 5000, 4, 8))
	require.Equal(t, uint32(3), g.u32(8))
	require.Empty(t, g.clock.slept, "ready fds: no sleep")
	got := map[uint64]uint16{}
	for i := range uint32(3) {
		ud, errno, _ := g.event(i)
		got[ud] = errno
	}
	require.Equal(t, map[uint64]uint16{2: 0, 3: 0, 4: uint16(wasi.ErrnoBadf)}, got)
}

func TestPollHostile(t *testing.T) {
	g := newGuest(t, wasi.Config{})
	g.sub(0, 1, 0, 1, 1, 0)
	require.Equal(t, wasi.ErrnoInval, g.call("poll_oneoff", 1000, 5000, 0, 8))
	require.Equal(t, wasi.ErrnoFault, g.call("poll_oneoff", 1000, 5000, 0xffffffff, 8))
	require.Equal(t, wasi.ErrnoFault, g.call("poll_oneoff", 65530, 5000, 1, 8))
	require.Equal(t, wasi.ErrnoFault, g.call("poll_oneoff", 1000, 65530, 1, 8))
	require.Equal(t, wasi.ErrnoFault, g.call("poll_oneoff", 1000, 5000, 1, 65534))
	// Events overlapping subscriptions are fine.
	require.Equal(t, wasi.ErrnoSuccess, g.call("poll_oneoff", 1000, 1000, 1, 8))
	// A cancelled context ends a sleep with the context's error.
	g.sub(0, 1, 0, 1, 1e9, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stack := []uint64{1000, 5000, 1, 8}
	err := g.fns["poll_oneoff"].Fn(ctx, g.mem, stack)
	require.ErrorIs(t, err, context.Canceled)
}

// TestGarbage calls every function with random and extreme parameters on small and empty
// memories: errnos only, never a panic.
func TestGarbage(t *testing.T) {
	t.Run("read-only", func(t *testing.T) { garbage(t, fsGuest(t)) })
	t.Run("writable", func(t *testing.T) {
		g, _, outside := writableGuest(t)
		garbage(t, g)
		entries, err := os.ReadDir(outside)
		require.NoError(t, err)
		require.Empty(t, entries)
	})
}

func garbage(t *testing.T, g *guest) {
	r := rand.New(rand.NewPCG(1, 2))
	extremes := []uint64{0, 1, 3, 4, 5, 8, 24, 1023, 1024, 65535, 65536, 1 << 31, 0xfffffff0, 0xffffffff, 1 << 63, ^uint64(0)}
	pick := func() uint64 {
		switch r.IntN(4) {
		case 0:
			return extremes[r.IntN(len(extremes))]
		case 1:
			return uint64(r.Uint32())
		case 2:
			return r.Uint64()
		}
		return uint64(r.IntN(70000))
	}
	for i := range g.mem {
		g.mem[i] = byte(r.Uint32())
	}
	// Paths the guest might plausibly use, so that path functions get past validation.
	for i, name := range []string{"a", "b/c", "..", "out/x", "d", "new.txt", "hello.txt", "sub"} {
		g.put(uint32(200+16*i), []byte(name))
	}
	for iter := range 10000 {
		for _, f := range g.in.Functions() {
			if f.Name == "proc_exit" || f.Name == "poll_oneoff" && iter%50 != 0 {
				continue
			}
			stack := make([]uint64, max(len(f.ParamTypes), 1))
			for j := 0; j < len(f.ParamTypes); j++ {
				if r.IntN(3) == 0 && j+1 < len(f.ParamTypes) { // a valid path pointer and length
					k := r.IntN(8)
					stack[j], stack[j+1] = uint64(200+16*k), uint64(1+r.IntN(8))
					j++
					continue
				}
				stack[j] = pick()
				if f.ParamTypes[j] == 0x7f {
					stack[j] = uint64(uint32(stack[j]))
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // any sleep ends at once
			err := f.Fn(ctx, g.mem, stack)
			if f.Name != "poll_oneoff" {
				require.NoError(t, err, f.Name)
			}
		}
	}
}
