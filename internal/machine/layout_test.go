package machine

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/vmm"
	"github.com/hlwasm/hlwasm/wasmguest"
)

// leaf is one present leaf mapping of the guest page tables: virtual address, physical
// address, size and the permissions along the walk (writable/user: every level allows it;
// executable: no level sets NX).
type leaf struct {
	va, pa, size          uint64
	write, user, execable bool
}

// walk collects every present leaf mapping reachable from the PML4 in mem.
func walk(t *testing.T, mem []byte) []leaf {
	t.Helper()
	le := binary.LittleEndian
	const addrMask = 0x000ffffffffff000
	var out []leaf
	var rec func(table uint64, level int, va uint64, w, u, x bool)
	rec = func(table uint64, level int, va uint64, w, u, x bool) {
		shift := uint(12 + 9*level)
		for i := uint64(0); i < 512; i++ {
			e := le.Uint64(mem[table+8*i:])
			if e&vmm.PTEPresent == 0 {
				continue
			}
			a := va | i<<shift
			ew, eu, ex := w && e&vmm.PTEWrite != 0, u && e&vmm.PTEUser != 0, x && e&vmm.PTENoExec == 0
			if level == 0 || (level <= 2 && e&vmm.PTEHuge != 0) {
				out = append(out, leaf{a, e & addrMask &^ (1<<shift - 1), 1 << shift, ew, eu, ex})
				continue
			}
			if next := e & addrMask; next+pageSize <= uint64(len(mem)) {
				rec(next, level-1, a, ew, eu, ex)
			} else {
				t.Fatalf("table entry %#x at level %d points outside guest memory", e, level)
			}
		}
	}
	rec(abi.PML4Addr, 3, 0, true, true, true)
	return out
}

// The compile tier's code region is mapped twice from boot: writable and no-execute in the
// heap (mapped on first touch like any heap region), read+execute at abi.CodeExecAddr. No
// mapping anywhere is both writable and executable, and the executable view is read-only to
// CPL3.
func TestLayoutCodeRegionWX(t *testing.T) {
	im, err := parseImage(wasmguest.Image)
	if err != nil {
		t.Fatal(err)
	}
	const xfer = 16 << 20
	heap := uint64(abi.XferAddr + xfer)
	mem := make([]byte, heap+defaultCode+4*hugePage)
	writeLayout(mem, im, heap, heap, defaultCode)
	// the guest touches the code region's first 2 MiB: the host maps it as heap
	mapRegion(mem, heap)

	var execView, writeView bool
	for _, l := range walk(t, mem) {
		if l.write && l.execable {
			t.Errorf("%#x (%d bytes) is writable and executable", l.va, l.size)
		}
		if l.va >= abi.CodeExecAddr && l.va < abi.CodeExecAddr+abi.CodeMax {
			execView = true
			if l.write || !l.user || !l.execable {
				t.Errorf("executable view %#x: write %v user %v exec %v, want read+execute for CPL3", l.va, l.write, l.user, l.execable)
			}
			if want := heap + (l.va - abi.CodeExecAddr); l.pa != want {
				t.Errorf("executable view %#x maps %#x, want %#x", l.va, l.pa, want)
			}
		}
		if l.va == heap {
			writeView = true
			if !l.write || !l.user || l.execable {
				t.Errorf("writable view %#x: write %v user %v exec %v, want read+write, no-execute", l.va, l.write, l.user, l.execable)
			}
		}
	}
	if !execView || !writeView {
		t.Fatalf("executable view mapped: %v, writable view mapped: %v", execView, writeView)
	}
}

// The image header's park resume address must follow the park's `out %al, %dx`: the host's
// acceptance of a snapshot's RIP (checkParked) rests on it.
func TestImageParkResume(t *testing.T) {
	im, err := parseImage(wasmguest.Image)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(wasmguest.Image)
	binary.LittleEndian.PutUint32(bad[abi.ImgOffParkResume:], uint32(im.parkResume+1))
	if _, err := parseImage(bad); err == nil {
		t.Fatal("an image whose park resume address follows no `out` was accepted")
	}
	binary.LittleEndian.PutUint32(bad[abi.ImgOffParkResume:], uint32(im.textEnd))
	if _, err := parseImage(bad); err == nil {
		t.Fatal("an image whose park resume address is outside its text was accepted")
	}
}
