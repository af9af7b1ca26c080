package wazeroengine

import (
	wapi "github.com/tetratelabs/wazero/api"

	"github.com/hlwasm/hlwasm/api"
)

// memory adapts a wazero memory to api.Memory; reads return copies.
type memory struct{ m wapi.Memory }

var _ api.Memory = memory{}

// Size counts pages: wazero's Size is a uint32, which a 4 GiB memory wraps to 0.
func (m memory) Size() uint64 {
	pages, _ := m.m.Grow(0)
	return uint64(pages) * 65536
}

func (m memory) Read(offset, length uint32) ([]byte, bool) {
	b, ok := m.m.Read(offset, length)
	if !ok {
		return nil, false
	}
	return append([]byte(nil), b...), true
}

func (m memory) Write(offset uint32, data []byte) bool {
	if uint64(len(data)) > 1<<32-1 {
		return false
	}
	return m.m.Write(offset, data)
}

func (m memory) ReadString(offset, length uint32) (string, bool) {
	b, ok := m.m.Read(offset, length)
	if !ok {
		return "", false
	}
	return string(b), true
}

func (m memory) ReadUint8(offset uint32) (byte, bool)         { return m.m.ReadByte(offset) }
func (m memory) ReadUint16Le(offset uint32) (uint16, bool)    { return m.m.ReadUint16Le(offset) }
func (m memory) ReadUint32Le(offset uint32) (uint32, bool)    { return m.m.ReadUint32Le(offset) }
func (m memory) ReadUint64Le(offset uint32) (uint64, bool)    { return m.m.ReadUint64Le(offset) }
func (m memory) WriteUint8(offset uint32, v byte) bool        { return m.m.WriteByte(offset, v) }
func (m memory) WriteUint16Le(offset uint32, v uint16) bool   { return m.m.WriteUint16Le(offset, v) }
func (m memory) WriteUint32Le(offset uint32, v uint32) bool   { return m.m.WriteUint32Le(offset, v) }
func (m memory) WriteUint64Le(offset uint32, v uint64) bool   { return m.m.WriteUint64Le(offset, v) }
func (m memory) ReadFloat32Le(offset uint32) (float32, bool)  { return m.m.ReadFloat32Le(offset) }
func (m memory) ReadFloat64Le(offset uint32) (float64, bool)  { return m.m.ReadFloat64Le(offset) }
func (m memory) WriteFloat32Le(offset uint32, v float32) bool { return m.m.WriteFloat32Le(offset, v) }
func (m memory) WriteFloat64Le(offset uint32, v float64) bool { return m.m.WriteFloat64Le(offset, v) }
func (m memory) WriteString(offset uint32, v string) bool     { return m.m.WriteString(offset, v) }

func (m memory) Grow(deltaPages uint32) (uint32, bool) { return m.m.Grow(deltaPages) }
