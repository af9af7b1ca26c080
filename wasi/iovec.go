package wasi

import (
	"errors"
	"io"

	"github.com/hlwasm/hlwasm/api"
)

// Caps on guest-chosen sizes: iovecs beyond maxIovecs are ignored (a short transfer, which
// callers must handle anyway) and one call moves at most maxTransfer bytes.
const (
	maxIovecs   = 1024
	maxTransfer = 1 << 30
)

type iovec struct{ buf, len uint32 }

// readIovecs loads up to maxIovecs iovecs, checking that the whole array and every buffer lie in
// memory (EFAULT otherwise) before anything is transferred.
func readIovecs(m api.Memory, iovs, count uint32) ([]iovec, Errno) {
	size := m.Size()
	if uint64(iovs)+uint64(count)*iovecSize > size {
		return nil, ErrnoFault
	}
	count = min(count, maxIovecs)
	out := make([]iovec, 0, count)
	for i := range count {
		buf, ok1 := m.ReadUint32Le(iovs + i*iovecSize)
		n, ok2 := m.ReadUint32Le(iovs + i*iovecSize + 4)
		if !ok1 || !ok2 || uint64(buf)+uint64(n) > size {
			return nil, ErrnoFault
		}
		out = append(out, iovec{buf, n})
	}
	return out, ErrnoSuccess
}

// readInto fills the iovecs from read (called with buffers of at most chunkSize bytes), stopping
// at the first short read; it returns the bytes stored.
func readInto(m api.Memory, iovs []iovec, read func([]byte) (int, error)) (uint32, Errno) {
	var total uint32
	want := uint64(0)
	for _, v := range iovs {
		want += uint64(v.len)
	}
	// A 512-byte read need not allocate and clear 64 KiB (measured: most of its host cost).
	chunk := make([]byte, min(chunkSize, want))
	for _, v := range iovs {
		for off := uint32(0); off < v.len; {
			want := min(v.len-off, chunkSize, maxTransfer-total)
			if want == 0 {
				return total, ErrnoSuccess
			}
			n, err := read(chunk[:want])
			if n > 0 && !m.Write(v.buf+off, chunk[:n]) {
				return total, ErrnoFault
			}
			total += uint32(n)
			off += uint32(n)
			if err != nil && !errors.Is(err, io.EOF) && total == 0 {
				return 0, ErrnoIo
			}
			if err != nil || n < int(want) {
				return total, ErrnoSuccess
			}
		}
	}
	return total, ErrnoSuccess
}

// writeFrom copies the iovecs to w in chunks; a nil w accepts everything. An error ends the
// transfer: a short one if anything was written, else the error's errno.
func writeFrom(m api.Memory, iovs []iovec, w io.Writer) (uint32, Errno) {
	var total uint32
	for _, v := range iovs {
		for off := uint32(0); off < v.len; {
			want := min(v.len-off, chunkSize, maxTransfer-total)
			if want == 0 {
				return total, ErrnoSuccess
			}
			if w != nil {
				data, ok := m.Read(v.buf+off, want)
				if !ok {
					return total, ErrnoFault
				}
				n, err := w.Write(data)
				total += uint32(n)
				if err != nil {
					if total == 0 {
						return 0, errnoOf(err)
					}
					return total, ErrnoSuccess
				}
			} else {
				total += want
			}
			off += want
		}
	}
	return total, ErrnoSuccess
}
