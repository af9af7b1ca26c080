package vmm

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// VCPU is the VM's only vCPU. Its ioctls are serialized by a lock; which OS thread issues them
// depends on its ThreadMode:
//
//   - ThreadCaller: the goroutine that calls Run issues KVM_RUN itself, locked to its OS thread
//     for the run, and handles the exit there: no thread is woken to cross into the guest.
//   - ThreadDedicated: a locked OS thread of the vCPU's own issues every ioctl; Run and Do hand
//     their work to it and wait (two thread wake-ups per crossing), so KVM only ever sees one
//     thread run the vCPU.
//
// Either way Resume runs the vCPU asynchronously (its exit arrives on Exits), and Kick stops a
// run from any goroutine by signalling whichever thread is inside KVM_RUN at that moment.
type VCPU struct {
	kvm *KVM
	fd  int
	run []byte
	hdr *kvmRunHeader

	// mu serializes every ioctl on fd (KVM_RUN included) and orders them against close, which
	// takes it to release fd and kvm_run once no ioctl is in progress or can start.
	mu     sync.Mutex
	tid    atomic.Int32 // the thread inside (or entering) KVM_RUN, 0 if none; set under mu
	kicked atomic.Bool
	closed atomic.Bool
	// deadline: the monotonic nanoseconds (see SetDeadline) by which a run that starts must
	// end, 0 if none.
	deadline atomic.Int64
	kickMu   sync.Mutex // orders Kick and Disarm against close's unmapping of kvm_run
	exits    chan Exit
	thread   *vcpuThread // ThreadDedicated only
	// syncRegs: KVM_CAP_SYNC_REGS lets RestoreUserState pass registers through kvm_run.
	syncRegs bool
}

// vcpuThread is the dedicated OS thread of a ThreadDedicated vCPU.
type vcpuThread struct {
	cmds chan func()
	quit chan struct{}
	done chan struct{}
}

func newVCPU(k *KVM, vm *VM, mode ThreadMode) (*VCPU, error) {
	c := &VCPU{kvm: k, exits: make(chan Exit, 1)}
	if mode == ThreadDedicated {
		t := &vcpuThread{cmds: make(chan func()), quit: make(chan struct{}), done: make(chan struct{})}
		go t.loop()
		c.thread = t
	}
	var err error
	c.exec(func() { err = c.create(k, vm) })
	if err != nil {
		if c.thread != nil {
			close(c.thread.quit)
			<-c.thread.done
		}
		return nil, err
	}
	return c, nil
}

func (c *VCPU) create(k *KVM, vm *VM) error {
	fd, err := ioctlValue(vm.fd, kvmCreateVCPU, 0)
	if err != nil {
		return fmt.Errorf("KVM_CREATE_VCPU: %w", err)
	}
	c.fd = fd
	c.run, err = unix.Mmap(fd, 0, k.mmapSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return fmt.Errorf("vmm: mmap kvm_run: %w", err)
	}
	c.hdr = (*kvmRunHeader)(unsafe.Pointer(&c.run[0]))
	if caps, err := ioctlValue(k.fd, kvmCheckExtension, kvmCapSyncRegs); err == nil &&
		caps&(syncRegsRegs|syncRegsSregs) == syncRegsRegs|syncRegsSregs && len(c.run) >= syncRegsAreaLimit {
		c.syncRegs = true
	}
	if _, err := ioctl(fd, kvmSetCPUID2, unsafe.Pointer(&k.cpuid[0])); err != nil {
		c.release()
		return fmt.Errorf("KVM_SET_CPUID2: %w", err)
	}
	return nil
}

// loop serves a dedicated vCPU's commands, always on this OS thread.
func (t *vcpuThread) loop() {
	runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
	defer close(t.done)
	defer dropThreadTimer()
	for {
		select {
		case f := <-t.cmds:
			f()
		case <-t.quit:
			return
		}
	}
}

// exec runs f where the vCPU's ioctls are issued: on the dedicated thread (waiting for it), or
// on the calling goroutine. It reports false if the dedicated thread has stopped.
func (c *VCPU) exec(f func()) bool {
	if c.thread == nil {
		f()
		return true
	}
	done := make(chan struct{})
	select {
	case c.thread.cmds <- func() { f(); close(done) }:
		<-done
		return true
	case <-c.thread.done:
		return false
	}
}

// Dedicated reports whether the vCPU runs on a dedicated thread (ThreadDedicated).
func (c *VCPU) Dedicated() bool { return c.thread != nil }

func (c *VCPU) release() {
	unix.Munmap(c.run)
	unix.Close(c.fd)
}

// Do runs f with the vCPU's fd, serialized with its other ioctls (on the dedicated thread in
// ThreadDedicated mode, else on the calling goroutine: KVM accepts every ioctl but KVM_RUN from
// any thread at no extra cost).
func (c *VCPU) Do(f func(fd int) error) error {
	err := ErrClosed
	c.exec(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if !c.closed.Load() {
			err = f(c.fd)
		}
	})
	return err
}

