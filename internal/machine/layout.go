package machine

import (
	"encoding/binary"
	"fmt"

	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/vmm"
)

// image is the parsed header of the guest image.
type image struct {
	bytes                              []byte
	entry, textEnd, rodataEnd, dataEnd uint64
	faultStubs                         uint64
	parkResume                         uint64 // where every park exit resumes: every snapshot's RIP
}

func parseImage(b []byte) (*image, error) {
	if len(b) < abi.ImgHeaderSize || len(b) > abi.ImageMax {
		return nil, fmt.Errorf("guest image: size %d out of range", len(b))
	}
	u32 := func(off int) uint64 { return uint64(binary.LittleEndian.Uint32(b[off:])) }
	if u32(abi.ImgOffMagic) != abi.ImageMagic {
		return nil, fmt.Errorf("guest image: bad magic %#x", u32(abi.ImgOffMagic))
	}
	if v := u32(abi.ImgOffVersion); v != abi.Version {
		return nil, fmt.Errorf("guest image: ABI version %d, host speaks %d", v, abi.Version)
	}
	im := &image{bytes: b, entry: u32(abi.ImgOffEntry), textEnd: u32(abi.ImgOffTextEnd),
		rodataEnd: u32(abi.ImgOffRodataEnd), dataEnd: u32(abi.ImgOffDataEnd), faultStubs: u32(abi.ImgOffFaultEnt),
		parkResume: u32(abi.ImgOffParkResume)}
	end := uint64(abi.ImageBase + abi.ImageMax)
	if !(abi.ImageBase < im.textEnd && im.textEnd <= im.rodataEnd && im.rodataEnd <= im.dataEnd &&
		im.dataEnd <= end && im.entry >= abi.ImageBase && im.entry < im.textEnd &&
		im.faultStubs >= abi.ImageBase && im.faultStubs+32*abi.FaultStubSize <= im.textEnd &&
		im.parkResume >= abi.ImageBase && im.parkResume < im.textEnd &&
		abi.ImageBase+uint64(len(b)) <= im.dataEnd) {
		return nil, fmt.Errorf("guest image: inconsistent section boundaries")
	}
	if off := im.parkResume - 1 - abi.ImageBase; off >= uint64(len(b)) || b[off] != outDX {
		return nil, fmt.Errorf("guest image: the park resume address %#x does not follow an `out %%al, %%dx`", im.parkResume)
	}
	return im, nil
}

// outDX is the encoding of `out %al, %dx`, the instruction every park exit stops at.
const outDX = 0xee

const (
	pageSize = 4096
	hugePage = 2 << 20
	gib      = 1 << 30
	supRW    = vmm.PTEPresent | vmm.PTEWrite | vmm.PTENoExec
	userRW   = vmm.PTEPresent | vmm.PTEWrite | vmm.PTEUser | vmm.PTENoExec
	userRO   = vmm.PTEPresent | vmm.PTEUser | vmm.PTENoExec
	userRX   = vmm.PTEPresent | vmm.PTEUser
	tableRef = vmm.PTEPresent | vmm.PTEWrite | vmm.PTEUser // leaves decide the permissions
)

// pdFor is the page directory mapping GiB g of guest memory.
func pdFor(g uint64) uint64 {
	if g == 0 {
		return abi.PDAddr
	}
	return abi.PDMoreAddr + (g-1)*pageSize
}

// writeLayout lays out a fresh guest: descriptor tables, TSS, page tables, the image and the
// mailbox's boot fields. Guest physical equals guest virtual. The first 4 MiB use 4 KiB pages
// so each region gets its own permissions; page tables, descriptor tables and the fault page
// are supervisor-only, so the engine at CPL3 cannot touch them.
//
// Only [SmallMapEnd, eagerEnd) — the transfer window — is mapped above 4 MiB; the heap's 2 MiB
// regions are mapped when the guest first touches them (Machine.serveLazyMap), so the host
// knows exactly which regions a guest can have written.
//
// The code region [code, code+codeSize) is part of the lazily mapped heap (user read/write,
// no-execute: the compile tier writes there, and snapshots and resets cover it like any heap
// page); its executable view at abi.CodeExecAddr maps the same pages user read+execute, never
// writable, from boot (2 MiB pages in the supervisor page directory at abi.CodePDAddr).
func writeLayout(mem []byte, im *image, eagerEnd, code, codeSize uint64) {
	size := uint64(len(mem))
	vmm.WriteGDT(mem, abi.GDTAddr, abi.TSSAddr, abi.TSSLimit)
	vmm.WriteIDT(mem, abi.IDTAddr, 32, func(i int) uint64 { return im.faultStubs + uint64(i)*abi.FaultStubSize })
	vmm.WriteTSS(mem, abi.TSSAddr, abi.KStackTop, abi.TSSIOMapOffset, abi.TSSLimit)

	vmm.SetPTE(mem, abi.PML4Addr, 0, abi.PDPTAddr, tableRef)
	gibs := (size + gib - 1) / gib
	for g := uint64(0); g < gibs; g++ {
		vmm.SetPTE(mem, abi.PDPTAddr, int(g), pdFor(g), tableRef)
	}
	vmm.SetPTE(mem, abi.PDAddr, 0, abi.PT0Addr, tableRef)
	vmm.SetPTE(mem, abi.PDAddr, 1, abi.PT1Addr, tableRef)
	for a := uint64(abi.SmallMapEnd); a < eagerEnd; a += hugePage {
		mapRegion(mem, a)
	}
	vmm.SetPTE(mem, abi.PDPTAddr, abi.CodeExecAddr/gib, abi.CodePDAddr, tableRef)
	for off := uint64(0); off < codeSize; off += hugePage {
		vmm.SetPTE(mem, abi.CodePDAddr, int(off/hugePage), code+off, userRX|vmm.PTEHuge)
	}

	page := func(a, flags uint64) {
		pt := uint64(abi.PT0Addr)
		if a >= hugePage {
			pt = abi.PT1Addr
		}
		vmm.SetPTE(mem, pt, int(a%hugePage/pageSize), a, flags)
	}
	span := func(from, to, flags uint64) {
		for a := from; a < to; a += pageSize {
			page(a, flags)
		}
	}
	span(abi.GDTAddr, abi.KStackGuard, supRW) // GDT, IDT, TSS + I/O bitmap
	span(abi.KStackBase, abi.KStackTop, supRW)
	span(abi.FaultAddr, abi.FaultAddr+pageSize, supRW)
	span(abi.PML4Addr, abi.CodePDAddr+pageSize, supRW)
	span(abi.MailboxAddr, abi.MailboxAddr+abi.MailboxSize, userRW)
	span(abi.IOAddr, abi.IOEnd, userRW)
	span(abi.ImageBase, im.textEnd, userRX)
	span(im.textEnd, im.rodataEnd, userRO)
	span(im.rodataEnd, im.dataEnd, userRW)
	span(abi.UStackBase, abi.UStackTop, userRW)
	copy(mem[abi.ImageBase:], im.bytes)
}

// mapRegion maps the 2 MiB region at a (user read/write, no-execute).
func mapRegion(mem []byte, a uint64) {
	vmm.SetPTE(mem, pdFor(a/gib), int(a%gib/hugePage), a, userRW|vmm.PTEHuge)
}
