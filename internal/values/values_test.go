package values

import (
	"errors"
	"math"
	"testing"

	"github.com/hlwasm/hlwasm/api"
)

func TestParse(t *testing.T) {
	const (
		i32 = api.ValueTypeI32
		i64 = api.ValueTypeI64
		f32 = api.ValueTypeF32
		f64 = api.ValueTypeF64
	)
	tests := []struct {
		t       api.ValueType
		in      string
		want    uint64
		wantErr error
	}{
		{i32, "0", 0, nil},
		{i32, "-0", 0, nil},
		{i32, "+7", 7, nil},
		{i32, "42", 42, nil},
		{i32, "-1", 0xffffffff, nil},
		{i32, "-2147483648", 0x80000000, nil},
		{i32, "2147483647", 0x7fffffff, nil},
		{i32, "4294967295", 0xffffffff, nil},
		{i32, "0x10", 16, nil},
		{i32, "0XfF", 255, nil},
		{i32, "-0x80000000", 0x80000000, nil},
		{i32, "0xffffffff", 0xffffffff, nil},
		{i32, "4294967296", 0, ErrRange},
		{i32, "-2147483649", 0, ErrRange},
		{i32, "0x100000000", 0, ErrRange},
		{i32, "", 0, ErrSyntax},
		{i32, "-", 0, ErrSyntax},
		{i32, "0x", 0, ErrSyntax},
		{i32, "1.5", 0, ErrSyntax},
		{i32, "--1", 0, ErrSyntax},
		{i32, "+-1", 0, ErrSyntax},
		{i32, "1_000", 0, ErrSyntax},
		{i32, "abc", 0, ErrSyntax},
		{i32, " 1", 0, ErrSyntax},
		{i64, "-1", math.MaxUint64, nil},
		{i64, "-9223372036854775808", 1 << 63, nil},
		{i64, "9223372036854775807", 1<<63 - 1, nil},
		{i64, "18446744073709551615", math.MaxUint64, nil},
		{i64, "0x8000000000000000", 1 << 63, nil},
		{i64, "4294967296", 1 << 32, nil},
		{i64, "18446744073709551616", 0, ErrRange},
		{i64, "-9223372036854775809", 0, ErrRange},
		{i64, "x", 0, ErrSyntax},
		{f32, "1.5", 0x3fc00000, nil},
		{f32, "-0", 0x80000000, nil},
		{f32, "0.1", uint64(math.Float32bits(0.1)), nil},
		{f32, "inf", 0x7f800000, nil},
		{f32, "+Inf", 0x7f800000, nil},
		{f32, "-inf", 0xff800000, nil},
		{f32, "nan", uint64(math.Float32bits(float32(math.NaN()))), nil},
		{f32, "0x1p-2", 0x3e800000, nil},
		{f32, "3.4028235e38", 0x7f7fffff, nil},
		{f32, "1e40", 0, ErrRange},
		{f32, "1e-50", 0, nil},
		{f32, "1.x", 0, ErrSyntax},
		{f64, "1.5", 0x3ff8000000000000, nil},
		{f64, "1e40", math.Float64bits(1e40), nil},
		{f64, "-Infinity", 0xfff0000000000000, nil},
		{f64, "NaN", math.Float64bits(math.NaN()), nil},
		{f64, "1e400", 0, ErrRange},
		{f64, "5e-324", 1, nil},
		{f64, "", 0, ErrSyntax},
		{api.ValueTypeV128, "0", 0, ErrType},
		{api.ValueTypeFuncref, "0", 0, ErrType},
	}
	for _, tt := range tests {
		got, err := Parse(tt.t, tt.in)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Parse(%s, %q) error = %v, want %v", tt.t, tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%s, %q) = %#x, %v; want %#x", tt.t, tt.in, got, err, tt.want)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		t    api.ValueType
		in   uint64
		want string
	}{
		{api.ValueTypeI32, 0, "0"},
		{api.ValueTypeI32, 0xffffffff, "-1"},
		{api.ValueTypeI32, 0x80000000, "-2147483648"},
		{api.ValueTypeI32, 0x7fffffff, "2147483647"},
		{api.ValueTypeI32, 0xdead00000005, "5"}, // only the low 32 bits count
		{api.ValueTypeI64, math.MaxUint64, "-1"},
		{api.ValueTypeI64, 1 << 63, "-9223372036854775808"},
		{api.ValueTypeI64, 1 << 40, "1099511627776"},
		{api.ValueTypeF32, uint64(math.Float32bits(0.1)), "0.1"},
		{api.ValueTypeF32, 0x3fc00000, "1.5"},
		{api.ValueTypeF32, 0x80000000, "-0"},
		{api.ValueTypeF32, 0x7f800000, "+Inf"},
		{api.ValueTypeF32, 0xff800000, "-Inf"},
		{api.ValueTypeF32, 0x7fc00000, "NaN"},
		{api.ValueTypeF32, 0xffa00001, "NaN"},
		{api.ValueTypeF32, 1, "1e-45"},
		{api.ValueTypeF32, 0x7f7fffff, "3.4028235e+38"},
		{api.ValueTypeF64, math.Float64bits(0.1), "0.1"},
		{api.ValueTypeF64, math.Float64bits(1e21), "1e+21"},
		{api.ValueTypeF64, math.Float64bits(123456), "123456"},
		{api.ValueTypeF64, 0x7ff8000000000001, "NaN"},
		{api.ValueTypeF64, 0xfff0000000000000, "-Inf"},
		{api.ValueTypeF64, 1, "5e-324"},
		{api.ValueTypeV128, 0x10, "v128:0x10"},
	}
	for _, tt := range tests {
		if got := Format(tt.t, tt.in); got != tt.want {
			t.Errorf("Format(%s, %#x) = %q, want %q", tt.t, tt.in, got, tt.want)
		}
	}
}

// Formatting then parsing gives back the same bits for every non-NaN value.
func TestRoundTrip(t *testing.T) {
	cases := map[api.ValueType][]uint64{
		api.ValueTypeI32: {0, 1, 0x7fffffff, 0x80000000, 0xffffffff},
		api.ValueTypeI64: {0, 1, 1<<63 - 1, 1 << 63, math.MaxUint64},
		api.ValueTypeF32: {0, 0x80000000, 1, 0x007fffff, 0x3dcccccd, 0x7f7fffff, 0x7f800000, 0xff800000},
		api.ValueTypeF64: {0, 1 << 63, 1, 0x000fffffffffffff, 0x3fb999999999999a, 0x7fefffffffffffff, 0x7ff0000000000000},
	}
	for vt, vs := range cases {
		for _, v := range vs {
			s := Format(vt, v)
			got, err := Parse(vt, s)
			if err != nil || got != v {
				t.Errorf("%s %#x -> %q -> %#x, %v", vt, v, s, got, err)
			}
		}
	}
}
