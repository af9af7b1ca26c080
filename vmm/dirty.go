package vmm

import (
	"fmt"
	"unsafe"
)

const (
	kvmGetDirtyLog = 0x4010ae42
	kvmMemLogDirty = 1
	memSlot        = 0
)

// SetDirtyLogging turns KVM dirty-page logging of guest memory on or off. While on, every
// page the guest writes is recorded (and on PVM each first write after a collection costs a
// write-protection fault, ~40 µs).
func (vm *VM) SetDirtyLogging(on bool) error {
	var flags uint32
	if on {
		flags = kvmMemLogDirty
	}
	region := struct {
		Slot, Flags             uint32
		GuestPhys, Size, UserVA uint64
	}{memSlot, flags, 0, uint64(len(vm.mem)), uint64(uintptr(unsafe.Pointer(&vm.mem[0])))}
	if _, err := ioctl(vm.fd, kvmSetUserMemoryRegion, uintptr(unsafe.Pointer(&region))); err != nil {
		return fmt.Errorf("KVM_SET_USER_MEMORY_REGION (dirty logging %v): %w", on, err)
	}
	vm.dirtyBitmap = make([]uint64, (len(vm.mem)/4096+63)/64)
	return nil
}

// DirtyPages fetches and clears the dirty log: bit i of the result is set when the guest wrote
// page i since the previous call. The slice is reused by the next call.
func (vm *VM) DirtyPages() ([]uint64, error) {
	if vm.dirtyBitmap == nil {
		return nil, fmt.Errorf("vmm: dirty logging is off")
	}
	arg := struct {
		Slot, _ uint32
		Bitmap  uint64
	}{Slot: memSlot, Bitmap: uint64(uintptr(unsafe.Pointer(&vm.dirtyBitmap[0])))}
	if _, err := ioctl(vm.fd, kvmGetDirtyLog, uintptr(unsafe.Pointer(&arg))); err != nil {
		return nil, fmt.Errorf("KVM_GET_DIRTY_LOG: %w", err)
	}
	return vm.dirtyBitmap, nil
}
