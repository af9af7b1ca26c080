package api_test

import (
	"testing"

	"github.com/hlwasm/hlwasm/api"
)

// Bounds are checked with 64-bit arithmetic: offset+length may not wrap, and a write of 2^32
// bytes or more is refused whatever the offset.
func TestByteMemoryBounds(t *testing.T) {
	m := make(api.ByteMemory, 16)
	if m.Size() != 16 {
		t.Fatalf("Size %d", m.Size())
	}
	if !m.Write(12, []byte{1, 2, 3, 4}) || m.Write(13, []byte{1, 2, 3, 4}) {
		t.Fatal("write at the end")
	}
	if _, ok := m.Read(0xffffffff, 2); ok {
		t.Fatal("offset+length wrapped")
	}
	if v, ok := m.ReadUint32Le(12); !ok || v != 0x04030201 {
		t.Fatalf("read back %#x %v", v, ok)
	}
	if _, ok := m.ReadUint64Le(12); ok {
		t.Fatal("read past the end")
	}
}
