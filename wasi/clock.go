package wasi

import (
	"context"
	"io"
	"runtime"

	"github.com/hlwasm/hlwasm/api"
)

// Clock ids.
const (
	clockRealtime  = 0
	clockMonotonic = 1
)

// chunkSize bounds host buffers for guest-sized transfers.
const chunkSize = 64 << 10

func clockResGet(_ *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	var res uint64
	switch uint32(p[0]) {
	case clockRealtime:
		res = 1000 // 1µs, as wazero reports
	case clockMonotonic:
		res = 1
	default:
		return ErrnoInval
	}
	if !m.WriteUint64Le(uint32(p[1]), res) {
		return ErrnoFault
	}
	return ErrnoSuccess
}

func clockTimeGet(in *Instance, _ context.Context, m api.Memory, p []uint64) Errno {
	t, e := in.now(uint32(p[0]))
	if e != ErrnoSuccess {
		return e
	}
	if !m.WriteUint64Le(uint32(p[2]), t) {
		return ErrnoFault
	}
	return ErrnoSuccess
}

// now reads clock id in nanoseconds.
func (in *Instance) now(id uint32) (uint64, Errno) {
	switch id {
	case clockRealtime:
		return uint64(in.clock.Now().UnixNano()), ErrnoSuccess
	case clockMonotonic:
		return uint64(in.clock.Monotonic()), ErrnoSuccess
	}
	return 0, ErrnoInval
}

// randomGet fills the buffer in chunks, so host memory stays bounded whatever the length,
// and stops with the context's error between chunks: a 1 GiB request cannot outlive its call.
func randomGet(in *Instance, ctx context.Context, m api.Memory, stack []uint64) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	e, err := in.randomFill(ctx, m, uint32(stack[0]), uint32(stack[1]))
	stack[0] = uint64(e)
	return err
}

func (in *Instance) randomFill(ctx context.Context, m api.Memory, buf, n uint32) (Errno, error) {
	if uint64(buf)+uint64(n) > m.Size() {
		return ErrnoFault, nil
	}
	chunk := make([]byte, min(n, chunkSize))
	for n > 0 {
		c := chunk[:min(n, chunkSize)]
		if _, err := io.ReadFull(in.rand, c); err != nil {
			return ErrnoIo, nil
		}
		if !m.Write(buf, c) {
			return ErrnoFault, nil
		}
		buf += uint32(len(c))
		n -= uint32(len(c))
		if n > 0 && ctx.Err() != nil {
			return ErrnoIntr, ctx.Err()
		}
	}
	return ErrnoSuccess, nil
}

func procExit(_ *Instance, _ context.Context, _ api.Memory, stack []uint64) error {
	return &api.ExitError{Code: uint32(stack[0])}
}

func schedYield(_ *Instance, _ context.Context, _ api.Memory, stack []uint64) error {
	runtime.Gosched()
	stack[0] = uint64(ErrnoSuccess)
	return nil
}
