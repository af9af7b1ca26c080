package vmm

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// KVMStats reads the vCPU's counters from KVM's binary statistics (KVM_GET_STATS_FD, Linux
// 5.14+): exits, pf_taken, pf_fixed (guest page faults KVM resolved: on a shadow-paging KVM
// such as PVM, the first touch of each guest page), and the rest by name. For measurements:
// where a first call's time goes is mostly such faults (TestColdBreakdown).
func (c *VCPU) KVMStats() (map[string]uint64, error) {
	out := map[string]uint64{}
	err := c.Do(func(fd int) error {
		sfd, err := ioctlValue(fd, kvmGetStatsFD, 0)
		if err != nil {
			return fmt.Errorf("KVM_GET_STATS_FD: %w", err)
		}
		defer unix.Close(sfd)
		return readStats(sfd, out)
	})
	return out, err
}

// readStats decodes a statistics file: a header (flags, name_size, num_desc, id_offset,
// desc_offset, data_offset: six u32), num_desc descriptors (flags u32, exponent s16, size u16,
// offset u32, bucket_size u32, then a name of name_size bytes) and the data, u64 values at
// data_offset + each descriptor's offset. Histograms (size > 1) count by their first bucket.
func readStats(fd int, out map[string]uint64) error {
	buf := make([]byte, 64<<10)
	n, err := unix.Pread(fd, buf, 0)
	if err != nil {
		return fmt.Errorf("reading KVM statistics: %w", err)
	}
	buf = buf[:n]
	le := binary.LittleEndian
	if len(buf) < 24 {
		return fmt.Errorf("KVM statistics: %d-byte header", len(buf))
	}
	nameSize, num, descOff, dataOff := uint64(le.Uint32(buf[4:])), uint64(le.Uint32(buf[8:])),
		uint64(le.Uint32(buf[16:])), uint64(le.Uint32(buf[20:]))
	descSize := 16 + nameSize
	for i := uint64(0); i < num; i++ {
		at := descOff + i*descSize
		if at+descSize > uint64(len(buf)) {
			return fmt.Errorf("KVM statistics: descriptor %d past the end", i)
		}
		d := buf[at : at+descSize]
		val := dataOff + uint64(le.Uint32(d[8:]))
		if val+8 > uint64(len(buf)) {
			return fmt.Errorf("KVM statistics: value of descriptor %d past the end", i)
		}
		out[unix.ByteSliceToString(d[16:])] = le.Uint64(buf[val:])
	}
	return nil
}
