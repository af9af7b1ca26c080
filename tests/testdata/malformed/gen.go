//go:build ignore

// gen.go writes the malformed / invalid Wasm binaries in this directory and README.md, which
// lists them. mk/testdata.mk runs it (make -f mk/testdata.mk tests/testdata/malformed/README.md);
// by hand, from the repository root:
//
//	go run ./tests/testdata/malformed/gen.go -o tests/testdata/malformed
//
// Each case is tiny and hand-assembled so the one defect is obvious. "malformed" cases must be
// rejected while decoding (HL_STATUS_MALFORMED); "invalid" cases decode but fail validation
// (HL_STATUS_INVALID). bench/fixtures_test.go checks that wazero rejects every one of them.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
)

var header = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// section encodes a section with a correct size.
func section(id byte, payload ...byte) []byte {
	if len(payload) > 127 {
		panic("payload too long for 1-byte size")
	}
	return cat([]byte{id, byte(len(payload))}, payload)
}

var (
	typeVoid     = section(1, 0x01, 0x60, 0x00, 0x00)       // 1 type: () -> ()
	typeVoidI32  = section(1, 0x01, 0x60, 0x00, 0x01, 0x7f) // 1 type: () -> i32
	funcOne      = section(3, 0x01, 0x00)                   // 1 function of type 0
	codeOf       = func(body ...byte) []byte { return section(10, cat([]byte{0x01, byte(len(body))}, body)...) }
	exportFunc0  = section(7, 0x01, 0x01, 'f', 0x00, 0x00) // export "f" = func 0
	validMinimal = cat(header, typeVoid, funcOne, exportFunc0, codeOf(0x00, 0x0b))
)

type testCase struct {
	name, kind, what string
	bytes            []byte
}

var cases = []testCase{
	{"empty", "malformed", "zero bytes", nil},
	{"truncated_header", "malformed", "only the first 3 bytes of the magic number",
		header[:3]},
	{"bad_magic", "malformed", `magic "\0asn" instead of "\0asm"`,
		cat([]byte{0x00, 0x61, 0x73, 0x6e, 0x01, 0x00, 0x00, 0x00}, typeVoid)},
	{"bad_version", "malformed", "version 2 instead of 1",
		cat([]byte{0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00}, typeVoid)},
	{"truncated_section", "malformed", "type section declares 10 payload bytes, file ends after 4",
		cat(header, []byte{0x01, 0x0a, 0x01, 0x60, 0x00, 0x00})},
	{"truncated_code", "malformed", "a valid module cut off in the middle of the code section",
		validMinimal[:len(validMinimal)-2]},
	{"huge_count_leb", "malformed", "type section count is 0xFFFFFFFF (LEB128 ff ff ff ff 0f) in a 6-byte section: must not allocate 4G entries",
		cat(header, section(1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x60))},
	{"huge_section_size", "malformed", "section size LEB128 is 0xFFFFFFFF, far past the end of the file",
		cat(header, []byte{0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x60, 0x00, 0x00})},
	{"overlong_leb", "malformed", "section size encoded in 6 LEB128 bytes (u32 allows at most 5)",
		cat(header, []byte{0x01, 0x84, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01, 0x60, 0x00, 0x00})},
	{"leb_too_big", "malformed", "5-byte LEB128 u32 whose last byte has unused bits set (0x1f)",
		cat(header, []byte{0x01, 0x84, 0x80, 0x80, 0x80, 0x1f, 0x01, 0x60, 0x00, 0x00})},
	{"unknown_section", "malformed", "section id 0x7f",
		cat(header, section(0x7f, 0x00))},
	{"section_order", "malformed", "function section before type section",
		cat(header, funcOne, typeVoid, codeOf(0x00, 0x0b))},
	{"duplicate_section", "malformed", "two type sections",
		cat(header, typeVoid, typeVoid)},
	{"func_without_code", "malformed", "function section declares 1 function, there is no code section",
		cat(header, typeVoid, funcOne)},
	{"invalid_opcode", "malformed", "function body contains opcode 0xff (unassigned)",
		cat(header, typeVoid, funcOne, exportFunc0, codeOf(0x00, 0xff, 0x0b))},
	{"missing_end", "malformed", "function body lacks its final `end` (0x0b)",
		cat(header, typeVoid, funcOne, exportFunc0, codeOf(0x00, 0x01))},
	{"too_many_locals", "malformed", "function declares 0xFFFFFFFF + 0xFFFFFFFF i32 locals (> 2^32 total)",
		cat(header, typeVoid, funcOne, codeOf(0x02, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0x0b))},
	{"invalid_type_mismatch", "invalid", "() -> i32 function whose body is f32.const 0 (wrong result type)",
		cat(header, typeVoidI32, funcOne, codeOf(0x00, 0x43, 0, 0, 0, 0, 0x0b))},
	{"invalid_stack_underflow", "invalid", "i32.add with an empty operand stack",
		cat(header, typeVoidI32, funcOne, codeOf(0x00, 0x6a, 0x0b))},
	{"invalid_local_index", "invalid", "local.get 5 in a function with no locals",
		cat(header, typeVoidI32, funcOne, codeOf(0x00, 0x20, 0x05, 0x0b))},
	{"invalid_branch_depth", "invalid", "br 3 at depth 0",
		cat(header, typeVoid, funcOne, codeOf(0x00, 0x0c, 0x03, 0x0b))},
	{"invalid_memory_index", "invalid", "i32.load with no memory",
		cat(header, typeVoidI32, funcOne, codeOf(0x00, 0x41, 0x00, 0x28, 0x02, 0x00, 0x0b))},
}

func main() {
	out := flag.String("o", ".", "output directory")
	flag.Parse()
	var readme bytes.Buffer
	readme.WriteString("# Malformed and invalid Wasm binaries\n\n" +
		"Generated by `go run ./tests/testdata/malformed/gen.go -o tests/testdata/malformed` " +
		"(do not edit; edit gen.go). Every file must be rejected at load time: `malformed` ones " +
		"while decoding (HL_STATUS_MALFORMED), `invalid` ones by validation (HL_STATUS_INVALID). " +
		"`valid_minimal.wasm` is the control: it must load, and export `f: () -> ()`.\n\n" +
		"| file | kind | defect |\n|---|---|---|\n")
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(*out, name+".wasm"), b, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	write("valid_minimal", validMinimal)
	for _, c := range cases {
		write(c.name, c.bytes)
		fmt.Fprintf(&readme, "| %s.wasm | %s | %s |\n", c.name, c.kind, c.what)
	}
	if err := os.WriteFile(filepath.Join(*out, "README.md"), readme.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
