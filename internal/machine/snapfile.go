package machine

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/vmm"
)

// Snapshot files let a machine start from a saved snapshot, skipping boot, parse, validation
// and instantiation. Layout (little endian):
//
//	magic "HLWSNAP\x00" | u32 format version | u32 flags | u32 ABI version
//	[32]byte sha256 of the guest image
//	u64 memory bytes | u64 transfer bytes | u64 code region bytes | u64 heap bytes
//	u32 max pages | u32 max call depth | u32 CPU features its guest saw (abi.CPUFeat*)
//	u32 len + payload (opaque to this package: the host stores the module there)
//	u32 len + vCPU state | u32 count + u64 mapped heap regions (sorted)
//	u32 count + u32 page numbers (sorted)
//	zero padding to a 4 KiB boundary | page data, 4 KiB per page (mapped MAP_PRIVATE by loaders)
//	[32]byte HMAC-SHA256 of everything before (flag snapKeyed only)
//	[32]byte sha256 of everything before
//
// The checksum catches corruption; the HMAC, with a key, forgery. Every field is checked on
// load against what this build's host would itself produce (see docs/ARCHITECTURE.md, "Threat
// model for snapshot files"): a corrupt, truncated, forged-out-of-bounds or foreign file is
// refused.
const (
	snapMagic   = "HLWSNAP\x00"
	snapVersion = 4 // 3: the code region and heap sizes (they follow the module); 4: CPU features
	snapKeyed   = 1 // flag: an HMAC-SHA256 precedes the checksum
	// snapHeader is the fixed part up to and including the payload length.
	snapHeader = len(snapMagic) + 4 + 4 + 4 + sha256.Size + 8 + 8 + 8 + 8 + 4 + 4 + 4 + 4
)

// Sentinel errors for snapshot files.
var (
	ErrSnapshotCorrupt = errors.New("snapshot file is corrupt or truncated")
	ErrSnapshotForeign = errors.New("snapshot file was made by a different hlwasm build")
	// ErrSnapshotUnauthenticated: a key is configured and the file's MAC does not verify
	// with it (an unkeyed file, another key, or a modified file).
	ErrSnapshotUnauthenticated = errors.New("snapshot file is not authenticated")
	// ErrSnapshotClosed: the snapshot file was closed by its owner.
	ErrSnapshotClosed = errors.New("snapshot file is closed")
)

// WriteSnapshot writes snapshot s of this machine, with payload, to w. With a key (non-empty)
// the file carries an HMAC-SHA256 that OpenSnapshotFile with the same key requires. A vCPU
// state that loading would refuse (a KVM whose reset values differ) fails here, not there.
func (m *Machine) WriteSnapshot(w io.Writer, s *Snapshot, payload, key []byte) error {
	if err := checkState(s.cpu, m.img); err != nil {
		return fmt.Errorf("snapshot not saved: %w", err)
	}
	return m.writeSnapshot(w, s, payload, key)
}

// writeSnapshot is WriteSnapshot without the check (tests write forged files with it).
func (m *Machine) writeSnapshot(w io.Writer, s *Snapshot, payload, key []byte) error {
	return m.encodeSnapshot(w, s, payload, key, true)
}

