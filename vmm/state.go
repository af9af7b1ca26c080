package vmm

import (
	"fmt"
	"unsafe"
)

const (
	kvmGetFPU         = 0x81a0ae8c
	kvmSetFPU         = 0x41a0ae8d
	kvmGetXCRS        = 0x8188aea6
	kvmSetXCRS        = 0x4188aea7
	kvmGetDebugRegs   = 0x8080aea1
	kvmSetDebugRegs   = 0x4080aea2
	kvmGetVCPUEvents  = 0x8040ae9f
	kvmSetVCPUEvents  = 0x4040aea0
	kvmGetMSRs        = 0xc008ae88
	kvmSetMSRs        = 0x4008ae89
	kvmCapSyncRegs    = 74
	syncRegsRegs      = 1
	syncRegsSregs     = 2
	runDirtyRegsOff   = 296
	runSyncRegsOff    = 304
	runSyncSregsOff   = 448
	fpuStateSize      = 416
	xcrsSize          = 392
	debugRegsSize     = 128
	vcpuEventsSize    = 64
	msrEntrySize      = 16
	syncRegsAreaLimit = 304 + 520
)

// MSRs a vCPU snapshot carries. CPL3 code cannot write any of them; they are captured and
// restored so that a reset is complete whatever the guest did at CPL0.
var snapshotMSRs = []uint32{
	0x174, 0x175, 0x176, // SYSENTER_CS/ESP/EIP
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, // STAR, LSTAR, CSTAR, SFMASK
	0xc0000102, // KERNEL_GS_BASE
	0x277,      // PAT
}

// State is the complete architectural state of a vCPU that hlwasm uses: general and special
// registers, x87/SSE state (CR4.OSXSAVE is off, so there is no AVX state), XCR0, debug
// registers, pending events and the MSRs above. (TSC is left running: it is time, not state.)
type State struct {
	Regs   Regs
	Sregs  Sregs
	FPU    [fpuStateSize]byte
	XCRS   [xcrsSize]byte
	Debug  [debugRegsSize]byte
	Events [vcpuEventsSize]byte
	MSRs   []byte // struct kvm_msrs with its entries
}

func msrBuffer() []byte {
	b := make([]byte, 8+len(snapshotMSRs)*msrEntrySize)
	*(*uint32)(unsafe.Pointer(&b[0])) = uint32(len(snapshotMSRs))
	for i, idx := range snapshotMSRs {
		*(*uint32)(unsafe.Pointer(&b[8+i*msrEntrySize])) = idx
	}
	return b
}

