package vmm

import (
	"encoding/binary"
	"errors"
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

// MSRs a vCPU snapshot carries, with the value a vCPU has at reset (the host never writes
// them). CPL3 code cannot write any of them; they are captured and restored so that a reset
// is complete whatever the guest did at CPL0.
var snapshotMSRs = []struct {
	index uint32
	reset uint64
}{
	{0x174, 0}, {0x175, 0}, {0x176, 0}, // SYSENTER_CS/ESP/EIP (CS 0: sysenter faults)
	{0xc0000081, 0}, {0xc0000082, 0}, {0xc0000083, 0}, {0xc0000084, 0}, // STAR, LSTAR, CSTAR, SFMASK
	{0xc0000102, 0},                // KERNEL_GS_BASE
	{0x277, 0x0007_0406_0007_0406}, // PAT
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
	for i, m := range snapshotMSRs {
		*(*uint32)(unsafe.Pointer(&b[8+i*msrEntrySize])) = m.index
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
		n, err := ioctl(fd, kvmGetMSRs, unsafe.Pointer(&s.MSRs[0]))
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
		n, err := ioctl(fd, kvmSetMSRs, unsafe.Pointer(&s.MSRs[0]))
		if err != nil || n != len(snapshotMSRs) {
			return fmt.Errorf("KVM_SET_MSRS: wrote %d of %d: %v", n, len(snapshotMSRs), err)
		}
		return nil
	})
}

// RestoreUserState restores what code at CPL3 can change — general registers, segment
// registers and flags — for a vCPU that stopped at a known exit, with no ioctl: they ride in
// kvm_run's sync area and are applied by the next KVM_RUN (KVM_CAP_SYNC_REGS). CPL3 code cannot
// change control registers, descriptor tables, debug registers, XCR0 or MSRs. The x87/SSE
// state is not restored: s must stop at an instruction that reloads it (hlwasm's guest parks
// where it reloads a clean state, and the machine checks every snapshot's RIP is there),
// because KVM_SET_FPU, like every vCPU ioctl, costs 10-25 us on PVM (measured), as much as
// the rest of a reset.
func (c *VCPU) RestoreUserState(s *State) error {
	if !c.syncRegs {
		return c.RestoreState(s)
	}
	return c.Do(func(fd int) error {
		*(*Regs)(unsafe.Pointer(&c.run[runSyncRegsOff])) = s.Regs
		*(*Sregs)(unsafe.Pointer(&c.run[runSyncSregsOff])) = s.Sregs
		*(*uint64)(unsafe.Pointer(&c.run[runDirtyRegsOff])) = syncRegsRegs | syncRegsSregs
		return nil
	})
}

// ErrBadState: a vCPU state (from a snapshot file) that the host itself would not produce.
var ErrBadState = errors.New("vmm: vCPU state is not one the host produces")

// Values a vCPU holds from its reset on, for parts of the state only CPL0 code can change.
const (
	xcr0Init   = 1 // x87 only; CR4.OSXSAVE is off, so XSETBV faults
	dr6Init    = 0xffff0ff0
	dr7Init    = 0x400
	apicBase   = 0xfee00000 // APIC_DEFAULT_PHYS_BASE; hlwasm creates no in-kernel APIC
	apicFlags  = 1<<8 | 1<<11
	segAccess  = 1      // the accessed bit of a code/data segment type, which KVM may clear
	mxcsrValid = 0xffff // MXCSR bits that exist; LDMXCSR at CPL3 faults on the others
	// RFLAGS bits CPL3 code may hold: arithmetic flags and DF. IF, TF, NT, RF, AC and the
	// virtual-8086 bits are never set by the host nor by its guest; IOPL at most what
	// EnterUserMode sets (PVM reports 0).
	userFlags = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x400 | 0x800
)

