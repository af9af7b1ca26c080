package machine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/vmm"
)

// Snapshot files let a machine start from a saved snapshot, skipping boot, parse, validation
// and instantiation. Layout (little endian):
//
//	magic "HLWSNAP\x00" | u32 format version | u32 ABI version | [32]byte sha256 of the guest image
//	u64 memory bytes | u64 transfer bytes | u32 max pages | u32 max call depth
//	u32 len + payload (opaque to this package: the host stores the module there)
//	u32 len + vCPU state | u32 count + u64 mapped heap regions | u32 count + u32 page numbers
//	zero padding to a 4 KiB boundary | page data, 4 KiB per page (mapped MAP_PRIVATE by loaders)
//	[32]byte sha256 of everything before
//
// Every field is checked on load; a corrupt, truncated or foreign file is refused.
const (
	snapMagic   = "HLWSNAP\x00"
	snapVersion = 1
)

// Sentinel errors for snapshot files.
var (
	ErrSnapshotCorrupt = errors.New("snapshot file is corrupt or truncated")
	ErrSnapshotForeign = errors.New("snapshot file was made by a different hlwasm build")
)

// WriteSnapshot writes snapshot s of this machine, with payload, to w.
func (m *Machine) WriteSnapshot(w io.Writer, s *Snapshot, payload []byte) error {
	var b bytes.Buffer
	b.WriteString(snapMagic)
	le := binary.LittleEndian
	b.Write(le.AppendUint32(nil, snapVersion))
	b.Write(le.AppendUint32(nil, abi.Version))
	img := sha256.Sum256(m.cfg.Image)
	b.Write(img[:])
	b.Write(le.AppendUint64(nil, m.cfg.MemoryBytes))
	b.Write(le.AppendUint64(nil, m.cfg.XferBytes))
	b.Write(le.AppendUint32(nil, m.cfg.MaxPages))
	b.Write(le.AppendUint32(nil, m.cfg.MaxCallDepth))
	b.Write(le.AppendUint32(nil, uint32(len(payload))))
	b.Write(payload)
	cpu := encodeState(s.cpu)
	b.Write(le.AppendUint32(nil, uint32(len(cpu))))
	b.Write(cpu)
	b.Write(le.AppendUint32(nil, uint32(len(s.mapped))))
	for _, r := range s.mapped {
		b.Write(le.AppendUint64(nil, r))
	}
	b.Write(le.AppendUint32(nil, uint32(len(s.pages))))
	for _, p := range s.pages {
		b.Write(le.AppendUint32(nil, p))
	}
	b.Write(make([]byte, (pageSize-b.Len()%pageSize)%pageSize))
	b.Write(s.data)
	sum := sha256.Sum256(b.Bytes())
	b.Write(sum[:])
	_, err := w.Write(b.Bytes())
	return err
}

// SnapshotFile is a loaded, verified snapshot file. Its page data is mapped once and shared
// (MAP_PRIVATE) by every machine started from it. Close it when no machine uses it.
type SnapshotFile struct {
	Payload     []byte
	memoryBytes uint64
	xferBytes   uint64
	maxPages    uint32
	maxDepth    uint32
	snap        *Snapshot
	file        *os.File
	dataOffset  int64
	data        []byte // read-only mapping of the page data
}

