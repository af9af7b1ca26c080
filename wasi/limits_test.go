package wasi_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/wasi"
)

// hugeMem is a 4 GiB memory of zeros that keeps nothing: reads return zeros, writes are
// counted. It lets tests pass guest-sized lengths without the host memory behind them.
type hugeMem struct {
	writes, maxWrite int
	written          uint64
}

const hugeSize = 1 << 32

func (m *hugeMem) in(off, n uint32) bool { return uint64(off)+uint64(n) <= hugeSize }
func (m *hugeMem) Size() uint64          { return hugeSize }
func (m *hugeMem) Read(off, n uint32) ([]byte, bool) {
	if !m.in(off, n) {
		return nil, false
	}
	return make([]byte, n), true
}
func (m *hugeMem) Write(off uint32, b []byte) bool {
	if !m.in(off, uint32(len(b))) {
		return false
	}
	m.writes++
	m.maxWrite = max(m.maxWrite, len(b))
	m.written += uint64(len(b))
	return true
}
func (m *hugeMem) ReadString(off, n uint32) (string, bool) {
	b, ok := m.Read(off, n)
	return string(b), ok
}
func (m *hugeMem) ReadUint8(off uint32) (byte, bool)        { return 0, m.in(off, 1) }
func (m *hugeMem) ReadUint16Le(off uint32) (uint16, bool)   { return 0, m.in(off, 2) }
func (m *hugeMem) ReadUint32Le(off uint32) (uint32, bool)   { return 0, m.in(off, 4) }
func (m *hugeMem) ReadUint64Le(off uint32) (uint64, bool)   { return 0, m.in(off, 8) }
func (m *hugeMem) WriteUint8(off uint32, _ byte) bool       { return m.Write(off, make([]byte, 1)) }
func (m *hugeMem) WriteUint16Le(off uint32, _ uint16) bool  { return m.Write(off, make([]byte, 2)) }
func (m *hugeMem) WriteUint32Le(off uint32, _ uint32) bool  { return m.Write(off, make([]byte, 4)) }
func (m *hugeMem) WriteUint64Le(off uint32, _ uint64) bool  { return m.Write(off, make([]byte, 8)) }
func (m *hugeMem) ReadFloat32Le(off uint32) (float32, bool) { return 0, m.in(off, 4) }
func (m *hugeMem) ReadFloat64Le(off uint32) (float64, bool) { return 0, m.in(off, 8) }
func (m *hugeMem) WriteFloat32Le(off uint32, _ float32) bool {
	return m.Write(off, make([]byte, 4))
}
func (m *hugeMem) WriteFloat64Le(off uint32, _ float64) bool {
	return m.Write(off, make([]byte, 8))
}
func (m *hugeMem) WriteString(off uint32, s string) bool { return m.Write(off, []byte(s)) }
func (m *hugeMem) Grow(delta uint32) (uint32, bool)      { return 1 << 16, delta == 0 }

var _ api.Memory = (*hugeMem)(nil)

// zeros is an endless, instant random source.
type zeros struct{ reads, maxRead int }

func (z *zeros) Read(p []byte) (int, error) {
	z.reads++
	z.maxRead = max(z.maxRead, len(p))
	clear(p)
	return len(p), nil
}

// callRaw invokes name with ctx on mem and returns its errno and error.
func callRaw(t *testing.T, in *wasi.Instance, ctx context.Context, mem api.Memory, name string, params ...uint64) (wasi.Errno, error) {
	t.Helper()
	for _, f := range in.Functions() {
		if f.Name == name {
			stack := make([]uint64, max(len(params), 1))
			copy(stack, params)
			err := f.Fn(ctx, mem, stack)
			return wasi.Errno(stack[0]), err
		}
	}
	t.Fatalf("no function %s", name)
	return 0, nil
}

// TestRandomGetHugeRespectsContext: random_get of 1 GiB fills memory in 64 KiB chunks and stops
// with the context's error once the call's deadline has passed.
func TestRandomGetHugeRespectsContext(t *testing.T) {
	src := &zeros{}
	in, err := wasi.NewInstance(wasi.Config{Rand: src})
	require.NoError(t, err)
	mem := &hugeMem{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	<-ctx.Done()
	_, err = callRaw(t, in, ctx, mem, "random_get", 0, 1<<30)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.LessOrEqual(t, mem.written, uint64(64<<10), "stops after at most one chunk")
	require.LessOrEqual(t, src.maxRead, 64<<10)

	// Without a deadline it completes, never reading or writing more than a chunk at a time.
	mem, src2 := &hugeMem{}, &zeros{}
	in, err = wasi.NewInstance(wasi.Config{Rand: src2})
	require.NoError(t, err)
	e, err := callRaw(t, in, context.Background(), mem, "random_get", 0, 1<<30)
	require.NoError(t, err)
	require.Equal(t, wasi.ErrnoSuccess, e)
	require.Equal(t, uint64(1<<30), mem.written)
	require.LessOrEqual(t, mem.maxWrite, 64<<10)
	require.LessOrEqual(t, src2.maxRead, 64<<10)
}

// TestPollHugeSubscriptions: 20M subscriptions are refused (beyond wasi.MaxSubscriptions), and
// a large allowed poll stops with the context's error.
func TestPollHugeSubscriptions(t *testing.T) {
	in, err := wasi.NewInstance(wasi.Config{Clock: &fakeClock{}})
	require.NoError(t, err)
	mem := &hugeMem{}
	const n = 20_000_000 // 960 MB of subscriptions, 640 MB of events
	e, err := callRaw(t, in, context.Background(), mem, "poll_oneoff", 0, n*48, n, 8)
	require.NoError(t, err)
	require.Equal(t, wasi.ErrnoInval, e)
	require.Zero(t, mem.writes)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = callRaw(t, in, ctx, mem, "poll_oneoff", 0, wasi.MaxSubscriptions*48, wasi.MaxSubscriptions, 8)
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, mem.writes, 10000, "stopped early")

	// Zeroed subscriptions are clock subscriptions with timeout 0: all fire at once.
	mem = &hugeMem{}
	e, err = callRaw(t, in, context.Background(), mem, "poll_oneoff", 0, wasi.MaxSubscriptions*48, wasi.MaxSubscriptions, 8)
	require.NoError(t, err)
	require.Equal(t, wasi.ErrnoSuccess, e)
	require.Equal(t, uint64(wasi.MaxSubscriptions*32+4), mem.written)
}

var _ io.Reader = (*zeros)(nil)