// SaveState reads the complete vCPU state.
//
// XCR0, debug registers, pending events and the MSRs above are only changed at CPL0, and
// hlwasm's CPL0 code (the exception stubs) changes none of them, so they equal what KVM set at
// vCPU creation: they are read once per KVM handle and shared (3 ioctls instead of 7).
func (c *VCPU) SaveState() (*State, error) {
	c.kvm.templateOnce.Do(func() { c.kvm.template, c.kvm.templateErr = c.saveFull() })
	if c.kvm.templateErr != nil {
		return nil, c.kvm.templateErr
	}
	s := &State{XCRS: c.kvm.template.XCRS, Debug: c.kvm.template.Debug, Events: c.kvm.template.Events,
		MSRs: c.kvm.template.MSRs}
	err := c.Do(func(fd int) error {
		if err := wrapIoctl("KVM_GET_REGS", fd, kvmGetRegs, unsafe.Pointer(&s.Regs)); err != nil {
			return err
		}
		if err := wrapIoctl("KVM_GET_SREGS", fd, kvmGetSregs, unsafe.Pointer(&s.Sregs)); err != nil {
			return err
		}
		return wrapIoctl("KVM_GET_FPU", fd, kvmGetFPU, unsafe.Pointer(&s.FPU))
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// saveFull reads every part of the vCPU state with its own ioctl.
func (c *VCPU) saveFull() (*State, error) {
	s := &State{MSRs: msrBuffer()}
	err := c.Do(func(fd int) error {
		for _, x := range []struct {
			name string
			req  uintptr
			p    unsafe.Pointer
		}{
			{"KVM_GET_REGS", kvmGetRegs, unsafe.Pointer(&s.Regs)},
			{"KVM_GET_SREGS", kvmGetSregs, unsafe.Pointer(&s.Sregs)},
			{"KVM_GET_FPU", kvmGetFPU, unsafe.Pointer(&s.FPU)},
			{"KVM_GET_XCRS", kvmGetXCRS, unsafe.Pointer(&s.XCRS)},
			{"KVM_GET_DEBUGREGS", kvmGetDebugRegs, unsafe.Pointer(&s.Debug)},
			{"KVM_GET_VCPU_EVENTS", kvmGetVCPUEvents, unsafe.Pointer(&s.Events)},
		} {
			if err := wrapIoctl(x.name, fd, x.req, x.p); err != nil {
				return err
			}
		}
		n, err := ioctl(fd, kvmGetMSRs, uintptr(unsafe.Pointer(&s.MSRs[0])))
		if err != nil || n != len(snapshotMSRs) {
			return fmt.Errorf("KVM_GET_MSRS: read %d of %d: %v", n, len(snapshotMSRs), err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// RestoreState writes the complete vCPU state back: every ioctl, for a vCPU whose state is
// unknown (after a fault or an interrupted run).
func (c *VCPU) RestoreState(s *State) error {
	return c.Do(func(fd int) error {
		for _, x := range []struct {
			name string
			req  uintptr
			p    unsafe.Pointer
		}{
			{"KVM_SET_SREGS", kvmSetSregs, unsafe.Pointer(&s.Sregs)},
			{"KVM_SET_REGS", kvmSetRegs, unsafe.Pointer(&s.Regs)},
			{"KVM_SET_FPU", kvmSetFPU, unsafe.Pointer(&s.FPU)},
			{"KVM_SET_XCRS", kvmSetXCRS, unsafe.Pointer(&s.XCRS)},
			{"KVM_SET_DEBUGREGS", kvmSetDebugRegs, unsafe.Pointer(&s.Debug)},
			{"KVM_SET_VCPU_EVENTS", kvmSetVCPUEvents, unsafe.Pointer(&s.Events)},
		} {
			if err := wrapIoctl(x.name, fd, x.req, x.p); err != nil {
				return err
			}
		}
		n, err := ioctl(fd, kvmSetMSRs, uintptr(unsafe.Pointer(&s.MSRs[0])))
		if err != nil || n != len(snapshotMSRs) {
			return fmt.Errorf("KVM_SET_MSRS: wrote %d of %d: %v", n, len(snapshotMSRs), err)
		}
		return nil
	})
}

// RestoreUserState restores what code at CPL3 can change — general registers, segment
// registers and flags, x87/SSE state — for a vCPU that stopped at a known exit: one
// KVM_SET_FPU now, while registers and special registers ride in kvm_run's sync area and are
// applied by the next KVM_RUN at no extra cost (KVM_CAP_SYNC_REGS). CPL3 code cannot change
// control registers, descriptor tables, debug registers, XCR0 or MSRs.
func (c *VCPU) RestoreUserState(s *State) error {
	if !c.syncRegs {
		return c.RestoreState(s)
	}
	return c.Do(func(fd int) error {
		if err := wrapIoctl("KVM_SET_FPU", fd, kvmSetFPU, unsafe.Pointer(&s.FPU)); err != nil {
			return err
		}
		*(*Regs)(unsafe.Pointer(&c.run[runSyncRegsOff])) = s.Regs
		*(*Sregs)(unsafe.Pointer(&c.run[runSyncSregsOff])) = s.Sregs
		*(*uint64)(unsafe.Pointer(&c.run[runDirtyRegsOff])) = syncRegsRegs | syncRegsSregs
		return nil
	})
}
