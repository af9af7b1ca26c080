package vmm

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// x86-64 long-mode building blocks: the host writes these structures into guest memory and
// enters the guest at CPL3 directly, so no guest code ever runs at CPL0 to set up the machine
// (on PVM, CPL0 guest code is emulated instruction by instruction).

// Page-table entry bits.
const (
	PTEPresent  = 1 << 0
	PTEWrite    = 1 << 1
	PTEUser     = 1 << 2
	PTEHuge     = 1 << 7
	PTENoExec   = 1 << 63
	pteAddrMask = 0x000f_ffff_ffff_f000
)

// Segment selectors of the GDT written by WriteGDT.
const (
	SelKernelCode = 0x08
	SelKernelData = 0x10
	SelUserCode   = 0x18 | 3
	SelUserData   = 0x20 | 3
	SelTSS        = 0x28
	gdtEntries    = 7 // null, kcode, kdata, ucode, udata, TSS (two slots)
)

// Control-register and EFER bits used for the guest.
const (
	CR0PE = 1 << 0
	CR0MP = 1 << 1
	CR0ET = 1 << 4
	CR0NE = 1 << 5
	CR0WP = 1 << 16
	CR0PG = 1 << 31

	CR4PAE        = 1 << 5
	CR4OSFXSR     = 1 << 9
	CR4OSXMMEXCPT = 1 << 10

	EFERLME = 1 << 8
	EFERLMA = 1 << 10
	EFERNXE = 1 << 11

	RFLAGSReserved = 1 << 1
	RFLAGSIOPL3    = 3 << 12
)

// WriteGDT writes a 64-bit GDT at gdt: kernel code/data (DPL 0), user code/data (DPL 3) and a
// 64-bit available TSS descriptor for tss with the given limit.
func WriteGDT(mem []byte, gdt, tss uint64, tssLimit uint32) {
	put := func(i int, v uint64) { binary.LittleEndian.PutUint64(mem[gdt+uint64(i)*8:], v) }
	put(0, 0)
	put(1, 0x00af9a000000ffff) // kernel code: present, DPL0, exec/read, L
	put(2, 0x00cf92000000ffff) // kernel data: present, DPL0, read/write
	put(3, 0x00affa000000ffff) // user code: present, DPL3, exec/read, L
	put(4, 0x00cff2000000ffff) // user data: present, DPL3, read/write
	lo := uint64(tssLimit&0xffff) | (tss&0xffffff)<<16 | uint64(0x89)<<40 |
		uint64(tssLimit>>16&0xf)<<48 | (tss>>24&0xff)<<56
	put(5, lo)
	put(6, tss>>32)
}

// WriteIDT writes n 64-bit interrupt gates (DPL 0, kernel code segment) at idt; gate i jumps
// to handler(i).
func WriteIDT(mem []byte, idt uint64, n int, handler func(i int) uint64) {
	for i := 0; i < n; i++ {
		h := handler(i)
		e := mem[idt+uint64(i)*16:]
		binary.LittleEndian.PutUint16(e[0:], uint16(h))
		binary.LittleEndian.PutUint16(e[2:], SelKernelCode)
		e[4] = 0    // IST
		e[5] = 0x8e // present, DPL0, 64-bit interrupt gate
		binary.LittleEndian.PutUint16(e[6:], uint16(h>>16))
		binary.LittleEndian.PutUint32(e[8:], uint32(h>>32))
		binary.LittleEndian.PutUint32(e[12:], 0)
	}
}

// WriteTSS writes a 64-bit TSS at tss with RSP0 = rsp0 and an all-zero I/O permission bitmap
// right after it (every port allowed at CPL3; PVM needs the bitmap even with IOPL 3).
func WriteTSS(mem []byte, tss, rsp0 uint64, ioMapOffset uint16, limit uint32) {
	clear(mem[tss : tss+uint64(limit)+1])
	binary.LittleEndian.PutUint64(mem[tss+4:], rsp0)
	binary.LittleEndian.PutUint16(mem[tss+0x66:], ioMapOffset)
	mem[tss+uint64(limit)] = 0xff // the byte after the bitmap must have all bits set
}

// SetPTE writes a page-table entry.
func SetPTE(mem []byte, table uint64, index int, addr uint64, flags uint64) {
	binary.LittleEndian.PutUint64(mem[table+uint64(index)*8:], addr&pteAddrMask|flags)
}

// UserModeSregs returns special registers for 64-bit long mode at CPL3 with paging rooted at
// cr3, the GDT/IDT/TSS written by the helpers above, and SSE enabled.
func UserModeSregs(base Sregs, cr3, gdt, idt, tss uint64, tssLimit uint32) Sregs {
	s := base
	code := Segment{Limit: 0xffffffff, Selector: SelUserCode, Type: 11, Present: 1, DPL: 3, S: 1, L: 1, G: 1}
	data := Segment{Limit: 0xffffffff, Selector: SelUserData, Type: 3, Present: 1, DPL: 3, DB: 1, S: 1, G: 1}
	s.CS = code
	s.DS, s.ES, s.FS, s.GS, s.SS = data, data, data, data, data
	s.TR = Segment{Base: tss, Limit: tssLimit, Selector: SelTSS, Type: 11, Present: 1}
	s.LDT = Segment{Type: 2, Present: 1, Unusable: 1}
	s.GDT = DTable{Base: gdt, Limit: gdtEntries*8 - 1}
	s.IDT = DTable{Base: idt, Limit: 32*16 - 1}
	s.CR0 = CR0PE | CR0MP | CR0ET | CR0NE | CR0WP | CR0PG
	s.CR3 = cr3
	s.CR4 = CR4PAE | CR4OSFXSR | CR4OSXMMEXCPT
	s.EFER = EFERLME | EFERLMA | EFERNXE
	return s
}

// EnterUserMode sets the vCPU's special and general registers so that the next run starts at
// rip with stack rsp, at CPL3 with IOPL 3. The three ioctls run in one Do (for a dedicated
// vCPU thread, one trip: each costs a thread wake-up).
func (c *VCPU) EnterUserMode(cr3, gdt, idt, tss uint64, tssLimit uint32, rip, rsp uint64) error {
	return c.enterUserMode(cr3, gdt, idt, tss, tssLimit, Regs{RIP: rip, RSP: rsp})
}

// enterUserMode is EnterUserMode with initial general registers r (RFLAGS is set here).
func (c *VCPU) enterUserMode(cr3, gdt, idt, tss uint64, tssLimit uint32, r Regs) error {
	return c.Do(func(fd int) error {
		var s Sregs
		if err := wrapIoctl("KVM_GET_SREGS", fd, kvmGetSregs, unsafe.Pointer(&s)); err != nil {
			return err
		}
		s = UserModeSregs(s, cr3, gdt, idt, tss, tssLimit)
		if err := wrapIoctl("KVM_SET_SREGS", fd, kvmSetSregs, unsafe.Pointer(&s)); err != nil {
			return fmt.Errorf("entering user mode: %w", err)
		}
		r.RFLAGS = RFLAGSReserved | RFLAGSIOPL3
		return wrapIoctl("KVM_SET_REGS", fd, kvmSetRegs, unsafe.Pointer(&r))
	})
}
