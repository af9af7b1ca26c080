package spectest

import (
	"fmt"
	"strings"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/values"
)

// NaN patterns of assert_return.
const (
	nanCanonical  = "nan:canonical"
	nanArithmetic = "nan:arithmetic"
)

// matchResults checks results against assert_return expectations. On mismatch it returns a
// description of both sides.
func matchResults(exps []value, got []uint64) (bool, string, error) {
	want := 0
	for _, e := range exps {
		want += slotsOf(e.Type)
	}
	if len(got) != want {
		return false, fmt.Sprintf("got %d result slots %x, want %d", len(got), got, want), nil
	}
	ok := true
	var ws, gs []string
	pos := 0
	for _, e := range exps {
		n := slotsOf(e.Type)
		m, err := matchValue(e, got[pos:pos+n])
		if err != nil {
			return false, "", err
		}
		ok = ok && m
		ws = append(ws, describeExpected(e))
		gs = append(gs, describe(e, got[pos:pos+n]))
		pos += n
	}
	return ok, fmt.Sprintf("got [%s], want [%s]", strings.Join(gs, " "), strings.Join(ws, " ")), nil
}

func slotsOf(t string) int {
	if t == "v128" {
		return 2
	}
	return 1
}

func matchValue(e value, got []uint64) (bool, error) {
	if e.Type == "v128" {
		lanes, err := laneStrings(e)
		if err != nil {
			return false, err
		}
		bits, err := laneBits(e.LaneType)
		if err != nil {
			return false, err
		}
		if len(lanes) != 128/bits {
			return false, fmt.Errorf("v128 %s with %d lanes", e.LaneType, len(lanes))
		}
		for i, s := range lanes {
			pos := i * bits
			slot := got[0]
			if pos >= 64 {
				slot, pos = got[1], pos-64
			}
			lane := slot >> pos & mask(bits)
			m, err := matchScalar(e.LaneType, s, true, lane, bits)
			if err != nil || !m {
				return m, err
			}
		}
		return true, nil
	}
	s, present, err := scalarString(e)
	if err != nil {
		return false, err
	}
	switch e.Type {
	case "refnull": // a null reference of any type (typed function references)
		return got[0] == 0, nil
	case "anyref", "eqref", "i31ref", "structref", "arrayref", "exnref", "hostref":
		// Any non-null reference of the kind: the slot alone does not tell the kind (only
		// non-null is checked). hostref N is host value N inside anyref: the engine boxes it,
		// so the slot is the box's address, not N.
		return got[0] != 0, nil
	case "funcref", "externref":
		switch {
		case !present:
			return got[0] != 0, nil // any non-null reference
		case s == "null":
			return got[0] == 0, nil
		}
		b, err := encodeValue(e)
		if err != nil {
			return false, err
		}
		return got[0] == b[0], nil
	case "i32", "f32":
		return matchScalar(e.Type, s, present, got[0]&mask(32), 32)
	case "i64", "f64":
		return matchScalar(e.Type, s, present, got[0], 64)
	}
	return false, fmt.Errorf("unsupported result type %q", e.Type)
}

// matchScalar compares one number (or lane) of the given width.
func matchScalar(typ, s string, present bool, got uint64, bits int) (bool, error) {
	if !present {
		return false, fmt.Errorf("%s expectation without a value", typ)
	}
	if s == nanCanonical || s == nanArithmetic {
		if typ != "f32" && typ != "f64" {
			return false, fmt.Errorf("%s for %s", s, typ)
		}
		return matchNaN(s, got, bits), nil
	}
	want, err := parseBits(s, bits)
	if err != nil {
		return false, err
	}
	return got == want, nil
}

// matchNaN: a canonical NaN has only the top mantissa bit set (either sign); an arithmetic
// NaN has the top mantissa bit set and any payload.
func matchNaN(pattern string, got uint64, bits int) bool {
	var exp, quiet, sign uint64 = 0x7f800000, 0x00400000, 0x80000000
	if bits == 64 {
		exp, quiet, sign = 0x7ff0000000000000, 0x0008000000000000, 1<<63
	}
	if pattern == nanCanonical {
		return got&^sign == exp|quiet
	}
	return got&(exp|quiet) == exp|quiet
}

// describe renders result slots of the expected value's type for messages.
func describe(e value, got []uint64) string {
	switch e.Type {
	case "i32":
		return "i32:" + values.Format(api.ValueTypeI32, got[0])
	case "i64":
		return "i64:" + values.Format(api.ValueTypeI64, got[0])
	case "f32":
		return fmt.Sprintf("f32:%s(%#x)", values.Format(api.ValueTypeF32, got[0]), uint32(got[0]))
	case "f64":
		return fmt.Sprintf("f64:%s(%#x)", values.Format(api.ValueTypeF64, got[0]), got[0])
	case "v128":
		return fmt.Sprintf("v128:%016x_%016x", got[1], got[0])
	}
	return fmt.Sprintf("%s:%#x", e.Type, got[0])
}

func describeExpected(e value) string {
	if e.Type == "v128" {
		lanes, _ := laneStrings(e)
		return "v128:" + e.LaneType + "[" + strings.Join(lanes, " ") + "]"
	}
	s, present, _ := scalarString(e)
	switch {
	case !present:
		return e.Type + ":*"
	case s == "null" || s == nanCanonical || s == nanArithmetic:
		return e.Type + ":" + s
	}
	if b, err := encodeValue(e); err == nil {
		return describe(e, b)
	}
	return e.Type + ":" + s
}
