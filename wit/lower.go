package wit

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// The lowering functions take values in canonical dynamic form (see [Value]); callers run
// conform first.

func mismatch(t *Type, v Value) error {
	return typeErrf("%T value %v for WIT type %s", v, v, t)
}

// store writes v of type t at ptr (which must be in memory and aligned).
func (c *cx) store(t *Type, v Value, ptr uint32) error {
	b := make([]byte, t.size)
	if err := c.encode(t, v, b); err != nil {
		return err
	}
	return c.write(ptr, b, t.align, t.String())
}

func (c *cx) encode(t *Type, v Value, b []byte) error {
	le := binary.LittleEndian
	bad := func() error { return mismatch(t, v) }
	switch t.k {
	case kBool:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		if x {
			b[0] = 1
		}
		return nil
	case kOwn, kBorrow:
		if t.elem.res != nil {
			n, err := c.lowerHandle(t, v)
			if err != nil {
				return err
			}
			le.PutUint32(b, n)
			return nil
		}
		bits, ok := scalarBits(t, v)
		if !ok {
			return bad()
		}
		le.PutUint32(b, uint32(bits))
		return nil
	case kS8, kU8, kS16, kU16, kS32, kU32, kS64, kU64, kChar, kF32, kF64:
		bits, ok := scalarBits(t, v)
		if !ok {
			return bad()
		}
		switch t.size {
		case 1:
			b[0] = byte(bits)
		case 2:
			le.PutUint16(b, uint16(bits))
		case 4:
			le.PutUint32(b, uint32(bits))
		default:
			le.PutUint64(b, bits)
		}
		return nil
	case kString, kList:
		ptr, n, err := c.lowerSeq(t, v)
		if err != nil {
			return err
		}
		le.PutUint32(b, ptr)
		le.PutUint32(b[4:], n)
		return nil
	case kRecord, kTuple:
		vals, ok := fieldValues(t, v)
		if !ok {
			return bad()
		}
		var off uint32
		for i, e := range t.subs {
			off = alignTo(off, e.align)
			if err := c.encode(e, vals[i], b[off:]); err != nil {
				return err
			}
			off += e.size
		}
		return nil
	case kFlags:
		bits, ok := flagBits(t, v)
		if !ok {
			return bad()
		}
		switch t.size {
		case 1:
			b[0] = byte(bits[0])
		case 2:
			le.PutUint16(b, uint16(bits[0]))
		default:
			for i, w := range bits {
				le.PutUint32(b[4*i:], w)
			}
		}
		return nil
	case kVariant, kEnum, kOption, kResult:
		d, payload, ok := caseOf(t, v)
		if !ok {
			return bad()
		}
		switch discSize(len(t.subs)) {
		case 1:
			b[0] = byte(d)
		case 2:
			le.PutUint16(b, uint16(d))
		default:
			le.PutUint32(b, uint32(d))
		}
		if e := t.subs[d]; e != nil {
			return c.encode(e, payload, b[t.payloadOffset():])
		}
		return nil
	}
	return fmt.Errorf("%w: lower %s", ErrUnsupported, t)
}

// scalarBits returns the bits of a numeric, char or handle value.
func scalarBits(t *Type, v Value) (uint64, bool) {
	switch t.k {
	case kS8:
		x, ok := v.(int8)
		return uint64(uint32(int32(x))), ok
	case kS16:
		x, ok := v.(int16)
		return uint64(uint32(int32(x))), ok
	case kS32:
		x, ok := v.(int32)
		return uint64(uint32(x)), ok
	case kS64:
		x, ok := v.(int64)
		return uint64(x), ok
	case kU8:
		x, ok := v.(uint8)
		return uint64(x), ok
	case kU16:
		x, ok := v.(uint16)
		return uint64(x), ok
	case kU32:
		x, ok := v.(uint32)
		return uint64(x), ok
	case kU64:
		x, ok := v.(uint64)
		return x, ok
	case kF32:
		x, ok := v.(float32)
		return uint64(math.Float32bits(x)), ok
	case kF64:
		x, ok := v.(float64)
		return math.Float64bits(x), ok
	case kChar:
		x, ok := v.(Char)
		if x < 0 || x >= 0x110000 || (x >= 0xD800 && x <= 0xDFFF) {
			return 0, false
		}
		return uint64(x), ok
	case kOwn, kBorrow:
		x, ok := v.(Handle)
		return uint64(x), ok
	}
	return 0, false
}

func fieldValues(t *Type, v Value) ([]Value, bool) {
	switch x := v.(type) {
	case Tuple:
		return x, t.k == kTuple && len(x) == len(t.subs)
	case Record:
		if t.k != kRecord || len(x) != len(t.subs) {
			return nil, false
		}
		vals := make([]Value, len(x))
		for i, name := range t.names {
			f, ok := x.Get(name)
			if !ok {
				return nil, false
			}
			vals[i] = f
		}
		return vals, true
	}
	return nil, false
}

func flagBits(t *Type, v Value) ([]uint32, bool) {
	f, ok := v.(Flags)
	if !ok {
		return nil, false
	}
	bits := make([]uint32, max(1, (len(t.names)+31)/32))
	for _, name := range f {
		i := slices.Index(t.names, name)
		if i < 0 {
			return nil, false
		}
		bits[i/32] |= 1 << (i % 32)
	}
	return bits, true
}

