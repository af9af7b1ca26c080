package vmm

// A flat guest: the smallest 64-bit CPL3 machine, used for the raw KVM floors in benchmarks
// and for tests of this package. Guest memory is identity-mapped with 2 MiB user pages, code
// is at FlatCode, the stack tops out at FlatStack; gate i of the IDT jumps to handler(i) if
// handler is non-nil (otherwise the IDT is empty and any exception triple-faults).
const (
	flatPML4, flatPDPT, flatPD = 0x1000, 0x2000, 0x3000
	flatGDT, flatIDT, flatTSS  = 0x4000, 0x5000, 0x6000
	flatTSSLimit               = 0x2fff
	FlatCode                   = 0x10000
	FlatMailbox                = 0x18000
	FlatStack                  = 0x20000
	flatKStack                 = 0x30000
)

// NewFlatVM creates a VM of memSize bytes (a multiple of 2 MiB, at most 1 GiB) running code
// at FlatCode at CPL3, its vCPU in the given mode. RSI holds FlatMailbox at entry.
func (k *KVM) NewFlatVM(memSize uint64, code []byte, handler func(int) uint64, mode ThreadMode) (*VM, error) {
	vm, err := k.NewVM(memSize, 0, mode)
	if err != nil {
		return nil, err
	}
	m := vm.Mem()
	SetPTE(m, flatPML4, 0, flatPDPT, PTEPresent|PTEWrite|PTEUser)
	SetPTE(m, flatPDPT, 0, flatPD, PTEPresent|PTEWrite|PTEUser)
	for i := 0; i < int(memSize>>21) && i < 512; i++ {
		SetPTE(m, flatPD, i, uint64(i)<<21, PTEPresent|PTEWrite|PTEUser|PTEHuge)
	}
	WriteGDT(m, flatGDT, flatTSS, flatTSSLimit)
	WriteTSS(m, flatTSS, flatKStack, 0x68, flatTSSLimit)
	if handler != nil {
		WriteIDT(m, flatIDT, 32, handler)
	}
	copy(m[FlatCode:], code)
	if err := vm.VCPU().enterUserMode(flatPML4, flatGDT, flatIDT, flatTSS, flatTSSLimit,
		Regs{RIP: FlatCode, RSP: FlatStack, RSI: FlatMailbox}); err != nil {
		vm.Close()
		return nil, err
	}
	return vm, nil
}
