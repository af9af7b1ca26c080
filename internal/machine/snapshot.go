package machine

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hlwasm/hlwasm/internal/abi"
	"github.com/hlwasm/hlwasm/internal/vmm"
)

// ResetMode chooses how Reset finds the guest pages that changed since the snapshot. Neither
// mode relies on anything the guest reports.
type ResetMode int

const (
	// ResetCompare compares every resident guest-writable page with its snapshot copy and
	// copies back the ones that differ; pages that became resident after the snapshot are
	// cleared.
	ResetCompare ResetMode = iota
	// ResetDirtyLog asks KVM which pages the guest wrote (dirty logging) and restores those.
	// On PVM every first write after a collection costs a write-protection fault (~40 µs).
	ResetDirtyLog
)

func (m ResetMode) String() string {
	switch m {
	case ResetCompare:
		return "compare"
	case ResetDirtyLog:
		return "dirtylog"
	}
	return fmt.Sprintf("ResetMode(%d)", int(m))
}

// ErrNotParked: a snapshot needs a guest that is idle at a park exit.
var ErrNotParked = errors.New("machine: guest is not parked")

// Snapshot is a machine's state at a park exit: the vCPU and every resident guest-writable page.
type Snapshot struct {
	mode  ResetMode
	cpu   *vmm.State
	pages []uint32 // sorted guest page numbers with a copy in data
	data  []byte
	index map[uint32]int // page → position in pages
	// mapped is the heap regions mapped when the snapshot was taken.
	mapped []uint64
	// backing, when the snapshot came from a file, is the file's page data mapping.
	backing []byte
	// own holds data when the snapshot made its copy itself.
	own *pageCopy
}

// pageCopy is a snapshot's own page copy: an anonymous mapping rather than Go heap, so that
// dropping it (adoptPages) gives the memory back at once instead of after a collection, and a
// big module's copy never sets the heap's growth target.
type pageCopy struct {
	mu sync.Mutex
	b  []byte
}

// newPageCopy maps n bytes for s, unmapped when s is dropped (or by free).
func newPageCopy(s *Snapshot, n int) (*pageCopy, error) {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("snapshot copy of %d bytes: %w", n, err)
	}
	pc := &pageCopy{b: b}
	runtime.AddCleanup(s, func(pc *pageCopy) { pc.free() }, pc)
	return pc, nil
}

// free unmaps the copy, once.
func (c *pageCopy) free() {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.b != nil {
		_ = unix.Munmap(c.b)
		c.b = nil
	}
}

// Pages is the number of guest pages the snapshot holds.
func (s *Snapshot) Pages() int { return len(s.pages) }

// writableRanges lists the guest-physical ranges anything but the host may write: the guest at
// CPL3 (mailbox, IO region, image data, stack, transfer window and the heap regions mapped so far) and the
// CPL0 stubs (their stack, the fault page). Page tables and descriptor tables are left out: only
// the host writes them (the CPU's accessed bits aside), and the heap mappings the host added
// since the snapshot must stay (unmapping behind KVM's back could leave stale translations).
func (m *Machine) writableRanges() [][2]uint64 {
	r := [][2]uint64{
		{abi.KStackBase, abi.FaultAddr + pageSize},
		{abi.MailboxAddr, abi.MailboxAddr + abi.MailboxSize},
		{abi.IOAddr, abi.IOEnd},
		{m.img.rodataEnd, m.img.dataEnd},
		{abi.UStackBase, abi.UStackTop},
		{abi.XferAddr, m.heapStart},
	}
	for _, a := range m.mapped {
		r = append(r, [2]uint64{a, a + hugePage})
	}
	return r
}

