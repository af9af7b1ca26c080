package wasi

import (
	"context"
	"math"
	"time"

	"github.com/hlwasm/hlwasm/api"
)

// Subscription and event layout (wasi_snapshot_preview1).
const (
	subscriptionSize = 48
	eventSize        = 32
	eventClock       = 0
	eventFdRead      = 1
	eventFdWrite     = 2
	subClockAbstime  = 1
)

// MaxSubscriptions is the most subscriptions one poll_oneoff accepts; more answer EINVAL, as
// Linux's poll(2) does beyond RLIMIT_NOFILE (this is its default hard limit, fs.nr_open).
// Subscriptions are read from guest memory one at a time, so host memory stays bounded.
const MaxSubscriptions = 1 << 20

// pollCheckEvery is how many subscriptions poll_oneoff handles between context checks.
const pollCheckEvery = 4096

// pollOneoff waits for clock subscriptions (sleeping without holding the instance lock); fd
// subscriptions on stdio, files and directories are always reported ready.
func pollOneoff(in *Instance, ctx context.Context, m api.Memory, stack []uint64) error {
	e, err := in.poll(ctx, m, uint32(stack[0]), uint32(stack[1]), uint32(stack[2]), uint32(stack[3]))
	stack[0] = uint64(e)
	return err
}

func (in *Instance) poll(ctx context.Context, m api.Memory, subs, out, n, neventsPtr uint32) (Errno, error) {
	if n == 0 {
		return ErrnoInval, nil
	}
	size := m.Size()
	if uint64(subs)+uint64(n)*subscriptionSize > size || uint64(out)+uint64(n)*eventSize > size {
		return ErrnoFault, nil
	}
	if _, ok := m.ReadUint32Le(neventsPtr); !ok {
		return ErrnoFault, nil
	}
	if n > MaxSubscriptions {
		return ErrnoInval, nil
	}
	in.mu.Lock()
	clock := in.clock // Reset may swap it while we sleep
	nowRT, _ := in.now(clockRealtime)
	nowMono, _ := in.now(clockMonotonic)
	// relative returns the clock subscription's timeout from now, or false if its clock is unknown.
	relative := func(sub uint32) (int64, bool) {
		id, _ := m.ReadUint32Le(sub + 16)
		timeout, _ := m.ReadUint64Le(sub + 24)
		flags, _ := m.ReadUint16Le(sub + 40)
		var now uint64
		switch id {
		case clockRealtime:
			now = nowRT
		case clockMonotonic:
			now = nowMono
		default:
			return 0, false
		}
		if flags&subClockAbstime != 0 {
			if timeout <= now {
				return 0, true
			}
			timeout -= now
		}
		return int64(min(timeout, math.MaxInt64)), true
	}
	nevents := uint32(0)
	var ev [eventSize]byte
	emit := func(userdata uint64, errno Errno, typ uint8) {
		le.PutUint64(ev[:], userdata)
		le.PutUint16(ev[8:], uint16(errno))
		ev[10] = typ
		m.Write(out+nevents*eventSize, ev[:])
		nevents++
	}
	minTimeout := int64(math.MaxInt64)
	for i := range n {
		if i%pollCheckEvery == pollCheckEvery-1 && ctx.Err() != nil {
			in.mu.Unlock()
			return ErrnoIntr, ctx.Err()
		}
		sub := subs + i*subscriptionSize
		userdata, _ := m.ReadUint64Le(sub)
		tag, _ := m.ReadUint8(sub + 8)
		switch tag {
		case eventClock:
			rel, ok := relative(sub)
			if !ok {
				emit(userdata, ErrnoInval, tag)
				continue
			}
			minTimeout = min(minTimeout, rel)
		case eventFdRead, eventFdWrite:
			fd, _ := m.ReadUint32Le(sub + 16)
			if in.lookup(fd) == nil {
				emit(userdata, ErrnoBadf, tag)
			} else {
				emit(userdata, ErrnoSuccess, tag)
			}
		default:
			emit(userdata, ErrnoInval, tag)
		}
	}
	in.mu.Unlock()
	if nevents == 0 && minTimeout > 0 {
		if err := clock.Sleep(ctx, time.Duration(minTimeout)); err != nil {
			return ErrnoIntr, err
		}
	}
	if nevents == 0 || minTimeout <= 0 {
		for i := range n {
			if i%pollCheckEvery == pollCheckEvery-1 && ctx.Err() != nil {
				return ErrnoIntr, ctx.Err()
			}
			sub := subs + i*subscriptionSize
			if tag, _ := m.ReadUint8(sub + 8); tag != eventClock {
				continue
			}
			if rel, ok := relative(sub); ok && rel <= minTimeout {
				userdata, _ := m.ReadUint64Le(sub)
				emit(userdata, ErrnoSuccess, eventClock)
			}
		}
	}
	if !m.WriteUint32Le(neventsPtr, nevents) {
		return ErrnoFault, nil
	}
	return ErrnoSuccess, nil
}
