package machine

import (
	"sync"

	"github.com/hlwasm/hlwasm/api"
)

// viewGuard decides whether the api.Memory views a machine handed out may still touch guest
// memory. A view is valid until the next request to the guest (Sandbox.Memory), or until its
// host call ends (the view a host function gets); once the machine is closed no view is, and
// Close unmaps guest memory only after no access is in progress. A stale view's accesses fail
// (ok false, Size 0): a view kept too long can never read another call's state or fault.
type viewGuard struct {
	mu     sync.RWMutex
	gen    uint64
	closed bool
}

func (g *viewGuard) view(b []byte) api.Memory {
	v := &guestView{}
	g.init(v, b)
	return v
}

// init makes v a view of b valid now (v is new: a host call's view lives in its frame).
func (g *viewGuard) init(v *guestView, b []byte) {
	g.mu.RLock()
	v.g, v.gen, v.b = g, g.gen, api.ByteMemory(b)
	g.mu.RUnlock()
}

func (g *viewGuard) invalidate() {
	g.mu.Lock()
	g.gen++
	g.mu.Unlock()
}

func (g *viewGuard) close() {
	g.mu.Lock()
	g.gen++
	g.closed = true
	g.mu.Unlock()
}

// grower grows the memory a guestView shows (a host call's frame, or growFunc).
type grower interface {
	grow(delta uint32) (api.ByteMemory, uint32, bool)
}

type growFunc func(delta uint32) (api.ByteMemory, uint32, bool)

func (f growFunc) grow(delta uint32) (api.ByteMemory, uint32, bool) { return f(delta) }

// guestView is a bounded window of guest memory that checks its validity on every access.
type guestView struct {
	g   *viewGuard
	gen uint64
	b   api.ByteMemory
	// grow, when set, asks the guest to grow the memory and returns the window it covers
	// now (checked), the previous size in pages and whether it grew.
	grow grower
	// regen: the grow request invalidates every view (a top-level request); this one is
	// made valid again with the grown window.
	regen bool
}

// enter takes the guard for one access; false when the view is stale.
func (v *guestView) enter() bool {
	v.g.mu.RLock()
	if v.g.gen != v.gen || v.g.closed {
		v.g.mu.RUnlock()
		return false
	}
	return true
}

func (v *guestView) leave() { v.g.mu.RUnlock() }

func (v *guestView) Size() uint64 {
	if !v.enter() {
		return 0
	}
	defer v.leave()
	return v.b.Size()
}

func (v *guestView) Read(offset, length uint32) ([]byte, bool) {
	if !v.enter() {
		return nil, false
	}
	defer v.leave()
	return v.b.Read(offset, length)
}

func (v *guestView) Write(offset uint32, data []byte) bool {
	if !v.enter() {
		return false
	}
	defer v.leave()
	return v.b.Write(offset, data)
}

func (v *guestView) ReadString(offset, length uint32) (string, bool) {
	if !v.enter() {
		return "", false
	}
	defer v.leave()
	return v.b.ReadString(offset, length)
}

func (v *guestView) ReadUint8(offset uint32) (byte, bool) {
	if !v.enter() {
		return 0, false
	}
	defer v.leave()
	return v.b.ReadUint8(offset)
}

func (v *guestView) ReadUint16Le(offset uint32) (uint16, bool) {
	if !v.enter() {
		return 0, false
	}
	defer v.leave()
	return v.b.ReadUint16Le(offset)
}

func (v *guestView) ReadUint32Le(offset uint32) (uint32, bool) {
	if !v.enter() {
		return 0, false
	}
	defer v.leave()
	return v.b.ReadUint32Le(offset)
}

func (v *guestView) ReadUint64Le(offset uint32) (uint64, bool) {
	if !v.enter() {
		return 0, false
	}
	defer v.leave()
	return v.b.ReadUint64Le(offset)
}

func (v *guestView) WriteUint8(offset uint32, x byte) bool {
	if !v.enter() {
		return false
	}
	defer v.leave()
	return v.b.WriteUint8(offset, x)
}

func (v *guestView) WriteUint16Le(offset uint32, x uint16) bool {
	if !v.enter() {
		return false
	}
	defer v.leave()
	return v.b.WriteUint16Le(offset, x)
}

func (v *guestView) WriteUint32Le(offset uint32, x uint32) bool {
	if !v.enter() {
		return false
	}
	defer v.leave()
	return v.b.WriteUint32Le(offset, x)
}

func (v *guestView) WriteUint64Le(offset uint32, x uint64) bool {
	if !v.enter() {
		return false
	}
	defer v.leave()
	return v.b.WriteUint64Le(offset, x)
}

func (v *guestView) ReadFloat32Le(offset uint32) (float32, bool) {
	if !v.enter() {
		return 0, false
	}
	defer v.leave()
	return v.b.ReadFloat32Le(offset)
}

func (v *guestView) ReadFloat64Le(offset uint32) (float64, bool) {
	if !v.enter() {
		return 0, false
	}
	defer v.leave()
	return v.b.ReadFloat64Le(offset)
}

func (v *guestView) WriteFloat32Le(offset uint32, x float32) bool {
	if !v.enter() {
		return false
	}
	defer v.leave()
	return v.b.WriteFloat32Le(offset, x)
}

func (v *guestView) WriteFloat64Le(offset uint32, x float64) bool {
	if !v.enter() {
		return false
	}
	defer v.leave()
	return v.b.WriteFloat64Le(offset, x)
}

func (v *guestView) WriteString(offset uint32, x string) bool {
	if !v.enter() {
		return false
	}
	defer v.leave()
	return v.b.WriteString(offset, x)
}

// Grow grows the memory through the guest (memory.grow's semantics) and widens the view.
func (v *guestView) Grow(delta uint32) (uint32, bool) {
	if v.grow == nil || !v.enter() {
		return 0, false
	}
	v.leave()
	b, prev, ok := v.grow.grow(delta)
	if b == nil {
		return 0, false
	}
	v.g.mu.Lock()
	defer v.g.mu.Unlock()
	if v.regen && !v.g.closed {
		v.gen = v.g.gen
	}
	if v.gen == v.g.gen && !v.g.closed {
		v.b = b
	}
	return prev, ok
}
