package wasmbin

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/hlwasm/hlwasm/api"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	must(t, err)
	return b
}

func TestParseImports(t *testing.T) {
	m, err := Parse(readTestdata(t, "imports.wasm"))
	must(t, err)

	eq(t, 4, len(m.Types))
	eq(t, FuncType{Params: []api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, Results: []api.ValueType{api.ValueTypeI64}}, m.Types[1])
	eq(t, "(f32) -> (f32, f64, v128)", m.Types[2].String())

	eq(t, 7, len(m.Imports))
	eq(t, Import{Module: "env", Name: "f", Kind: KindFunc, TypeIndex: 1, FuncType: m.Types[1]}, m.Imports[0])
	eq(t, TableType{Elem: api.ValueTypeFuncref, Limits: Limits{Min: 1, Max: 10, HasMax: true}}, m.Imports[1].TableType)
	eq(t, MemType{Limits{Min: 1}}, m.Imports[2].MemType)
	eq(t, GlobalType{Type: api.ValueTypeF64}, m.Imports[3].GlobalType)
	eq(t, GlobalType{Type: api.ValueTypeI64, Mutable: true}, m.Imports[4].GlobalType)
	eq(t, KindFunc, m.Imports[5].Kind)
	eq(t, GlobalType{Type: api.ValueTypeExternref}, m.Imports[6].GlobalType)

	eq(t, []uint32{3, 0}, m.Funcs)
	eq(t, []TableType{{Elem: api.ValueTypeExternref, Limits: Limits{Min: 2}}}, m.Tables)
	eq(t, 0, len(m.Memories))
	eq(t, []GlobalType{{api.ValueTypeI32, true}, {api.ValueTypeV128, false}, {api.ValueTypeFuncref, false}, {api.ValueTypeF64, false}, {api.ValueTypeExternref, false}}, m.Globals)
	truth(t, m.HasStart)
	eq(t, uint32(3), m.Start)
	eq(t, 4, m.NumFuncs())

	// Imported functions come first in the index space.
	for idx, want := range map[uint32]FuncType{0: m.Types[1], 1: m.Types[2], 2: m.Types[3], 3: m.Types[0]} {
		got, ok := m.FuncTypeOf(idx)
		truth(t, ok)
		eq(t, want, got, fmt.Sprintf("func %d", idx))
	}
	_, ok := m.FuncTypeOf(4)
	truth(t, !ok)
	_, ok = m.FuncTypeOf(^uint32(0))
	truth(t, !ok)

	i, ft, ok := m.ExportedFunc("h")
	truth(t, ok)
	eq(t, 8, i)
	eq(t, m.Types[2], ft)
	i, ft, ok = m.ExportedFunc("a")
	truth(t, ok)
	eq(t, 0, i)
	eq(t, "(i64) -> (i64)", ft.String())
	_, _, ok = m.ExportedFunc("gl") // a global
	truth(t, !ok)
	_, _, ok = m.ExportedFunc("nope")
	truth(t, !ok)

	i, gt, ok := m.ExportedGlobal("g")
	truth(t, ok)
	eq(t, 11, i)
	eq(t, GlobalType{Type: api.ValueTypeF64}, gt)
	i, gt, ok = m.ExportedGlobal("gl")
	truth(t, ok)
	eq(t, 2, i)
	eq(t, GlobalType{Type: api.ValueTypeI32, Mutable: true}, gt)
	_, _, ok = m.ExportedGlobal("a")
	truth(t, !ok)

	eq(t, Export{Name: "m", Kind: KindMemory, Index: 0}, m.Exports[9])
	eq(t, "memory", m.Exports[9].Kind.String())
}

func TestParsePlain(t *testing.T) {
	m, err := Parse(readTestdata(t, "plain.wasm"))
	must(t, err)
	eq(t, 0, len(m.Imports))
	eq(t, []MemType{{Limits{Min: 1, Max: 2, HasMax: true}}}, m.Memories)
	_, ft, ok := m.ExportedFunc("swap")
	truth(t, ok)
	eq(t, []api.ValueType{api.ValueTypeF32, api.ValueTypeI64}, ft.Params)
	eq(t, []api.ValueType{api.ValueTypeI64, api.ValueTypeF32}, ft.Results)
	_, ft, ok = m.ExportedFunc("nothing")
	truth(t, ok)
	eq(t, 0, len(ft.Params))
	eq(t, 0, len(ft.Results))
	for _, name := range []string{"pi", "big", "ext"} {
		_, _, ok := m.ExportedGlobal(name)
		truth(t, ok, name)
	}
	truth(t, !m.HasStart)
}