// SetRegs, GetRegs, SetSregs and GetSregs wrap the corresponding ioctls.
func (c *VCPU) SetRegs(r *Regs) error {
	return c.Do(func(fd int) error { return wrapIoctl("KVM_SET_REGS", fd, kvmSetRegs, unsafe.Pointer(r)) })
}

func (c *VCPU) GetRegs(r *Regs) error {
	return c.Do(func(fd int) error { return wrapIoctl("KVM_GET_REGS", fd, kvmGetRegs, unsafe.Pointer(r)) })
}

func (c *VCPU) SetSregs(s *Sregs) error {
	return c.Do(func(fd int) error { return wrapIoctl("KVM_SET_SREGS", fd, kvmSetSregs, unsafe.Pointer(s)) })
}

func (c *VCPU) GetSregs(s *Sregs) error {
	return c.Do(func(fd int) error { return wrapIoctl("KVM_GET_SREGS", fd, kvmGetSregs, unsafe.Pointer(s)) })
}

func wrapIoctl(name string, fd int, req uintptr, arg unsafe.Pointer) error {
	if _, err := ioctl(fd, req, arg); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Run runs the vCPU until its next exit and returns it: in ThreadCaller mode on the calling
// goroutine's OS thread (locked for the run; a caller that wants several runs on one thread
// locks it for longer itself), else on the dedicated thread. A closed vCPU reports
// Exit{Err: ErrClosed}.
func (c *VCPU) Run() Exit {
	if c.thread != nil {
		var e Exit
		if !c.exec(func() { e = c.runOnce() }) {
			return Exit{Err: ErrClosed}
		}
		return e
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return c.runOnce()
}

// Resume starts a run without waiting; its exit arrives on Exits. At most one run may be
// outstanding. (In ThreadCaller mode the run goes to a goroutine of its own.)
func (c *VCPU) Resume() { c.ResumeAway(-1) }

// ResumeAway is Resume for a caller that spins on CPU cpu (CurrentCPU) while the run goes on,
// waiting for the guest through shared memory: in ThreadCaller mode a run that starts on that
// CPU moves off it for its duration (where the process may use another), so that the guest and
// its spinning host do not take turns on one CPU while another idles. (A thread woken from a
// spinning one is often placed on the waker's CPU; the load balancer separates them only
// milliseconds later, and meanwhile every message between them waits for a time slice.) cpu < 0:
// Resume.
func (c *VCPU) ResumeAway(cpu int) {
	if c.thread != nil {
		select {
		case c.thread.cmds <- func() { c.exits <- c.runOnce() }:
		case <-c.thread.done:
			c.exits <- Exit{Err: ErrClosed}
		}
		return
	}
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		restore := moveOff(cpu)
		e := c.runOnce()
		restore()
		c.exits <- e
	}()
}

// CurrentCPU is the CPU the calling thread runs on (-1 if unknown); meaningful while the
// goroutine is locked to its thread.
func CurrentCPU() int {
	var cpu, node uint32
	if _, _, e := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), uintptr(unsafe.Pointer(&node)), 0); e != 0 {
		return -1
	}
	return int(cpu)
}

// moveOff moves the calling thread (locked to it) off CPU cpu if it runs there and may run
// elsewhere, and returns what restores its CPU mask (before the thread is unlocked: other
// goroutines must not inherit the restriction). A thread that runs elsewhere is left alone:
// pinning either thread for good measured worse (the load balancer then cannot move them out
// of the way of the process's other threads).
func moveOff(cpu int) (restore func()) {
	if cpu < 0 || CurrentCPU() != cpu {
		return func() {}
	}
	var mask unix.CPUSet
	if unix.SchedGetaffinity(0, &mask) != nil {
		return func() {}
	}
	away := mask
	away.Clear(cpu)
	if away.Count() == 0 || unix.SchedSetaffinity(0, &away) != nil {
		return func() {}
	}
	return func() { _ = unix.SchedSetaffinity(0, &mask) }
}

// Exits delivers the exit of each Resume.
func (c *VCPU) Exits() <-chan Exit { return c.exits }

// runOnce issues KVM_RUN until it returns for a reason other than a signal not meant for us.
// The thread's id is recorded for Kick for exactly as long as it may be inside KVM_RUN.
func (c *VCPU) runOnce() Exit {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() {
		return Exit{Err: ErrClosed}
	}
	// A full barrier (XCHG) between publishing the tid and KVM_RUN's read of immediate_exit;
	// Kick has the mirror one between setting immediate_exit and reading the tid: so either
	// Kick sees this thread and signals it, or KVM_RUN sees immediate_exit and returns at once.
	c.tid.Store(int32(unix.Gettid()))
	defer c.tid.Store(0)
	deadline := c.deadline.Load()
	if deadline != 0 {
		if monoNow() >= deadline {
			return Exit{Interrupted: true, Reason: ExitIntr}
		}
		armThreadDeadline(deadline)
	}
	for {
		err := ioctlRun(c.fd)
		if err == unix.EINTR || err == unix.EAGAIN {
			if c.kicked.Swap(false) {
				c.hdr.ImmediateExit = 0
				return Exit{Interrupted: true, Reason: ExitIntr}
			}
			if deadline != 0 && monoNow() >= deadline {
				return Exit{Interrupted: true, Reason: ExitIntr} // this thread's timer
			}
			yieldAfterSignal() // a signal not meant for us (Go's runtime preemption): run on
			continue
		}
		if err != nil {
			return Exit{Err: err}
		}
		return c.decode()
	}
}

