// Package values converts WebAssembly values between their command-line text form and the
// uint64 slots the engine ABI uses: i32 zero-extended, i64 as is, f32 and f64 as IEEE bits.
package values

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/hlwasm/hlwasm/api"
)

// Sentinel errors, for errors.Is.
var (
	// ErrSyntax: the text is not a number of the required form.
	ErrSyntax = errors.New("invalid value syntax")
	// ErrRange: the number does not fit the type.
	ErrRange = errors.New("value out of range")
	// ErrType: the type has no text form here (v128 and references).
	ErrType = errors.New("unsupported value type")
)

// Parse converts s to the slot representation of a value of type t.
//
// Integers are decimal or 0x-prefixed hexadecimal, optionally signed; i32 accepts
// -2147483648..4294967295 (stored as its u32 bits, zero-extended) and i64
// -9223372036854775808..18446744073709551615. Floats use strconv.ParseFloat's syntax
// (so also "nan", "inf", "-inf", "+Inf", hex floats) at the type's bit size; a finite
// literal beyond the type's range is an ErrRange.
func Parse(t api.ValueType, s string) (uint64, error) {
	switch t {
	case api.ValueTypeI32:
		return parseInt(s, 32)
	case api.ValueTypeI64:
		return parseInt(s, 64)
	case api.ValueTypeF32:
		f, err := parseFloat(s, 32)
		return uint64(math.Float32bits(float32(f))), err
	case api.ValueTypeF64:
		f, err := parseFloat(s, 64)
		return math.Float64bits(f), err
	}
	return 0, fmt.Errorf("%w: %s", ErrType, t)
}

func parseInt(s string, bits int) (uint64, error) {
	neg := false
	body := s
	switch {
	case strings.HasPrefix(body, "-"):
		neg, body = true, body[1:]
	case strings.HasPrefix(body, "+"):
		body = body[1:]
	}
	base := 10
	if len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X') {
		base, body = 16, body[2:]
	}
	if body == "" || body[0] == '+' || body[0] == '-' || strings.Contains(body, "_") {
		return 0, fmt.Errorf("%w: %q is not an integer", ErrSyntax, s)
	}
	u, err := strconv.ParseUint(body, base, bits)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("%w: %q does not fit i%d", ErrRange, s, bits)
		}
		return 0, fmt.Errorf("%w: %q is not an integer", ErrSyntax, s)
	}
	if neg {
		if u > 1<<(bits-1) {
			return 0, fmt.Errorf("%w: %q does not fit i%d", ErrRange, s, bits)
		}
		u = -u
		if bits == 32 {
			u = uint64(uint32(u))
		}
	}
	return u, nil
}

func parseFloat(s string, bits int) (float64, error) {
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) && !math.IsInf(f, 0) {
			return f, nil // underflow to zero or a denormal: ParseFloat's rounding is what we want
		}
		if errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("%w: %q does not fit f%d", ErrRange, s, bits)
		}
		return 0, fmt.Errorf("%w: %q is not a number", ErrSyntax, s)
	}
	return f, nil
}

// Format renders the slot v of a value of type t: integers as signed decimal, floats in the
// shortest form that parses back to the same value ("NaN", "+Inf", "-Inf" as Go prints
// them; a NaN's payload is not shown).
func Format(t api.ValueType, v uint64) string {
	switch t {
	case api.ValueTypeI32:
		return strconv.FormatInt(int64(int32(uint32(v))), 10)
	case api.ValueTypeI64:
		return strconv.FormatInt(int64(v), 10)
	case api.ValueTypeF32:
		return strconv.FormatFloat(float64(math.Float32frombits(uint32(v))), 'g', -1, 32)
	case api.ValueTypeF64:
		return strconv.FormatFloat(math.Float64frombits(v), 'g', -1, 64)
	}
	return fmt.Sprintf("%s:0x%x", t, v)
}
