package vmm

import (
	"fmt"
	"math/bits"
	"unsafe"
)

const (
	kvmGetDirtyLog = 0x4010ae42
	kvmMemLogDirty = 1
)

// SetDirtyLogging turns KVM dirty-page logging of guest memory on or off, for every memory slot
// now and later. While on, every page the guest writes is recorded (and on PVM each first write
// after a collection costs a write-protection fault, ~40 µs).
func (vm *VM) SetDirtyLogging(on bool) error {
	vm.slotFlags = 0
	if on {
		vm.slotFlags = kvmMemLogDirty
	}
	for id, s := range vm.slots {
		region := struct {
			Slot, Flags             uint32
			GuestPhys, Size, UserVA uint64
		}{uint32(id), vm.slotFlags, s.gpa, s.size, uint64(uintptr(unsafe.Pointer(&vm.mem[s.gpa])))}
		if _, err := ioctl(vm.fd, kvmSetUserMemoryRegion, unsafe.Pointer(&region)); err != nil {
			return fmt.Errorf("KVM_SET_USER_MEMORY_REGION (dirty logging %v): %w", on, err)
		}
	}
	vm.dirtyBitmap = nil
	if on {
		vm.dirtyBitmap = make([]uint64, (len(vm.mem)/4096+63)/64)
	}
	return nil
}

// DirtyPages fetches and clears the dirty log: bit i of the result is set when the guest wrote
// page i since the previous call. The slice is reused by the next call.
func (vm *VM) DirtyPages() ([]uint64, error) {
	if vm.dirtyBitmap == nil {
		return nil, fmt.Errorf("vmm: dirty logging is off")
	}
	clear(vm.dirtyBitmap)
	for id, s := range vm.slots {
		words := int((s.size/4096 + 63) / 64)
		if cap(vm.slotBitmap) < words {
			vm.slotBitmap = make([]uint64, words)
		}
		bm := vm.slotBitmap[:words]
		arg := struct {
			Slot, _ uint32
			Bitmap  uint64
		}{Slot: uint32(id), Bitmap: uint64(uintptr(unsafe.Pointer(&bm[0])))}
		if _, err := ioctl(vm.fd, kvmGetDirtyLog, unsafe.Pointer(&arg)); err != nil {
			return nil, fmt.Errorf("KVM_GET_DIRTY_LOG (slot %d): %w", id, err)
		}
		first := s.gpa / 4096
		for w, word := range bm {
			for word != 0 {
				b := uint64(bitsTrailingZeros(word))
				word &^= 1 << b
				p := first + uint64(w)*64 + b
				vm.dirtyBitmap[p/64] |= 1 << (p % 64)
			}
		}
	}
	return vm.dirtyBitmap, nil
}

func bitsTrailingZeros(x uint64) int { return bits.TrailingZeros64(x) }
