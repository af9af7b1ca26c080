// Package bench measures hlwasm against the raw KVM floors, in one run: the cost of creating a
// VM to its first exit, of one `out` round trip from CPL3, and of an exit-less mailbox round
// trip (what ../shared/probes/floor.c measures in C), and hlwasm's own scenarios.
package bench

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/hlwasm/hlwasm/internal/vmm"
)

// Result is one scenario on one engine.
type Result struct {
	Scenario  string  `json:"scenario"`
	Engine    string  `json:"engine"`
	P50       int64   `json:"p50_ns"`
	P99       int64   `json:"p99_ns"`
	OpsPerSec float64 `json:"ops_per_sec"`
	// CPUPerOp is the process's CPU time (user + sys, every thread: vCPU threads, the Go
	// runtime, background resets) during the scenario, divided by its operations: what a
	// spinning core costs, which wall time alone hides.
	CPUPerOp int64 `json:"cpu_ns_per_op"`
}

// CPUTime is the CPU time (user + sys) the whole process has used so far, all threads.
func CPUTime() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// SetCPU records cpu, the CPU time spent on ops operations.
func (r *Result) SetCPU(cpu time.Duration, ops int) {
	if ops > 0 {
		r.CPUPerOp = int64(cpu) / int64(ops)
	}
}

// Summarize turns samples (and the wall time they took) into a Result.
func Summarize(scenario, engine string, samples []time.Duration, wall time.Duration) Result {
	s := append([]time.Duration(nil), samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	r := Result{Scenario: scenario, Engine: engine}
	if len(s) == 0 {
		return r
	}
	r.P50 = int64(s[len(s)/2])
	r.P99 = int64(s[min(len(s)-1, len(s)*99/100)])
	if wall > 0 {
		r.OpsPerSec = float64(len(s)) / wall.Seconds()
	}
	return r
}

// Time runs f n times and returns the samples and the wall time.
func Time(n int, f func() error) ([]time.Duration, time.Duration, error) {
	samples := make([]time.Duration, 0, n)
	start := time.Now()
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if err := f(); err != nil {
			return nil, 0, err
		}
		samples = append(samples, time.Since(t0))
	}
	return samples, time.Since(start), nil
}

var (
	outLoop = []byte{0xe6, 0x10, 0xeb, 0xfc} // out 0x10,al ; jmp back
	// mov rax,[rsi]; cmp rax,rdx; jne answer; pause; jmp top; answer: mov rdx,rax; mov [rsi+8],rax; jmp top
	mailboxLoop = []byte{0x48, 0x8b, 0x06, 0x48, 0x39, 0xd0, 0x75, 0x04, 0xf3, 0x90, 0xeb,
		0xf4, 0x48, 0x89, 0xc2, 0x48, 0x89, 0x46, 0x08, 0xeb, 0xeb}
)

const floorMem = 64 << 20

func expectOut(e vmm.Exit) error {
	if e.Reason != vmm.ExitIO || e.Port != 0x10 {
		return fmt.Errorf("raw floor guest: unexpected exit %v", e)
	}
	return nil
}

// FloorCreate: KVM_CREATE_VM + memory slot + vCPU + registers → first exit (close not timed).
func FloorCreate(k *vmm.KVM, n int) ([]time.Duration, time.Duration, error) {
	samples := make([]time.Duration, 0, n)
	start := time.Now()
	var closing time.Duration
	for i := 0; i < n; i++ {
		t0 := time.Now()
		vm, err := k.NewFlatVM(floorMem, outLoop, nil, vmm.ThreadAuto)
		if err != nil {
			return nil, 0, err
		}
		err = expectOut(vm.VCPU().Run())
		samples = append(samples, time.Since(t0))
		t1 := time.Now()
		vm.Close()
		closing += time.Since(t1)
		if err != nil {
			return nil, 0, err
		}
	}
	return samples, time.Since(start) - closing, nil
}

// FloorExit: one `out` round trip from CPL3 (KVM_RUN → guest → exit), timed on the vCPU's own
// thread as ../shared/probes/floor.c does: no Go scheduling or cross-thread handoff included.
func FloorExit(k *vmm.KVM, n int) ([]time.Duration, time.Duration, error) {
	vm, err := k.NewFlatVM(floorMem, outLoop, nil, vmm.ThreadAuto)
	if err != nil {
		return nil, 0, err
	}
	defer vm.Close()
	c := vm.VCPU()
	if err := expectOut(c.Run()); err != nil {
		return nil, 0, err
	}
	start := time.Now()
	s, err := c.RunLoop(n, expectOut)
	return s, time.Since(start), err
}

