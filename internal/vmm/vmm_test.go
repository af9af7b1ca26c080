package vmm

import (
	"os"
	"testing"
	"time"
	"unsafe"
)

// requireKVM fails (not skips) without /dev/kvm unless HLWASM_SKIP_KVM=1.
func requireKVM(t testing.TB) *KVM {
	t.Helper()
	k, err := Open()
	if err != nil {
		if os.Getenv("HLWASM_SKIP_KVM") == "1" {
			t.Skip("HLWASM_SKIP_KVM=1:", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

func TestStructSizes(t *testing.T) {
	// The ioctl numbers encode these sizes (bits 16..29).
	for _, c := range []struct {
		name string
		got  uintptr
		req  uintptr
	}{
		{"kvm_regs", unsafe.Sizeof(Regs{}), kvmSetRegs},
		{"kvm_sregs", unsafe.Sizeof(Sregs{}), kvmSetSregs},
	} {
		if want := c.req >> 16 & 0x3fff; c.got != want {
			t.Errorf("%s: Go size %d, ioctl encodes %d", c.name, c.got, want)
		}
	}
	if off := unsafe.Offsetof(kvmRunHeader{}.U); off != 32 {
		t.Errorf("kvm_run exit union at %d, want 32", off)
	}
}

const tHandler = 0x11000

// newTinyVM boots a hand-assembled guest at FlatCode with an optional CPL0 handler for every
// exception at tHandler.
func newTinyVM(t *testing.T, k *KVM, code, handler []byte, withIDT bool) *VM {
	t.Helper()
	var h func(int) uint64
	if withIDT {
		h = func(int) uint64 { return tHandler }
		code = append(append(make([]byte, 0, tHandler-FlatCode+len(handler)), code...),
			make([]byte, tHandler-FlatCode-len(code))...)
		code = append(code, handler...)
	}
	vm, err := k.NewFlatVM(4<<20, code, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vm.Close() })
	return vm
}

func TestOutThenFaultToHandler(t *testing.T) {
	k := requireKVM(t)
	code := []byte{0xb0, 0x2a, 0xe6, 0x10, 0xf4} // mov al,42; out 0x10,al; hlt (→ #GP at CPL3)
	handler := []byte{0xe6, 0x11, 0xf4}          // out 0x11,al; hlt (CPL0)
	vm := newTinyVM(t, k, code, handler, true)
	c := vm.VCPU()
	e := c.Run()
	if e.Reason != ExitIO || e.Port != 0x10 || !e.Out || e.Size != 1 || byte(e.Data) != 42 {
		t.Fatalf("first exit: %v data=%d", e, e.Data)
	}
	e = c.Run()
	if e.Reason != ExitIO || e.Port != 0x11 {
		t.Fatalf("#GP handler exit: %v", e)
	}
	var r Regs
	if err := c.GetRegs(&r); err != nil {
		t.Fatal(err)
	}
	if r.RSP > flatKStack || r.RSP < flatKStack-64 {
		t.Errorf("handler stack %#x, want just below RSP0 %#x", r.RSP, flatKStack)
	}
	if e = c.Run(); e.Reason != ExitHLT {
		t.Fatalf("CPL0 hlt: %v", e)
	}
}

func TestTripleFaultIsShutdown(t *testing.T) {
	k := requireKVM(t)
	vm := newTinyVM(t, k, []byte{0x0f, 0x0b}, nil, false) // ud2 with no IDT → triple fault
	if e := vm.VCPU().Run(); e.Reason != ExitShutdown {
		t.Fatalf("got %v, want KVM_EXIT_SHUTDOWN", e)
	}
}

func TestKickStopsSpinningGuest(t *testing.T) {
	k := requireKVM(t)
	vm := newTinyVM(t, k, []byte{0xeb, 0xfe}, nil, false) // jmp .
	c := vm.VCPU()
	c.Resume()
	time.Sleep(5 * time.Millisecond)
	start := time.Now()
	c.Kick()
	select {
	case e := <-c.Exits():
		if !e.Interrupted {
			t.Fatalf("got %v, want interrupted", e)
		}
		t.Logf("kick latency %v", time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatal("kick did not stop the guest")
	}
}

func TestCloseWhileRunning(t *testing.T) {
	k := requireKVM(t)
	vm := newTinyVM(t, k, []byte{0xeb, 0xfe}, nil, false)
	vm.VCPU().Resume()
	time.Sleep(2 * time.Millisecond)
	if err := vm.Close(); err != nil {
		t.Fatal(err)
	}
}

// A vCPU state saved at one exit and restored later makes the guest repeat itself exactly.
func TestSaveRestoreState(t *testing.T) {
	k := requireKVM(t)
	// inc rax; out 0x10,al; jmp back: every run reports a larger al unless state is restored.
	vm := newTinyVM(t, k, []byte{0x48, 0xff, 0xc0, 0xe6, 0x10, 0xeb, 0xf9}, nil, false)
	c := vm.VCPU()
	if e := c.Run(); byte(e.Data) != 1 {
		t.Fatalf("first run: %v al=%d", e, byte(e.Data))
	}
	s, err := c.SaveState()
	if err != nil {
		t.Fatal(err)
	}
	for _, restore := range []func(*State) error{c.RestoreState, c.RestoreUserState} {
		for i := 0; i < 3; i++ {
			c.Run()
		}
		if err := restore(s); err != nil {
			t.Fatal(err)
		}
		if e := c.Run(); byte(e.Data) != 2 {
			t.Fatalf("after restore: al=%d, want 2", byte(e.Data))
		}
		if err := c.RestoreState(s); err != nil {
			t.Fatal(err)
		}
	}
}
