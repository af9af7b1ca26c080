package api

import (
	"encoding/binary"
	"math"
)

// ByteMemory is a Memory over a byte slice (the linear memory as the host sees it: a window of
// guest memory for a micro-VM, the engine's buffer for wazero). Bounds are checked with 64-bit
// arithmetic so offset+length cannot wrap.
type ByteMemory []byte

func (m ByteMemory) Size() uint64 { return uint64(len(m)) }

func (m ByteMemory) in(offset, length uint32) bool {
	return uint64(offset)+uint64(length) <= uint64(len(m))
}

func (m ByteMemory) Read(offset, length uint32) ([]byte, bool) {
	if !m.in(offset, length) {
		return nil, false
	}
	return append([]byte(nil), m[offset:offset+length]...), true
}

func (m ByteMemory) Write(offset uint32, data []byte) bool {
	if uint64(len(data)) >= 1<<32 || !m.in(offset, uint32(len(data))) {
		return false
	}
	copy(m[offset:], data)
	return true
}

func (m ByteMemory) ReadString(offset, length uint32) (string, bool) {
	if !m.in(offset, length) {
		return "", false
	}
	return string(m[offset : offset+length]), true
}

func (m ByteMemory) ReadUint8(offset uint32) (byte, bool) {
	if !m.in(offset, 1) {
		return 0, false
	}
	return m[offset], true
}

func (m ByteMemory) ReadUint16Le(offset uint32) (uint16, bool) {
	if !m.in(offset, 2) {
		return 0, false
	}
	return binary.LittleEndian.Uint16(m[offset:]), true
}

func (m ByteMemory) ReadUint32Le(offset uint32) (uint32, bool) {
	if !m.in(offset, 4) {
		return 0, false
	}
	return binary.LittleEndian.Uint32(m[offset:]), true
}

func (m ByteMemory) ReadUint64Le(offset uint32) (uint64, bool) {
	if !m.in(offset, 8) {
		return 0, false
	}
	return binary.LittleEndian.Uint64(m[offset:]), true
}

func (m ByteMemory) WriteUint8(offset uint32, v byte) bool {
	if !m.in(offset, 1) {
		return false
	}
	m[offset] = v
	return true
}

func (m ByteMemory) WriteUint16Le(offset uint32, v uint16) bool {
	if !m.in(offset, 2) {
		return false
	}
	binary.LittleEndian.PutUint16(m[offset:], v)
	return true
}

func (m ByteMemory) WriteUint32Le(offset uint32, v uint32) bool {
	if !m.in(offset, 4) {
		return false
	}
	binary.LittleEndian.PutUint32(m[offset:], v)
	return true
}

func (m ByteMemory) WriteUint64Le(offset uint32, v uint64) bool {
	if !m.in(offset, 8) {
		return false
	}
	binary.LittleEndian.PutUint64(m[offset:], v)
	return true
}

func (m ByteMemory) ReadFloat32Le(offset uint32) (float32, bool) {
	v, ok := m.ReadUint32Le(offset)
	return math.Float32frombits(v), ok
}

func (m ByteMemory) ReadFloat64Le(offset uint32) (float64, bool) {
	v, ok := m.ReadUint64Le(offset)
	return math.Float64frombits(v), ok
}

func (m ByteMemory) WriteFloat32Le(offset uint32, v float32) bool {
	return m.WriteUint32Le(offset, math.Float32bits(v))
}

func (m ByteMemory) WriteFloat64Le(offset uint32, v float64) bool {
	return m.WriteUint64Le(offset, math.Float64bits(v))
}

// Grow cannot grow a slice in place: only a zero delta succeeds.
func (m ByteMemory) Grow(deltaPages uint32) (uint32, bool) {
	return uint32(uint64(len(m)) / 65536), deltaPages == 0
}

func (m ByteMemory) WriteString(offset uint32, v string) bool {
	if uint64(len(v)) >= 1<<32 || !m.in(offset, uint32(len(v))) {
		return false
	}
	copy(m[offset:], v)
	return true
}
