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

// VM is one KVM virtual machine with a single guest-memory slot at guest physical address 0
// and a single vCPU.
type VM struct {
	fd   int
	mem  []byte
	vcpu *VCPU
	once sync.Once
	err  error

	dirtyBitmap []uint64 // dirty pages of all slots, when dirty logging is on
	slotBitmap  []uint64 // KVM_GET_DIRTY_LOG output for one slot
	slots       []memSlot
	slotFlags   uint32
}

// NewVM creates a VM with memSize bytes of guest memory (anonymous, MAP_NORESERVE: untouched
// pages cost nothing) and its vCPU, whose thread is started and locked. Only the first
// min(memSize, initialSlot) bytes are registered with KVM now; AddMemory registers more.
// (KVM's per-slot metadata costs ~0.4 ms per GiB to create, so a VM pays only for what its
// guest reaches.)
func (k *KVM) NewVM(memSize, initialSlot uint64) (*VM, error) {
	if memSize == 0 || memSize%4096 != 0 {
		return nil, fmt.Errorf("vmm: guest memory size %d is not a positive multiple of 4096", memSize)
	}
	k.mu.Lock()
	closed := k.closed
	k.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	fd, err := ioctl(k.fd, kvmCreateVM, 0)
	if err != nil {
		return nil, fmt.Errorf("KVM_CREATE_VM: %w", err)
	}
	vm := &VM{fd: fd}
	vm.mem, err = unix.Mmap(-1, 0, int(memSize), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("vmm: mmap guest memory (%d bytes): %w", memSize, err)
	}
	if initialSlot == 0 || initialSlot > memSize {
		initialSlot = memSize
	}
	if err := vm.addSlot(0, initialSlot); err != nil {
		vm.Close()
		return nil, err
	}
	vm.vcpu, err = newVCPU(k, vm)
	if err != nil {
		vm.Close()
		return nil, err
	}
	return vm, nil
}

// SlotChunk is the granule in which AddMemory registers guest memory with KVM.
const SlotChunk = 64 << 20

type memSlot struct{ gpa, size uint64 }

func (vm *VM) addSlot(gpa, size uint64) error {
	id := uint32(len(vm.slots))
	region := struct {
		Slot, Flags             uint32
		GuestPhys, Size, UserVA uint64
	}{id, vm.slotFlags, gpa, size, uint64(uintptr(unsafe.Pointer(&vm.mem[gpa])))}
	if _, err := ioctl(vm.fd, kvmSetUserMemoryRegion, uintptr(unsafe.Pointer(&region))); err != nil {
		return fmt.Errorf("KVM_SET_USER_MEMORY_REGION (slot %d at %#x, %d bytes): %w", id, gpa, size, err)
	}
	vm.slots = append(vm.slots, memSlot{gpa, size})
	return nil
}

// AddMemory makes guest-physical address gpa usable by the guest: if no memory slot covers
// it yet, the SlotChunk-aligned chunk around it is registered.
func (vm *VM) AddMemory(gpa uint64) error {
	if gpa >= uint64(len(vm.mem)) {
		return fmt.Errorf("vmm: guest address %#x beyond guest memory", gpa)
	}
	for _, s := range vm.slots {
		if gpa >= s.gpa && gpa < s.gpa+s.size {
			return nil
		}
	}
	lo := gpa &^ (SlotChunk - 1)
	hi := min(lo+SlotChunk, uint64(len(vm.mem)))
	for _, s := range vm.slots { // chunks never overlap the first slot
		if s.gpa < hi && lo < s.gpa+s.size {
			lo = max(lo, s.gpa+s.size)
		}
	}
	return vm.addSlot(lo, hi-lo)
}

// Mem is guest memory: guest physical address a is Mem()[a].
func (vm *VM) Mem() []byte { return vm.mem }

// VCPU is the VM's only vCPU.
func (vm *VM) VCPU() *VCPU { return vm.vcpu }

// Close stops the vCPU (interrupting a running guest) and releases every fd and mapping.
func (vm *VM) Close() error {
	vm.once.Do(func() {
		if vm.vcpu != nil {
			vm.vcpu.close()
		}
		if vm.mem != nil {
			if err := unix.Munmap(vm.mem); err != nil && vm.err == nil {
				vm.err = err
			}
		}
		if err := unix.Close(vm.fd); err != nil && vm.err == nil {
			vm.err = err
		}
	})
	return vm.err
}

// Exit describes why KVM_RUN returned.
type Exit struct {
	Reason      uint32 // KVM_EXIT_*
	Interrupted bool   // Kick stopped the run (KVM_RUN returned EINTR with a kick pending)
	Err         error  // KVM_RUN itself failed
	// KVM_EXIT_IO
	Port uint16
	Out  bool
	Size uint8
	Data uint64
	// KVM_EXIT_MMIO, KVM_EXIT_FAIL_ENTRY, KVM_EXIT_INTERNAL_ERROR details
	Detail [4]uint64
}

func (e Exit) String() string {
	switch {
	case e.Err != nil:
		return "KVM_RUN failed: " + e.Err.Error()
	case e.Interrupted:
		return "interrupted"
	case e.Reason == ExitIO:
		return fmt.Sprintf("%s port %#x out=%v", ExitName(e.Reason), e.Port, e.Out)
	case e.Reason == ExitMMIO:
		return fmt.Sprintf("%s at %#x", ExitName(e.Reason), e.Detail[0])
	case e.Reason == ExitInternalError:
		return fmt.Sprintf("%s suberror %d data %#x %#x", ExitName(e.Reason), e.Detail[0], e.Detail[1], e.Detail[2])
	case e.Reason == ExitFailEntry:
		return fmt.Sprintf("%s hardware reason %#x", ExitName(e.Reason), e.Detail[0])
	}
	return ExitName(e.Reason)
}

