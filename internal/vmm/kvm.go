// Package vmm is a minimal KVM virtual-machine monitor in pure Go: it opens /dev/kvm, creates
// VMs with one anonymous guest-memory slot and one vCPU, and runs that vCPU on the caller's
// OS thread or on a dedicated one (ThreadMode). It knows nothing about what the guest runs; package machine lays out the
// guest (page tables, descriptor tables, image) and speaks its protocol.
package vmm

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ioctl numbers from <linux/kvm.h> (x86-64); TestIoctlNumbers checks the struct sizes they encode.
const (
	kvmGetAPIVersion       = 0xae00
	kvmCreateVM            = 0xae01
	kvmCheckExtension      = 0xae03
	kvmGetVCPUMmapSize     = 0xae04
	kvmGetSupportedCPUID   = 0xc008ae05
	kvmCreateVCPU          = 0xae41
	kvmSetUserMemoryRegion = 0x4020ae46
	kvmRun                 = 0xae80
	kvmGetRegs             = 0x8090ae81
	kvmSetRegs             = 0x4090ae82
	kvmGetSregs            = 0x8138ae83
	kvmSetSregs            = 0x4138ae84
	kvmSetCPUID2           = 0x4008ae90
	kvmGetStatsFD          = 0xaece

	kvmAPIVersion       = 12
	kvmCapUserMemory    = 3
	kvmCapExtCPUID      = 7
	kvmCapImmediateExit = 136
	maxCPUIDEntries     = 256
	cpuidEntrySize      = 40
)

// Sentinel errors.
var (
	ErrNoKVM      = errors.New("vmm: /dev/kvm is not available")
	ErrKVMVersion = errors.New("vmm: unsupported KVM API version")
	ErrMissingCap = errors.New("vmm: KVM lacks a required capability")
	ErrClosed     = errors.New("vmm: closed")
)

// KVM is an open /dev/kvm handle, shared by all VMs of a runtime.
type KVM struct {
	fd       int
	mmapSize int
	cpuid    []byte // kvm_cpuid2 from KVM_GET_SUPPORTED_CPUID, reused for every vCPU
	mode     ThreadMode
	modeWhy  string

	mu     sync.Mutex
	closed bool

	memoMu sync.Mutex
	memo   map[string]any // Memo's values

	templateOnce sync.Once
	template     *State // CPL0-only vCPU state as KVM creates it (see SaveState)
	templateErr  error
}

// Open opens /dev/kvm and checks the API version and the capabilities hlwasm relies on.
func Open() (*KVM, error) {
	fd, err := unix.Open("/dev/kvm", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoKVM, err)
	}
	k := &KVM{fd: fd}
	k.mode, k.modeWhy = defaultThreadMode()
	if err := k.check(); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return k, nil
}

func (k *KVM) check() error {
	v, err := ioctlValue(k.fd, kvmGetAPIVersion, 0)
	if err != nil {
		return fmt.Errorf("KVM_GET_API_VERSION: %w", err)
	}
	if v != kvmAPIVersion {
		return fmt.Errorf("%w: %d (want %d)", ErrKVMVersion, v, kvmAPIVersion)
	}
	for _, c := range []struct {
		id   uintptr
		name string
	}{{kvmCapUserMemory, "KVM_CAP_USER_MEMORY"}, {kvmCapExtCPUID, "KVM_CAP_EXT_CPUID"},
		{kvmCapImmediateExit, "KVM_CAP_IMMEDIATE_EXIT"}} {
		if r, err := ioctlValue(k.fd, kvmCheckExtension, c.id); err != nil || r <= 0 {
			return fmt.Errorf("%w: %s", ErrMissingCap, c.name)
		}
	}
	sz, err := ioctlValue(k.fd, kvmGetVCPUMmapSize, 0)
	if err != nil || sz < int(unsafe.Sizeof(kvmRunHeader{})) {
		return fmt.Errorf("KVM_GET_VCPU_MMAP_SIZE: %d, %v", sz, err)
	}
	k.mmapSize = sz
	buf := make([]byte, 8+maxCPUIDEntries*cpuidEntrySize)
	*(*uint32)(unsafe.Pointer(&buf[0])) = maxCPUIDEntries
	if _, err := ioctl(k.fd, kvmGetSupportedCPUID, unsafe.Pointer(&buf[0])); err != nil {
		return fmt.Errorf("KVM_GET_SUPPORTED_CPUID: %w", err)
	}
	n := *(*uint32)(unsafe.Pointer(&buf[0]))
	k.cpuid = buf[:8+int(n)*cpuidEntrySize]
	return nil
}

// Close releases the /dev/kvm handle. VMs already created keep working.
func (k *KVM) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil
	}
	k.closed = true
	return unix.Close(k.fd)
}

// Available reports whether /dev/kvm can be opened read-write.
func Available() bool {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// ioctl issues an ioctl whose argument is a pointer, retrying when a signal interrupts it (Go's
// runtime preempts threads with SIGURG; slow ioctls such as KVM_CREATE_VM see EINTR). KVM_RUN
// does not come through here: its EINTR may mean a kick (see VCPU.runOnce).
//
// arg stays an unsafe.Pointer until the Syscall expression itself: that is the one place Go
// guarantees the object neither moves nor dies while the kernel uses its address. A uintptr
// made by a caller is a number the stack copier does not update, and in caller-runs mode the
// argument often lives on a goroutine stack that grows mid-call (the cause of "APIC base is
// 0x0": EnterUserMode's KVM_GET_SREGS wrote into a frame the runtime had already moved).
func ioctl(fd int, req uintptr, arg unsafe.Pointer) (int, error) {
	for {
		r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return int(r), e
		}
		return int(r), nil
	}
}

// ioctlValue issues an ioctl whose argument is a number, not an address.
func ioctlValue(fd int, req, val uintptr) (int, error) {
	for {
		r, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, val)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return int(r), e
		}
		return int(r), nil
	}
}

// Memo returns what f computed for key the first time it succeeded on this handle: facts about
// the handle's guests that packages above measure once (package machine: the CPU features a
// guest sees). Calls are serialized; f must not call Memo.
func (k *KVM) Memo(key string, f func() (any, error)) (any, error) {
	k.memoMu.Lock()
	defer k.memoMu.Unlock()
	if v, ok := k.memo[key]; ok {
		return v, nil
	}
	v, err := f()
	if err != nil {
		return nil, err
	}
	if k.memo == nil {
		k.memo = map[string]any{}
	}
	k.memo[key] = v
	return v, nil
}
