package spectest

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// External references are passed as handle N+1 for the suite's `ref.extern N`: 0 is null.

// encodeArgs converts action arguments to slots.
func encodeArgs(vs []value) ([]uint64, error) {
	var slots []uint64
	for _, v := range vs {
		s, err := encodeValue(v)
		if err != nil {
			return nil, err
		}
		slots = append(slots, s...)
	}
	return slots, nil
}

func encodeValue(v value) ([]uint64, error) {
	if v.Type == "v128" {
		lanes, err := laneStrings(v)
		if err != nil {
			return nil, err
		}
		lo, hi, err := packLanes(v.LaneType, lanes, func(s string, bits int) (uint64, error) {
			return parseBits(s, bits)
		})
		return []uint64{lo, hi}, err
	}
	s, present, err := scalarString(v)
	if err != nil {
		return nil, err
	}
	switch v.Type {
	case "i32", "f32":
		if !present {
			return nil, fmt.Errorf("%s argument without a value", v.Type)
		}
		b, err := parseBits(s, 32)
		return []uint64{b}, err
	case "i64", "f64":
		if !present {
			return nil, fmt.Errorf("%s argument without a value", v.Type)
		}
		b, err := parseBits(s, 64)
		return []uint64{b}, err
	case "refnull":
		return []uint64{0}, nil
	case "funcref", "externref":
		if !present || s == "null" {
			return []uint64{0}, nil
		}
		if v.Type == "funcref" {
			return nil, fmt.Errorf("non-null funcref argument %q", s)
		}
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || n == math.MaxUint64 {
			return nil, fmt.Errorf("bad externref %q", s)
		}
		return []uint64{n + 1}, nil
	}
	if v.Type == "hostref" { // a host value inside anyref: only the engine makes those (boxes)
		return nil, fmt.Errorf("%w: a hostref argument (the runner cannot make a boxed host value)", ErrBackendUnsupported)
	}
	return nil, fmt.Errorf("unsupported value type %q", v.Type)
}

// scalarString returns the value string; present is false if the value is absent.
func scalarString(v value) (s string, present bool, err error) {
	if len(v.Value) == 0 || string(v.Value) == "null" && v.Type != "funcref" && v.Type != "externref" {
		return "", false, nil
	}
	if err := json.Unmarshal(v.Value, &s); err != nil {
		return "", false, fmt.Errorf("%s value %s: %w", v.Type, v.Value, err)
	}
	return s, true, nil
}

func laneStrings(v value) ([]string, error) {
	var lanes []string
	if err := json.Unmarshal(v.Value, &lanes); err != nil {
		return nil, fmt.Errorf("v128 value %s: %w", v.Value, err)
	}
	return lanes, nil
}

// parseBits parses a decimal integer (the suite writes bit patterns unsigned, but accept a
// sign too) of the given width.
func parseBits(s string, bits int) (uint64, error) {
	if strings.HasPrefix(s, "-") {
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return 0, fmt.Errorf("bad %d-bit value %q", bits, s)
		}
		return uint64(n) & mask(bits), nil
	}
	n, err := strconv.ParseUint(s, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("bad %d-bit value %q", bits, s)
	}
	return n, nil
}

func mask(bits int) uint64 {
	if bits == 64 {
		return math.MaxUint64
	}
	return 1<<bits - 1
}

func laneBits(laneType string) (int, error) {
	switch laneType {
	case "i8":
		return 8, nil
	case "i16":
		return 16, nil
	case "i32", "f32":
		return 32, nil
	case "i64", "f64":
		return 64, nil
	}
	return 0, fmt.Errorf("unknown lane type %q", laneType)
}

// packLanes builds the little-endian (low, high) slots of a v128 from its lanes.
func packLanes(laneType string, lanes []string, parse func(string, int) (uint64, error)) (lo, hi uint64, err error) {
	bits, err := laneBits(laneType)
	if err != nil {
		return 0, 0, err
	}
	if len(lanes) != 128/bits {
		return 0, 0, fmt.Errorf("v128 %s with %d lanes", laneType, len(lanes))
	}
	for i, s := range lanes {
		b, err := parse(s, bits)
		if err != nil {
			return 0, 0, err
		}
		pos := i * bits
		if pos < 64 {
			lo |= b << pos
		} else {
			hi |= b << (pos - 64)
		}
	}
	return lo, hi, nil
}