func TestParseEmpty(t *testing.T) {
	m, err := Parse(readTestdata(t, "empty.wasm"))
	must(t, err)
	eq(t, &Module{}, m)
}

func TestValTypeString(t *testing.T) {
	for vt, s := range map[api.ValueType]string{api.ValueTypeI32: "i32", api.ValueTypeI64: "i64", api.ValueTypeF32: "f32", api.ValueTypeF64: "f64", api.ValueTypeV128: "v128",
		api.ValueTypeFuncref: "funcref", api.ValueTypeExternref: "externref", 0x40: "valtype(0x40)"} {
		eq(t, s, vt.String())
	}
	eq(t, 2, api.ValueTypeV128.Slots())
	eq(t, 1, api.ValueTypeExternref.Slots())
	truth(t, api.ValueTypeFuncref.IsRef())
	truth(t, !api.ValueTypeI32.IsRef())
}

// mod builds a module from the header and raw sections.
func mod(sections ...[]byte) []byte {
	b := append([]byte{}, header...)
	for _, s := range sections {
		b = append(b, s...)
	}
	return b
}

func sec(id byte, body ...byte) []byte {
	return append([]byte{id, byte(len(body))}, body...)
}

func TestParseErrors(t *testing.T) {
	typeSec := sec(secType, 1, 0x60, 1, 0x7f, 1, 0x7f) // (i32) -> (i32)
	funcSec := sec(secFunction, 1, 0)
	codeSec := sec(secCode, 1, 4, 0, 0x20, 0, 0x0b)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty input", nil, ErrMalformed},
		{"bad magic", []byte("\x00asn\x01\x00\x00\x00"), ErrMalformed},
		{"bad version", []byte("\x00asm\x02\x00\x00\x00"), ErrMalformed},
		{"short version", []byte("\x00asm\x01"), ErrMalformed},
		{"truncated section header", mod([]byte{secType}), ErrMalformed},
		{"section size past end", mod([]byte{secType, 10, 0}), ErrMalformed},
		{"section size too big", mod([]byte{secType, 0xff, 0xff, 0xff, 0xff, 0x0f}), ErrMalformed},
		{"section size short", mod(sec(secType, 1, 0x60, 1, 0x7f, 0), []byte{0x7f}), ErrMalformed},
		{"section size long", mod(sec(secType, 0, 0)), ErrMalformed},
		{"unknown section", mod(sec(14, 0)), ErrMalformed},
		{"tag of unknown type", mod(sec(secTag, 1, 0, 0)), ErrInvalid},
		{"bad tag attribute", mod(sec(secType, 1, 0x60, 0, 0), sec(secTag, 1, 1, 0)), ErrMalformed},
		{"tag after global", mod(sec(secGlobal, 0), sec(secTag, 0)), ErrMalformed},
		{"export unknown tag", mod(sec(secExport, 1, 1, 't', 4, 0)), ErrInvalid},
		{"gc malformed mutability", mod(sec(secType, 1, 0x5e, 0x78, 2)), ErrMalformed},
		{"gc malformed composite type", mod(sec(secType, 1, 0x4e, 1, 0x50, 0, 0x5d)), ErrMalformed},
		{"gc func import of a struct type", mod(sec(secType, 1, 0x5f, 0), sec(secImport, 1, 1, 'm', 1, 'f', 0, 0)), ErrInvalid},
		{"malformed heap type", mod(sec(secType, 1, 0x60, 1, 0x64, 0x7f, 0)), ErrMalformed},
		{"gc struct type, junk after it", mod(sec(secType, 1, 0x5f, 0, 0)), ErrMalformed},
		{"table initializer flag", mod(sec(secTable, 1, 0x40, 1, 0x70, 0, 1, 0xd2, 0, 0x0b)), ErrMalformed},
		{"duplicate section", mod(sec(secType, 0), sec(secType, 0)), ErrMalformed},
		{"out of order", mod(sec(secImport, 0), sec(secType, 0)), ErrMalformed},
		{"datacount after code", mod(sec(secCode, 0), sec(secDataCount, 0)), ErrMalformed},
		{"huge type count", mod(sec(secType, 0xff, 0xff, 0xff, 0xff, 0x0f)), ErrMalformed},
		{"type count beyond bytes", mod(sec(secType, 5, 0x60, 0, 0)), ErrMalformed},
		{"bad func form", mod(sec(secType, 1, 0x61, 0, 0)), ErrMalformed},
		{"bad value type", mod(sec(secType, 1, 0x60, 1, 0x40, 0)), ErrMalformed},
		{"leb too long", mod(sec(secType, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00)), ErrMalformed},
		{"leb too large", mod(sec(secType, 0x80, 0x80, 0x80, 0x80, 0x10)), ErrMalformed},
		{"functions without code", mod(typeSec, funcSec), ErrMalformed},
		{"code without functions", mod(typeSec, codeSec), ErrMalformed},
		{"unknown type in function", mod(typeSec, sec(secFunction, 1, 1), codeSec), ErrInvalid},
		{"unknown type in import", mod(typeSec, sec(secImport, 1, 1, 'a', 1, 'b', 0, 5)), ErrInvalid},
		{"bad import kind", mod(sec(secImport, 1, 1, 'a', 1, 'b', 7, 0)), ErrMalformed},
		{"tag import of unknown type", mod(sec(secImport, 1, 1, 'a', 1, 'b', 4, 0, 0)), ErrInvalid},
		{"bad utf8 name", mod(sec(secImport, 1, 1, 0xff, 1, 'b', 2, 0, 0)), ErrMalformed},
		{"shared memory", mod(sec(secMemory, 1, 3, 1, 1)), ErrUnsupported},
		{"shared memory64", mod(sec(secMemory, 1, 6, 1)), ErrUnsupported},
		{"bad limits flag", mod(sec(secMemory, 1, 8, 1)), ErrMalformed},
		{"bad table elem", mod(sec(secTable, 1, 0x7f, 0, 1)), ErrMalformed},
		{"bad mutability", mod(sec(secGlobal, 1, 0x7f, 2, 0x41, 0, 0x0b)), ErrMalformed},
		{"global expr unterminated", mod(sec(secGlobal, 1, 0x7f, 0, 0x41, 0)), ErrMalformed},
		{"global expr non-constant op", mod(sec(secGlobal, 1, 0x7f, 0, 0x20, 0, 0x0b)), ErrInvalid},
		{"global expr non-constant simd op", mod(sec(secGlobal, 1, 0x7b, 0, 0xfd, 13, 0x0b)), ErrInvalid},
		{"global expr i32 too large", mod(sec(secGlobal, 1, 0x7f, 0, 0x41, 0x80, 0x80, 0x80, 0x80, 0x70, 0x0b)), ErrMalformed},
		{"export unknown func", mod(sec(secExport, 1, 1, 'f', 0, 0)), ErrInvalid},
		{"export bad kind", mod(sec(secExport, 1, 1, 'f', 9, 0)), ErrMalformed},
		{"duplicate export", mod(sec(secMemory, 1, 0, 1), sec(secExport, 2, 1, 'm', 2, 0, 1, 'm', 2, 0)), ErrInvalid},
		{"unknown start", mod(sec(secStart, 0)), ErrInvalid},
		{"custom section name past end", mod(sec(secCustom, 5, 'a')), ErrMalformed},
		{"custom section bad utf8", mod(sec(secCustom, 1, 0xc0)), ErrMalformed},
		{"data count mismatch", mod(sec(secDataCount, 1)), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.in)
			truth(t, m == nil, "module with error")
			truth(t, err != nil, "error")
			truth(t, errors.Is(err, tt.want), fmt.Sprintf("got %v, want %v", err, tt.want))
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"custom sections anywhere", mod(sec(secCustom, 1, 'x', 1, 2, 3), sec(secType, 0), sec(secCustom, 0))},
		{"empty sections", mod(sec(secType, 0), sec(secImport, 0), sec(secFunction, 0), sec(secCode, 0))},
		{"data count with data", mod(sec(secDataCount, 1), sec(secData, 1, 1, 0, 0))},
		{"padded leb", mod(sec(secType, 0x80, 0x80, 0x80, 0x80, 0x00))},
		{"tags", mod(sec(secType, 1, 0x60, 1, 0x7f, 0), sec(secImport, 1, 1, 'a', 1, 'b', 4, 0, 0),
			sec(secTag, 1, 0, 0), sec(secExport, 2, 1, 'x', 4, 0, 1, 'y', 4, 1))},
		{"exnref", mod(sec(secType, 1, 0x60, 1, 0x69, 0), sec(secTable, 1, 0x69, 0, 1))},
		{"memory64", mod(sec(secMemory, 2, 4, 0x80, 0x80, 0x80, 0x80, 0x10, 5, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40))},
		{"typed references", mod(sec(secType, 2, 0x60, 1, 0x63, 0x70, 0, 0x60, 2, 0x64, 0, 0x64, 0x6f, 1, 0x63, 0),
			sec(secTable, 1, 0x40, 0, 0x64, 0, 0, 1, 0xd0, 0, 0x0b))},
		{"negative i64 const", mod(sec(secGlobal, 1, 0x7e, 0, 0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f, 0x0b))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			must(t, err)
		})
	}
}

