package host

import (
	"fmt"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/machine"
	"github.com/hlwasm/hlwasm/internal/wasmbin"
)

// How the guest's memory follows the module (docs/ARCHITECTURE.md, "Sizes"). Guest memory is
// one MAP_NORESERVE mapping whose 2 MiB heap regions are mapped on first touch, so these sizes
// cost address space, not memory, until the engine uses them.
const (
	// heapFloor is the engine heap every module gets: the store's value and frame stacks
	// (about 4.3 MiB), host modules, small modules' data, and head room for nested calls.
	heapFloor = 64 << 20
	// heapPerCodeByte, heapPerDataByte and heapPerOtherByte are the engine heap a module
	// may need per byte of its code section, data section and other sections: what parsing,
	// validation and compilation to slot code allocate. Measured (TestEngineHeapPerModuleByte,
	// the guest's own high-water mark after loading): Go programs of 2.6–9 MB take 12.5–13.3
	// bytes per code byte, their data about 1 per byte (the engine keeps a copy of each
	// segment); the generated 110 MB module of TestHugeModule about the same. Elements
	// (4 bytes per item) and tables (8 per slot) are bounded by the other sections' 16.
	heapPerCodeByte  = 16
	heapPerDataByte  = 2
	heapPerOtherByte = 16
	// codePerCodeByte is the compile tier's machine code per byte of code section, with head
	// room: 3.5–4.2 measured the same way. The code region is at least codeFloor and at
	// most abi.CodeMax (1 GiB).
	codePerCodeByte = 5
	codeFloor       = 64 << 20
	// maxTableElems is the engine's cap on a table (ENG_MAX_TABLE_ELEMS): 8 bytes each.
	maxTableElems = 10_000_000
)

// sizes is the guest layout a module's sandboxes get.
type sizes struct {
	xfer, code, heap uint64
}

// sizesFor sizes the transfer window (the largest part plus the host function table), the
// code region and the engine heap (Config.EngineHeapBytes, or from the parts' sections) for a
// module made of parts.
func (r *Runtime) sizesFor(parts [][]byte, infos []*wasmbin.Module, funcs []api.HostFunction) (sizes, error) {
	var s sizes
	var largest, code, heap uint64
	var memories []wasmbin.Limits
	for i, p := range parts {
		largest = max(largest, uint64(len(p)))
		in := infos[i]
		other := uint64(len(p)) - min(uint64(len(p)), in.CodeBytes+in.DataBytes)
		code += codePerCodeByte * in.CodeBytes
		heap += heapPerCodeByte*in.CodeBytes + heapPerDataByte*in.DataBytes + heapPerOtherByte*other
		for _, t := range in.Tables {
			heap += 8 * uint64(min(t.Min, maxTableElems)) // allocated at the declared minimum
		}
		for _, mem := range in.Memories {
			memories = append(memories, mem.Limits)
		}
	}
	// Each linear memory reserves its maximum (its declared one, at most the runtime's cap) from
	// the top of the engine heap; the layout holds one at the cap (LayoutBytes), so a module with
	// several memories (multi-memory) gets the others' reservations added to its heap.
	for i, l := range memories {
		if i == 0 {
			continue
		}
		pages := uint64(r.maxPages())
		if l.HasMax && l.Max < pages {
			pages = l.Max
		}
		heap += (pages + 1) * 65536 // + alignment
	}
	s.xfer = machine.XferFor(largest, funcs)
	s.code = roundUp(min(max(code, codeFloor), abi.CodeMax), 2<<20)
	if r.cfg.EngineHeapBytes > 0 {
		s.heap = roundUp(r.cfg.EngineHeapBytes, 2<<20)
	} else {
		s.heap = roundUp(heapFloor+heap, 2<<20)
	}
	if total := machine.LayoutBytes(s.xfer, s.code, s.heap, r.maxPages()); total > machine.MaxGuestMemory {
		return s, fmt.Errorf("%w: the guest layout for this module needs %s (transfer window %s, code region %s, engine heap %s, linear memory %s) but a micro-VM has at most %s: lower Config.EngineHeapBytes (--engine-heap) or Config.MaxMemoryPages (--max-memory)",
			ErrLimit, sizeString(total), sizeString(s.xfer), sizeString(s.code), sizeString(s.heap),
			sizeString(uint64(r.maxPages())*65536), sizeString(machine.MaxGuestMemory))
	}
	return s, nil
}

func (r *Runtime) maxPages() uint32 {
	if r.cfg.MaxMemoryPages == 0 {
		return 16384
	}
	return r.cfg.MaxMemoryPages
}

func roundUp(v, to uint64) uint64 { return (v + to - 1) / to * to }

// sizeString writes n bytes for an error message: "300 MiB", "1.5 GiB", "12345 bytes".
func sizeString(n uint64) string {
	for _, u := range []struct {
		name  string
		bytes uint64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.bytes {
			if n%u.bytes == 0 {
				return fmt.Sprintf("%d %s", n/u.bytes, u.name)
			}
			return fmt.Sprintf("%.1f %s (%d bytes)", float64(n)/float64(u.bytes), u.name, n)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
