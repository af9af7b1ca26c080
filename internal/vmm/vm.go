package vmm

import (
	"fmt"
	"sync"
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
// pages cost nothing) and its vCPU, run as mode says (ThreadAuto: the handle's default,
// KVM.ThreadMode). Only the first
// min(memSize, initialSlot) bytes are registered with KVM now; AddMemory registers more.
// (KVM's per-slot metadata costs ~0.4 ms per GiB to create, so a VM pays only for what its
// guest reaches.)
func (k *KVM) NewVM(memSize, initialSlot uint64, mode ThreadMode) (*VM, error) {
	if memSize == 0 || memSize%4096 != 0 {
		return nil, fmt.Errorf("vmm: guest memory size %d is not a positive multiple of 4096", memSize)
	}
	k.mu.Lock()
	closed := k.closed
	k.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	fd, err := ioctlValue(k.fd, kvmCreateVM, 0)
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
	vm.vcpu, err = newVCPU(k, vm, k.resolve(mode))
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
	if _, err := ioctl(vm.fd, kvmSetUserMemoryRegion, unsafe.Pointer(&region)); err != nil {
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
	Interrupted bool   // Kick stopped the run, or its deadline (VCPU.SetDeadline) passed
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