// CheckUserState checks that s is a state the host itself produces for a guest entered with
// EnterUserMode(cr3, gdt, idt, tss, tssLimit, ...) that ran at CPL3 since: segments, control
// registers and descriptor tables exactly as UserModeSregs sets them, RIP in
// [textStart, textEnd), flags a CPL3 guest can hold, inert debug registers, no pending event,
// XCR0 and the MSRs at their reset values. Errors wrap ErrBadState and name the field.
func CheckUserState(s *State, cr3, gdt, idt, tss uint64, tssLimit uint32, textStart, textEnd uint64) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrBadState}, a...)...)
	}
	got := s.Sregs
	for _, seg := range []*Segment{&got.CS, &got.DS, &got.ES, &got.FS, &got.GS, &got.SS} {
		seg.Type |= segAccess
	}
	// SVM reports an unusable segment as usable if present; an LDT of limit 0 is inert either way.
	got.LDT.Unusable = 1
	want := UserModeSregs(got, cr3, gdt, idt, tss, tssLimit)
	for _, f := range []struct {
		name string
		ok   bool
		got  any
		want any
	}{
		{"CS", got.CS == want.CS, s.Sregs.CS, want.CS}, {"DS", got.DS == want.DS, s.Sregs.DS, want.DS},
		{"ES", got.ES == want.ES, s.Sregs.ES, want.ES}, {"FS", got.FS == want.FS, s.Sregs.FS, want.FS},
		{"GS", got.GS == want.GS, s.Sregs.GS, want.GS}, {"SS", got.SS == want.SS, s.Sregs.SS, want.SS},
		{"TR", got.TR == want.TR, got.TR, want.TR}, {"LDT", got.LDT == want.LDT, got.LDT, want.LDT},
		{"GDT", got.GDT == want.GDT, got.GDT, want.GDT}, {"IDT", got.IDT == want.IDT, got.IDT, want.IDT},
		{"CR0", got.CR0 == want.CR0, got.CR0, want.CR0}, {"CR3", got.CR3 == want.CR3, got.CR3, want.CR3},
		{"CR4", got.CR4 == want.CR4, got.CR4, want.CR4}, {"EFER", got.EFER == want.EFER, got.EFER, want.EFER},
		{"CR8", got.CR8 == 0, got.CR8, 0}, {"interrupt bitmap", got.InterruptBitmap == [4]uint64{}, got.InterruptBitmap, 0},
		{"APIC base", got.APICBase&^apicFlags == apicBase, got.APICBase, uint64(apicBase)},
	} {
		if !f.ok {
			return bad("%s is %#v, the host sets %#v", f.name, f.got, f.want)
		}
	}
	if r := s.Regs.RIP; r < textStart || r >= textEnd {
		return bad("RIP %#x outside the image text [%#x, %#x)", r, textStart, textEnd)
	}
	if f := s.Regs.RFLAGS; f&RFLAGSReserved == 0 || f&^(userFlags|RFLAGSIOPL3|RFLAGSReserved) != 0 {
		return bad("RFLAGS %#x: only arithmetic flags, DF and IOPL may be set", f)
	}
	le := binary.LittleEndian
	if v := le.Uint32(s.FPU[408:]); v&^mxcsrValid != 0 {
		return bad("MXCSR %#x has reserved bits", v)
	}
	// struct kvm_xcrs: nr_xcrs, flags, then {xcr, reserved, value} entries.
	x := s.XCRS
	if n := le.Uint32(x[0:]); n > 1 || le.Uint32(x[4:]) != 0 || n == 1 && (le.Uint32(x[8:]) != 0 ||
		le.Uint32(x[12:]) != 0 || le.Uint64(x[16:]) != xcr0Init) || !zero(x[24:]) {
		return bad("XCRS: only XCR0 = %#x", xcr0Init)
	}
	// struct kvm_debugregs: db[4], dr6, dr7, flags, reserved.
	d := s.Debug
	if !zero(d[0:32]) || le.Uint64(d[32:]) != dr6Init || le.Uint64(d[40:]) != dr7Init || !zero(d[48:]) {
		return bad("debug registers: DR0-3 must be 0, DR6 %#x, DR7 %#x", dr6Init, dr7Init)
	}
	// struct kvm_vcpu_events: nothing injected or pending (exception, interrupt, NMI, SMI,
	// triple fault), no interrupt shadow, not in SMM. Vector numbers without injected or
	// pending set are stale and inert.
	e := s.Events
	for _, off := range []int{0, 3, 8, 11, 12, 13, 14, 15, 16, 17, 18, 19, 24, 25, 26, 27, 28} {
		if e[off] != 0 {
			return bad("pending event (vcpu_events byte %d is %#x)", off, e[off])
		}
	}
	const validFlags = 1 | 2 | 4 | 8 // NMI_PENDING, SIPI_VECTOR, SHADOW, SMM: their fields are 0
	if f := le.Uint32(e[20:]); f&^validFlags != 0 || !zero(e[29:]) {
		return bad("vcpu_events flags %#x or reserved bytes set", f)
	}
	return checkMSRs(s.MSRs, bad)
}

// checkMSRs checks a struct kvm_msrs: its count matches its length (KVM_SET_MSRS reads as many
// entries as the count says), each of snapshotMSRs once at its reset value, nothing else.
func checkMSRs(b []byte, bad func(string, ...any) error) error {
	le := binary.LittleEndian
	if len(b) < 8 {
		return bad("MSR list truncated")
	}
	n := uint64(le.Uint32(b))
	if uint64(len(b)) != 8+n*msrEntrySize || n != uint64(len(snapshotMSRs)) || le.Uint32(b[4:]) != 0 {
		return bad("MSR count %d with %d bytes of entries, want %d entries", n, len(b)-8, len(snapshotMSRs))
	}
	var seen [16]bool
next:
	for e := b[8:]; len(e) > 0; e = e[msrEntrySize:] {
		idx, v := le.Uint32(e), le.Uint64(e[8:])
		for i, m := range snapshotMSRs {
			if m.index != idx {
				continue
			}
			if seen[i] || le.Uint32(e[4:]) != 0 || v != m.reset {
				return bad("MSR %#x: repeated or value %#x, reset value %#x", idx, v, m.reset)
			}
			seen[i] = true
			continue next
		}
		return bad("MSR %#x is not one a snapshot carries", idx)
	}
	return nil
}

func zero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// kvmGetXSAVE is KVM_GET_XSAVE: _IOR(KVMIO, 0xa4, struct kvm_xsave), 4096 bytes.
const kvmGetXSAVE = 0x9000aea4

// VectorRegisters returns XMM0-15 as the guest holds them, from KVM_GET_XSAVE. Not from
// KVM_GET_FPU: that copies the legacy area of the saved state as is, and a component the CPU
// saved in its init state (all zero, XSTATE_BV bit clear: XSAVEOPT/XSAVES skip writing it)
// reads there as whatever was saved before (measured on PVM: a previous call's vectors).
func (c *VCPU) VectorRegisters() ([16][16]byte, error) {
	var regs [16][16]byte
	buf := make([]byte, 4096)
	if err := c.Do(func(fd int) error {
		return wrapIoctl("KVM_GET_XSAVE", fd, kvmGetXSAVE, unsafe.Pointer(&buf[0]))
	}); err != nil {
		return regs, err
	}
	const xmmOff, xstateBV, sseBit = 160, 512, 1 << 1
	if binary.LittleEndian.Uint64(buf[xstateBV:])&sseBit == 0 {
		return regs, nil // SSE state in its init state: all zero
	}
	for i := range regs {
		copy(regs[i][:], buf[xmmOff+16*i:])
	}
	return regs, nil
}
