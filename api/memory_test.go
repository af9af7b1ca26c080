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

// wazero's names: floats and strings, bounds checked like the rest.
func TestByteMemoryWazeroNames(t *testing.T) {
	m := make(api.ByteMemory, 16)
	if !m.WriteFloat64Le(8, -0.5) || m.WriteFloat64Le(9, 1) || !m.WriteFloat32Le(0, 3.5) || !m.WriteString(4, "abcd") ||
		m.WriteString(14, "abc") {
		t.Fatal("writes")
	}
	if f, ok := m.ReadFloat64Le(8); !ok || f != -0.5 {
		t.Fatalf("ReadFloat64Le %v %v", f, ok)
	}
	if f, ok := m.ReadFloat32Le(0); !ok || f != 3.5 {
		t.Fatalf("ReadFloat32Le %v %v", f, ok)
	}
	if s, ok := m.ReadString(4, 4); !ok || s != "abcd" {
		t.Fatalf("ReadString %q %v", s, ok)
	}
	if _, ok := m.ReadFloat32Le(13); ok {
		t.Fatal("read past the end")
	}
}
