package wit_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	bwit "go.bytecodealliance.org/wit"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/wit"
)

// Sizes, alignments and flattenings cross-checked against go.bytecodealliance.org/wit's
// own Canonical ABI implementation, for every type in the round-trip world.
func TestLayoutMatchesBytecodeAlliance(t *testing.T) {
	w := loadRT(t)
	n := 0
	for _, f := range append(slices.Clone(w.Imports), w.Exports...) {
		types := []*wit.Type{f.Result}
		for _, p := range f.Params {
			types = append(types, p.Type)
		}
		for _, ty := range types {
			if ty == nil {
				continue
			}
			n++
			require.EqualValues(t, ty.Wit.Size(), ty.Size(), "size of %s", ty)
			require.EqualValues(t, ty.Wit.Align(), ty.Align(), "align of %s", ty)
			var flat []api.ValueType
			for _, ft := range ty.Wit.Flat() {
				flat = append(flat, coreOf(ft))
			}
			require.Equal(t, flat, ty.Flat(), "flat of %s", ty)
		}
	}
	require.Greater(t, n, 80)
}

func coreOf(t bwit.Type) api.ValueType {
	switch t.(type) {
	case bwit.S64, bwit.U64:
		return api.ValueTypeI64
	case bwit.F32:
		return api.ValueTypeF32
	case bwit.F64:
		return api.ValueTypeF64
	}
	return api.ValueTypeI32
}

func TestKnownLayouts(t *testing.T) {
	w := loadRT(t)
	ty := func(key string) *wit.Type {
		f, err := w.Func(key, true)
		require.NoError(t, err)
		return f.Result
	}
	for _, c := range []struct {
		key         string
		size, align uint32
		flat        string
	}{
		{"guest#echo-mixed", 32, 8, "i32 i64 i32 i32 f32 i32"},
		{"guest#echo-shape", 16, 8, "i32 i64 i32"},
		{"guest#echo-res-float", 16, 8, "i32 i64"},
		{"guest#echo-opt-opt", 3, 1, "i32 i32 i32"},
		{"guest#echo-tuple", 24, 8, "i32 i32 i32 f64"},
		{"guest#echo-many", 4, 4, "i32"},
		{"guest#echo-perms", 1, 1, "i32"},
		{"guest#echo-res", 12, 4, "i32 i32 i32"},
		{"guest#echo-char", 4, 4, "i32"},
	} {
		tt := ty(c.key)
		var flat []string
		for _, f := range tt.Flat() {
			flat = append(flat, f.String())
		}
		require.Equal(t, c.size, tt.Size(), c.key)
		require.Equal(t, c.align, tt.Align(), c.key)
		require.Equal(t, c.flat, strings.Join(flat, " "), c.key)
	}
}

func TestCoreSignatures(t *testing.T) {
	w := loadRT(t)
	for _, c := range []struct {
		key    string
		export bool
		sig    string
	}{
		{"host#echo-string", false, "(i32, i32, i32) -> ()"},
		{"guest#echo-string", true, "(i32, i32) -> (i32)"},
		{"host#spill", false, "(i32, i32) -> ()"},
		{"guest#spill", true, "(i32) -> (i32)"},
		{"host#echo-u64", false, "(i64) -> (i64)"},
		{"root-log", false, "(i32, i32) -> ()"},
		{"guest#set-realloc-mode", true, "(i32) -> ()"},
	} {
		f, err := w.Func(c.key, c.export)
		require.NoError(t, err)
		p, r := f.CoreSignature()
		require.Equal(t, c.sig, api.Signature(p, r), c.key)
	}
	f, _ := w.Func("root-log", false)
	require.Equal(t, "$root", f.Module)
	f, _ = w.Func("guest#echo-bool", true)
	require.Equal(t, "test:rt/guest@0.1.0#echo-bool", f.CoreName)
	f, _ = w.Func("run", true)
	require.Equal(t, "run", f.CoreName)
	require.Contains(t, w.String(), "import test:rt/host@0.1.0#echo-string: func(x: string) -> string\n    core: test:rt/host@0.1.0.echo-string (i32, i32, i32) -> ()")
}

func TestLoadErrors(t *testing.T) {
	_, err := wit.Load(strings.NewReader("package a:b;\nworld w {\n  import f: func(x: strin);\n}\n"), "")
	require.Error(t, err)
	require.ErrorContains(t, err, "name `strin` is not defined")
	require.ErrorContains(t, err, "<stdin>:3:")

	_, err = wit.LoadFile(testdata+"rt.wit", "nope")
	require.ErrorIs(t, err, wit.ErrNotFound)
	require.ErrorContains(t, err, "test:rt/rt@0.1.0")

	_, err = wit.LoadFile(testdata+"missing.wit", "")
	require.ErrorIs(t, err, os.ErrNotExist)

	bad := filepath.Join(t.TempDir(), "bad.wit")
	require.NoError(t, os.WriteFile(bad, []byte("package a:b;\nworld w {\n  export f: func() -> u3;\n}\n"), 0o644))
	_, err = wit.LoadFile(bad, "")
	require.ErrorContains(t, err, "bad.wit:3:")

	w, err := wit.Load(strings.NewReader("package a:b;\nworld one { export f: func(); }\nworld two { export g: func(); }\n"), "two")
	require.NoError(t, err)
	require.Equal(t, "two", w.Name)
	_, err = wit.Load(strings.NewReader("package a:b;\nworld one { export f: func(); }\nworld two { export g: func(); }\n"), "")
	require.ErrorIs(t, err, wit.ErrNotFound)
}
