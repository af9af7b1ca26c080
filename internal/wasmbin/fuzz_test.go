package wasmbin

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/hlwasm/hlwasm/api"
	"github.com/tetratelabs/wazero"
	wapi "github.com/tetratelabs/wazero/api"
)

// fuzzSeeds are the repository's real modules: this package's fixtures, the test fixtures
// (valid and deliberately malformed) and the example guests.
func fuzzSeeds(f *testing.F) {
	for _, glob := range []string{"testdata/*.wasm", "../../tests/testdata/*.wasm",
		"../../tests/testdata/malformed/*.wasm", "../../examples/guests/*.wasm"} {
		names, err := filepath.Glob(glob)
		must(f, err)
		for _, name := range names {
			b, err := os.ReadFile(name)
			must(f, err)
			f.Add(b)
		}
	}
}

var errSkipped = errors.New("not compiled")

var (
	wzOnce sync.Once
	wzRT   wazero.Runtime
)

// wazeroRuntime is the reference for the differential check: the interpreter (no native code
// per input) with WebAssembly 2.0, the feature set the guest engine implements.
func wazeroRuntime() wazero.Runtime {
	wzOnce.Do(func() {
		wzRT = wazero.NewRuntimeWithConfig(context.Background(), wazero.NewRuntimeConfigInterpreter())
	})
	return wzRT
}

// FuzzParse: no input makes Parse panic, it is deterministic and leaves its input alone, every
// error wraps a sentinel, what it accepts is internally consistent, and it is exact for valid
// modules: whatever wazero (a full validator) accepts, Parse accepts with the same imports and
// export signatures. Run: go test ./internal/wasmbin -fuzz FuzzParse -fuzztime 1m
func FuzzParse(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := bytes.Clone(b)
		m, err := Parse(b)
		if !bytes.Equal(b, orig) {
			t.Fatal("Parse modified its input")
		}
		m2, err2 := Parse(b)
		if (err == nil) != (err2 == nil) || (err != nil && err.Error() != err2.Error()) || !reflect.DeepEqual(m, m2) {
			t.Fatalf("two parses differ: %v / %v", err, err2)
		}
		// wazero v1.12 allocates vectors by their declared count before reading them (an
		// import count of 4e8 in a 21-byte section is a 58 GB makeslice): a module Parse
		// refuses goes to wazero only if no LEB128 in it, at any offset, could be such a
		// count. (host.Runtime.LoadModule runs Parse before wazero: hosts are not exposed.)
		var wz wazero.CompiledModule
		wzErr := errSkipped
		if err == nil || maxLEB(b) < 1<<16 {
			wz, wzErr = wazeroRuntime().CompileModule(context.Background(), b)
		}
		if wzErr == nil {
			defer wz.Close(context.Background())
		}
		if err != nil {
			if m != nil {
				t.Fatal("module returned with an error")
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			if wzErr == nil && !wazeroLax(err) {
				t.Fatalf("wazero accepts the module, Parse refuses it: %v", err)
			}
			return
		}
		checkConsistent(t, m)
		// A custom section may appear anywhere: appending one changes nothing.
		withCustom := append(bytes.Clone(b), 0, 3, 2, 'h', 'i')
		if m3, err := Parse(withCustom); err != nil || !reflect.DeepEqual(m, m3) {
			t.Fatalf("a trailing custom section changes the result: %v", err)
		}
		if wzErr == nil {
			compareWazero(t, m, wz)
		}
	})
}

// wazeroLax reports whether Parse refused a module for a reason wazero v1.12 does not check
// (so that it accepts what WebAssembly 2.0 calls malformed): its decodeTable takes any byte as
// a table's element type (seed wazero-lax-table-reftype), it decodes value types of later
// proposals whatever features are enabled (exnref 0x69, typed references 0x63/0x64:
// wazero-lax-exnref), and it reads an empty data count section as no count
// (wazero-lax-empty-datacount).
func wazeroLax(err error) bool {
	s := err.Error()
	return strings.Contains(s, "malformed reference type") ||
		strings.Contains(s, "malformed value type 0x69") || strings.Contains(s, "malformed value type 0x63") ||
		strings.Contains(s, "malformed value type 0x64") ||
		strings.HasPrefix(s, "section 12: ") && strings.HasSuffix(s, "unexpected end")
}

func checkConsistent(t *testing.T, m *Module) {
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
}

// compareWazero checks the imports and exported function signatures against wazero's reading
// of the same (valid) module.
func compareWazero(t *testing.T, m *Module, wz wazero.CompiledModule) {
	var imports [][2]string
	for _, im := range m.Imports {
		imports = append(imports, [2]string{im.Module, im.Name})
	}
	var wzImports [][2]string
	for _, d := range wz.ImportedFunctions() {
		mod, name, _ := d.Import()
		wzImports = append(wzImports, [2]string{mod, name})
	}
	for _, d := range wz.ImportedMemories() {
		mod, name, _ := d.Import()
		wzImports = append(wzImports, [2]string{mod, name})
	}
	var funcImports, memImports int
	for _, im := range m.Imports {
		switch im.Kind {
		case KindFunc:
			funcImports++
		case KindMemory:
			memImports++
		}
	}
	if funcImports != len(wz.ImportedFunctions()) || memImports != len(wz.ImportedMemories()) {
		t.Fatalf("imports %v, wazero %v", imports, wzImports)
	}
	wzFuncs := wz.ExportedFunctions()
	n := 0
	for _, e := range m.Exports {
		if e.Kind != KindFunc {
			continue
		}
		n++
		_, ft, _ := m.ExportedFunc(e.Name)
		d, ok := wzFuncs[e.Name]
		if !ok {
			t.Fatalf("export %q: wazero does not see it", e.Name)
		}
		if !sameTypes(ft.Params, d.ParamTypes()) || !sameTypes(ft.Results, d.ResultTypes()) {
			t.Fatalf("export %q: %v, wazero %v -> %v", e.Name, ft, d.ParamTypes(), d.ResultTypes())
		}
	}
	if n != len(wzFuncs) {
		t.Fatalf("%d function exports, wazero %d", n, len(wzFuncs))
	}
}

func sameTypes(a []api.ValueType, b []wapi.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if byte(a[i]) != byte(b[i]) {
			return false
		}
	}
	return true
}

// maxLEB is the largest unsigned LEB128 (up to 5 bytes) that starts at any offset of b.
func maxLEB(b []byte) uint64 {
	var m uint64
	for i := range b {
		var v uint64
		for j := 0; j < 5 && i+j < len(b); j++ {
			v |= uint64(b[i+j]&0x7f) << (7 * j)
			if b[i+j] < 0x80 {
				break
			}
		}
		m = max(m, v)
	}
	return m
}
