package wit

import (
	"bufio"
	"context"
	"errors"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hlwasm/hlwasm/api"
)

var (
	fuzzOnce  sync.Once
	fuzzTypes []*Type
	fuzzErr   error
)

// waveFuzzTypes are the parameter types of rt.wit's echo-* imports (every kind of type the
// round-trip tests use) and of a world with keyword labels and nested options and results.
func waveFuzzTypes(t testing.TB) []*Type {
	fuzzOnce.Do(func() {
		rt, err := LoadFile("../tests/testdata/wit/rt.wit", "rt")
		if err != nil {
			fuzzErr = err
			return
		}
		w, err := Load(strings.NewReader(`package f:z;
world w {
  record r { a: option<u32>, b: string, %type: option<option<s64>> }
  variant v { c(tuple<char, list<bool>>), d, %none, %some(u8) }
  enum e { %true, other }
  flags fl { f1, %ok }
  export f: func(a: r, b: v, c: e, d: fl, e: result<option<u8>, f64>, f: result, g: result<_, list<string>>, h: tuple<f32, s8, u16>);
}`), "")
		if err != nil {
			fuzzErr = err
			return
		}
		seen := map[string]bool{}
		for _, f := range append(rt.Imports, w.Exports...) {
			for _, p := range f.Params {
				if s := p.Type.String(); !seen[s] {
					seen[s] = true
					fuzzTypes = append(fuzzTypes, p.Type)
				}
			}
		}
	})
	if fuzzErr != nil {
		t.Fatal(fuzzErr)
	}
	return fuzzTypes
}

// FuzzWAVE: parsing never panics, and whatever parses prints back to text that parses to an
// equal value (floats compared by bits, so -0 stays -0) and prints the same again.
// Run: go test ./wit -run '^$' -fuzz FuzzWAVE -fuzztime 1m
func FuzzWAVE(f *testing.F) {
	waveFuzzTypes(f)
	for _, s := range []string{`"a\u{1F600}"`, `[1, 2]`, `{a: some(1), b: "x"}`, `ok(none)`, `err(-1.5)`,
		`c(('x', [true]))`, `{f1, %ok}`, `(1, "2")`, `nan`, `%ok`, `{:}`, `'\''`, `%true`, `-0`,
		`{%type: some(none), b: ""}`, `(-0.0, -128, 65535)`, `err(["a", "b",])`, `1e-45`} {
		f.Add(s)
	}
	// The round-trip fixtures: one WAVE value per line after the function name.
	file, err := os.Open("../tests/testdata/wit/roundtrip.txt")
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		if line := sc.Text(); line != "" && line[0] != '#' {
			_, v, _ := strings.Cut(line, " ")
			f.Add(v)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, ty := range waveFuzzTypes(t) {
			v, err := ParseWAVE(ty, s)
			if err != nil {
				continue
			}
			out, err := FormatWAVE(ty, v)
			if err != nil {
				t.Fatalf("%s: %q parsed but does not print: %v", ty, s, err)
			}
			v2, err := ParseWAVE(ty, out)
			if err != nil {
				t.Fatalf("%s: %q printed as %q, which does not parse: %v", ty, s, out, err)
			}
			if !sameValue(reflect.ValueOf(v), reflect.ValueOf(v2)) {
				t.Fatalf("%s: %q -> %#v printed as %q -> %#v", ty, s, v, out, v2)
			}
			if out2, _ := FormatWAVE(ty, v2); out2 != out {
				t.Fatalf("%s: %q -> %q -> %q", ty, s, out, out2)
			}
		}
	})
}

// sameValue is reflect.DeepEqual for dynamic values, except that floats compare by bits
// (DeepEqual has -0 == 0 and NaN != NaN; WAVE has a single nan).
func sameValue(a, b reflect.Value) bool {
	if a.IsValid() != b.IsValid() {
		return false
	}
	if !a.IsValid() {
		return true
	}
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		x, y := a.Float(), b.Float()
		return math.Float64bits(x) == math.Float64bits(y) || (math.IsNaN(x) && math.IsNaN(y))
	case reflect.Interface, reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return sameValue(a.Elem(), b.Elem())
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// FuzzLift lifts a value of each fuzz type from guest memory filled with fuzz bytes (what a
// guest hands the host): lifting never panics, fails only with ErrTrap, and a lifted value
// lowers into a fresh memory and lifts back to the same value.
// Run: go test ./wit -run '^$' -fuzz FuzzLift -fuzztime 1m
func FuzzLift(f *testing.F) {
	types := waveFuzzTypes(f)
	// Seeds: each round-trip fixture value lowered at 8 by the in-Go allocator, with its type.
	rt, err := LoadFile("../tests/testdata/wit/rt.wit", "rt")
	if err != nil {
		f.Fatal(err)
	}
	file, err := os.Open("../tests/testdata/wit/roundtrip.txt")
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	for sc := bufio.NewScanner(file); sc.Scan(); {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, wave, _ := strings.Cut(line, " ")
		fn, err := rt.Func("host#echo-"+name, false)
		if err != nil {
			f.Fatal(err)
		}
		ty := fn.Params[0].Type
		ti := slices.IndexFunc(types, func(u *Type) bool { return u.String() == ty.String() })
		v, err := ParseWAVE(ty, wave)
		if err != nil || ti < 0 {
			f.Fatalf("%s %s: %v (type %d)", name, wave, err, ti)
		}
		mem := make(api.ByteMemory, 4096)
		a := &bump{mem: mem, next: 64}
		if err := newCx(context.Background(), mem, a, nil).store(ty, v, 8); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(mem[:a.next]), uint8(ti), uint16(8))
	}
	f.Fuzz(func(t *testing.T, b []byte, ti uint8, ptr uint16) {
		ty := types[int(ti)%len(types)]
		mem := make(api.ByteMemory, len(b))
		copy(mem, b)
		c := newCx(context.Background(), mem, nil, &Options{MaxBytes: 1 << 16})
		v, err := c.load(ty, uint32(ptr))
		if err != nil {
			if !errors.Is(err, ErrTrap) {
				t.Fatalf("%s: non-trap error %v", ty, err)
			}
			return
		}
		out := make(api.ByteMemory, 1<<20)
		c2 := newCx(context.Background(), out, &bump{mem: out, next: 64}, nil)
		if err := c2.store(ty, v, 8); err != nil {
			t.Fatalf("%s: lifted %#v does not lower: %v", ty, v, err)
		}
		back, err := c2.load(ty, 8)
		if err != nil {
			t.Fatalf("%s: lowered %#v does not lift: %v", ty, v, err)
		}
		if !sameValue(reflect.ValueOf(v), reflect.ValueOf(back)) {
			t.Fatalf("%s: %#v lowered and lifted as %#v", ty, v, back)
		}
	})
}
