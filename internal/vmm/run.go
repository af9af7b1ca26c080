package vmm

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// How a KVM_RUN meets Go's scheduler, and the deadline a run carries.
//
// A vCPU run is CPU work of the goroutine that issues it, as wazero's compiled code is: by
// default KVM_RUN is a raw system call, so the goroutine keeps its P and the Go scheduler counts
// the guest's time as the goroutine's (GOMAXPROCS bounds guests and Go code together). Issued as
// an ordinary system call (RunReleasesP), the run leaves its P in the syscall state, and while
// any P is there the runtime's sysmon thread wakes every 20 µs; once no P is idle it takes the
// P away and starts another thread to look for work, which on a machine whose CPUs all run
// guests preempts a vCPU thread at nearly every tick (measured on PVM, two VMs exiting in a loop
// on two CPUs: ~15,000 involuntary context switches a second and 1.5–1.7× the exits of one,
// against 1.9–1.95× raw and from C). Holding the P has two consequences, both handled here:
//
//   - Go's preemption (sysmon's after 10 ms of one goroutine, a GC's stop-the-world) reaches
//     the run as SIGURG: KVM_RUN returns EINTR and the run yields (runtime.Gosched) before it
//     re-enters, so a guest that computes for seconds never holds up a collection.
//   - A Go timer of a P whose goroutine is inside a run fires only when that run yields: with
//     every P running guests a context's deadline would fire 10–20 ms late. So a run with a
//     deadline (SetDeadline) does not rely on one: it arms a POSIX timer that sends SIGURG to
//     its own thread at the deadline, and returns Exit.Interrupted once it has passed.

// RunMode says how KVM_RUN is issued with respect to Go's scheduler.
type RunMode int32

const (
	RunHoldsP    RunMode = iota // a raw system call: the run keeps its P (the default)
	RunReleasesP                // an ordinary system call: the runtime may hand the P on
)

var runMode atomic.Int32

// SetRunMode sets how every later KVM_RUN of the process is issued and returns the previous
// mode. It exists to measure one against the other (hlwasm bench's floor-throughput-2 and
// floor-throughput-2-syscall scenarios, which run alone).
func SetRunMode(m RunMode) RunMode { return RunMode(runMode.Swap(int32(m))) }

// ioctlRun issues KVM_RUN once: EINTR is reported, not retried.
func ioctlRun(fd int) error {
	var e unix.Errno
	if RunMode(runMode.Load()) == RunReleasesP {
		_, _, e = unix.Syscall(unix.SYS_IOCTL, uintptr(fd), kvmRun, 0)
	} else {
		_, _, e = unix.RawSyscall(unix.SYS_IOCTL, uintptr(fd), kvmRun, 0)
	}
	if e != 0 {
		return e
	}
	return nil
}

// yieldAfterSignal is what a run does on an EINTR that was not a kick: under RunHoldsP the
// signal was most likely the runtime asking this goroutine to stop (preemption, a GC), which
// it can only do at a Go call, so let it.
func yieldAfterSignal() {
	if RunMode(runMode.Load()) == RunHoldsP {
		runtime.Gosched()
	}
}

// monoBase anchors run deadlines on the monotonic clock: a deadline is stored as the
// nanoseconds from monoBase (0: none), so it survives being an atomic integer.
var monoBase = time.Now()

func monoNanos(t time.Time) int64 { return max(int64(t.Sub(monoBase)), 1) }

func monoNow() int64 { return int64(time.Since(monoBase)) }

// SetDeadline makes every run that starts from now on end by itself at t, as if kicked
// (Exit.Interrupted), whichever thread issues it and however busy Go's scheduler is; the zero
// time clears it. It returns the previous deadline (zero if none).
func (c *VCPU) SetDeadline(t time.Time) time.Time {
	v := int64(0)
	if !t.IsZero() {
		v = monoNanos(t)
	}
	if old := c.deadline.Swap(v); old != 0 {
		return monoBase.Add(time.Duration(old))
	}
	return time.Time{}
}

// threadTimer is a POSIX timer that sends SIGURG to one thread: the deadline of that thread's
// runs. Each thread that issues runs with deadlines keeps one (threadTimers) and re-arms it
// only when a run's deadline differs from the one it is armed for: one system call per request
// and thread, not three per run (~1 µs here, as much as a bare-metal exit). A timer left armed
// for a request that has ended fires into whatever the thread does then: Go ignores the SIGURG,
// and a run of another request re-enters (its own deadline has not passed).
type threadTimer struct {
	id int32
	// armedFor is the deadline (monoNanos) it is armed for. Only its thread uses it, but one
	// goroutine after another: atomic, so that the race detector sees the order the thread gives.
	armedFor atomic.Int64
}

// threadTimers maps a thread id to its timer. Only that thread (locked to it) uses its entry.
// A Go thread ends only with a goroutine locked to it (a dedicated vCPU's thread deletes its
// timer then, dropThreadTimer); were another one's id reused, the new thread's runs would not
// be signalled (the timer names the old thread) and their deadlines would fall back on the
// caller's kick.
var threadTimers sync.Map

// sigevent is struct sigevent of the Linux ABI for SIGEV_THREAD_ID (64 bytes on 64-bit).
type sigevent struct {
	value  uintptr
	signo  int32
	notify int32
	tid    int32
	_      [11]int32
}

const sigevThreadID = 4

// armThreadDeadline makes the calling thread (locked to it) receive SIGURG at deadline
// (monoNanos). A failure (no timers left) leaves the run to the caller's kick.
func armThreadDeadline(deadline int64) {
	tid := int32(unix.Gettid())
	var t *threadTimer
	if v, ok := threadTimers.Load(tid); ok {
		t = v.(*threadTimer)
	} else {
		ev := sigevent{signo: int32(unix.SIGURG), notify: sigevThreadID, tid: tid}
		var id int32
		if _, _, e := unix.RawSyscall(unix.SYS_TIMER_CREATE, unix.CLOCK_MONOTONIC,
			uintptr(unsafe.Pointer(&ev)), uintptr(unsafe.Pointer(&id))); e != 0 {
			return
		}
		t = &threadTimer{id: id}
		threadTimers.Store(tid, t)
	}
	if t.armedFor.Load() == deadline {
		return
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(max(deadline-monoNow(), 1))}
	if _, _, e := unix.RawSyscall6(unix.SYS_TIMER_SETTIME, uintptr(t.id), 0,
		uintptr(unsafe.Pointer(&spec)), 0, 0, 0); e != 0 {
		t.armedFor.Store(0)
		return
	}
	t.armedFor.Store(deadline)
}

// dropThreadTimer deletes the calling thread's timer: for a thread about to end.
func dropThreadTimer() {
	if v, ok := threadTimers.LoadAndDelete(int32(unix.Gettid())); ok {
		unix.RawSyscall(unix.SYS_TIMER_DELETE, uintptr(v.(*threadTimer).id), 0, 0)
	}
}