func (c *VCPU) decode() Exit {
	e := Exit{Reason: c.hdr.ExitReason}
	u := c.hdr.U[:]
	le64 := func(b []byte) uint64 {
		var v uint64
		for i := 7; i >= 0; i-- {
			v = v<<8 | uint64(b[i])
		}
		return v
	}
	switch e.Reason {
	case ExitIO:
		e.Out = u[0] == 1
		e.Size = u[1]
		e.Port = uint16(u[2]) | uint16(u[3])<<8
		off := le64(u[8:16])
		if off+8 <= uint64(len(c.run)) {
			e.Data = le64(c.run[off : off+8])
		}
	case ExitMMIO:
		e.Detail[0] = le64(u[0:8])
	case ExitFailEntry:
		e.Detail[0] = le64(u[0:8])
	case ExitInternalError:
		e.Detail[0] = uint64(u[0]) | uint64(u[1])<<8 | uint64(u[2])<<16 | uint64(u[3])<<24
		e.Detail[1] = le64(u[8:16])
		e.Detail[2] = le64(u[16:24])
	}
	return e
}

// Kick stops a running KVM_RUN (or the next one) promptly, from any goroutine: it sets
// kvm_run.immediate_exit and signals the thread inside KVM_RUN, if any. The interrupted run
// reports Exit.Interrupted. A signal that reaches a thread which has just left KVM_RUN is
// harmless (Go ignores a SIGURG it did not ask for; a KVM_RUN of another vCPU on that thread
// re-enters), and the kick stays armed for the next run until Disarm.
func (c *VCPU) Kick() {
	c.kickMu.Lock()
	defer c.kickMu.Unlock()
	if c.hdr != nil {
		c.hdr.ImmediateExit = 1
	}
	c.kicked.Store(true) // XCHG: the barrier between immediate_exit and reading the tid
	if tid := c.tid.Load(); tid != 0 {
		// SIGURG is Go's own preemption signal: the runtime ignores one it did not send, and it
		// makes KVM_RUN return EINTR.
		unix.Tgkill(unix.Getpid(), int(tid), unix.SIGURG)
	}
}

// Disarm withdraws a kick whose run has ended: a Kick that raced a normal exit would otherwise
// stay armed (immediate_exit set, kicked true) and interrupt the next, unrelated run. Call it
// only with no run outstanding, after collecting the exit the kick was meant for.
func (c *VCPU) Disarm() {
	c.kickMu.Lock()
	defer c.kickMu.Unlock()
	c.kicked.Store(false)
	if c.hdr != nil {
		c.hdr.ImmediateExit = 0
	}
}

// close stops a run in progress (on whatever thread) and waits for it, then releases the fd
// and kvm_run: nothing is unmapped under a thread inside KVM_RUN.
func (c *VCPU) close() {
	if c.closed.Swap(true) {
		return
	}
	// A run in progress may have a spinning guest: kick until it has left (a Disarm by its
	// owner between our kicks would otherwise let it run on).
	stop := make(chan struct{})
	kicking := make(chan struct{})
	go func() {
		defer close(kicking)
		for {
			c.Kick()
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	c.mu.Lock() // no ioctl is in progress now, and none starts (closed)
	close(stop)
	<-kicking
	if c.thread != nil {
		close(c.thread.quit)
		<-c.thread.done
	}
	c.kickMu.Lock()
	c.hdr = nil
	c.kickMu.Unlock()
	c.release()
	c.mu.Unlock()
}

// RunLoop runs the vCPU n times on the thread that issues its KVM_RUN, timing each round trip
// there: the raw exit cost without any cross-thread handoff (the floor hlwasm's calls are held
// against). check validates each exit.
func (c *VCPU) RunLoop(n int, check func(Exit) error) ([]time.Duration, error) {
	samples := make([]time.Duration, 0, n)
	var err error
	loop := func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.closed.Load() {
			err = ErrClosed
			return
		}
		for i := 0; i < n; i++ {
			t0 := time.Now()
			e := ioctlRun(c.fd)
			for e == unix.EINTR || e == unix.EAGAIN { // Go's preemption signal: run on
				yieldAfterSignal()
				e = ioctlRun(c.fd)
			}
			if e != nil {
				err = fmt.Errorf("KVM_RUN: %w", e)
				return
			}
			samples = append(samples, time.Since(t0))
			if err = check(c.decode()); err != nil {
				return
			}
		}
	}
	if c.thread == nil {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	if !c.exec(loop) {
		return nil, ErrClosed
	}
	return samples, err
}