// encodeSnapshot writes the file to w as it goes (the page data straight from s, no copy of
// it). Without checksum the trailer is zeros: only for a file this process reads back itself
// (MemorySnapshot), which skips verification.
func (m *Machine) encodeSnapshot(w io.Writer, s *Snapshot, payload, key []byte, checksum bool) error {
	var b bytes.Buffer
	b.WriteString(snapMagic)
	le := binary.LittleEndian
	var flags uint32
	if len(key) > 0 {
		flags |= snapKeyed
	}
	b.Write(le.AppendUint32(nil, snapVersion))
	b.Write(le.AppendUint32(nil, flags))
	b.Write(le.AppendUint32(nil, abi.Version))
	img := sha256.Sum256(m.cfg.Image)
	b.Write(img[:])
	b.Write(le.AppendUint64(nil, m.cfg.MemoryBytes))
	b.Write(le.AppendUint64(nil, m.cfg.XferBytes))
	b.Write(le.AppendUint64(nil, m.cfg.CodeBytes))
	b.Write(le.AppendUint64(nil, m.cfg.HeapBytes))
	b.Write(le.AppendUint32(nil, m.cfg.MaxPages))
	b.Write(le.AppendUint32(nil, m.cfg.MaxCallDepth))
	b.Write(le.AppendUint32(nil, m.cpuFeatures))
	b.Write(le.AppendUint32(nil, uint32(len(payload))))
	b.Write(payload)
	cpu := encodeState(s.cpu)
	b.Write(le.AppendUint32(nil, uint32(len(cpu))))
	b.Write(cpu)
	b.Write(le.AppendUint32(nil, uint32(len(s.mapped))))
	for _, r := range slices.Sorted(slices.Values(s.mapped)) { // mapping order is not state
		b.Write(le.AppendUint64(nil, r))
	}
	b.Write(le.AppendUint32(nil, uint32(len(s.pages))))
	for _, p := range s.pages {
		b.Write(le.AppendUint32(nil, p))
	}
	b.Write(make([]byte, (pageSize-b.Len()%pageSize)%pageSize))

	var mac, sum hash.Hash
	out := w
	if checksum {
		sum = sha256.New()
		out = io.MultiWriter(out, sum)
		if len(key) > 0 {
			mac = hmac.New(sha256.New, key)
			out = io.MultiWriter(out, mac)
		}
	} else if len(key) > 0 {
		return errors.New("snapshot: a keyed file needs its checksum")
	}
	if _, err := out.Write(b.Bytes()); err != nil {
		return err
	}
	if s.data == nil { // a snapshot of the guest as it is now (SnapshotToMemory, m.mu held)
		for _, p := range s.pages {
			if _, err := out.Write(m.page(p)); err != nil {
				return err
			}
		}
	} else {
		_, err := out.Write(s.data[:len(s.pages)*pageSize])
		runtime.KeepAlive(s) // s.data may be s's own mapping, unmapped when s is dropped
		if err != nil {
			return err
		}
	}
	if mac != nil { // the MAC covers everything before it; the checksum covers the MAC too
		if _, err := io.MultiWriter(w, sum).Write(mac.Sum(nil)); err != nil {
			return err
		}
	}
	trailer := make([]byte, sha256.Size)
	if sum != nil {
		trailer = sum.Sum(nil)
	}
	_, err := w.Write(trailer)
	return err
}

// SnapshotFile is a loaded, verified snapshot file. Its page data is mapped once and shared
// (MAP_PRIVATE) by every machine started from it. Each such machine holds a reference to it
// (Reset reads the page data) and Close drops the owner's: the mapping and the file are
// released with the last one.
type SnapshotFile struct {
	Payload     []byte
	memoryBytes uint64
	xferBytes   uint64
	codeBytes   uint64
	heapBytes   uint64
	maxPages    uint32
	maxDepth    uint32
	cpuFeatures uint32 // abi.CPUFeat* bits the guest saw: a machine started from the file must have them
	local       bool   // made by MemorySnapshot in this process
	snap        *Snapshot
	file        *os.File
	dataOffset  int64
	data        []byte // read-only mapping of the page data

	mu     sync.Mutex
	refs   int // the owner's until Close, plus one per machine started from the file
	closed bool
}

