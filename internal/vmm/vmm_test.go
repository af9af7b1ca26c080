package vmm

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
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
	return newTinyVMMode(t, k, code, handler, withIDT, ThreadAuto)
}

func newTinyVMMode(t *testing.T, k *KVM, code, handler []byte, withIDT bool, mode ThreadMode) *VM {
	t.Helper()
	var h func(int) uint64
	if withIDT {
		h = func(int) uint64 { return tHandler }
		code = append(append(make([]byte, 0, tHandler-FlatCode+len(handler)), code...),
			make([]byte, tHandler-FlatCode-len(code))...)
		code = append(code, handler...)
	}
	vm, err := k.NewFlatVM(4<<20, code, h, mode)
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

var modes = []ThreadMode{ThreadCaller, ThreadDedicated}

func TestKickStopsSpinningGuest(t *testing.T) {
	k := requireKVM(t)
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			vm := newTinyVMMode(t, k, []byte{0xeb, 0xfe}, nil, false, mode) // jmp .
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
		})
	}
}

// A synchronous Run on the caller's thread is stopped by a Kick from another goroutine, whether
// the kick comes before the run starts or while the guest spins; Disarm then lets the next run
// proceed to its normal exit.
func TestKickSyncRun(t *testing.T) {
	k := requireKVM(t)
	// out 0x10; jmp . : the first run exits, the second spins until kicked.
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			vm := newTinyVMMode(t, k, []byte{0xe6, 0x10, 0xeb, 0xfe}, nil, false, mode)
			c := vm.VCPU()
			c.Kick() // before the run: immediate_exit makes it return at once
			if e := c.Run(); !e.Interrupted {
				t.Fatalf("pre-armed kick: got %v", e)
			}
			c.Disarm()
			if e := c.Run(); e.Reason != ExitIO || e.Port != 0x10 {
				t.Fatalf("after Disarm: got %v, want the out exit", e)
			}
			done := make(chan Exit, 1)
			go func() { done <- c.Run() }()
			// Kick until the run reports it: the kicker cannot know when the run has started.
			for {
				c.Kick()
				select {
				case e := <-done:
					if !e.Interrupted {
						t.Fatalf("got %v, want interrupted", e)
					}
					return
				case <-time.After(time.Millisecond):
				}
			}
		})
	}
}

// Close while a goroutine is inside Run (on its own thread) stops the run and waits for it
// before the vCPU's kvm_run is unmapped; later runs and ioctls report ErrClosed.
func TestCloseWhileRunning(t *testing.T) {
	k := requireKVM(t)
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			vm := newTinyVMMode(t, k, []byte{0xeb, 0xfe}, nil, false, mode)
			c := vm.VCPU()
			done := make(chan Exit, 1)
			go func() { done <- c.Run() }()
			time.Sleep(2 * time.Millisecond)
			if err := vm.Close(); err != nil {
				t.Fatal(err)
			}
			if e := <-done; !e.Interrupted && !errors.Is(e.Err, ErrClosed) {
				t.Fatalf("run ended with %v", e)
			}
			if e := c.Run(); !errors.Is(e.Err, ErrClosed) {
				t.Fatalf("run after close: %v", e)
			}
			var r Regs
			if err := c.GetRegs(&r); !errors.Is(err, ErrClosed) {
				t.Fatalf("GetRegs after close: %v", err)
			}
			vm2 := newTinyVMMode(t, k, []byte{0xeb, 0xfe}, nil, false, mode)
			vm2.VCPU().Resume()
			time.Sleep(2 * time.Millisecond)
			if err := vm2.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Runs issued from many goroutines, each on whatever thread Go gives it, in turn (the vCPU's
// issuing thread changes all the time), see the guest's state carry on exactly.
func TestRunFromChangingThreads(t *testing.T) {
	k := requireKVM(t)
	// inc rax; out 0x10,al; jmp back
	vm := newTinyVMMode(t, k, []byte{0x48, 0xff, 0xc0, 0xe6, 0x10, 0xeb, 0xf9}, nil, false, ThreadCaller)
	c := vm.VCPU()
	var mu sync.Mutex
	want := byte(1)
	var wg sync.WaitGroup
	tids := map[int]bool{}
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				mu.Lock()
				runtime.LockOSThread()
				tids[unix.Gettid()] = true
				e := c.Run()
				runtime.UnlockOSThread()
				if e.Reason != ExitIO || byte(e.Data) != want {
					t.Errorf("run: %v al=%d, want %d", e, byte(e.Data), want)
				}
				want++
				mu.Unlock()
				runtime.Gosched()
			}
		}()
	}
	wg.Wait()
	t.Logf("%d runs from %d threads", int(want)-1, len(tids))
}

