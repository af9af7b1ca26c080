package machine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/vmm"
)

// benchSnapshot boots a machine with the bench module and snapshots it.
func benchSnapshot(t testing.TB, k *vmm.KVM) (*Machine, *Snapshot, uint32) {
	t.Helper()
	ctx := context.Background()
	m, err := New(ctx, Config{KVM: k})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	inst, err := loadBench(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.Snapshot(ctx, ResetCompare)
	if err != nil {
		t.Fatal(err)
	}
	return m, s, inst
}

// snapBytes is a snapshot file of s whose payload is the instance number (as the host's).
func snapBytes(t testing.TB, m *Machine, s *Snapshot, inst uint32, key []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := m.writeSnapshot(&b, s, binary.LittleEndian.AppendUint32(nil, inst), key); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeTemp(t testing.TB, dir string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, "x.snap")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// craft returns a deep copy of s changed by f.
func craft(s *Snapshot, f func(c *Snapshot)) *Snapshot {
	cpu := *s.cpu
	cpu.MSRs = slices.Clone(s.cpu.MSRs)
	c := &Snapshot{mode: s.mode, cpu: &cpu, pages: slices.Clone(s.pages), data: slices.Clone(s.data),
		mapped: slices.Clone(s.mapped)}
	f(c)
	return c
}

// addPage puts guest page p (filled with 0xcc) into the snapshot's page list.
func addPage(c *Snapshot, addr uint64) {
	p := uint32(addr / pageSize)
	i, _ := slices.BinarySearch(c.pages, p)
	c.pages = slices.Insert(c.pages, i, p)
	c.data = slices.Insert(c.data, i*pageSize, bytes.Repeat([]byte{0xcc}, pageSize)...)
}

// A forged file (checksum recomputed) may set only guest-writable pages and a CPL3 vCPU state
// the host would produce; everything else is refused naming the field.
func TestSnapshotFileRefusesCrafted(t *testing.T) {
	k := requireKVM(t)
	m, s, inst := benchSnapshot(t, k)
	dir := t.TempDir()
	msr := func(c *Snapshot, i int) []byte { return c.cpu.MSRs[8+16*i:] }
	for _, tc := range []struct {
		name, field string
		f           func(c *Snapshot)
	}{
		{"PML4 page", "page list: page 0x9000 (PML4)", func(c *Snapshot) { addPage(c, abi.PML4Addr) }},
		{"page directory", "(page tables)", func(c *Snapshot) { addPage(c, abi.PDAddr) }},
		{"GDT page", "page list: page 0x1000 (GDT)", func(c *Snapshot) { addPage(c, abi.GDTAddr) }},
		{"IDT page", "(IDT)", func(c *Snapshot) { addPage(c, abi.IDTAddr) }},
		{"TSS page", "(TSS)", func(c *Snapshot) { addPage(c, abi.TSSAddr+pageSize) }},
		{"image text", "(image text)", func(c *Snapshot) { addPage(c, m.img.entry) }},
		{"image rodata", "(image rodata)", func(c *Snapshot) { addPage(c, m.img.textEnd) }},
		{"unmapped heap", "not guest-writable", func(c *Snapshot) { addPage(c, slices.Max(c.mapped)+hugePage) }},
		{"mapped region outside heap", "mapped regions", func(c *Snapshot) { c.mapped = append(c.mapped, 0) }},
		{"mapped region wrapping around", "mapped regions", func(c *Snapshot) { c.mapped = append(c.mapped, math.MaxUint64-hugePage+1) }},
		{"mapped region twice", "mapped regions", func(c *Snapshot) { c.mapped = append(c.mapped, c.mapped[0]) }},
		{"CS at CPL0", "CS is", func(c *Snapshot) {
			c.cpu.Sregs.CS.DPL, c.cpu.Sregs.CS.Selector = 0, vmm.SelKernelCode
		}},
		{"SS at CPL0", "SS is", func(c *Snapshot) { c.cpu.Sregs.SS.DPL = 0 }},
		{"32-bit code", "CS is", func(c *Snapshot) { c.cpu.Sregs.CS.L = 0 }},
		{"CR3", "CR3 is", func(c *Snapshot) { c.cpu.Sregs.CR3 = abi.XferAddr }},
		{"CR0 without WP", "CR0 is", func(c *Snapshot) { c.cpu.Sregs.CR0 &^= vmm.CR0WP }},
		{"EFER.SCE", "EFER is", func(c *Snapshot) { c.cpu.Sregs.EFER |= 1 }},
		{"GDT base", "GDT is", func(c *Snapshot) { c.cpu.Sregs.GDT.Base = abi.MailboxAddr }},
		{"IDT limit", "IDT is", func(c *Snapshot) { c.cpu.Sregs.IDT.Limit = 0xfff }},
		{"TR", "TR is", func(c *Snapshot) { c.cpu.Sregs.TR.Base = abi.MailboxAddr }},
		{"pending interrupt", "interrupt bitmap", func(c *Snapshot) { c.cpu.Sregs.InterruptBitmap[1] = 1 }},
		{"RIP outside text", "RIP 0x", func(c *Snapshot) { c.cpu.Regs.RIP = m.img.rodataEnd }},
		{"RIP in the mailbox", "RIP 0x", func(c *Snapshot) { c.cpu.Regs.RIP = abi.MailboxAddr }},
		{"RIP in text, not the park exit", "is not the guest's park exit", func(c *Snapshot) { c.cpu.Regs.RIP = m.img.entry }},
		{"TF", "RFLAGS", func(c *Snapshot) { c.cpu.Regs.RFLAGS |= 0x100 }},
		{"IF", "RFLAGS", func(c *Snapshot) { c.cpu.Regs.RFLAGS |= 0x200 }},
		{"MXCSR reserved bits", "MXCSR", func(c *Snapshot) { c.cpu.FPU[410] = 1 }},
		{"XCR0 with AVX", "XCRS", func(c *Snapshot) { c.cpu.XCRS[16] = 7 }},
		{"DR7 enabled", "debug registers", func(c *Snapshot) { c.cpu.Debug[40] |= 1 }},
		{"DR0 set", "debug registers", func(c *Snapshot) { c.cpu.Debug[0] = 1 }},
		{"pending exception", "pending event", func(c *Snapshot) { c.cpu.Events[3] = 1 }},
		{"injected exception", "pending event", func(c *Snapshot) { c.cpu.Events[0] = 1 }},
		{"pending NMI", "pending event", func(c *Snapshot) { c.cpu.Events[13] = 1 }},
		{"MSR count larger than the blob", "MSR count 1000", func(c *Snapshot) {
			binary.LittleEndian.PutUint32(c.cpu.MSRs, 1000)
		}},
		{"MSR count smaller than the blob", "MSR count 2", func(c *Snapshot) {
			binary.LittleEndian.PutUint32(c.cpu.MSRs, 2)
		}},
		{"unknown MSR index", "MSR 0x10 is not", func(c *Snapshot) { binary.LittleEndian.PutUint32(msr(c, 0), 0x10) }},
		{"MSR twice", "repeated", func(c *Snapshot) { copy(msr(c, 1)[:16], msr(c, 0)[:16]) }},
		{"SYSENTER_CS set", "MSR 0x174", func(c *Snapshot) { binary.LittleEndian.PutUint64(msr(c, 0)[8:], 8) }},
	} {
		b := snapBytes(t, m, craft(s, tc.f), inst, nil)
		sf, err := OpenSnapshotFile(writeTemp(t, dir, b), nil, nil)
		if err == nil {
			sf.Close()
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		t.Logf("%s: %v", tc.name, err)
		if !errors.Is(err, ErrSnapshotCorrupt) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: %v; want ErrSnapshotCorrupt naming %q", tc.name, err, tc.field)
		}
	}
	// The machine configuration is bounded as Config.fill bounds it.
	good := snapBytes(t, m, s, inst, nil)
	const cfgOff = len(snapMagic) + 12 + sha256.Size
	for _, tc := range []struct {
		name string
		off  int
		v    uint64
		size int
	}{
		{"memory not 2 MiB aligned", cfgOff, 1<<30 + 4096, 8}, {"memory beyond the maximum", cfgOff, 1 << 50, 8},
		{"memory smaller than the window", cfgOff, abi.XferAddr, 8}, {"transfer window 0", cfgOff + 8, 0, 8},
		{"code region 0", cfgOff + 16, 0, 8}, {"code region beyond the maximum", cfgOff + 16, 2 << 30, 8},
		{"code region not 2 MiB aligned", cfgOff + 16, 64<<20 + 4096, 8}, {"heap 0", cfgOff + 24, 0, 8},
		{"heap not 2 MiB aligned", cfgOff + 24, 64<<20 + 1, 8},
		{"max pages 0", cfgOff + 32, 0, 4}, {"max pages 65537", cfgOff + 32, 65537, 4}, {"call depth 0", cfgOff + 36, 0, 4},
	} {
		b := bytes.Clone(good)
		if tc.size == 8 {
			binary.LittleEndian.PutUint64(b[tc.off:], tc.v)
		} else {
			binary.LittleEndian.PutUint32(b[tc.off:], uint32(tc.v))
		}
		resum(b)
		sf, err := OpenSnapshotFile(writeTemp(t, dir, b), nil, nil)
		if err == nil {
			sf.Close()
			t.Errorf("%s: accepted", tc.name)
		} else if !errors.Is(err, ErrSnapshotCorrupt) || !strings.Contains(err.Error(), "machine configuration") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// resum recomputes an unkeyed file's checksum.
func resum(b []byte) {
	if len(b) >= sha256.Size {
		sum := sha256.Sum256(b[:len(b)-sha256.Size])
		copy(b[len(b)-sha256.Size:], sum[:])
	}
}

type countingReader struct {
	r     io.ReaderAt
	reads int
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	return c.r.ReadAt(p, off)
}

// The metadata is read a block at a time, not one read per field or page.
func TestSnapshotFileReadsInBlocks(t *testing.T) {
	k := requireKVM(t)
	m, s, inst := benchSnapshot(t, k)
	b := snapBytes(t, m, s, inst, nil)
	cr := &countingReader{r: bytes.NewReader(b)}
	sf, err := parseSnapshotMeta(cr, int64(len(b)-sha256.Size), m.cfg.Image, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sf.snap.pages); cr.reads > 5 {
		t.Fatalf("%d reads for %d pages and %d mapped regions; want at most 5", cr.reads, n, len(sf.snap.mapped))
	}
}

func TestSnapshotFileKeyed(t *testing.T) {
	k := requireKVM(t)
	ctx := context.Background()
	m, s, inst := benchSnapshot(t, k)
	key, other := []byte("the key"), []byte("another key")
	keyed := snapBytes(t, m, s, inst, key)
	dir := t.TempDir()
	open := func(b, key []byte) (*SnapshotFile, error) { return OpenSnapshotFile(writeTemp(t, dir, b), nil, key) }

	sf, err := open(keyed, key)
	if err != nil {
		t.Fatal(err)
	}
	m2, _, err := NewFromSnapshot(ctx, Config{KVM: k}, sf)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := m2.Call(ctx, inst, benchAdd, []uint64{40, 2}, 1); err != nil || r[0] != 42 {
		t.Fatalf("call from a keyed file: %v %v", r, err)
	}
	m2.Close()
	sf.Close()

	// Without a key a keyed file is checksummed as any other.
	if sf, err := open(keyed, nil); err != nil {
		t.Fatalf("keyed file without a key: %v", err)
	} else {
		sf.Close()
	}
	tampered := bytes.Clone(keyed)
	tampered[len(tampered)-3*sha256.Size] ^= 1 // page data
	resum(tampered)
	for _, tc := range []struct {
		name    string
		b, key  []byte
		message string
	}{
		{"unkeyed file", snapBytes(t, m, s, inst, nil), key, "no HMAC"},
		{"another key", keyed, other, "another key"},
		{"tampered, checksum recomputed", tampered, key, "another key, or modified"},
		{"not a snapshot", bytes.Repeat([]byte{1}, 4096), key, "not a snapshot"},
	} {
		sf, err := open(tc.b, tc.key)
		if err == nil {
			sf.Close()
			t.Errorf("%s: accepted", tc.name)
		} else if !errors.Is(err, ErrSnapshotUnauthenticated) || !strings.Contains(err.Error(), tc.message) {
			t.Errorf("%s: %v; want ErrSnapshotUnauthenticated saying %q", tc.name, err, tc.message)
		}
	}
}

// Machines keep the file's page data alive: closing the file while they run only drops the
// owner's reference.
func TestSnapshotFileOutlivedByMachines(t *testing.T) {
	k := requireKVM(t)
	ctx := context.Background()
	m, s, inst := benchSnapshot(t, k)
	sf, err := OpenSnapshotFile(writeTemp(t, t.TempDir(), snapBytes(t, m, s, inst, nil)), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m2, snap, err := NewFromSnapshot(ctx, Config{KVM: k}, sf)
	if err != nil {
		t.Fatal(err)
	}
	if err := sf.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := NewFromSnapshot(ctx, Config{KVM: k}, sf); !errors.Is(err, ErrSnapshotClosed) {
		t.Fatalf("NewFromSnapshot after Close: %v", err)
	}
	for i := 0; i < 2; i++ {
		if _, err := m2.Call(ctx, inst, benchDirty, []uint64{3}, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := m2.Reset(ctx, snap); err != nil {
			t.Fatal(err)
		}
	}
	m2.Close()
	if sf.data != nil || sf.file.Close() == nil {
		t.Fatal("the last machine's Close did not release the file")
	}
}

// The host does not write a file it would refuse to load.
func TestWriteSnapshotChecksState(t *testing.T) {
	m, s, _ := benchSnapshot(t, requireKVM(t))
	bad := craft(s, func(c *Snapshot) { c.cpu.Regs.RFLAGS |= 0x100 })
	if err := m.WriteSnapshot(io.Discard, bad, nil, nil); !errors.Is(err, vmm.ErrBadState) {
		t.Fatalf("WriteSnapshot with TF set: %v", err)
	}
}