// OpenSnapshotFile reads and verifies a snapshot file made by WriteSnapshot with image (the
// guest image the current build embeds; nil for the default). With a key (non-empty) the file
// must carry a valid HMAC made with it, which is checked before anything else is read.
func OpenSnapshotFile(path string, image, key []byte) (*SnapshotFile, error) {
	if image == nil {
		image = defaultImage()
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	sf, err := parseSnapshotFile(f, image, key, true)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sf, nil
}

// parseSnapshotFile loads f; verify false skips the checksum (a file this process just wrote).
func parseSnapshotFile(f *os.File, image, key []byte, verify bool) (*SnapshotFile, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	end := st.Size() - sha256.Size
	if verify {
		if end, err = verifySnapshot(f, st.Size(), key); err != nil {
			return nil, err
		}
	} else if end < int64(snapHeader) {
		return nil, fmt.Errorf("%w: %d bytes", ErrSnapshotCorrupt, st.Size())
	}
	sf, err := parseSnapshotMeta(f, end, image, len(key) > 0)
	if err != nil {
		return nil, err
	}
	sf.file = f
	if n := len(sf.snap.pages); n > 0 {
		sf.data, err = unix.Mmap(int(f.Fd()), sf.dataOffset, n*pageSize, unix.PROT_READ, unix.MAP_PRIVATE)
		if err != nil {
			return nil, fmt.Errorf("mapping snapshot pages: %w", err)
		}
	}
	sf.snap.data = sf.data
	sf.snap.backing = sf.data
	sf.refs = 1
	return sf, nil
}

// verifySnapshot checks the file's MAC (with a key) or checksum, streaming, and returns where
// the contents end (trailer excluded; without a key, the MAC a keyed file carries is cut off
// once the flags are read).
func verifySnapshot(r io.ReaderAt, size int64, key []byte) (int64, error) {
	trailer := int64(sha256.Size)
	if len(key) > 0 {
		trailer += sha256.Size
	}
	if size < int64(snapHeader)+trailer || size > 1<<40 {
		return 0, fmt.Errorf("%w: %d bytes", ErrSnapshotCorrupt, size)
	}
	end := size - trailer
	var h hash.Hash = sha256.New()
	if len(key) > 0 {
		h = hmac.New(sha256.New, key)
	}
	if _, err := io.CopyBuffer(h, io.NewSectionReader(r, 0, end), make([]byte, 1<<20)); err != nil {
		return 0, err
	}
	var sum [sha256.Size]byte
	if _, err := r.ReadAt(sum[:], end); err != nil {
		return 0, err
	}
	if len(key) > 0 {
		if !hmac.Equal(h.Sum(nil), sum[:]) {
			return 0, fmt.Errorf("%w: its HMAC does not verify with the configured key (%s)",
				ErrSnapshotUnauthenticated, unverifiedKind(r))
		}
		return end, nil
	}
	if !bytes.Equal(h.Sum(nil), sum[:]) {
		if unverifiedKind(r) == "not a snapshot file" {
			return 0, fmt.Errorf("%w: not a snapshot file", ErrSnapshotCorrupt)
		}
		return 0, fmt.Errorf("%w: checksum mismatch", ErrSnapshotCorrupt)
	}
	return end, nil
}

// unverifiedKind says what an unverified file claims to be, for error messages only.
func unverifiedKind(r io.ReaderAt) string {
	var hdr [len(snapMagic) + 8]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil || string(hdr[:len(snapMagic)]) != snapMagic {
		return "not a snapshot file"
	}
	if binary.LittleEndian.Uint32(hdr[len(snapMagic)+4:])&snapKeyed == 0 {
		return "the file has no HMAC"
	}
	return "made with another key, or modified"
}

// parseSnapshotMeta reads and checks everything before the page data in a few reads (fixed
// header; payload; vCPU state; mapped regions; page list), contents ending at end. keyed says
// the file was authenticated with a key.
func parseSnapshotMeta(ra io.ReaderAt, end int64, image []byte, keyed bool) (*SnapshotFile, error) {
	corrupt := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrSnapshotCorrupt}, a...)...)
	}
	r := &snapReader{r: ra, limit: end}
	h, err := r.next(int64(snapHeader))
	if err != nil {
		return nil, err
	}
	if string(h[:len(snapMagic)]) != snapMagic {
		return nil, corrupt("not a snapshot file")
	}
	d := decoder(h[len(snapMagic):])
	if v := d.u32(); v != snapVersion {
		return nil, fmt.Errorf("%w: format version %d, this build reads %d", ErrSnapshotForeign, v, snapVersion)
	}
	flags := d.u32()
	if flags&^snapKeyed != 0 || keyed && flags&snapKeyed == 0 {
		return nil, corrupt("flags %#x", flags)
	}
	if flags&snapKeyed != 0 && !keyed { // not checked without a key: skip the HMAC
		r.limit -= sha256.Size
	}
	if v := d.u32(); v != abi.Version {
		return nil, fmt.Errorf("%w: guest ABI version %d, this build has %d", ErrSnapshotForeign, v, abi.Version)
	}
	if want := sha256.Sum256(image); !bytes.Equal(d.bytes(sha256.Size), want[:]) {
		return nil, fmt.Errorf("%w: guest image differs", ErrSnapshotForeign)
	}
	im, err := parseImage(image)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSnapshotForeign, err)
	}
	sf := &SnapshotFile{memoryBytes: d.u64(), xferBytes: d.u64(), codeBytes: d.u64(), heapBytes: d.u64(),
		maxPages: d.u32(), maxDepth: d.u32(), cpuFeatures: d.u32()}
	if err := sf.checkConfig(image); err != nil {
		return nil, err
	}
	if sf.cpuFeatures&^abi.CPUFeatUsed != 0 {
		return nil, corrupt("CPU features %#x: bits outside %#x", sf.cpuFeatures, abi.CPUFeatUsed)
	}

	// Each read takes a field and the next field's length.
	b, err := r.next(int64(d.u32()) + 4)
	if err != nil {
		return nil, err
	}
	sf.Payload, d = b[:len(b)-4], decoder(b[len(b)-4:])
	if b, err = r.next(int64(d.u32()) + 4); err != nil {
		return nil, err
	}
	cpuBytes, d := b[:len(b)-4], decoder(b[len(b)-4:])
	if b, err = r.next(int64(d.u32())*8 + 4); err != nil {
		return nil, err
	}
	s := &Snapshot{mode: ResetCompare, index: map[uint32]int{}}
	heap := abi.XferAddr + sf.xferBytes
	for d = decoder(b); len(d) > 4; {
		a := d.u64()
		if a%hugePage != 0 || a < heap || a >= sf.memoryBytes || // aligned, so a+hugePage fits

			len(s.mapped) > 0 && a <= s.mapped[len(s.mapped)-1] {
			return nil, corrupt("mapped regions: %#x is not a new 2 MiB heap region (heap [%#x, %#x), sorted)",
				a, heap, sf.memoryBytes)
		}
		s.mapped = append(s.mapped, a)
	}
	npages := int64(d.u32())
	if npages*pageSize > end { // before allocating the list
		return nil, corrupt("page list: %d pages in a %d-byte file", npages, end)
	}
	if b, err = r.next(npages * 4); err != nil {
		return nil, err
	}
	s.pages = make([]uint32, npages)
	for i := range s.pages {
		s.pages[i] = binary.LittleEndian.Uint32(b[4*i:])
		s.index[s.pages[i]] = i
	}
	// The ranges Reset restores, from the same definition.
	writable := (&Machine{img: im, heapStart: heap, mapped: s.mapped}).writableRanges()
	if err := checkPages(s.pages, writable, im); err != nil {
		return nil, err
	}

	if s.cpu, err = decodeState(cpuBytes); err != nil {
		return nil, err
	}
	if err := checkState(s.cpu, im); err != nil {
		return nil, fmt.Errorf("%w: vCPU state: %w", ErrSnapshotCorrupt, err)
	}
	sf.dataOffset = (r.off + pageSize - 1) / pageSize * pageSize
	if sf.dataOffset+npages*pageSize != r.limit {
		return nil, corrupt("page data is %d bytes, expected %d", r.limit-sf.dataOffset, npages*pageSize)
	}
	sf.snap = s
	return sf, nil
}

