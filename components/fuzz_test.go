package components

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"unsafe"
)

// componentSeeds are the committed components and modules with embedded WIT (and plain core
// modules, which have none).
func componentSeeds(f *testing.F) {
	names, err := filepath.Glob("../tests/testdata/wit/*.wasm")
	if err != nil || len(names) == 0 {
		f.Fatalf("no seeds: %v", err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// within reports whether sub is a subslice of b: the decoder must point into its input, not
// at memory it sized from a count.
func within(sub, b []byte) bool {
	if len(sub) == 0 {
		return true
	}
	p, s, e := uintptr(unsafe.Pointer(&sub[0])), uintptr(unsafe.Pointer(&b[0])), uintptr(unsafe.Pointer(&b[0]))+uintptr(len(b))
	return p >= s && p+uintptr(len(sub)) <= e
}

// FuzzStructure fuzzes the host's own parsing of components and embedded WIT (everything
// Decode does before wasm-tools decodes the WIT): no panic, errors wrap a sentinel, and what
// is accepted is a core module inside the input. Fast enough for millions of inputs.
// Run: go test ./components -run '^$' -fuzz FuzzStructure -fuzztime 1m
func FuzzStructure(f *testing.F) {
	componentSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := bytes.Clone(b)
		defer func() {
			if !bytes.Equal(b, orig) {
				t.Fatal("the decoder modified its input")
			}
		}()
		var err error
		switch Detect(b) {
		case KindModule:
			var typ []byte
			_, typ, err = embeddedWIT(b)
			if err == nil && !within(typ, b) {
				t.Fatal("component-type payload outside the input")
			}
		case KindComponent:
			var c *Component
			c, _, err = splitComponent(b)
			if err == nil {
				found := false
				for _, m := range c.Modules {
					if !within(m, b) || Detect(m) != KindModule {
						t.Fatal("a core module outside the input, or not a module")
					}
					found = found || (len(m) == len(c.Core) && &m[0] == &c.Core[0])
				}
				if !found {
					t.Fatal("the main module is not one of the modules")
				}
			}
		default:
			return
		}
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrNoWIT) {
			t.Fatalf("error wraps no sentinel: %v", err)
		}
	})
}

// FuzzDecode runs all of Decode, wasm-tools' WIT decoding under wazero and the conversion of
// its output into a wit.World included (~50 ms per input that gets that far, so it finds
// less per minute than FuzzStructure, but it covers the Go code reading wasm-tools' output).
func FuzzDecode(f *testing.F) {
	componentSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b, "")
		if err != nil {
			if c != nil {
				t.Fatal("component returned with an error")
			}
			return
		}
		if c.World == nil || Detect(c.Core) != KindModule {
			t.Fatal("accepted without a world or a core module")
		}
		for _, fn := range append(c.World.Imports, c.World.Exports...) {
			_ = fn.String()
		}
	})
}

// FuzzLink fuzzes planLink (DecodeLink without wasm-tools) seeded with the WASI 0.2 command
// components: no panic, errors wrap a sentinel, accepted parts are core modules.
// Run: go test ./components -run '^$' -fuzz FuzzLink -fuzztime 1m
func FuzzLink(f *testing.F) {
	componentSeeds(f)
	for _, name := range []string{"cprog", "p2prog"} {
		b, err := os.ReadFile("../tests/testdata/wasi/" + name + ".component.wasm")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if Detect(b) != KindComponent {
			return
		}
		if err := (&Component{}).walk(b, 0); err != nil {
			return
		}
		l, err := planLink(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		for i, p := range l.Parts {
			if Detect(p.Wasm) != KindModule {
				t.Fatalf("part %d is not a core module", i)
			}
		}
	})
}
