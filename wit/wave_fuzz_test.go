package wit

import (
	"strings"
	"sync"
	"testing"
)

var (
	fuzzOnce  sync.Once
	fuzzTypes []*Type
)

// FuzzWAVE: parsing never panics, and whatever parses prints back to text that parses to
// the same printed form.
func FuzzWAVE(f *testing.F) {
	for _, s := range []string{`"a\u{1F600}"`, `[1, 2]`, `{a: some(1), b: "x"}`, `ok(none)`, `err(-1.5)`,
		`c(('x', [true]))`, `{f1, f2}`, `(1, "2")`, `nan`, `%ok`, `{:}`, `'\''`} {
		f.Add(s)
	}
	fuzzOnce.Do(func() {
		w, err := Load(strings.NewReader(`package f:z;
world w {
  record r { a: option<u32>, b: string }
  variant v { c(tuple<char, list<bool>>), d }
  flags fl { f1, f2 }
  export f: func(a: string, b: list<s16>, c: r, d: result<option<u8>, f64>, e: v, g: fl, h: tuple<u8, string>, i: f32, j: char, k: u64);
}`), "")
		if err != nil {
			panic(err)
		}
		for _, p := range w.Exports[0].Params {
			fuzzTypes = append(fuzzTypes, p.Type)
		}
	})
	f.Fuzz(func(t *testing.T, s string) {
		for _, ty := range fuzzTypes {
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
			out2, _ := FormatWAVE(ty, v2)
			if out2 != out {
				t.Fatalf("%s: %q -> %q -> %q", ty, s, out, out2)
			}
		}
	})
}