// checkState checks a vCPU state against the one New enters the guest with (EnterUserMode),
// stopped at the guest's park exit (checkParked).
func checkState(s *vmm.State, im *image) error {
	if err := vmm.CheckUserState(s, abi.PML4Addr, abi.GDTAddr, abi.IDTAddr, abi.TSSAddr, abi.TSSLimit,
		abi.ImageBase, im.textEnd); err != nil {
		return err
	}
	return checkParked(s, im)
}

// checkParked checks that s stopped at the guest's park exit: the one place a snapshot is
// taken, and the instruction that reloads a clean x87/SSE state when the guest resumes, which
// is why resets and snapshot files need not carry the FPU state into the vCPU
// (vmm.RestoreUserState). RIP is the park's `out` itself where KVM completes a port exit on the
// next KVM_RUN (VMX: the guest then runs the `out` once more, see await), or the instruction
// after it (measured on PVM); either way the reload comes next.
func checkParked(s *vmm.State, im *image) error {
	if r := s.Regs.RIP; r != im.parkResume && r != im.parkResume-1 {
		return fmt.Errorf("%w: RIP %#x is not the guest's park exit %#x", vmm.ErrBadState, s.Regs.RIP, im.parkResume)
	}
	return nil
}

// checkConfig bounds the machine configuration the way Config.fill does: the file's values
// must be ones fill leaves as they are.
func (sf *SnapshotFile) checkConfig(image []byte) error {
	in := Config{KVM: new(vmm.KVM), Image: image, MemoryBytes: sf.memoryBytes, XferBytes: sf.xferBytes,
		CodeBytes: sf.codeBytes, HeapBytes: sf.heapBytes, MaxPages: sf.maxPages, MaxCallDepth: sf.maxDepth}
	c := in
	if err := c.fill(); err != nil || c.MemoryBytes != in.MemoryBytes || c.XferBytes != in.XferBytes ||
		c.CodeBytes != in.CodeBytes || c.HeapBytes != in.HeapBytes ||
		c.MaxPages != in.MaxPages || c.MaxCallDepth != in.MaxCallDepth {
		return fmt.Errorf("%w: machine configuration (memory %d, transfer %d, code %d, heap %d, max pages %d, call depth %d) out of range",
			ErrSnapshotCorrupt, sf.memoryBytes, sf.xferBytes, sf.codeBytes, sf.heapBytes, sf.maxPages, sf.maxDepth)
	}
	return nil
}