func caseOf(t *Type, v Value) (int, Value, bool) {
	switch x := v.(type) {
	case Enum:
		i := slices.Index(t.names, string(x))
		return i, nil, t.k == kEnum && i >= 0
	case Option[Value]:
		if t.k != kOption {
			return 0, nil, false
		}
		if x.Valid {
			return 1, x.Value, true
		}
		return 0, nil, true
	case Result[Value, Value]:
		if t.k != kResult {
			return 0, nil, false
		}
		if x.IsErr {
			return 1, x.Err, t.subs[1] != nil || x.Err == nil
		}
		return 0, x.OK, t.subs[0] != nil || x.OK == nil
	case Variant:
		i := slices.Index(t.names, x.Case)
		if t.k != kVariant || i < 0 || (t.subs[i] == nil) != (x.Payload == nil) {
			return 0, nil, false
		}
		return i, x.Payload, true
	}
	return 0, nil, false
}

// lowerSeq copies a string or list into guest memory allocated with cabi_realloc.
func (c *cx) lowerSeq(t *Type, v Value) (ptr, n uint32, err error) {
	if t.k == kString {
		s, ok := v.(string)
		if !ok {
			return 0, 0, mismatch(t, v)
		}
		if uint64(len(s)) > c.max {
			return 0, 0, fmt.Errorf("%w: string of %d bytes, limit %d", ErrLimit, len(s), c.max)
		}
		ptr, err := c.alloc(1, uint32(len(s)))
		if err != nil {
			return 0, 0, err
		}
		return ptr, uint32(len(s)), c.write(ptr, []byte(s), 1, "string")
	}
	e := t.elem
	if e.k == kU8 {
		if b, ok := v.([]byte); ok { // list<u8>'s dynamic form
			if uint64(len(b)) > c.max {
				return 0, 0, fmt.Errorf("%w: %s of %d bytes, limit %d", ErrLimit, t, len(b), c.max)
			}
			ptr, err := c.alloc(1, uint32(len(b)))
			if err != nil {
				return 0, 0, err
			}
			return ptr, uint32(len(b)), c.write(ptr, b, 1, t.String())
		}
	}
	l, ok := v.(List)
	if !ok {
		return 0, 0, mismatch(t, v)
	}
	size := uint64(len(l)) * uint64(e.size)
	if size > c.max {
		return 0, 0, fmt.Errorf("%w: %s of %d bytes, limit %d", ErrLimit, t, size, c.max)
	}
	buf := make([]byte, size)
	for i, x := range l {
		if err := c.encode(e, x, buf[uint64(i)*uint64(e.size):]); err != nil {
			return 0, 0, err
		}
	}
	ptr, err = c.alloc(e.align, uint32(size))
	if err != nil {
		return 0, 0, err
	}
	return ptr, uint32(len(l)), c.write(ptr, buf, e.align, t.String())
}

// lowerFlat appends the flat core values of v (type t) to out.
func (c *cx) lowerFlat(t *Type, v Value, out []uint64) ([]uint64, error) {
	switch t.k {
	case kBool:
		x, ok := v.(bool)
		if !ok {
			return nil, mismatch(t, v)
		}
		if x {
			return append(out, 1), nil
		}
		return append(out, 0), nil
	case kOwn, kBorrow:
		if t.elem.res != nil {
			n, err := c.lowerHandle(t, v)
			if err != nil {
				return nil, err
			}
			return append(out, uint64(n)), nil
		}
		bits, ok := scalarBits(t, v)
		if !ok {
			return nil, mismatch(t, v)
		}
		return append(out, bits), nil
	case kS8, kU8, kS16, kU16, kS32, kU32, kS64, kU64, kChar, kF32, kF64:
		bits, ok := scalarBits(t, v)
		if !ok {
			return nil, mismatch(t, v)
		}
		return append(out, bits), nil
	case kString, kList:
		ptr, n, err := c.lowerSeq(t, v)
		if err != nil {
			return nil, err
		}
		return append(out, uint64(ptr), uint64(n)), nil
	case kRecord, kTuple:
		vals, ok := fieldValues(t, v)
		if !ok {
			return nil, mismatch(t, v)
		}
		for i, e := range t.subs {
			var err error
			if out, err = c.lowerFlat(e, vals[i], out); err != nil {
				return nil, err
			}
		}
		return out, nil
	case kFlags:
		bits, ok := flagBits(t, v)
		if !ok {
			return nil, mismatch(t, v)
		}
		for i := range t.flat {
			out = append(out, uint64(bits[i]))
		}
		return out, nil
	case kVariant, kEnum, kOption, kResult:
		d, payload, ok := caseOf(t, v)
		if !ok {
			return nil, mismatch(t, v)
		}
		start := len(out)
		out = append(out, uint64(d))
		if e := t.subs[d]; e != nil {
			var err error
			if out, err = c.lowerFlat(e, payload, out); err != nil {
				return nil, err
			}
		}
		for len(out) < start+len(t.flat) {
			out = append(out, 0)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: lower %s", ErrUnsupported, t)
}