func TestSLEB(t *testing.T) {
	tests := []struct {
		in   []byte
		bits int
		want int64
		ok   bool
	}{
		{[]byte{0x00}, 32, 0, true},
		{[]byte{0x7f}, 32, -1, true},
		{[]byte{0x3f}, 32, 63, true},
		{[]byte{0x40}, 32, -64, true},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x07}, 32, 0x7fffffff, true},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x78}, 32, -0x80000000, true},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 32, 0, false}, // unused bits not sign
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x70}, 32, 0, false},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 32, 0, false}, // too long
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f}, 64, -1 << 63, true},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00}, 64, 1<<63 - 1, true},
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 64, 0, false},
		{[]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7e}, 64, 0, false},
		{[]byte{0x80}, 64, 0, false}, // truncated
	}
	for _, tt := range tests {
		r := &reader{b: tt.in}
		got, err := r.sleb(tt.bits)
		if !tt.ok {
			truth(t, err != nil, fmt.Sprintf("% x", tt.in))
			continue
		}
		if err == nil {
			eq(t, tt.want, got, "% x", tt.in)
			eq(t, 0, r.remaining())
		} else {
			t.Errorf("% x: %v", tt.in, err)
		}
	}
}

// Typed references are funcref/externref to the host API, whatever their heap type.
func TestParseTypedReferences(t *testing.T) {
	m, err := Parse(mod(sec(secType, 1, 0x60, 3, 0x63, 0x70, 0x64, 0, 0x64, 0x6f, 0)))
	must(t, err)
	want := []api.ValueType{api.ValueTypeFuncref, api.ValueTypeFuncref, api.ValueTypeExternref}
	if got := m.Types[0].Params; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("params %v, want %v", got, want)
	}
}