// checkPages refuses a page list that is not sorted or names a page outside the guest-writable
// ranges (the same ranges Reset restores): a file may set only what the guest could write.
func checkPages(pages []uint32, ranges [][2]uint64, im *image) error {
	slices.SortFunc(ranges, func(a, b [2]uint64) int { return cmp.Compare(a[0], b[0]) })
	i := 0
	for k, p := range pages {
		if k > 0 && p <= pages[k-1] {
			return fmt.Errorf("%w: page list not sorted at page %#x", ErrSnapshotCorrupt, p)
		}
		a := uint64(p) * pageSize
		for i < len(ranges) && ranges[i][1] <= a {
			i++
		}
		if i == len(ranges) || a < ranges[i][0] {
			return fmt.Errorf("%w: page list: page %#x (%s) is not guest-writable", ErrSnapshotCorrupt, a, regionName(a, im))
		}
	}
	return nil
}

// regionName names the part of the guest layout at address a, for error messages.
func regionName(a uint64, im *image) string {
	for _, r := range []struct {
		lo, hi uint64
		name   string
	}{
		{abi.GDTAddr, abi.IDTAddr, "GDT"}, {abi.IDTAddr, abi.TSSAddr, "IDT"},
		{abi.TSSAddr, abi.KStackGuard, "TSS"}, {abi.PML4Addr, abi.PDPTAddr, "PML4"},
		{abi.PDPTAddr, abi.PDMoreAddr + abi.PDMoreMax*pageSize, "page tables"},
		{abi.ImageBase, im.textEnd, "image text"}, {im.textEnd, im.rodataEnd, "image rodata"},
	} {
		if a >= r.lo && a < r.hi {
			return r.name
		}
	}
	return "outside the writable ranges"
}

// Close drops the owner's reference: the page data stays mapped while machines started from
// the file are open.
func (sf *SnapshotFile) Close() error {
	sf.mu.Lock()
	if sf.closed {
		sf.mu.Unlock()
		return nil
	}
	sf.closed = true
	sf.mu.Unlock()
	return sf.release()
}

func (sf *SnapshotFile) acquire() error {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	if sf.closed {
		return ErrSnapshotClosed
	}
	sf.refs++
	return nil
}

func (sf *SnapshotFile) release() error {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	if sf.refs--; sf.refs > 0 {
		return nil
	}
	if sf.data != nil {
		unix.Munmap(sf.data)
		sf.data = nil
	}
	return sf.file.Close()
}

