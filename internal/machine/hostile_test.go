package machine

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/hlwasm/hlwasm/internal/abi"
)

// The host trusts nothing the guest writes: bogus reply fields (counts, lengths, statuses, a
// memory window outside the heap) end in a clear error, never a host crash or huge allocation.
func TestHostileReplies(t *testing.T) {
	k := requireKVM(t)
	ctx := context.Background()
	put32 := func(mb []byte, off int, v uint32) { binary.LittleEndian.PutUint32(mb[off:], v) }
	put64 := func(mb []byte, off int, v uint64) { binary.LittleEndian.PutUint64(mb[off:], v) }
	for _, c := range []struct {
		name   string
		tamper func(mb []byte)
		call   func(m *Machine, inst uint32) error
	}{
		{"huge result count", func(mb []byte) { put32(mb, abi.MbRepNResults, 1<<31) },
			func(m *Machine, inst uint32) error {
				_, err := m.Call(ctx, inst, benchAdd, []uint64{1, 2}, 1)
				return err
			}},
		{"unknown status", func(mb []byte) { put32(mb, abi.MbRepStatus, 999) },
			func(m *Machine, inst uint32) error {
				_, err := m.Call(ctx, inst, benchAdd, []uint64{1, 2}, 1)
				return err
			}},
		{"trap without kind", func(mb []byte) { put32(mb, abi.MbRepStatus, abi.StatusTrap); put32(mb, abi.MbRepTrap, 0) },
			func(m *Machine, inst uint32) error {
				_, err := m.Call(ctx, inst, benchAdd, []uint64{1, 2}, 1)
				return err
			}},
		{"huge message length", func(mb []byte) { put32(mb, abi.MbRepStatus, abi.StatusInvalid); put32(mb, abi.MbRepMsgLen, 1<<30) },
			func(m *Machine, inst uint32) error {
				_, err := m.Call(ctx, inst, benchAdd, []uint64{1, 2}, 1)
				var ge *GuestError
				if errors.As(err, &ge) && len(ge.Msg) <= abi.MsgMax {
					return ErrGuestFault // the message was clipped: fine
				}
				return err
			}},
		{"memory window outside the heap", func(mb []byte) {
			put64(mb, abi.MbRepResults, abi.PML4Addr)
			put64(mb, abi.MbRepResults+8, 4096)
		}, func(m *Machine, inst uint32) error { _, err := m.Memory(ctx, inst); return err }},
		{"memory window past guest memory", func(mb []byte) {
			put64(mb, abi.MbRepResults, 1<<40)
			put64(mb, abi.MbRepResults+8, 1<<32)
		}, func(m *Machine, inst uint32) error { _, err := m.Memory(ctx, inst); return err }},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := New(ctx, Config{KVM: k})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			inst, err := loadBench(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			tamperReply = c.tamper
			err = c.call(m, inst)
			tamperReply = nil
			if !errors.Is(err, ErrGuestFault) {
				t.Fatalf("got %v, want a guest fault", err)
			}
			t.Log(err)
		})
	}
}
