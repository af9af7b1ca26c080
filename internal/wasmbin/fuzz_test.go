package wasmbin

import (
	"testing"
)

// FuzzParse checks that no input makes Parse panic, and that what it accepts is
// internally consistent. Run with: go test ./internal/wasmbin -fuzz FuzzParse -fuzztime 1m
func FuzzParse(f *testing.F) {
	for _, name := range []string{"empty.wasm", "plain.wasm", "imports.wasm"} {
		f.Add(readTestdata(f, name))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			if m != nil {
				t.Fatal("module returned with an error")
			}
			return
		}
		for i, e := range m.Exports {
			switch e.Kind {
			case KindFunc:
				j, _, ok := m.ExportedFunc(e.Name)
				if !ok || j != i {
					t.Fatalf("export %d %q: ExportedFunc = %d, %v", i, e.Name, j, ok)
				}
			case KindGlobal:
				j, _, ok := m.ExportedGlobal(e.Name)
				if !ok || j != i {
					t.Fatalf("export %d %q: ExportedGlobal = %d, %v", i, e.Name, j, ok)
				}
			}
		}
		for i := 0; i < m.NumFuncs(); i++ {
			if _, ok := m.FuncTypeOf(uint32(i)); !ok {
				t.Fatalf("function %d has no type", i)
			}
		}
	})
}