// DataBytes is the size of the file's page data (mapped once, shared by its machines); 0 once
// the last of them and the owner have let it go.
func (sf *SnapshotFile) DataBytes() uint64 {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	return uint64(len(sf.data))
}

// Config returns the machine configuration the snapshot was taken with (KVM and spin
// settings are the caller's).
func (sf *SnapshotFile) Config(base Config) Config {
	base.MemoryBytes, base.XferBytes = sf.memoryBytes, sf.xferBytes
	base.CodeBytes, base.HeapBytes = sf.codeBytes, sf.heapBytes
	base.MaxPages, base.MaxCallDepth = sf.maxPages, sf.maxDepth
	return base
}

// CheckCPU refuses the file (ErrSnapshotForeign) if a guest of cfg.KVM lacks a CPU feature
// the file's guest compiled for: its code may use their instructions.
func (sf *SnapshotFile) CheckCPU(ctx context.Context, cfg Config) error {
	have, err := guestCPUFeatures(ctx, cfg)
	if err != nil {
		return err
	}
	if missing := sf.cpuFeatures &^ have; missing != 0 {
		return fmt.Errorf("%w: made on a CPU with %s, which this machine's guest lacks",
			ErrSnapshotForeign, cpuFeatureNames(missing))
	}
	return nil
}

// NewFromSnapshot starts a machine in the state of a snapshot file: its pages are mapped from
// the file copy-on-write (shared between machines until written), its vCPU state restored.
// The machine's own Snapshot for Reset is the file's; the machine holds a reference to the
// file until it is closed.
func NewFromSnapshot(ctx context.Context, cfg Config, sf *SnapshotFile) (*Machine, *Snapshot, error) {
	if !sf.local { // a file this process made has this host's features
		if err := sf.CheckCPU(ctx, cfg); err != nil {
			return nil, nil, err
		}
	}
	if err := sf.acquire(); err != nil {
		return nil, nil, err
	}
	cfg = sf.Config(cfg)
	m, err := New(ctx, cfg)
	if err != nil {
		sf.release()
		return nil, nil, err
	}
	m.release = func() { sf.release() }
	m.cpuFeatures, m.fromFile = sf.cpuFeatures, true
	markPhase("new machine")
	s := sf.snap
	for _, a := range s.mapped {
		if err := m.charge(); err != nil {
			m.Close()
			return nil, nil, err
		}
		if err := m.vm.AddMemory(a); err != nil {
			m.Close()
			return nil, nil, err
		}
		mapRegion(m.mem, a)
		m.mapped = append(m.mapped, a)
	}
	markPhase("heap slots")
	// Map runs of consecutive pages straight from the file.
	fd := int(sf.file.Fd())
	for i := 0; i < len(s.pages); {
		j := i + 1
		for j < len(s.pages) && s.pages[j] == s.pages[j-1]+1 {
			j++
		}
		dst := m.mem[uint64(s.pages[i])*pageSize:]
		if _, err := mmapFixed(unsafe.Pointer(&dst[0]), (j-i)*pageSize, fd, sf.dataOffset+int64(i)*pageSize); err != nil {
			m.Close()
			return nil, nil, fmt.Errorf("mapping snapshot pages: %w", err)
		}
		i = j
	}
	markPhase("map pages")
	// The vCPU is fresh: its XCR0, debug registers, pending events and MSRs hold their reset
	// values, which are exactly the snapshot's (SaveState shares them from a template, and
	// CheckUserState requires them of files); New set the special registers the snapshot has.
	// So what CPL3 code can change is all there is to restore: one ioctl, not seven.
	if err := m.cpu.RestoreUserState(s.cpu); err != nil {
		m.Close()
		return nil, nil, err
	}
	markPhase("restore vCPU")
	m.booted = true
	return m, s, nil
}

func mmapFixed(addr unsafe.Pointer, length, fd int, off int64) (uintptr, error) {
	r, _, e := unix.Syscall6(unix.SYS_MMAP, uintptr(addr), uintptr(length), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_FIXED, uintptr(fd), uintptr(off))
	if e != 0 {
		return 0, e
	}
	return r, nil
}

