package wit

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/hlwasm/hlwasm/api"
)

// DefaultMaxBytes is the default for [Options.MaxBytes]: 16 MiB.
const DefaultMaxBytes = 16 << 20

// Canonical ABI limits on flattened signatures.
const (
	MaxFlatParams  = 16
	MaxFlatResults = 1
)

// Options configure the Canonical ABI.
type Options struct {
	// MaxBytes bounds the byte length of any one string or list read from or written to a
	// guest, and the host memory that the values lifted in one call take (nested lists
	// count): a string or list<u8> costs its length, any other list its elements' Go size
	// (16 bytes or more each, however small they are in guest memory).
	// 0 means DefaultMaxBytes.
	MaxBytes uint32
	// Realloc is the guest's allocator export; "" means "cabi_realloc".
	Realloc string
	// HasExport reports whether the guest exports a function; it decides whether
	// cabi_post_* is called after an export's results are read. When nil, an Instance that
	// has a HasExport(string) bool method is asked; otherwise post-return is skipped.
	HasExport func(name string) bool
	// MaxHandles bounds each handle table of an exported resource's instance (the guest's and
	// the host's, see [Resource]): a guest creating handles without dropping them traps with
	// ErrLimit. 0 means DefaultMaxHandles.
	MaxHandles int
}

func (o *Options) maxBytes() uint64 {
	if o == nil || o.MaxBytes == 0 {
		return DefaultMaxBytes
	}
	return uint64(o.MaxBytes)
}

func (o *Options) realloc() string {
	if o == nil || o.Realloc == "" {
		return "cabi_realloc"
	}
	return o.Realloc
}

// caller is what lifting and lowering need of an instance: memory and cabi_realloc.
// api.Caller and Instance both satisfy it.
type caller interface {
	Memory() api.Memory
	Call(ctx context.Context, name string, params ...uint64) ([]uint64, error)
}

// cx is the state of one lift or lower.
type cx struct {
	ctx        context.Context
	mem        api.Memory
	inst       caller // nil: no realloc
	realloc    string
	max        uint64
	budget     uint64 // bytes left to lift in this call
	hs         handleState
	maxHandles int
}

func newCx(ctx context.Context, mem api.Memory, inst caller, o *Options) *cx {
	m := o.maxBytes()
	return &cx{ctx: ctx, mem: mem, inst: inst, realloc: o.realloc(), max: m, budget: m, maxHandles: o.maxHandles()}
}

func (c *cx) memSize() uint64 {
	if c.mem == nil {
		return 0
	}
	return c.mem.Size()
}

// check verifies that [ptr, ptr+n) lies in memory and ptr is aligned.
func (c *cx) check(ptr uint32, n uint64, align uint32, what string) error {
	if align > 1 && ptr%align != 0 {
		return trapf(ErrMisaligned, "%s at %#x not aligned to %d", what, ptr, align)
	}
	if uint64(ptr)+n > c.memSize() {
		return trapf(ErrBadPointer, "%s at %#x+%d past memory size %d", what, ptr, n, c.memSize())
	}
	return nil
}

func (c *cx) read(ptr uint32, n uint64, align uint32, what string) ([]byte, error) {
	if err := c.check(ptr, n, align, what); err != nil {
		return nil, err
	}
	b, ok := c.mem.Read(ptr, uint32(n))
	if !ok {
		return nil, trapf(ErrBadPointer, "%s at %#x+%d", what, ptr, n)
	}
	return b, nil
}

func (c *cx) write(ptr uint32, b []byte, align uint32, what string) error {
	if err := c.check(ptr, uint64(len(b)), align, what); err != nil {
		return err
	}
	if !c.mem.Write(ptr, b) {
		return trapf(ErrBadPointer, "%s at %#x+%d", what, ptr, len(b))
	}
	return nil
}