// VCPU is a vCPU whose ioctls all come from one locked OS thread. Register access goes through
// Do; runs are asynchronous: Resume starts KVM_RUN and the exit arrives on Exits.
type VCPU struct {
	kvm    *KVM
	fd     int
	run    []byte
	hdr    *kvmRunHeader
	tid    atomic.Int32
	kicked atomic.Bool
	cmds   chan func()
	exits  chan Exit
	done   chan struct{}
	closed atomic.Bool
	kickMu sync.Mutex // orders Kick against close's unmapping of kvm_run
	// syncRegs: KVM_CAP_SYNC_REGS lets RestoreUserState pass registers through kvm_run.
	syncRegs bool
}

func newVCPU(k *KVM, vm *VM) (*VCPU, error) {
	c := &VCPU{kvm: k, cmds: make(chan func()), exits: make(chan Exit, 1), done: make(chan struct{})}
	started := make(chan error)
	go c.thread(k, vm, started)
	if err := <-started; err != nil {
		return nil, err
	}
	return c, nil
}

// thread owns the vCPU: it creates it, serves commands and runs it, always on this OS thread.
func (c *VCPU) thread(k *KVM, vm *VM, started chan<- error) {
	runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
	defer close(c.done)
	c.tid.Store(int32(unix.Gettid()))
	fd, err := ioctl(vm.fd, kvmCreateVCPU, 0)
	if err != nil {
		started <- fmt.Errorf("KVM_CREATE_VCPU: %w", err)
		return
	}
	c.fd = fd
	c.run, err = unix.Mmap(fd, 0, k.mmapSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		started <- fmt.Errorf("vmm: mmap kvm_run: %w", err)
		return
	}
	c.hdr = (*kvmRunHeader)(unsafe.Pointer(&c.run[0]))
	if caps, err := ioctl(k.fd, kvmCheckExtension, kvmCapSyncRegs); err == nil &&
		caps&(syncRegsRegs|syncRegsSregs) == syncRegsRegs|syncRegsSregs && len(c.run) >= syncRegsAreaLimit {
		c.syncRegs = true
	}
	if _, err := ioctl(fd, kvmSetCPUID2, uintptr(unsafe.Pointer(&k.cpuid[0]))); err != nil {
		c.release()
		started <- fmt.Errorf("KVM_SET_CPUID2: %w", err)
		return
	}
	started <- nil
	for f := range c.cmds {
		f()
	}
	c.tid.Store(0)
	// close releases the fd and the kvm_run mapping once it has stopped kicking.
}

func (c *VCPU) release() {
	unix.Munmap(c.run)
	unix.Close(c.fd)
}

// Do runs f on the vCPU thread and waits for it.
func (c *VCPU) Do(f func(fd int) error) error {
	if c.closed.Load() {
		return ErrClosed
	}
	errc := make(chan error, 1)
	c.cmds <- func() { errc <- f(c.fd) }
	return <-errc
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
	if _, err := ioctl(fd, req, uintptr(arg)); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// Resume starts KVM_RUN on the vCPU thread without waiting; the exit arrives on Exits.
// At most one run may be outstanding.
func (c *VCPU) Resume() {
	c.cmds <- c.runOnce
}

// Exits delivers the exit of each Resume.
func (c *VCPU) Exits() <-chan Exit { return c.exits }

// Run resumes the vCPU and waits for its exit.
func (c *VCPU) Run() Exit {
	c.Resume()
	return <-c.exits
}

func (c *VCPU) runOnce() {
	for {
		err := ioctlRun(c.fd)
		if err == unix.EINTR || err == unix.EAGAIN {
			if c.kicked.Swap(false) {
				c.hdr.ImmediateExit = 0
				c.exits <- Exit{Interrupted: true, Reason: ExitIntr}
				return
			}
			continue // a signal not meant for us (Go's runtime preemption): run on
		}
		if err != nil {
			c.exits <- Exit{Err: err}
			return
		}
		c.exits <- c.decode()
		return
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

// Kick stops a running KVM_RUN (or the next one) promptly: it sets kvm_run.immediate_exit and
// signals the vCPU thread. The interrupted run reports Exit.Interrupted.
func (c *VCPU) Kick() {
	c.kickMu.Lock()
	defer c.kickMu.Unlock()
	c.kicked.Store(true)
	if c.hdr != nil {
		c.hdr.ImmediateExit = 1
	}
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

func (c *VCPU) close() {
	if c.closed.Swap(true) {
		return
	}
	// The vCPU thread may be inside KVM_RUN with a spinning guest: kick until it is free.
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			c.Kick()
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	close(c.cmds)
	<-c.done
	close(stop)
	c.kickMu.Lock() // wait out a Kick in progress before unmapping kvm_run
	c.hdr = nil
	c.kickMu.Unlock()
	c.release()
}

// RunLoop runs the vCPU n times on its own thread, timing each KVM_RUN round trip there: the
// raw exit cost without any cross-thread handoff (the floor hlwasm's calls are held against).
// check validates each exit.
func (c *VCPU) RunLoop(n int, check func(Exit) error) ([]time.Duration, error) {
	samples := make([]time.Duration, 0, n)
	err := c.Do(func(fd int) error {
		for i := 0; i < n; i++ {
			t0 := time.Now()
			err := ioctlRun(fd)
			for err == unix.EINTR || err == unix.EAGAIN { // Go's preemption signal: run on
				err = ioctlRun(fd)
			}
			if err != nil {
				return fmt.Errorf("KVM_RUN: %w", err)
			}
			samples = append(samples, time.Since(t0))
			if err := check(c.decode()); err != nil {
				return err
			}
		}
		return nil
	})
	return samples, err
}
