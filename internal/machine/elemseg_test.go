package machine

import (
	"context"
	"encoding/binary"
	"testing"
)

// elemModule builds a module with one function, one funcref table of tableMin elements and one
// element segment of n items. flags is the segment's encoding (0 active funcidx, 1 passive
// funcidx, 3 declarative funcidx, 4 active expressions, 5 passive expressions); item is the
// encoding of one item (a function index or a constant expression).
func elemModule(flags byte, n, tableMin uint32, item []byte) []byte {
	uleb := func(b []byte, v uint32) []byte { return binary.AppendUvarint(b, uint64(v)) }
	section := func(out []byte, id byte, body []byte) []byte {
		out = append(out, id)
		out = uleb(out, uint32(len(body)))
		return append(out, body...)
	}
	out := []byte{0, 'a', 's', 'm', 1, 0, 0, 0}
	out = section(out, 1, []byte{1, 0x60, 0, 0})              // type () -> ()
	out = section(out, 3, []byte{1, 0})                       // one function
	out = section(out, 4, uleb([]byte{1, 0x70, 0}, tableMin)) // funcref table, min only
	seg := []byte{1, flags}                                   // one segment
	if flags == 0 || flags == 4 {
		seg = append(seg, 0x41, 0, 0x0b) // offset i32.const 0
	}
	switch flags {
	case 1, 3:
		seg = append(seg, 0) // elemkind funcref
	case 5:
		seg = append(seg, 0x70) // reftype funcref
	}
	seg = uleb(seg, n)
	for range n {
		seg = append(seg, item...)
	}
	out = section(out, 9, seg)
	out = section(out, 10, []byte{1, 2, 0, 0x0b}) // body: no locals, end
	return out
}

// A large element segment costs the guest a small multiple of its size: the heap regions the
// host maps for the guest (each backed by host memory once touched) grow by at most 6 bytes
// per element (the engine keeps 4), plus the table's 8 bytes per slot. It used to be 32 bytes
// per element (a 24-byte decoded expression kept with the module and an 8-byte evaluated
// copy per instance, even for segments dropped at instantiation), ~30x the segment's size
// in the binary: hundreds of MiB for a 10 MB module, twice over on the host with the snapshot.
func TestElementSegmentMemory(t *testing.T) {
	k := requireKVM(t)
	ctx := context.Background()
	const n = 3_000_000
	for _, c := range []struct {
		name     string
		flags    byte
		tableMin uint32
		item     []byte
	}{
		{"active-funcidx", 0, n, []byte{0}},
		{"passive-funcidx", 1, 0, []byte{0}},
		{"declarative-funcidx", 3, 0, []byte{0}},
		{"active-expr", 4, n, []byte{0xd2, 0, 0x0b}},
		{"passive-expr-null", 5, 0, []byte{0xd0, 0x70, 0x0b}},
		{"passive-expr-func", 5, 0, []byte{0xd2, 0, 0x0b}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := New(ctx, Config{KVM: k})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if err := m.Ping(ctx); err != nil {
				t.Fatal(err)
			}
			before := len(m.mapped)
			wasm := elemModule(c.flags, n, c.tableMin, c.item)
			if _, err := m.Load(ctx, wasm); err != nil {
				t.Fatal(err)
			}
			grew := uint64(len(m.mapped)-before) * hugePage
			t.Logf("%s: module %d bytes, %d elements: guest heap mapped +%d MiB (%.1f bytes per element)",
				c.name, len(wasm), n, grew>>20, float64(grew)/n)
			if limit := 6*n + 8*uint64(c.tableMin) + 4<<20; grew > limit {
				t.Errorf("guest heap grew by %d MiB, want at most %d MiB", grew>>20, limit>>20)
			}
		})
	}
}
