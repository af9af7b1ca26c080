package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// laneTypes: v128.const shapes and wast2json's lane_type names.
var laneTypes = map[string]struct {
	typ  string
	bits int
}{
	"i8x16": {"i8", 8}, "i16x8": {"i16", 16}, "i32x4": {"i32", 32}, "i64x2": {"i64", 64},
	"f32x4": {"f32", 32}, "f64x2": {"f64", 64},
}

// refKinds: result patterns (ref.K) that match any non-null reference of that kind, and the
// JSON type they become.
var refKinds = map[string]string{
	"ref.any": "anyref", "ref.eq": "eqref", "ref.i31": "i31ref", "ref.struct": "structref",
	"ref.array": "arrayref", "ref.exn": "exnref",
}

// convValue converts a constant (argument) or a result pattern (result: NaN patterns and
// reference kinds are allowed).
func convValue(n *node, result bool) (*value, error) {
	h := n.head()
	args := n.list
	if len(args) > 0 {
		args = args[1:]
	}
	atom := func(i int) (string, error) {
		if i >= len(args) || args[i].isList || args[i].isStr {
			return "", fmt.Errorf("bad %s", n)
		}
		return args[i].atom, nil
	}
	switch h {
	case "i32.const", "i64.const", "f32.const", "f64.const":
		s, err := atom(0)
		if err != nil {
			return nil, err
		}
		typ := h[:3]
		v, err := scalar(typ, s, result)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		return &value{Type: typ, Value: v}, nil
	case "v128.const":
		shape, err := atom(0)
		if err != nil {
			return nil, err
		}
		lt, ok := laneTypes[shape]
		if !ok {
			return nil, fmt.Errorf("bad v128 shape in %s", n)
		}
		if len(args)-1 != 128/lt.bits {
			return nil, fmt.Errorf("%s: %d lanes", n, len(args)-1)
		}
		lanes := []string{}
		for i := 1; i < len(args); i++ {
			s, err := atom(i)
			if err != nil {
				return nil, err
			}
			v, err := scalar(lt.typ, s, result)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", n, err)
			}
			lanes = append(lanes, v)
		}
		return &value{Type: "v128", LaneType: lt.typ, Value: lanes}, nil
	case "ref.null":
		ht := ""
		if len(args) > 0 {
			var err error
			if ht, err = atom(0); err != nil {
				return nil, err
			}
		}
		switch ht {
		case "func":
			return &value{Type: "funcref", Value: "null"}, nil
		case "extern":
			return &value{Type: "externref", Value: "null"}, nil
		}
		return &value{Type: "refnull", HeapType: ht}, nil
	case "ref.extern", "ref.host", "ref.func":
		typ := map[string]string{"ref.extern": "externref", "ref.host": "hostref", "ref.func": "funcref"}[h]
		if len(args) == 0 {
			if !result {
				return nil, fmt.Errorf("%s as an argument", n)
			}
			return &value{Type: typ}, nil
		}
		s, err := atom(0)
		if err != nil {
			return nil, err
		}
		u, err := strconv.ParseUint(strings.ReplaceAll(s, "_", ""), 0, 32)
		if err != nil || h == "ref.func" {
			return nil, fmt.Errorf("bad %s", n)
		}
		return &value{Type: typ, Value: strconv.FormatUint(u, 10)}, nil
	}
	if typ, ok := refKinds[h]; ok && result && len(args) == 0 {
		return &value{Type: typ}, nil
	}
	return nil, fmt.Errorf("unsupported value %s", n)
}

// scalar renders a number as wast2json does: the unsigned decimal of its bits (floats too),
// or a NaN pattern.
func scalar(typ, s string, result bool) (string, error) {
	bits := 32
	if typ == "i64" || typ == "f64" {
		bits = 64
	}
	if typ == "i8" {
		bits = 8
	} else if typ == "i16" {
		bits = 16
	}
	if s == "nan:canonical" || s == "nan:arithmetic" {
		if !result || typ[0] != 'f' {
			return "", fmt.Errorf("%s not allowed here", s)
		}
		return s, nil
	}
	var b uint64
	var err error
	if typ[0] == 'f' {
		b, err = floatBits(s, bits)
	} else {
		b, err = intBits(s, bits)
	}
	if err != nil {
		return "", err
	}
	return strconv.FormatUint(b, 10), nil
}

func intBits(s string, bits int) (uint64, error) {
	t := strings.ReplaceAll(s, "_", "")
	neg := strings.HasPrefix(t, "-")
	t = strings.TrimPrefix(strings.TrimPrefix(t, "-"), "+")
	n, err := strconv.ParseUint(t, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("bad integer %q", s)
	}
	mask := uint64(math.MaxUint64)
	if bits < 64 {
		mask = 1<<bits - 1
	}
	if neg {
		if n > 1<<(bits-1) {
			return 0, fmt.Errorf("integer %q out of range", s)
		}
		return -n & mask, nil
	}
	if n > mask {
		return 0, fmt.Errorf("integer %q out of range", s)
	}
	return n, nil
}

func floatBits(s string, bits int) (uint64, error) {
	t := strings.ReplaceAll(s, "_", "")
	var sign uint64
	if strings.HasPrefix(t, "-") {
		sign = 1 << (bits - 1)
	}
	u := strings.TrimPrefix(strings.TrimPrefix(t, "-"), "+")
	expAll, quiet := uint64(0x7f800000), uint64(0x00400000)
	if bits == 64 {
		expAll, quiet = 0x7ff0000000000000, 0x0008000000000000
	}
	switch {
	case u == "inf":
		return sign | expAll, nil
	case u == "nan":
		return sign | expAll | quiet, nil
	case strings.HasPrefix(u, "nan:0x"):
		p, err := strconv.ParseUint(u[6:], 16, 64)
		if err != nil || p == 0 || p >= quiet<<1 {
			return 0, fmt.Errorf("bad NaN %q", s)
		}
		return sign | expAll | p, nil
	}
	f, err := strconv.ParseFloat(u, bits)
	if err != nil {
		return 0, fmt.Errorf("bad float %q", s)
	}
	if bits == 32 {
		return sign | uint64(math.Float32bits(float32(f))), nil
	}
	return sign | math.Float64bits(f), nil
}
