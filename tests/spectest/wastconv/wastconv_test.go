package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A script and the reference interpreter's binary form of it (written here by hand, in the
// interpreter's layout: text modules become a definition and an instance, quoted malformed
// modules are left out).
const srcScript = `;; a comment (; and a block ;)
(module $m (func (export "f") (param i32) (result i32) local.get 0))
(register "m" $m)
(assert_malformed (module quote "(func") "unexpected token")
(assert_return (invoke "f" (i32.const -1)) (i32.const 0xffff_ffff))
(module definition $d (memory 1))
(module instance $i $d)
(assert_trap (module (func $s unreachable) (start $s)) "unreachable")
(assert_return (invoke $m "g" (f32.const -0x1.8p+1) (ref.extern 7) (ref.null any))
  (either (f64.const nan:canonical) (v128.const i16x8 1 2 3 4 5 6 7 -1)))
(assert_return (invoke "h") (ref.i31) (ref.null) (ref.func) (ref.extern))
`

const binScript = `(module definition $m binary "\00asm" "\01\00\00\00")
(module instance $m $m)
(register "m" $m)
(assert_return (invoke "f" (i32.const 0xffff_ffff)) (i32.const 0xffff_ffff))
(module definition $d binary "\00asm\01\00\00\00")
(module instance $i $d)
(module definition binary "\00asm\01\00\00\00\08")
(assert_trap (module instance) "unreachable")
(assert_return (invoke $m "g" (f32.const -0x1.8p+1) (ref.extern 7) (ref.null any))
  (either (f64.const nan:canonical) (v128.const i16x8 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0xffff)))
(assert_return (invoke "h") (ref.i31) (ref.null) (ref.func) (ref.extern))
`

func TestConvert(t *testing.T) {
	dir := t.TempDir()
	src, bin, out := filepath.Join(dir, "x.wast"), filepath.Join(dir, "x.bin.wast"), filepath.Join(dir, "x.json")
	if err := os.WriteFile(src, []byte(srcScript), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte(binScript), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(src, "", bin, out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Source   string           `json:"source_filename"`
		Commands []map[string]any `json:"commands"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if f.Source != "x.wast" {
		t.Errorf("source_filename %q", f.Source)
	}
	var types []string
	for _, c := range f.Commands {
		types = append(types, c["type"].(string))
	}
	want := "module register assert_malformed assert_return module_definition module_instance " +
		"assert_uninstantiable assert_return assert_return"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("commands %s\nwant %s", got, want)
	}
	c := f.Commands
	check := func(i int, key, want string) {
		t.Helper()
		got, _ := json.Marshal(c[i][key])
		if string(got) != want {
			t.Errorf("command %d %s: %s, want %s", i, key, got, want)
		}
	}
	check(0, "name", `"$m"`)
	check(0, "filename", `"x.0.wasm"`)
	check(0, "line", `2`)
	check(2, "module_type", `"text"`)
	check(2, "line", `4`) // the module's line, as wast2json
	check(3, "action", `{"args":[{"type":"i32","value":"4294967295"}],"field":"f","type":"invoke"}`)
	check(3, "expected", `[{"type":"i32","value":"4294967295"}]`)
	check(5, "module", `"$d"`)
	check(5, "name", `"$i"`)
	check(6, "filename", `"x.2.wasm"`)
	check(6, "text", `"unreachable"`)
	check(7, "action", `{"args":[{"type":"f32","value":"3225419776"},{"type":"externref","value":"7"},`+
		`{"heap_type":"any","type":"refnull"}],"field":"g","module":"$m","type":"invoke"}`)
	check(7, "either", `[{"type":"f64","value":"nan:canonical"},{"lane_type":"i16","type":"v128",`+
		`"value":["1","2","3","4","5","6","7","65535"]}]`)
	check(8, "expected", `[{"type":"i31ref"},{"type":"refnull"},{"type":"funcref"},{"type":"externref"}]`)
	wasm, err := os.ReadFile(filepath.Join(dir, "x.2.wasm"))
	if err != nil || string(wasm) != "\x00asm\x01\x00\x00\x00\x08" {
		t.Errorf("x.2.wasm: %q %v", wasm, err)
	}
}

func TestConvertMismatch(t *testing.T) {
	dir := t.TempDir()
	src, bin := filepath.Join(dir, "x.wast"), filepath.Join(dir, "x.bin.wast")
	os.WriteFile(src, []byte(`(module) (assert_return (invoke "f"))`), 0o644)
	os.WriteFile(bin, []byte(`(module binary "\00asm\01\00\00\00") (invoke "f")`), 0o644)
	err := run(src, "", bin, filepath.Join(dir, "x.json"))
	if err == nil || !strings.Contains(err.Error(), "assert_return, but the binary script has invoke") {
		t.Fatalf("got %v", err)
	}
}

func TestValues(t *testing.T) {
	for _, tt := range []struct{ typ, in, want string }{
		{"i32", "-0x8000_0000", "2147483648"},
		{"i64", "-1", "18446744073709551615"},
		{"i8", "-0x80", "128"},
		{"f32", "nan", "2143289344"},
		{"f32", "-nan:0x1", "4286578689"},
		{"f32", "-inf", "4286578688"},
		{"f32", "0x1p-149", "1"},
		{"f64", "0x1.fffffffffffffp+1023", "9218868437227405311"},
		{"f64", "1.5", "4609434218613702656"},
	} {
		got, err := scalar(tt.typ, tt.in, false)
		if err != nil || got != tt.want {
			t.Errorf("%s %s: %s %v, want %s", tt.typ, tt.in, got, err, tt.want)
		}
	}
	for _, bad := range [][2]string{{"i32", "0x1_0000_0000"}, {"i8", "256"}, {"f32", "nan:0x80_0000"}, {"i32", "nan:canonical"}} {
		if _, err := scalar(bad[0], bad[1], true); err == nil {
			t.Errorf("%s %s accepted", bad[0], bad[1])
		}
	}
	if _, err := scalar("f32", "nan:canonical", false); err == nil {
		t.Error("a NaN pattern as an argument was accepted")
	}
}

func TestParseStrings(t *testing.T) {
	n, err := parseScript([]byte(`(x "a\n\t\\\"\41\u{1F600}" (; (; nested ;) ;) y) ;; end`))
	if err != nil {
		t.Fatal(err)
	}
	if len(n) != 1 || len(n[0].list) != 3 || string(n[0].list[1].str) != "a\n\t\\\"A\U0001F600" {
		t.Fatalf("got %v", n)
	}
	for _, bad := range []string{`(x`, `)`, `"abc`, `(; x`, `("\u{d800}")`, `("\zz")`} {
		if _, err := parseScript([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
