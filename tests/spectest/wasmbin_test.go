package spectest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/hlwasm/hlwasm/internal/wasmbin"
)

// TestWasmbinAgainstWazero parses every module of every suite (Suites: the core versions and
// the proposals) with internal/wasmbin: each module wazero compiles must parse, with the same
// exported function signatures and import and export lists as wazero sees, unless wasmbin
// refuses it as a proposal it does not read (ErrUnsupported, not allowed for 2.0: 1.0's suite
// has 2.0 modules, the proposals' suites use typed references and GC types); no module,
// however broken, may make the reader panic.
func TestWasmbinAgainstWazero(t *testing.T) {
	ctx := context.Background()
	for _, s := range Suites {
		suite := s.Name
		dir, err := SuiteDir(suite)
		if err != nil {
			t.Fatal(err)
		}
		files, err := filepath.Glob(filepath.Join(dir, "*.wasm"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no modules in %s: %v", dir, err)
		}
		r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter().WithCoreFeatures(s.Features))
		var compiled, bothReject, onlyWazeroRejects int
		for _, path := range files {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, perr := wasmbin.Parse(b)
			cm, cerr := r.CompileModule(ctx, b)
			name := suite + "/" + filepath.Base(path)
			switch {
			case cerr != nil && perr != nil:
				bothReject++
				continue
			case cerr != nil:
				onlyWazeroRejects++ // validation errors: the engine's job
				continue
			case perr != nil:
				if errors.Is(perr, wasmbin.ErrUnsupported) && suite != "v2" {
					continue
				}
				t.Errorf("%s: wazero compiles it, wasmbin: %v", name, perr)
				continue
			}
			compiled++
			compareWithWazero(t, name, m, cm)
			_ = cm.Close(ctx)
		}
		_ = r.Close(ctx)
		t.Logf("%s: %d modules compiled by wazero and parsed alike; of the rest wasmbin rejects %d and leaves %d to validation",
			suite, compiled, bothReject, onlyWazeroRejects)
	}
}

func compareWithWazero(t *testing.T, name string, m *wasmbin.Module, cm wazero.CompiledModule) {
	t.Helper()
	wfuncs := cm.ExportedFunctions()
	nfuncs := 0
	for i, e := range m.Exports {
		if e.Kind != wasmbin.KindFunc {
			continue
		}
		nfuncs++
		idx, ft, ok := m.ExportedFunc(e.Name)
		if !ok || idx != i {
			t.Errorf("%s: ExportedFunc(%q) = %d, %v", name, e.Name, idx, ok)
			continue
		}
		wf, ok := wfuncs[e.Name]
		if !ok {
			t.Errorf("%s: wazero has no function export %q", name, e.Name)
			continue
		}
		if !sameTypes(ft.Params, wf.ParamTypes()) || !sameTypes(ft.Results, wf.ResultTypes()) {
			t.Errorf("%s: export %q: wasmbin %s, wazero %v -> %v", name, e.Name, ft, wf.ParamTypes(), wf.ResultTypes())
		}
	}
	if nfuncs != len(wfuncs) {
		t.Errorf("%s: %d function exports, wazero has %d", name, nfuncs, len(wfuncs))
	}
	nimports := 0
	for _, im := range m.Imports {
		if im.Kind == wasmbin.KindFunc {
			nimports++
		}
	}
	if w := len(cm.ImportedFunctions()); nimports != w {
		t.Errorf("%s: %d function imports, wazero has %d", name, nimports, w)
	}
	wmem := cm.ExportedMemories()
	for _, e := range m.Exports {
		if e.Kind == wasmbin.KindMemory {
			if _, ok := wmem[e.Name]; !ok {
				t.Errorf("%s: wazero has no memory export %q", name, e.Name)
			}
		}
	}
}

func sameTypes[A, B ~byte](a []A, b []B) bool {
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