// snapReader reads a snapshot file's fields in sequence, a block at a time.
type snapReader struct {
	r     io.ReaderAt
	off   int64
	limit int64
}

// next reads the next n bytes in one read.
func (r *snapReader) next(n int64) ([]byte, error) {
	if n < 0 || n > r.limit-r.off {
		return nil, fmt.Errorf("%w: field at offset %d runs past the end", ErrSnapshotCorrupt, r.off)
	}
	b := make([]byte, n)
	if _, err := r.r.ReadAt(b, r.off); err != nil {
		return nil, err
	}
	r.off += n
	return b, nil
}

// decoder takes little-endian fields from a block whose length the caller checked.
type decoder []byte

func (d *decoder) bytes(n int) []byte { b := (*d)[:n]; *d = (*d)[n:]; return b }
func (d *decoder) u32() uint32        { return binary.LittleEndian.Uint32(d.bytes(4)) }
func (d *decoder) u64() uint64        { return binary.LittleEndian.Uint64(d.bytes(8)) }

func encodeState(s *vmm.State) []byte {
	var b []byte
	b = append(b, unsafe.Slice((*byte)(unsafe.Pointer(&s.Regs)), unsafe.Sizeof(s.Regs))...)
	b = append(b, unsafe.Slice((*byte)(unsafe.Pointer(&s.Sregs)), unsafe.Sizeof(s.Sregs))...)
	b = append(b, s.FPU[:]...)
	b = append(b, s.XCRS[:]...)
	b = append(b, s.Debug[:]...)
	b = append(b, s.Events[:]...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s.MSRs)))
	return append(b, s.MSRs...)
}

func decodeState(b []byte) (*vmm.State, error) {
	s := &vmm.State{}
	fixed := int(unsafe.Sizeof(s.Regs)+unsafe.Sizeof(s.Sregs)) + len(s.FPU) + len(s.XCRS) + len(s.Debug) + len(s.Events)
	if len(b) < fixed+4 {
		return nil, fmt.Errorf("%w: vCPU state truncated", ErrSnapshotCorrupt)
	}
	off := 0
	take := func(dst []byte) { off += copy(dst, b[off:]) }
	take(unsafe.Slice((*byte)(unsafe.Pointer(&s.Regs)), unsafe.Sizeof(s.Regs)))
	take(unsafe.Slice((*byte)(unsafe.Pointer(&s.Sregs)), unsafe.Sizeof(s.Sregs)))
	take(s.FPU[:])
	take(s.XCRS[:])
	take(s.Debug[:])
	take(s.Events[:])
	n := int(binary.LittleEndian.Uint32(b[off:]))
	off += 4
	if n != len(b)-off || n < 8 || n > 8+256*16 {
		return nil, fmt.Errorf("%w: bad MSR list", ErrSnapshotCorrupt)
	}
	s.MSRs = append([]byte(nil), b[off:]...)
	return s, nil
}

// SnapshotToMemory takes a ResetCompare snapshot straight into a snapshot file in memory, as
// Snapshot followed by MemorySnapshot does, but writes the pages from guest memory itself:
// no copy of them is ever made besides the file's (the peak memory of loading a big module).
func (m *Machine) SnapshotToMemory(ctx context.Context) (*Snapshot, *SnapshotFile, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.snapshotLocked(ctx, ResetCompare, false)
	if err != nil {
		return nil, nil, err
	}
	sf, err := m.memoryFile(s)
	if err != nil {
		return nil, nil, err
	}
	if err := m.adoptPagesLocked(s, sf); err != nil {
		sf.Close()
		return nil, nil, err
	}
	return s, sf, nil
}