// changedCandidates calls f for every page in the writable ranges whose content may differ
// from the snapshot or from zero, in address order: pages that are present or swapped (see
// pagemap.go; an untouched page cannot have changed). A page that maps the shared zero page is
// passed only if inSnapshot says the snapshot has it (elsewhere zeros are right); nil: never.
//
// What a scan costs here (PAGEMAP_SCAN, PVM): ~1 µs a system call plus ~0.1 µs for every
// present page it walks, writable or not. So ranges share one scan only where nothing else
// lies between them (touching ranges, and heap regions: the gaps between those hold no page
// the host populated), never across the image, page tables or CPL0 pages of the fixed layout;
// and ranges of at most directPages pages (the mailbox, the CPL0 stack and fault page) are
// passed page by page without a scan: they are always present, and comparing a page costs
// less than the system call.
func (m *Machine) changedCandidates(f func(page uint32), inSnapshot func(page uint32) bool) error {
	const (
		mergeGap    = 32 << 20
		directPages = 4
	)
	ranges := m.writableRanges()
	slices.SortFunc(ranges, func(a, b [2]uint64) int { return cmp.Compare(a[0], b[0]) })
	shareScan := func(a, b [2]uint64) bool {
		return b[0] <= a[1] || (a[0] >= m.heapStart && b[0]-a[1] < mergeGap)
	}
	for i := 0; i < len(ranges); {
		j := i + 1
		for j < len(ranges) && shareScan(ranges[j-1], ranges[j]) {
			j++
		}
		lo, hi := ranges[i][0], ranges[j-1][1]
		group := ranges[i:j]
		i = j
		if hi-lo <= directPages*pageSize {
			for p := lo; p < hi; p += pageSize {
				f(uint32(p / pageSize))
			}
			continue
		}
		err := m.scan.candidates(m.mem[lo:hi], func(first, last int, zero bool) {
			a, b := lo+uint64(first)*pageSize, lo+uint64(last)*pageSize
			for _, r := range group { // runs arrive in order; ranges are few
				for p := max(a, r[0]); p < min(b, r[1]); p += pageSize {
					if !zero || (inSnapshot != nil && inSnapshot(uint32(p/pageSize))) {
						f(uint32(p / pageSize))
					}
				}
			}
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// parkTimeout bounds how long an idle guest may take to park once asked (microseconds when it
// follows the protocol): a guest that answers but never parks is stopped, not waited for.
var parkTimeout = time.Second

// park brings a spinning guest to its park exit.
func (m *Machine) park(ctx context.Context) error {
	if !m.running {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, parkTimeout)
	defer cancel()
	m.waiting().Store(1)
	defer m.waiting().Store(0)
	return m.collectExit(ctx)
}

// Snapshot records the machine's state. The guest must be idle; a spinning guest is parked.
func (m *Machine) Snapshot(ctx context.Context, mode ResetMode) (*Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.snapshotLocked(ctx, mode, true)
}

// snapshotLocked is Snapshot with m.mu held; without copy the pages are listed but not copied
// (the caller writes them elsewhere before the guest runs again).
func (m *Machine) snapshotLocked(ctx context.Context, mode ResetMode, copyPages bool) (*Snapshot, error) {
	if err := m.usable(); err != nil {
		return nil, err
	}
	if err := m.park(ctx); err != nil {
		return nil, err
	}
	if s := m.state().Load(); s != abi.StateParked {
		return nil, fmt.Errorf("%w (state %d)", ErrNotParked, s)
	}
	cpu, err := m.cpu.SaveState()
	if err != nil {
		return nil, m.fail(err)
	}
	if err := checkParked(cpu, m.img); err != nil {
		return nil, m.fail(fmt.Errorf("%w: %w", ErrGuestFault, err))
	}
	if !m.fromFile { // untrusted: a guest that under-reports only breaks its own snapshot files
		m.cpuFeatures = m.get32(abi.MbStatCPUFeatures) & abi.CPUFeatUsed
	}
	s := &Snapshot{mode: mode, cpu: cpu, index: map[uint32]int{}, mapped: slices.Clone(m.mapped)}
	if err := m.changedCandidates(func(p uint32) {
		s.index[p] = len(s.pages)
		s.pages = append(s.pages, p)
	}, nil); err != nil {
		return nil, err
	}
	if len(s.pages) > 0 && copyPages {
		if s.own, err = newPageCopy(s, len(s.pages)*pageSize); err != nil {
			return nil, err
		}
		s.data = s.own.b
		for i, p := range s.pages {
			copy(s.data[i*pageSize:], m.page(p))
		}
	}
	if mode == ResetDirtyLog {
		if !m.dirtyLogging {
			if err := m.vm.SetDirtyLogging(true); err != nil {
				return nil, err
			}
			m.dirtyLogging = true
		}
		if _, err := m.vm.DirtyPages(); err != nil { // start a fresh log
			return nil, err
		}
	}
	return s, nil
}

func (m *Machine) page(p uint32) []byte {
	a := uint64(p) * pageSize
	return m.mem[a : a+pageSize]
}

var zeroPage [pageSize]byte

// ResetStats says what a reset did.
type ResetStats struct {
	Examined int // pages looked at
	Restored int // snapshot pages copied back
	Cleared  int // pages the snapshot does not have, zeroed in place (kept for the next call)
	Released int // such pages given back to the kernel (beyond Config.RetainBytes)
}

// Reset returns the machine to snapshot s: memory first (only pages that changed are written),
// then the vCPU. A machine that failed (fault, deadline) becomes usable again. Reset must be
// called with a snapshot of this machine.
func (m *Machine) Reset(ctx context.Context, s *Snapshot) (ResetStats, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var st ResetStats
	if m.closed {
		return st, ErrClosed
	}
	clean := m.broken == nil
	if clean {
		if err := m.park(ctx); err != nil {
			clean = false
		}
	}
	if m.running { // a failed park or a wedged guest: stop the vCPU
		m.interrupt()
		clean = false
	}
	retainPages, retained := int(m.cfg.RetainBytes/pageSize), 0
	var release [][2]uint32 // runs of pages to give back
	restore := func(p uint32) {
		st.Examined++
		if i, ok := s.index[p]; ok {
			want := s.data[i*pageSize : (i+1)*pageSize]
			if cur := m.page(p); !bytes.Equal(cur, want) {
				copy(cur, want)
				st.Restored++
			}
			return
		}
		// Not resident at the snapshot, so zero then. Clearing in place (rather than
		// MADV_DONTNEED) keeps the guest's mapping: a page the next call touches again does
		// not pay another first-touch fault (~30 µs on PVM). Only up to RetainBytes of them:
		// the rest of what a call grew is released, so one big call does not pin its memory
		// and slow every later reset.
		if retained < retainPages {
			retained++
			if cur := m.page(p); !bytes.Equal(cur, zeroPage[:]) {
				clear(cur)
				st.Cleared++
			}
			return
		}
		st.Released++
		if n := len(release); n > 0 && release[n-1][1] == p {
			release[n-1][1] = p + 1
		} else {
			release = append(release, [2]uint32{p, p + 1})
		}
	}
	switch s.mode {
	case ResetCompare:
		inSnapshot := func(p uint32) bool { _, ok := s.index[p]; return ok }
		if err := m.changedCandidates(restore, inSnapshot); err != nil {
			return st, m.fail(err)
		}
	case ResetDirtyLog:
		bitmap, err := m.vm.DirtyPages()
		if err != nil {
			return st, m.fail(err)
		}
		// Only pages in the writable ranges: the log also has page-table pages (the CPU sets
		// accessed and dirty bits), which are the host's to keep.
		for _, r := range m.writableRanges() {
			for p := r[0] / pageSize; p < r[1]/pageSize; {
				w := bitmap[p/64] >> (p % 64)
				if w == 0 {
					p += 64 - p%64
					continue
				}
				p += uint64(bits.TrailingZeros64(w))
				if p < r[1]/pageSize {
					restore(uint32(p))
				}
				p++
			}
		}
		// The host's own writes are not in KVM's log: the mailbox (the transfer window is not
		// written after a snapshot) and the fault page (resume flag).
		for _, p := range []uint32{abi.MailboxAddr / pageSize, abi.FaultAddr / pageSize} {
			restore(p)
		}
	}
	for _, r := range release {
		b := m.mem[uint64(r[0])*pageSize : uint64(r[1])*pageSize]
		if err := unix.Madvise(b, unix.MADV_DONTNEED); err != nil {
			return st, m.fail(fmt.Errorf("releasing guest pages: %w", err))
		}
	}
	runtime.KeepAlive(s) // s.data may be s's own mapping, unmapped when s is dropped
	m.lastReset = st
	var err error
	if clean {
		err = m.cpu.RestoreUserState(s.cpu)
	} else {
		err = m.cpu.RestoreState(s.cpu)
	}
	if err != nil {
		return st, m.fail(err)
	}
	m.broken = nil
	return st, nil
}

// Usage is what a machine costs the host now.
type Usage struct {
	// MappedBytes is guest memory the guest can reach: the fixed layout, the transfer window and
	// the heap regions mapped so far (what Config.MemoryBudget is charged with).
	MappedBytes uint64
	// PrivateBytes is guest memory this machine holds on its own (present or swapped pages,
	// not counting pages still shared with a snapshot file).
	PrivateBytes uint64
	// SnapshotBytes is the size of the snapshot's page copy; Shared says it belongs to a
	// snapshot file that several machines may use.
	SnapshotBytes  uint64
	SnapshotShared bool
	// LastReset is what the last Reset did: the pages the call before it had dirtied.
	LastReset ResetStats
}

// Usage measures the machine's memory (one page-table scan) for snapshot s (nil: none).
func (m *Machine) Usage(s *Snapshot) (Usage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Usage{}, ErrClosed
	}
	u := Usage{MappedBytes: m.mappedBytes(len(m.mapped)), LastReset: m.lastReset}
	if s != nil {
		u.SnapshotBytes, u.SnapshotShared = uint64(len(s.pages))*pageSize, s.backing != nil
	}
	err := m.scan.candidates(m.mem, func(first, last int, zero bool) {
		if !zero {
			u.PrivateBytes += uint64(last-first) * pageSize
		}
	})
	return u, err
}

// mappedBytes is the guest memory reachable with n heap regions mapped.
func (m *Machine) mappedBytes(n int) uint64 { return m.heapStart + uint64(n)*hugePage }

// charge checks that one more heap region fits the memory budget.
func (m *Machine) charge() error {
	if b := m.cfg.MemoryBudget; b > 0 && m.mappedBytes(len(m.mapped)+1) > b {
		return fmt.Errorf("%w: sandbox memory budget of %d bytes reached (%d mapped; host.Config.MaxSandboxMemory, hlwasm --max-sandbox-memory, raises it)",
			ErrLimit, b, m.mappedBytes(len(m.mapped)))
	}
	return nil
}