// FloorExitHandoff: the same round trip handed to a dedicated vCPU thread and awaited, as
// hlwasm calls are in the ThreadDedicated mode (and all were before caller-runs): the exit plus
// two thread handoffs. A comparison, not a floor.
func FloorExitHandoff(k *vmm.KVM, n int) ([]time.Duration, time.Duration, error) {
	vm, err := k.NewFlatVM(floorMem, outLoop, nil, vmm.ThreadDedicated)
	if err != nil {
		return nil, 0, err
	}
	defer vm.Close()
	c := vm.VCPU()
	if err := expectOut(c.Run()); err != nil {
		return nil, 0, err
	}
	return Time(n, func() error { return expectOut(c.Run()) })
}

// FloorThroughput: the floor-exit round trip from callers goroutines at once for d, each with a
// VM of its own, issued as hlwasm issues its runs (VCPU.Run on the caller's locked thread), under
// run mode mode: what the platform and Go's scheduler allow n concurrent callers (the throughput
// scenarios are held against it).
func FloorThroughput(k *vmm.KVM, callers int, d time.Duration, mode vmm.RunMode) ([]time.Duration, time.Duration, error) {
	defer vmm.SetRunMode(vmm.SetRunMode(mode))
	vcpus := make([]*vmm.VCPU, callers)
	for i := range vcpus {
		vm, err := k.NewFlatVM(floorMem, outLoop, nil, vmm.ThreadCaller)
		if err != nil {
			return nil, 0, err
		}
		defer vm.Close()
		vcpus[i] = vm.VCPU()
		if err := expectOut(vcpus[i].Run()); err != nil {
			return nil, 0, err
		}
	}
	return ThroughputEach(callers, d, func(i int) func() error {
		return func() error { return expectOut(vcpus[i].Run()) }
	})
}

// FloorMailbox: exit-less round trip: the host writes a request word into guest memory, the
// guest (spinning inside KVM_RUN) answers in shared memory, the host spins on the answer.
func FloorMailbox(k *vmm.KVM, n int) ([]time.Duration, time.Duration, error) {
	vm, err := k.NewFlatVM(floorMem, mailboxLoop, nil, vmm.ThreadAuto)
	if err != nil {
		return nil, 0, err
	}
	defer vm.Close()
	c := vm.VCPU()
	c.Resume() // spins until Close kicks it
	mem := vm.Mem()
	req := (*atomic.Uint64)(unsafe.Pointer(&mem[vmm.FlatMailbox]))
	rep := (*atomic.Uint64)(unsafe.Pointer(&mem[vmm.FlatMailbox+8]))
	seq := uint64(0)
	s, wall, err := Time(n, func() error {
		seq++
		req.Store(seq)
		return awaitWord(rep, seq)
	})
	runtime.KeepAlive(mem)
	return s, wall, err
}

// mailboxPatience bounds the wait for one mailbox answer: on a loaded machine the vCPU
// thread may not be scheduled for a while, which is slowness, not a failure.
const mailboxPatience = 10 * time.Second

// awaitWord spins until w holds v. After a short spin it yields the OS thread at each check,
// so that on a loaded machine the vCPU thread it waits for can run on this CPU (a pure spin
// held the CPU for whole time slices per round trip, and 20,000 round trips then outlasted
// one overall deadline: "raw mailbox guest never answered").
func awaitWord(w *atomic.Uint64, v uint64) error {
	for i := 0; i < 1<<12; i++ {
		if w.Load() == v {
			return nil
		}
	}
	deadline := time.Now().Add(mailboxPatience)
	for w.Load() != v {
		if time.Now().After(deadline) {
			return fmt.Errorf("raw mailbox guest never answered within %v", mailboxPatience)
		}
		unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
	}
	return nil
}

// Throughput runs f from n goroutines for d and returns per-call samples and the wall time.
func Throughput(n int, d time.Duration, f func() error) ([]time.Duration, time.Duration, error) {
	return ThroughputEach(n, d, func(int) func() error { return f })
}

// ThroughputEach is Throughput with a function of its own for each goroutine i (caller(i)).
func ThroughputEach(n int, d time.Duration, caller func(i int) func() error) ([]time.Duration, time.Duration, error) {
	var mu sync.Mutex
	var all []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for g := 0; g < n; g++ {
		wg.Add(1)
		f := caller(g)
		go func() {
			defer wg.Done()
			var local []time.Duration
			for time.Since(start) < d {
				t0 := time.Now()
				if err := f(); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			all = append(all, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all, time.Since(start), firstErr
}
