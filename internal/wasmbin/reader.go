package wasmbin

import (
	"fmt"
	"unicode/utf8"

	"github.com/hlwasm/hlwasm/api"
)

// reader decodes primitive values from a byte slice; every read is bounds checked.
type reader struct {
	b   []byte
	off int // absolute offset of b[0] in the module, for messages
	pos int
	// data[i]: type i is a struct or array type (GC), whose references are anyref to the host
	// API; a type index not in data is a function type's (funcref).
	data []bool
	gc   *bool // set when a struct or array heap type is read (Module.GCTypes)
}

// sawGC records that a GC construct was read.
func (r *reader) sawGC() {
	if r.gc != nil {
		*r.gc = true
	}
}

func (r *reader) remaining() int { return len(r.b) - r.pos }

// peek returns the next byte without consuming it (remaining() > 0).
func (r *reader) peek() byte { return r.b[r.pos] }

func (r *reader) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: at offset %d: %s", ErrMalformed, r.off+r.pos, fmt.Sprintf(format, args...))
}

func (r *reader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, r.errorf("unexpected end")
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

func (r *reader) bytes(n uint32) ([]byte, error) {
	if uint64(n) > uint64(r.remaining()) {
		return nil, r.errorf("length %d out of bounds (%d bytes left)", n, r.remaining())
	}
	s := r.b[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return s, nil
}

// u32 reads an unsigned LEB128 of at most 5 bytes whose unused high bits are zero.
func (r *reader) u32() (uint32, error) {
	var v uint32
	for i := 0; i < 5; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if i == 4 && c&0xf0 != 0 {
			return 0, r.errorf("integer too large")
		}
		v |= uint32(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, r.errorf("integer representation too long")
}

func (r *reader) u64() (uint64, error) {
	var v uint64
	for i := 0; i < 10; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		if i == 9 && c&0xfe != 0 {
			return 0, r.errorf("integer too large")
		}
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, r.errorf("integer representation too long")
}

// sleb checks a signed LEB128 of at most bits bits and returns it sign-extended.
func (r *reader) sleb(bits int) (int64, error) {
	var v int64
	maxBytes := (bits + 6) / 7
	for i := 0; i < maxBytes; i++ {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		shift := 7 * i
		if i == maxBytes-1 {
			// The unused high bits of the last byte must all equal the sign bit.
			if c&0x80 != 0 {
				return 0, r.errorf("integer representation too long")
			}
			used := uint(bits - shift)
			want := byte(0)
			if c>>(used-1)&1 == 1 {
				want = 0x7f >> used
			}
			if c>>used != want {
				return 0, r.errorf("integer too large")
			}
		}
		v |= int64(c&0x7f) << shift
		if c&0x80 == 0 {
			if shift+7 < 64 && c&0x40 != 0 {
				v |= -1 << (shift + 7)
			}
			return v, nil
		}
	}
	return 0, r.errorf("integer representation too long")
}

// count reads a vector length and checks that n items of at least minSize bytes each can
// be present, so callers may allocate n items.
func (r *reader) count(minSize int) (uint32, error) {
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if uint64(n)*uint64(minSize) > uint64(r.remaining()) {
		return 0, r.errorf("count %d exceeds the %d bytes left", n, r.remaining())
	}
	return n, nil
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(n)
	if err != nil {
		return "", err
	}
	if !utf8.Valid(b) {
		return "", r.errorf("malformed UTF-8 encoding")
	}
	return string(b), nil
}

func (r *reader) valType() (api.ValueType, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	if c == 0x63 || c == 0x64 {
		return r.heapType()
	}
	if c == 0x6b || c == 0x6a {
		r.sawGC()
	}
	if !validValType(c) {
		return 0, r.errorf("malformed value type 0x%02x", c)
	}
	if t, ok := refTypeOf(c); ok {
		return t, nil
	}
	return api.ValueType(c), nil
}

// heapType reads the heap type of a typed reference (ref null ht / ref ht, typed function
// references): func and a function type's index are funcref to the host API, a struct or
// array type's anyref, extern externref, exn exnref, GC's abstract heap types as refTypeOf
// says.
func (r *reader) heapType() (api.ValueType, error) {
	v, err := r.sleb(33)
	if err != nil {
		return 0, err
	}
	if v >= 0 {
		if v < int64(len(r.data)) && r.data[v] {
			return api.ValueTypeAnyref, nil
		}
		return api.ValueTypeFuncref, nil // a function type index (checked by the engine)
	}
	b := byte(v & 0x7f)
	if b == 0x6b || b == 0x6a {
		r.sawGC()
	}
	if t, ok := refTypeOf(b); ok {
		return t, nil
	}
	return 0, r.errorf("malformed heap type %d", v)
}

func (r *reader) refType() (api.ValueType, error) {
	c, err := r.byte()
	if err != nil {
		return 0, err
	}
	if c == 0x63 || c == 0x64 {
		return r.heapType()
	}
	t, ok := refTypeOf(c)
	if !ok {
		return 0, r.errorf("malformed reference type 0x%02x", c)
	}
	return t, nil
}

// limits reads a memory's (mem) or a table's limits: flags 4 and 5 are a 64-bit memory or
// table (memory64).
func (r *reader) limits(mem bool) (Limits, error) {
	flag, err := r.byte()
	if err != nil {
		return Limits{}, err
	}
	var l Limits
	switch flag {
	case 0x00, 0x01:
	case 0x02, 0x03, 0x06, 0x07:
		return l, fmt.Errorf("%w: shared limits (threads)", ErrUnsupported)
	case 0x04, 0x05:
		l.Is64 = true
	default:
		return l, r.errorf("malformed limits flags 0x%02x", flag)
	}
	l.HasMax = flag&1 == 1
	read := func() (uint64, error) {
		if l.Is64 {
			return r.u64()
		}
		v, err := r.u32()
		return uint64(v), err
	}
	if l.Min, err = read(); err != nil {
		return l, err
	}
	if l.HasMax {
		if l.Max, err = read(); err != nil {
			return l, err
		}
	}
	return l, nil
}

func (r *reader) globalType() (GlobalType, error) {
	t, err := r.valType()
	if err != nil {
		return GlobalType{}, err
	}
	m, err := r.byte()
	if err != nil {
		return GlobalType{}, err
	}
	if m > 1 {
		return GlobalType{}, r.errorf("malformed mutability 0x%02x", m)
	}
	return GlobalType{Type: t, Mutable: m == 1}, nil
}