func TestKernelVersion(t *testing.T) {
	for _, c := range []struct {
		rel          string
		major, minor int
		ok           bool
	}{{"6.18.44-fc-v1045", 6, 18, true}, {"5.15.0-91-generic", 5, 15, true}, {"6.12", 6, 12, true},
		{"4.19rc1", 4, 19, true}, {"6", 0, 0, false}, {"x.y", 0, 0, false}, {"6.1rc2.3", 6, 1, true}} {
		ma, mi, ok := kernelVersion(c.rel)
		if ok != c.ok || ok && (ma != c.major || mi != c.minor) {
			t.Errorf("%q: %d.%d %v, want %d.%d %v", c.rel, ma, mi, ok, c.major, c.minor, c.ok)
		}
	}
	t.Setenv(ThreadModeEnv, "dedicated")
	if m, _ := defaultThreadMode(); m != ThreadDedicated {
		t.Errorf("%s=dedicated: %v", ThreadModeEnv, m)
	}
	t.Setenv(ThreadModeEnv, "caller")
	if m, _ := defaultThreadMode(); m != ThreadCaller {
		t.Errorf("%s=caller: %v", ThreadModeEnv, m)
	}
	t.Setenv(ThreadModeEnv, "bogus")
	if m, why := defaultThreadMode(); m != ThreadDedicated || why == "" {
		t.Errorf("%s=bogus: %v %q", ThreadModeEnv, m, why)
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

// growStack calls f with depth small frames below it: a fresh goroutine's stack (8 KiB) then
// has to grow somewhere inside f's calls, at a point that differs with depth.
//
//go:noinline
func growStack(depth int, f func()) {
	var pad [4]uint64
	if depth == 0 {
		f()
		return
	}
	growStack(depth-1, f)
	pad[depth%len(pad)]++
	_ = pad[depth%len(pad)]
}

// TestIoctlArgsSurviveStackGrowth reads the vCPU's special registers into a variable on a
// goroutine stack that grows during the ioctl's calls, from many depths, as EnterUserMode does:
// an ioctl argument turned into a number before the Syscall expression lets the kernel write
// into a stack the runtime has already moved, and the variable then reads as zeros (a guest
// entered with APIC base 0, which the snapshot check refused).
func TestIoctlArgsSurviveStackGrowth(t *testing.T) {
	k := requireKVM(t)
	vm := newTinyVMMode(t, k, []byte{0xf4}, nil, false, ThreadCaller)
	c := vm.VCPU()
	var want Sregs
	if err := c.GetSregs(&want); err != nil {
		t.Fatal(err)
	}
	if want.APICBase == 0 {
		t.Fatal("APIC base is 0 on a fresh vCPU")
	}
	const depths = 1024
	bad := 0
	for depth := 0; depth < depths; depth++ {
		done := make(chan struct{})
		go func() {
			defer close(done)
			growStack(depth, func() {
				err := c.Do(func(fd int) error {
					var got Sregs
					if err := wrapIoctl("KVM_GET_SREGS", fd, kvmGetSregs, unsafe.Pointer(&got)); err != nil {
						return err
					}
					if got.APICBase != want.APICBase || got.CR3 != want.CR3 {
						bad++
					}
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			})
		}()
		<-done
	}
	if bad != 0 {
		t.Fatalf("%d of %d reads lost the kernel's answer", bad, depths)
	}
}

// moveOff moves the calling thread off the CPU it is told to avoid when it runs there, and
// its restore gives the thread back the CPU mask it had; where the thread cannot go elsewhere,
// or already runs elsewhere, the mask is left alone.
func TestMoveOff(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	mask := func() unix.CPUSet {
		var m unix.CPUSet
		if err := unix.SchedGetaffinity(0, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	orig := mask()
	if orig.Count() < 2 {
		t.Skip("needs two CPUs")
	}
	first := -1
	for c := 0; first < 0; c++ {
		if orig.IsSet(c) {
			first = c
		}
	}
	var one unix.CPUSet
	one.Set(first)
	if err := unix.SchedSetaffinity(0, &one); err != nil {
		t.Fatal(err)
	}
	if CurrentCPU() != first {
		t.Fatalf("pinned to CPU %d, on %d", first, CurrentCPU())
	}
	moveOff(first)() // nowhere else to go
	if m := mask(); m != one {
		t.Errorf("moveOff(%d) pinned there changed the mask to %v", first, m)
	}
	if err := unix.SchedSetaffinity(0, &orig); err != nil {
		t.Fatal(err)
	}
	if on := CurrentCPU(); on == first { // most likely: it has no reason to move
		restore := moveOff(first)
		if m := mask(); CurrentCPU() == first || m.IsSet(first) || m.Count() != orig.Count()-1 {
			t.Errorf("moveOff(%d): on CPU %d, mask %v", first, CurrentCPU(), m)
		}
		restore()
		if m := mask(); m != orig {
			t.Errorf("mask after restore %v, want %v", m, orig)
		}
	}
	if on := CurrentCPU(); on != first {
		moveOff(first)()
		if m := mask(); m != orig {
			t.Errorf("moveOff(%d) on CPU %d changed the mask to %v", first, on, m)
		}
	}
}

var runModes = []RunMode{RunHoldsP, RunReleasesP}

func (m RunMode) String() string {
	if m == RunReleasesP {
		return "releases-p"
	}
	return "holds-p"
}

// A run with a deadline ends by itself (Interrupted) with nothing else to stop it, in both
// thread modes and both run modes, even with GOMAXPROCS 1, where the run holds the only P and no
// Go timer could fire: the thread's own timer does. A deadline already past ends the next run at
// once; a cleared one lets the guest reach its exit.
func TestRunDeadline(t *testing.T) {
	k := requireKVM(t)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, rm := range runModes {
		for _, mode := range modes {
			t.Run(rm.String()+"/"+mode.String(), func(t *testing.T) {
				defer SetRunMode(SetRunMode(rm))
				vm := newTinyVMMode(t, k, []byte{0xe6, 0x10, 0xeb, 0xfe}, nil, false, mode) // out 0x10; jmp .
				c := vm.VCPU()
				if e := c.Run(); e.Reason != ExitIO {
					t.Fatalf("first run: %v", e)
				}
				// A watchdog that only a broken deadline lets act (a kick from it fails the test).
				var watchdog atomic.Bool
				stop := make(chan struct{})
				defer close(stop)
				go func() {
					select {
					case <-time.After(20 * time.Second):
						watchdog.Store(true)
						c.Kick()
					case <-stop:
					}
				}()
				c.SetDeadline(time.Now().Add(5 * time.Millisecond))
				if e := c.Run(); !e.Interrupted || watchdog.Load() {
					t.Fatalf("spinning guest with a deadline: got %v (watchdog %v)", e, watchdog.Load())
				}
				if e := c.Run(); !e.Interrupted { // the deadline has passed: at once
					t.Fatalf("deadline past: got %v", e)
				}
				if prev := c.SetDeadline(time.Time{}); prev.IsZero() {
					t.Fatal("SetDeadline did not return the previous deadline")
				}
			})
		}
	}
}

// A run that holds its P yields when the runtime asks (SIGURG makes KVM_RUN return EINTR): a
// garbage collection, which stops the world, completes while a guest spins in a long run with
// no deadline. Run in a child process: a run that did not yield would hang the collection, and
// with it every goroutine that could notice.
func TestLongRunYieldsToGC(t *testing.T) {
	if os.Getenv("HLWASM_VMM_GC_CHILD") == "1" {
		k := requireKVM(t)
		defer SetRunMode(SetRunMode(RunHoldsP))
		vm := newTinyVMMode(t, k, []byte{0xeb, 0xfe}, nil, false, ThreadCaller) // jmp .
		c := vm.VCPU()
		var returned atomic.Bool
		done := make(chan Exit, 1)
		go func() { e := c.Run(); returned.Store(true); done <- e }()
		for c.tid.Load() == 0 {
			time.Sleep(time.Millisecond) // until the run has started
		}
		time.Sleep(20 * time.Millisecond)
		runtime.GC()
		if returned.Load() {
			t.Fatal("the run ended before the collection did")
		}
		c.Kick()
		if e := <-done; !e.Interrupted {
			t.Fatalf("got %v, want interrupted", e)
		}
		return
	}
	requireKVM(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestLongRunYieldsToGC$", "-test.v")
	cmd.Env = append(os.Environ(), "HLWASM_VMM_GC_CHILD=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ended := make(chan error, 1)
	go func() { ended <- cmd.Wait() }()
	select {
	case err := <-ended:
		if err != nil || !strings.Contains(out.String(), "--- PASS: TestLongRunYieldsToGC") {
			t.Fatalf("child: %v\n%s", err, out.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-ended
		t.Fatalf("a collection did not complete while a guest ran (the run never yielded)\n%s", out.String())
	}
}

// KVMStats counts the vCPU's exits: two runs that each end at an out add at least two.
func TestKVMStats(t *testing.T) {
	k := requireKVM(t)
	vm := newTinyVMMode(t, k, []byte{0xe6, 0x10, 0xeb, 0xfc}, nil, false, ThreadCaller) // out 0x10; jmp back
	c := vm.VCPU()
	before, err := c.KVMStats()
	if err != nil {
		t.Skip("no KVM statistics on this kernel:", err)
	}
	if _, ok := before["exits"]; !ok {
		t.Fatalf("no exits counter among %d statistics", len(before))
	}
	c.Run()
	c.Run()
	after, err := c.KVMStats()
	if err != nil {
		t.Fatal(err)
	}
	if after["exits"] < before["exits"]+2 {
		t.Fatalf("exits %d → %d after two runs", before["exits"], after["exits"])
	}
}

// readStats refuses a statistics file whose header, descriptors or values run past its end,
// and KVMStats after Close reports ErrClosed.
func TestKVMStatsBadInput(t *testing.T) {
	le := func(vs ...uint32) []byte {
		b := make([]byte, 0, 4*len(vs))
		for _, v := range vs {
			b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
		}
		return b
	}
	desc := append(le(0, 0, 0, 0), []byte("exits\x00\x00\x00")...) // flags, exp+size, offset 0, bucket; name
	for name, file := range map[string][]byte{
		"short header":       le(0, 8, 1),
		"descriptor too far": le(0, 8, 1, 24, 1000, 24),
		"value too far":      append(append(le(0, 8, 1, 24, 24, 1000), desc...), make([]byte, 8)...),
	} {
		f, err := os.CreateTemp(t.TempDir(), "stats")
		if err != nil {
			t.Fatal(err)
		}
		f.Write(file)
		if err := readStats(int(f.Fd()), map[string]uint64{}); err == nil {
			t.Errorf("%s: no error", name)
		}
		f.Close()
	}
	good := append(append(le(0, 8, 1, 24, 24, 48), desc...), 7, 0, 0, 0, 0, 0, 0, 0)
	f, err := os.CreateTemp(t.TempDir(), "stats")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write(good)
	out := map[string]uint64{}
	if err := readStats(int(f.Fd()), out); err != nil || out["exits"] != 7 {
		t.Fatalf("a well-formed file: %v %v", out, err)
	}
	k := requireKVM(t)
	vm := newTinyVMMode(t, k, []byte{0xeb, 0xfe}, nil, false, ThreadCaller)
	vm.Close()
	if _, err := vm.VCPU().KVMStats(); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
