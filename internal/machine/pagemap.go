package machine

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Finding the guest pages a reset must look at.
//
// A reset has to restore every page whose content may differ from the snapshot, whatever the
// kernel did with the pages meanwhile. mincore (used before) reports a swapped-out page as not
// resident, so a page written by one call and then swapped out was skipped and the next call
// read it: a leak between calls. The page tables of the process itself are what tell: in an
// anonymous mapping a page whose entry is empty reads as zeros, and one that was ever written
// is either present or swapped (migration entries count as swapped too); in the private
// mappings of snapshot files a present page that is still the file's page cache page holds the
// file's content. So the reset examines every page that is present or swapped and is not a file
// page. KSM merges, THP splits and the huge zero page keep the entry present; reclaim and
// migration make it a swap entry: none of them can hide a page.
//
// Linux 6.7+ answers in ranges with the PAGEMAP_SCAN ioctl on /proc/self/pagemap; older
// kernels get the same bits by reading 8 bytes a page from it. Without pagemap at all (a /proc
// that hides it) every page of the writable ranges is examined: slow, never wrong.

// scanMode is how candidate pages are found.
type scanMode int

const (
	scanPagemapIoctl scanMode = iota // PAGEMAP_SCAN
	scanPagemapRead                  // pread of /proc/self/pagemap entries
	scanAll                          // every page
)

func (m scanMode) String() string {
	return [...]string{"PAGEMAP_SCAN", "pagemap read", "all pages"}[m]
}

// From <linux/fs.h>.
const (
	pagemapScanIoctl = 0xc0606610 // _IOWR('f', 16, struct pm_scan_arg)
	pageIsFile       = 1 << 2
	pageIsPresent    = 1 << 3
	pageIsSwapped    = 1 << 4
	pageIsPFNZero    = 1 << 5

	pmPresent = 1 << 63 // pagemap entry bits
	pmSwap    = 1 << 62
	pmFile    = 1 << 61
)

type pmScanArg struct {
	Size, Flags, Start, End, WalkEnd, Vec, VecLen, MaxPages uint64
	CategoryInverted, CategoryMask, CategoryAnyofMask       uint64
	ReturnMask                                              uint64
}

type pageRegion struct{ Start, End, Categories uint64 }

var pagemap struct {
	once sync.Once
	fd   int
	mode scanMode
	err  error // why pagemap is not used (scanAll)
}

// forceScanMode, set only by tests, overrides the detected mode (-1: detect).
var forceScanMode scanMode = -1

func pagemapInit() {
	pagemap.once.Do(func() {
		fd, err := unix.Open("/proc/self/pagemap", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			pagemap.mode, pagemap.err, pagemap.fd = scanAll, fmt.Errorf("open /proc/self/pagemap: %w", err), -1
			return
		}
		pagemap.fd = fd
		probe := make([]byte, os.Getpagesize())
		probe[0] = 1
		var regions [1]pageRegion
		if _, _, err := pagemapScan(probe, regions[:]); err == nil {
			pagemap.mode = scanPagemapIoctl
		} else {
			pagemap.mode = scanPagemapRead
		}
	})
}

// ResetScan says how resets find changed pages on this system and, when it is the slow way
// (every page), why pagemap could not be used.
func ResetScan() (string, error) {
	pagemapInit()
	return pagemap.mode.String(), pagemap.err
}

func currentScanMode() scanMode {
	pagemapInit()
	if forceScanMode >= 0 {
		return forceScanMode
	}
	return pagemap.mode
}

// pagemapScan asks for the runs of b that are present or swapped and not file pages. It
// returns the number of regions filled and where the walk ended.
func pagemapScan(b []byte, vec []pageRegion) (int, uint64, error) {
	// arg carries b's and vec's addresses as numbers, which the stack copier does not update:
	// pinning moves them to the heap (Pin takes an interface) and keeps them there for the call.
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(&b[0])
	pin.Pin(&vec[0])
	start := uint64(uintptr(unsafe.Pointer(&b[0])))
	arg := pmScanArg{
		Size: uint64(unsafe.Sizeof(pmScanArg{})), Start: start, End: start + uint64(len(b)),
		Vec: uint64(uintptr(unsafe.Pointer(&vec[0]))), VecLen: uint64(len(vec)),
		CategoryInverted: pageIsFile, CategoryMask: pageIsFile,
		CategoryAnyofMask: pageIsPresent | pageIsSwapped,
		ReturnMask:        pageIsPresent | pageIsSwapped | pageIsFile | pageIsPFNZero,
	}
	n, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(pagemap.fd), pagemapScanIoctl, uintptr(unsafe.Pointer(&arg)))
	if e != 0 {
		return 0, 0, fmt.Errorf("PAGEMAP_SCAN: %w", e)
	}
	return int(n), arg.WalkEnd, nil
}

// pageScanner holds one machine's buffers for candidate scans.
type pageScanner struct {
	regions []pageRegion
	entries []byte
}

var errScanBug = errors.New("machine: PAGEMAP_SCAN answered outside the range or made no progress")

// candidates calls f(first, last, zero) for the runs of pages of b (page-aligned) that may
// differ from what an untouched page reads as, as page offsets from b's start, in ascending
// order. zero says the run maps the shared zero page (it was only read, or the kernel found it
// zero-filled): it reads as zeros, which matters only where zeros are not what it should hold.
func (ps *pageScanner) candidates(b []byte, f func(first, last int, zero bool)) error {
	if len(b) == 0 {
		return nil
	}
	npages := len(b) / pageSize
	switch currentScanMode() {
	case scanAll:
		f(0, npages, false)
		return nil
	case scanPagemapRead:
		const batch = 4096 // pages per read: 32 KiB of entries
		if len(ps.entries) < batch*8 {
			ps.entries = make([]byte, batch*8)
		}
		base := uint64(uintptr(unsafe.Pointer(&b[0]))) / pageSize
		run := -1
		for p := 0; p < npages; p += batch {
			n := min(batch, npages-p)
			buf := ps.entries[:n*8]
			if _, err := unix.Pread(pagemap.fd, buf, int64((base+uint64(p))*8)); err != nil {
				return fmt.Errorf("reading /proc/self/pagemap: %w", err)
			}
			for i := 0; i < n; i++ {
				e := *(*uint64)(unsafe.Pointer(&buf[i*8]))
				hit := e&pmSwap != 0 || (e&pmPresent != 0 && e&pmFile == 0)
				switch {
				case hit && run < 0:
					run = p + i
				case !hit && run >= 0:
					f(run, p+i, false) // the PFN that would tell zero pages needs CAP_SYS_ADMIN
					run = -1
				}
			}
		}
		if run >= 0 {
			f(run, npages, false)
		}
		return nil
	}
	if len(ps.regions) == 0 {
		ps.regions = make([]pageRegion, 256)
	}
	lo := uint64(uintptr(unsafe.Pointer(&b[0])))
	hi := lo + uint64(len(b))
	for cur := lo; cur < hi; {
		n, end, err := pagemapScan(b[cur-lo:], ps.regions)
		if err != nil {
			return err
		}
		for _, r := range ps.regions[:n] {
			if r.Start < cur || r.End > hi || r.Start >= r.End {
				return errScanBug
			}
			f(int((r.Start-lo)/pageSize), int((r.End-lo)/pageSize), r.Categories&pageIsPFNZero != 0)
		}
		if end >= hi {
			break
		}
		if end <= cur {
			return errScanBug
		}
		cur = end
	}
	return nil
}