// MemorySnapshot keeps snapshot s of this machine as a snapshot file in memory (a memfd):
// machines started from it with NewFromSnapshot share its pages copy-on-write, instead of each
// booting, loading and keeping a private copy of the same state. It goes through the same
// writer and checks as a file on disk. Snapshot s itself then reads its pages from the file
// too (this machine holds a reference to it), and its private copy is dropped: one copy of the
// state in memory, not two (380 MB of a 75 MB program's).
func (m *Machine) MemorySnapshot(s *Snapshot) (*SnapshotFile, error) {
	if s.data == nil && len(s.pages) > 0 {
		return nil, fmt.Errorf("%w: a snapshot without its pages", ErrSnapshotCorrupt)
	}
	sf, err := m.memoryFile(s)
	if err != nil {
		return nil, err
	}
	if err := m.adoptPages(s, sf); err != nil {
		sf.Close()
		return nil, err
	}
	return sf, nil
}

// memoryFile writes s into a new memfd and opens it as a snapshot file.
func (m *Machine) memoryFile(s *Snapshot) (*SnapshotFile, error) {
	fd, err := unix.MemfdCreate("hlwasm-snapshot", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "hlwasm-snapshot")
	if err := checkState(s.cpu, m.img); err != nil {
		f.Close()
		return nil, fmt.Errorf("snapshot not kept: %w", err)
	}
	// No checksum, not verified: this process wrote the memfd a moment ago and nobody else
	// holds it. The fields still go through the loader's checks.
	bw := bufio.NewWriterSize(f, 1<<16) // the page data bypasses the buffer
	if err := m.encodeSnapshot(bw, s, nil, nil, false); err != nil {
		f.Close()
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	sf, err := parseSnapshotFile(f, m.cfg.Image, nil, false)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("in-memory snapshot: %w", err)
	}
	sf.local = true
	return sf, nil
}

// adoptPages makes snapshot s (of this machine, written to sf) read its pages from sf's
// mapping, holding a reference to sf until the machine closes. A snapshot that already reads
// them from a file is left alone.
func (m *Machine) adoptPages(s *Snapshot, sf *SnapshotFile) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.adoptPagesLocked(s, sf)
}

func (m *Machine) adoptPagesLocked(s *Snapshot, sf *SnapshotFile) error {
	if s.backing != nil {
		return nil
	}
	if !slices.Equal(s.pages, sf.snap.pages) || len(sf.data) != len(s.pages)*pageSize {
		return fmt.Errorf("%w: the in-memory snapshot holds other pages than the snapshot", ErrSnapshotCorrupt)
	}
	if err := sf.acquire(); err != nil {
		return err
	}
	prev := m.release
	m.release = func() {
		sf.release()
		if prev != nil {
			prev()
		}
	}
	s.data, s.backing = sf.data, sf.data
	s.own.free()
	s.own = nil
	return nil
}

// cpuFeatureNames names abi.CPUFeat* bits, for errors.
func cpuFeatureNames(bits uint32) string {
	var names []string
	for _, f := range []struct {
		bit  uint32
		name string
	}{{abi.CPUFeatSSSE3, "SSSE3"}, {abi.CPUFeatSSE41, "SSE4.1"}, {abi.CPUFeatSSE42, "SSE4.2"}} {
		if bits&f.bit != 0 {
			names = append(names, f.name)
		}
	}
	return strings.Join(names, ", ")
}

// guestFeaturesMemo is guestCPUFeatures' vmm.KVM.Memo key.
const guestFeaturesMemo = "guest CPU features"

// guestCPUFeatures is what a guest booted on cfg.KVM reports it compiles for: asked of a
// guest once per handle (one boot, ~1 ms; vmm.KVM.Memo), because on PVM the CPUID a CPL3 guest
// executes need not be KVM's table, so the host cannot read it off KVM_GET_SUPPORTED_CPUID.
func guestCPUFeatures(ctx context.Context, cfg Config) (uint32, error) {
	v, err := cfg.KVM.Memo(guestFeaturesMemo, func() (any, error) {
		m, err := New(ctx, Config{KVM: cfg.KVM, Image: cfg.Image, Thread: cfg.Thread})
		if err != nil {
			return nil, err
		}
		defer m.Close()
		if err := m.Ping(ctx); err != nil {
			return nil, err
		}
		return m.get32(abi.MbStatCPUFeatures) & abi.CPUFeatUsed, nil
	})
	if err != nil {
		return 0, fmt.Errorf("probing the guest's CPU features: %w", err)
	}
	return v.(uint32), nil
}