// charge takes n bytes from the call's lift budget.
func (c *cx) charge(n uint64, what string) error {
	if n > c.budget {
		return trapf(ErrLimit, "%s: %d bytes over the remaining limit of %d (max %d)", what, n, c.budget, c.max)
	}
	c.budget -= n
	return nil
}

// alloc calls the guest's cabi_realloc(0, 0, align, size) and checks the result.
func (c *cx) alloc(align, size uint32) (uint32, error) {
	if uint64(size) > c.max {
		return 0, fmt.Errorf("%w: %d bytes to pass to the guest, limit %d", ErrLimit, size, c.max)
	}
	if c.inst == nil {
		return 0, trapf(ErrRealloc, "no instance to call %s on (engine set no api.Caller?)", c.realloc)
	}
	res, err := c.inst.Call(c.ctx, c.realloc, 0, 0, uint64(align), uint64(size))
	if err != nil {
		return 0, fmt.Errorf("%w: %w: %s: %w", ErrTrap, ErrRealloc, c.realloc, err)
	}
	if len(res) != 1 {
		return 0, trapf(ErrRealloc, "%s returned %d values", c.realloc, len(res))
	}
	ptr := uint32(res[0])
	if m := c.inst.Memory(); m != nil {
		c.mem = m // cabi_realloc may have grown memory; a view may need refreshing
	}
	if err := c.check(ptr, uint64(size), align, c.realloc+" result"); err != nil {
		return 0, err
	}
	return ptr, nil
}

// ---- lifting from memory ----

// load reads a value of type t at ptr.
func (c *cx) load(t *Type, ptr uint32) (Value, error) {
	b, err := c.read(ptr, uint64(t.size), t.align, t.String())
	if err != nil {
		return nil, err
	}
	return c.decode(t, b)
}

// decode lifts a value of type t from its memory representation b (len(b) >= t.size).
func (c *cx) decode(t *Type, b []byte) (Value, error) {
	le := binary.LittleEndian
	switch t.k {
	case kBool:
		return b[0] != 0, nil
	case kS8:
		return int8(b[0]), nil
	case kU8:
		return b[0], nil
	case kS16:
		return int16(le.Uint16(b)), nil
	case kU16:
		return le.Uint16(b), nil
	case kS32:
		return int32(le.Uint32(b)), nil
	case kU32:
		return le.Uint32(b), nil
	case kS64:
		return int64(le.Uint64(b)), nil
	case kU64:
		return le.Uint64(b), nil
	case kF32:
		return math.Float32frombits(le.Uint32(b)), nil
	case kF64:
		return math.Float64frombits(le.Uint64(b)), nil
	case kChar:
		return liftChar(le.Uint32(b))
	case kOwn, kBorrow:
		if t.elem.res != nil {
			return c.liftHandle(t, le.Uint32(b))
		}
		return Handle(le.Uint32(b)), nil
	case kString:
		return c.liftString(le.Uint32(b), le.Uint32(b[4:]))
	case kList:
		return c.liftList(t, le.Uint32(b), le.Uint32(b[4:]))
	case kRecord, kTuple:
		var off uint32
		vals := make([]Value, len(t.subs))
		for i, e := range t.subs {
			off = alignTo(off, e.align)
			v, err := c.decode(e, b[off:])
			if err != nil {
				return nil, err
			}
			vals[i] = v
			off += e.size
		}
		return c.makeRecord(t, vals), nil
	case kFlags:
		var bits []uint32
		switch t.size {
		case 1:
			bits = []uint32{uint32(b[0])}
		case 2:
			bits = []uint32{uint32(le.Uint16(b))}
		default:
			for i := uint32(0); i < t.size; i += 4 {
				bits = append(bits, le.Uint32(b[i:]))
			}
		}
		return t.makeFlags(bits), nil
	case kVariant, kEnum, kOption, kResult:
		var d uint32
		switch discSize(len(t.subs)) {
		case 1:
			d = uint32(b[0])
		case 2:
			d = uint32(le.Uint16(b))
		default:
			d = le.Uint32(b)
		}
		if d >= uint32(len(t.subs)) {
			return nil, trapf(ErrInvalidValue, "%s: discriminant %d of %d cases", t, d, len(t.subs))
		}
		var payload Value
		if e := t.subs[d]; e != nil {
			v, err := c.decode(e, b[t.payloadOffset():])
			if err != nil {
				return nil, err
			}
			payload = v
		}
		return t.makeCase(int(d), payload), nil
	}
	return nil, fmt.Errorf("%w: lift %s", ErrUnsupported, t)
}

