package machine

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hlwasm/hlwasm/internal/abi"
)

// A guest that raises #UD, #PF, #DE, overflows its stack or triple-faults is torn down with a
// clear error; the host carries on and the next machine works.
func TestGuestFaults(t *testing.T) {
	k := requireKVM(t)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		kind uint32
		want string
	}{
		{"ud", abi.FaultUD, "#UD invalid opcode"},
		{"pf", abi.FaultPF, "#PF page fault"},
		{"de", abi.FaultDE, "#DE divide error"},
		{"stack", abi.FaultStack, "guest stack overflow"},
		{"triple", abi.FaultUD, "triple fault"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := New(ctx, Config{KVM: k})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if err := m.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			if c.name == "triple" {
				// A compromised guest could not do this (the IDT is a supervisor page); the
				// host breaks it to check that a triple fault is reported as one.
				clear(m.Mem()[abi.IDTAddr : abi.IDTAddr+32*16])
			}
			err = m.Fault(ctx, c.kind)
			if !errors.Is(err, ErrGuestFault) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want a guest fault containing %q", err, c.want)
			}
			t.Log(err)
			if err := m.Ping(ctx); !errors.Is(err, ErrUnusable) {
				t.Fatalf("after the fault: %v, want ErrUnusable", err)
			}
			// The host carries on: a new machine works.
			m2, err := New(ctx, Config{KVM: k})
			if err != nil {
				t.Fatal(err)
			}
			defer m2.Close()
			if err := m2.Ping(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}