// OpenSnapshotFile reads and verifies a snapshot file made by WriteSnapshot with image (the
// guest image the current build embeds; nil for the default).
func OpenSnapshotFile(path string, image []byte) (*SnapshotFile, error) {
	if image == nil {
		image = defaultImage()
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	sf, err := parseSnapshotFile(f, image)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sf, nil
}

func parseSnapshotFile(f *os.File, image []byte) (*SnapshotFile, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	if size < int64(len(snapMagic))+sha256.Size || size > 1<<40 {
		return nil, fmt.Errorf("%w: %d bytes", ErrSnapshotCorrupt, size)
	}
	// Verify the checksum over the whole file first, streaming.
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, size-sha256.Size)); err != nil {
		return nil, err
	}
	var sum [sha256.Size]byte
	if _, err := f.ReadAt(sum[:], size-sha256.Size); err != nil {
		return nil, err
	}
	if !bytes.Equal(h.Sum(nil), sum[:]) {
		if hdr := make([]byte, len(snapMagic)); func() bool { _, e := f.ReadAt(hdr, 0); return e == nil }() &&
			string(hdr) != snapMagic {
			return nil, fmt.Errorf("%w: not a snapshot file", ErrSnapshotCorrupt)
		}
		return nil, fmt.Errorf("%w: checksum mismatch", ErrSnapshotCorrupt)
	}
	// The header is small; read up to the first page boundary after it.
	r := &snapReader{f: f, limit: size - sha256.Size}
	if string(r.bytes(len(snapMagic))) != snapMagic {
		return nil, fmt.Errorf("%w: not a snapshot file", ErrSnapshotCorrupt)
	}
	if v := r.u32(); r.err == nil && v != snapVersion {
		return nil, fmt.Errorf("%w: format version %d, this build reads %d", ErrSnapshotForeign, v, snapVersion)
	}
	if v := r.u32(); r.err == nil && v != abi.Version {
		return nil, fmt.Errorf("%w: guest ABI version %d, this build has %d", ErrSnapshotForeign, v, abi.Version)
	}
	want := sha256.Sum256(image)
	if got := r.bytes(sha256.Size); r.err == nil && !bytes.Equal(got, want[:]) {
		return nil, fmt.Errorf("%w: guest image differs", ErrSnapshotForeign)
	}
	sf := &SnapshotFile{file: f}
	sf.memoryBytes, sf.xferBytes = r.u64(), r.u64()
	sf.maxPages, sf.maxDepth = r.u32(), r.u32()
	sf.Payload = r.bytes(int(r.count(1 << 30)))
	cpuBytes := r.bytes(int(r.count(1 << 20)))
	s := &Snapshot{mode: ResetCompare, index: map[uint32]int{}}
	nmapped := r.count(1 << 20)
	for i := uint32(0); i < nmapped && r.err == nil; i++ {
		s.mapped = append(s.mapped, r.u64())
	}
	npages := r.count(1 << 28)
	for i := uint32(0); i < npages && r.err == nil; i++ {
		p := r.u32()
		if len(s.pages) > 0 && p <= s.pages[len(s.pages)-1] {
			return nil, fmt.Errorf("%w: page list not sorted", ErrSnapshotCorrupt)
		}
		s.index[p] = len(s.pages)
		s.pages = append(s.pages, p)
	}
	if r.err != nil {
		return nil, r.err
	}
	if sf.memoryBytes%hugePage != 0 || sf.memoryBytes > maxGuestMemory || sf.xferBytes%hugePage != 0 ||
		abi.XferAddr+sf.xferBytes >= sf.memoryBytes || sf.maxPages > 65536 {
		return nil, fmt.Errorf("%w: bad machine configuration", ErrSnapshotCorrupt)
	}
	heap := abi.XferAddr + sf.xferBytes
	for _, a := range s.mapped {
		if a%hugePage != 0 || a < heap || a >= sf.memoryBytes {
			return nil, fmt.Errorf("%w: bad mapped region %#x", ErrSnapshotCorrupt, a)
		}
	}
	for _, p := range s.pages {
		if uint64(p)*pageSize >= sf.memoryBytes {
			return nil, fmt.Errorf("%w: page %d beyond guest memory", ErrSnapshotCorrupt, p)
		}
	}
	if s.cpu, err = decodeState(cpuBytes); err != nil {
		return nil, err
	}
	sf.dataOffset = (r.off + pageSize - 1) / pageSize * pageSize
	if sf.dataOffset+int64(len(s.pages))*pageSize != size-sha256.Size {
		return nil, fmt.Errorf("%w: page data is %d bytes, expected %d", ErrSnapshotCorrupt,
			size-sha256.Size-sf.dataOffset, int64(len(s.pages))*pageSize)
	}
	if len(s.pages) > 0 {
		sf.data, err = unix.Mmap(int(f.Fd()), sf.dataOffset, len(s.pages)*pageSize, unix.PROT_READ, unix.MAP_PRIVATE)
		if err != nil {
			return nil, fmt.Errorf("mapping snapshot pages: %w", err)
		}
	}
	s.data = sf.data
	s.backing = sf.data
	sf.snap = s
	return sf, nil
}

// Close unmaps the page data and closes the file. Machines started from it keep their own
// mappings.
func (sf *SnapshotFile) Close() error {
	if sf.data != nil {
		unix.Munmap(sf.data)
		sf.data = nil
	}
	return sf.file.Close()
}

// Config returns the machine configuration the snapshot was taken with (KVM and spin
// settings are the caller's).
func (sf *SnapshotFile) Config(base Config) Config {
	base.MemoryBytes, base.XferBytes = sf.memoryBytes, sf.xferBytes
	base.MaxPages, base.MaxCallDepth = sf.maxPages, sf.maxDepth
	return base
}

// NewFromSnapshot starts a machine in the state of a snapshot file: its pages are mapped from
// the file copy-on-write (shared between machines until written), its vCPU state restored.
// The machine's own Snapshot for Reset is the file's.
func NewFromSnapshot(ctx context.Context, cfg Config, sf *SnapshotFile) (*Machine, *Snapshot, error) {
	cfg = sf.Config(cfg)
	m, err := New(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	s := sf.snap
	for _, a := range s.mapped {
		if err := m.vm.AddMemory(a); err != nil {
			m.Close()
			return nil, nil, err
		}
		mapRegion(m.mem, a)
		m.mapped = append(m.mapped, a)
	}
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
	if err := m.cpu.RestoreState(s.cpu); err != nil {
		m.Close()
		return nil, nil, err
	}
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

type snapReader struct {
	f     *os.File
	off   int64
	limit int64
	err   error
}

func (r *snapReader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || r.off+int64(n) > r.limit {
		r.err = fmt.Errorf("%w: field at offset %d runs past the end", ErrSnapshotCorrupt, r.off)
		return nil
	}
	b := make([]byte, n)
	if _, err := r.f.ReadAt(b, r.off); err != nil {
		r.err = err
		return nil
	}
	r.off += int64(n)
	return b
}

func (r *snapReader) u32() uint32 {
	if b := r.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *snapReader) u64() uint64 {
	if b := r.bytes(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// count reads a u32 count and refuses one above max.
func (r *snapReader) count(max uint32) uint32 {
	n := r.u32()
	if r.err == nil && n > max {
		r.err = fmt.Errorf("%w: count %d at offset %d exceeds %d", ErrSnapshotCorrupt, n, r.off-4, max)
	}
	return n
}

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