// A 64-bit memory's limits are u64 (memory64).
func TestParseMemory64(t *testing.T) {
	m, err := Parse(mod(sec(secMemory, 1, 5, 0x80, 0x80, 0x80, 0x80, 0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40)))
	must(t, err)
	if l := m.Memories[0].Limits; !l.Is64 || !l.HasMax || l.Min != 1<<32 || l.Max != 1<<48 {
		t.Fatalf("limits %+v", l)
	}
}

// GC types: a rec group of a struct type and a function type referring to it (and to the
// struct type before its definition within the group), then an array: references to struct
// and array types are anyref to the host, to function types funcref.
func TestParseGCTypes(t *testing.T) {
	m, err := Parse(mod(sec(secType, 2,
		0x4e, 2,
		0x60, 1, 0x63, 1, 1, 0x64, 0, // (func (param (ref null 1)) (result (ref 0)))
		0x50, 0, 0x5f, 2, 0x7f, 1, 0x77, 0, // (sub (struct (field (mut i32)) (field i16)))
		0x4f, 0, 0x5e, 0x63, 0x6b, 0, // (sub final (array (ref null struct)))
	)))
	if err != nil {
		t.Fatal(err)
	}
	if !m.GCTypes || len(m.Types) != 3 || m.Types[0].Data || !m.Types[1].Data || !m.Types[2].Data {
		t.Fatalf("types %+v", m.Types)
	}
	want := FuncType{Params: []api.ValueType{api.ValueTypeAnyref}, Results: []api.ValueType{api.ValueTypeFuncref}}
	if !m.Types[0].Equal(want) {
		t.Fatalf("type 0 = %v, want %v", m.Types[0], want)
	}
	if m, err := Parse(mod(sec(secType, 1, 0x60, 1, 0x6e, 0))); err != nil || m.GCTypes {
		t.Fatalf("anyref only: GCTypes %v, %v", m != nil && m.GCTypes, err)
	}
}
