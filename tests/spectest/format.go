package spectest

import (
	"encoding/json"
	"fmt"
	"os"
)

// testFile is one wast2json output file.
type testFile struct {
	SourceFile string    `json:"source_filename"`
	Commands   []command `json:"commands"`
}

// command is one script command; which fields are set depends on Type.
type command struct {
	Type       string  `json:"type"`
	Line       int     `json:"line"`
	Name       string  `json:"name"`        // module, module_definition, module_instance, register: the module's $name
	Module     string  `json:"module"`      // module_instance: the definition's $name ("" = the last one)
	Filename   string  `json:"filename"`    // module, assert_{malformed,invalid,unlinkable,uninstantiable}
	As         string  `json:"as"`          // register
	Action     action  `json:"action"`      // action, assert_{return,trap,exhaustion}
	Expected   []value `json:"expected"`    // assert_return results (types only for traps)
	Either     []value `json:"either"`      // assert_return (either ...): the one result is one of these
	ModuleType string  `json:"module_type"` // "binary" or "text"
	Text       string  `json:"text"`        // expected error text
}

type action struct {
	Type   string  `json:"type"` // "invoke" or "get"
	Module string  `json:"module"`
	Field  string  `json:"field"`
	Args   []value `json:"args"`
}

// value is a typed constant; Value is a decimal string (bits for floats), "null",
// "nan:canonical", "nan:arithmetic", absent (any non-null reference), or for v128 an array
// of lane strings.
//
// Beyond wast2json's format, tests/spectest/wastconv writes (for WebAssembly 3.0 scripts):
// commands "module_definition" (a module that is only defined: filename, name) and
// "module_instance" (name, module: the definition's name); value types "refnull" (a null
// reference; heap_type names the script's heap type, any null matches), "anyref", "eqref",
// "i31ref", "structref", "arrayref", "exnref" (result patterns: any non-null reference of
// that kind; the runner sees only slots, so it checks non-null) and "hostref" (ref.host N:
// a host value inside anyref).
type value struct {
	Type     string          `json:"type"`
	LaneType string          `json:"lane_type"`
	HeapType string          `json:"heap_type"`
	Value    json.RawMessage `json:"value"`
}

func loadTestFile(path string) (*testFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f testFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &f, nil
}