func liftChar(u uint32) (Value, error) {
	if u >= 0x110000 || (u >= 0xD800 && u <= 0xDFFF) {
		return nil, trapf(ErrInvalidValue, "char %#x is not a Unicode scalar value", u)
	}
	return Char(u), nil
}

func (c *cx) liftString(ptr, n uint32) (Value, error) {
	if uint64(n) > c.max {
		return nil, trapf(ErrLimit, "string of %d bytes, limit %d", n, c.max)
	}
	if err := c.charge(uint64(n), "string"); err != nil {
		return nil, err
	}
	if err := c.check(ptr, uint64(n), 1, "string"); err != nil {
		return nil, err
	}
	s, ok := c.mem.ReadString(ptr, n)
	if !ok {
		return nil, trapf(ErrBadPointer, "string at %#x+%d", ptr, n)
	}
	if !utf8.ValidString(s) {
		return nil, trapf(ErrInvalidUTF8, "string at %#x+%d", ptr, n)
	}
	return s, nil
}

// liftList lifts a list, charged by the host memory its Go value takes (at least its bytes in
// guest memory): a List holds each element in a 16-byte interface, plus what the element
// boxes, so a budget of guest bytes would let the host allocate many times the limit.
// list<u8> lifts into a []byte, one byte per element.
func (c *cx) liftList(t *Type, ptr, n uint32) (Value, error) {
	e := t.elem
	bytes := uint64(n) * uint64(e.size)
	cost := bytes
	if e.k != kU8 {
		cost = max(bytes, uint64(n)*(16+e.goSize()))
	}
	if cost > c.max {
		return nil, trapf(ErrLimit, "%s of %d elements (%d bytes, %d lifted), limit %d bytes", t, n, bytes, cost, c.max)
	}
	if err := c.charge(cost, t.String()); err != nil {
		return nil, err
	}
	b, err := c.read(ptr, bytes, e.align, t.String())
	if err != nil {
		return nil, err
	}
	if e.k == kU8 {
		if b == nil {
			b = []byte{} // an empty list is not a nil slice
		}
		return b, nil // api.Memory.Read copies
	}
	out := make(List, n)
	for i := range out {
		v, err := c.decode(e, b[uint64(i)*uint64(e.size):])
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// bytesClone copies b (never nil, so an empty list<u8> lifts as []byte{}).
func bytesClone(b []byte) []byte { return append(make([]byte, 0, len(b)), b...) }

// goSize estimates the heap bytes a lifted dynamic value of type t takes besides the
// interface holding it (strings' and lists' contents are charged when they are lifted). An
// upper bound on 64-bit Go: byte-sized scalars need no allocation, others box 8 bytes.
func (t *Type) goSize() uint64 {
	switch t.k {
	case kBool, kS8, kU8:
		return 0
	case kString, kEnum:
		return 16
	case kList, kFlags:
		n := uint64(24)
		if t.k == kFlags {
			n += 16 * uint64(len(t.names))
		}
		return n
	case kRecord, kTuple:
		n := uint64(24)
		for _, e := range t.subs {
			n += 32 + e.goSize() // a Field: name and interface
		}
		return n
	case kVariant, kOption, kResult:
		var p uint64
		for _, e := range t.subs {
			if e != nil {
				p = max(p, e.goSize())
			}
		}
		return 48 + p
	}
	return 8
}

func (c *cx) makeRecord(t *Type, vals []Value) Value {
	if t.k == kTuple {
		return Tuple(vals)
	}
	r := make(Record, len(vals))
	for i, v := range vals {
		r[i] = Field{Name: t.names[i], Value: v}
	}
	return r
}

func (t *Type) makeFlags(bits []uint32) Value {
	f := Flags{}
	for i, name := range t.names {
		if bits[i/32]&(1<<(i%32)) != 0 {
			f = append(f, name)
		}
	}
	return f
}

func (t *Type) makeCase(d int, payload Value) Value {
	switch t.k {
	case kEnum:
		return Enum(t.names[d])
	case kOption:
		if d == 0 {
			return Option[Value]{}
		}
		return Option[Value]{Value: payload, Valid: true}
	case kResult:
		if d == 0 {
			return Result[Value, Value]{OK: payload}
		}
		return Result[Value, Value]{Err: payload, IsErr: true}
	}
	return Variant{Case: t.names[d], Payload: payload}
}

// ---- lifting from flat core values ----

// liftFlat lifts a value of type t from flat core values (wazero's uint64 encoding).
func (c *cx) liftFlat(t *Type, flat []uint64) (Value, error) {
	if len(flat) < len(t.flat) {
		return nil, fmt.Errorf("%w: %s needs %d core values, got %d", ErrType, t, len(t.flat), len(flat))
	}
	switch t.k {
	case kBool:
		return uint32(flat[0]) != 0, nil
	case kS8:
		return int8(flat[0]), nil
	case kU8:
		return uint8(flat[0]), nil
	case kS16:
		return int16(flat[0]), nil
	case kU16:
		return uint16(flat[0]), nil
	case kS32:
		return int32(flat[0]), nil
	case kU32:
		return uint32(flat[0]), nil
	case kS64:
		return int64(flat[0]), nil
	case kU64:
		return flat[0], nil
	case kF32:
		return math.Float32frombits(uint32(flat[0])), nil
	case kF64:
		return math.Float64frombits(flat[0]), nil
	case kChar:
		return liftChar(uint32(flat[0]))
	case kOwn, kBorrow:
		if t.elem.res != nil {
			return c.liftHandle(t, uint32(flat[0]))
		}
		return Handle(uint32(flat[0])), nil
	case kString:
		return c.liftString(uint32(flat[0]), uint32(flat[1]))
	case kList:
		return c.liftList(t, uint32(flat[0]), uint32(flat[1]))
	case kRecord, kTuple:
		vals := make([]Value, len(t.subs))
		i := 0
		for j, e := range t.subs {
			v, err := c.liftFlat(e, flat[i:])
			if err != nil {
				return nil, err
			}
			vals[j] = v
			i += len(e.flat)
		}
		return c.makeRecord(t, vals), nil
	case kFlags:
		bits := make([]uint32, len(t.flat))
		for i := range bits {
			bits[i] = uint32(flat[i])
		}
		if len(t.names) > 0 && len(t.names) < 32 {
			bits[0] &= 1<<len(t.names) - 1
		}
		return t.makeFlags(bits), nil
	case kVariant, kEnum, kOption, kResult:
		d := uint32(flat[0])
		if d >= uint32(len(t.subs)) {
			return nil, trapf(ErrInvalidValue, "%s: discriminant %d of %d cases", t, d, len(t.subs))
		}
		var payload Value
		if e := t.subs[d]; e != nil {
			// Joined slots hold the payload's values in their low bits (i32 in i64, f32 bits
			// in i32...), which is how the uint64 encoding stores them anyway.
			v, err := c.liftFlat(e, flat[1:])
			if err != nil {
				return nil, err
			}
			payload = v
		}
		return t.makeCase(int(d), payload), nil
	}
	return nil, fmt.Errorf("%w: lift %s", ErrUnsupported, t)
}
