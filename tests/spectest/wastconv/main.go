// Command wastconv converts a WebAssembly spec script (.wast) into the JSON + X.N.wasm layout
// that wabt's wast2json writes and tests/spectest reads, for scripts wast2json cannot read
// (WebAssembly 3.0: GC, 64-bit tables, module definitions).
//
// It does not parse the text format of modules itself: the spec's reference interpreter
// (`wasm -d x.wast -o x.bin.wast`, built from github.com/WebAssembly/spec) rewrites the script
// with every module in binary form, and wastconv converts that script. The original script
// is read too, for its line numbers and for the `(assert_malformed (module quote ...))`
// commands the interpreter leaves out (their text cannot be encoded): those are written as
// text-format commands (module_type "text", no file), which the runner counts as n/a.
//
//	go run ./tests/spectest/wastconv -interp /path/to/spec/interpreter/wasm -o out/x.json x.wast
//	go run ./tests/spectest/wastconv -bin x.bin.wast -o out/x.json x.wast
//
// Output: out/x.json and out/x.0.wasm, out/x.1.wasm, ... ("source_filename" is x.wast). The
// JSON extensions beyond wast2json's format are described in tests/spectest/format.go.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	interp := flag.String("interp", "", "the spec reference interpreter (wasm), run as `wasm -d x.wast -o x.bin.wast`")
	bin := flag.String("bin", "", "an already converted binary script (instead of -interp)")
	out := flag.String("o", "", "output JSON file (its .wasm files are written beside it)")
	flag.Parse()
	if flag.NArg() != 1 || *out == "" || (*interp == "") == (*bin == "") {
		fmt.Fprintln(os.Stderr, "usage: wastconv (-interp WASM | -bin X.bin.wast) -o OUT.json X.wast")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *interp, *bin, *out); err != nil {
		fmt.Fprintln(os.Stderr, "wastconv:", err)
		os.Exit(1)
	}
}

func run(srcPath, interp, binPath, out string) error {
	src, err := os.ReadFile(srcPath)
	if err != nil {
		return err
	}
	if binPath == "" {
		tmp, err := os.MkdirTemp("", "wastconv")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		binPath = filepath.Join(tmp, "x.bin.wast")
		cmd := exec.Command(interp, "-d", srcPath, "-o", binPath)
		if msg, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s -d %s: %v: %s", interp, srcPath, err, bytes.TrimSpace(msg))
		}
	}
	binSrc, err := os.ReadFile(binPath)
	if err != nil {
		return err
	}
	srcCmds, err := parseScript(src)
	if err != nil {
		return fmt.Errorf("%s: %w", srcPath, err)
	}
	binCmds, err := parseScript(binSrc)
	if err != nil {
		return fmt.Errorf("%s: %w", binPath, err)
	}
	c := &converter{base: strings.TrimSuffix(filepath.Base(out), ".json")}
	if err := c.convert(srcCmds, binCmds); err != nil {
		return fmt.Errorf("%s: %w", srcPath, err)
	}
	dir := filepath.Dir(out)
	for i, m := range c.wasm {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s.%d.wasm", c.base, i)), m, 0o644); err != nil {
			return err
		}
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "{\"source_filename\": %q,\n \"commands\": [\n", filepath.Base(srcPath))
	for i, cmd := range c.cmds {
		b, err := json.Marshal(cmd)
		if err != nil {
			return err
		}
		sep := ","
		if i == len(c.cmds)-1 {
			sep = ""
		}
		fmt.Fprintf(&buf, "  %s%s\n", b, sep)
	}
	buf.WriteString("]}\n")
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// Output JSON (field names as wast2json's).
type command struct {
	Type       string   `json:"type"`
	Line       int      `json:"line"`
	Name       string   `json:"name,omitempty"`
	Module     string   `json:"module,omitempty"` // module_instance: the definition's name
	Filename   string   `json:"filename,omitempty"`
	As         string   `json:"as,omitempty"`
	Action     *action  `json:"action,omitempty"`
	Expected   any      `json:"expected,omitempty"` // []*value; an empty list is written
	Either     []*value `json:"either,omitempty"`
	ModuleType string   `json:"module_type,omitempty"`
	Text       string   `json:"text,omitempty"`
}

type action struct {
	Type   string   `json:"type"`
	Module string   `json:"module,omitempty"`
	Field  string   `json:"field"`
	Args   []*value `json:"args"`
}

type value struct {
	Type     string `json:"type"`
	LaneType string `json:"lane_type,omitempty"`
	HeapType string `json:"heap_type,omitempty"`
	Value    any    `json:"value,omitempty"`
}

type converter struct {
	base string
	wasm [][]byte
	cmds []*command
}

// convert walks the original script and the interpreter's binary one side by side: each
// original command is one binary command, except that a text module becomes a definition
// and an instance there, and a quoted malformed module is left out.
func (c *converter) convert(src, bin []*node) error {
	j := 0
	for _, s := range src {
		h := s.head()
		if h == "assert_malformed" && len(s.list) > 1 && isQuote(s.list[1]) {
			c.cmds = append(c.cmds, &command{Type: "assert_malformed", Line: s.list[1].line, ModuleType: "text",
				Text: textOf(s.list, 2)})
			continue
		}
		if j >= len(bin) {
			return fmt.Errorf("line %d: %s has no counterpart in the binary script", s.line, h)
		}
		b := bin[j]
		j++
		line := s.line
		if strings.HasPrefix(h, "assert_") && len(s.list) > 1 && s.list[1].isList {
			line = s.list[1].line // wast2json's line for an assertion: its module's or action's
		}
		if h != "module" && isDefinition(b) && j < len(bin) && bin[j].head() == h &&
			len(bin[j].list) > 1 && isInstance(bin[j].list[1]) {
			// (assert_trap (module ...) "msg") became (module definition binary ...)
			// (assert_trap (module instance) "msg").
			a := bin[j]
			j++
			a.list[1] = b
			b = a
		}
		if b.head() != h {
			return fmt.Errorf("line %d: %s, but the binary script has %s (its line %d)", s.line, h, b.head(), b.line)
		}
		if h == "module" && isDefinition(b) && !isDefinition(s) && j < len(bin) && isInstance(bin[j]) {
			// (module $m ...) became (module definition $m binary ...) (module instance $m $m).
			inst := bin[j]
			j++
			name, def := instanceNames(inst)
			dname, _ := moduleName(b)
			if def != dname || name != "" && name != dname {
				return fmt.Errorf("line %d: definition %q instantiated as %q %q", s.line, dname, name, def)
			}
			m, err := c.module(b, s.line)
			if err != nil {
				return err
			}
			m.Type, m.ModuleType = "module", ""
			c.cmds = append(c.cmds, m)
			continue
		}
		if err := c.command(b, line); err != nil {
			return fmt.Errorf("line %d: %w", s.line, err)
		}
	}
	if j != len(bin) {
		return fmt.Errorf("the binary script has %d more commands", len(bin)-j)
	}
	return nil
}

func isQuote(m *node) bool {
	if m.head() != "module" {
		return false
	}
	for _, x := range m.list[1:] {
		if !x.isList && !x.isStr && x.atom == "quote" {
			return true
		}
		if x.isStr || x.isList {
			return false
		}
	}
	return false
}

func isDefinition(m *node) bool {
	return m.head() == "module" && len(m.list) > 1 && m.list[1].atom == "definition"
}

func isInstance(m *node) bool {
	return m.head() == "module" && len(m.list) > 1 && m.list[1].atom == "instance"
}

// instanceNames of (module instance [$inst [$def]]).
func instanceNames(m *node) (name, def string) {
	ids := m.list[2:]
	if len(ids) > 0 {
		name = ids[0].atom
		def = name
	}
	if len(ids) > 1 {
		def = ids[1].atom
	}
	return name, def
}

// moduleName: the $name of (module [definition] [$name] binary|quote ...) and the index of
// the keyword after it.
func moduleName(m *node) (string, int) {
	i := 1
	if isDefinition(m) {
		i++
	}
	if i < len(m.list) && strings.HasPrefix(m.list[i].atom, "$") {
		return m.list[i].atom, i + 1
	}
	return "", i
}

func textOf(l []*node, i int) string {
	if i < len(l) && l[i].isStr {
		return string(l[i].str)
	}
	return ""
}

// module converts a binary module, writing its bytes as the next X.N.wasm.
func (c *converter) module(m *node, line int) (*command, error) {
	if m.head() != "module" {
		return nil, fmt.Errorf("line %d: want a module, got %s", line, m.head())
	}
	name, i := moduleName(m)
	if i >= len(m.list) || m.list[i].atom != "binary" {
		return nil, fmt.Errorf("line %d: module not in binary form: %.60s", line, m.String())
	}
	var wasm []byte
	for _, s := range m.list[i+1:] {
		if !s.isStr {
			return nil, fmt.Errorf("line %d: binary module with a non-string %s", line, s)
		}
		wasm = append(wasm, s.str...)
	}
	typ, mt := "module", ""
	if isDefinition(m) {
		typ = "module_definition"
	}
	file := fmt.Sprintf("%s.%d.wasm", c.base, len(c.wasm))
	c.wasm = append(c.wasm, wasm)
	return &command{Type: typ, Line: line, Name: name, Filename: file, ModuleType: mt}, nil
}

func (c *converter) command(b *node, line int) error {
	l := b.list
	switch h := b.head(); h {
	case "module":
		if isInstance(b) {
			name, def := instanceNames(b)
			c.cmds = append(c.cmds, &command{Type: "module_instance", Line: line, Name: name, Module: def})
			return nil
		}
		m, err := c.module(b, line)
		if err != nil {
			return err
		}
		c.cmds = append(c.cmds, m)
	case "register":
		if len(l) < 2 || !l[1].isStr {
			return fmt.Errorf("bad register %s", b)
		}
		cmd := &command{Type: "register", Line: line, As: string(l[1].str)}
		if len(l) > 2 {
			cmd.Name = l[2].atom
		}
		c.cmds = append(c.cmds, cmd)
	case "invoke", "get":
		a, err := convAction(b)
		if err != nil {
			return err
		}
		c.cmds = append(c.cmds, &command{Type: "action", Line: line, Action: a})
	case "assert_return":
		if len(l) < 2 {
			return fmt.Errorf("bad %s", h)
		}
		a, err := convAction(l[1])
		if err != nil {
			return err
		}
		cmd := &command{Type: h, Line: line, Action: a}
		exp := []*value{}
		for _, r := range l[2:] {
			if r.head() == "either" {
				if len(l) != 3 {
					return fmt.Errorf("either with other results")
				}
				for _, e := range r.list[1:] {
					v, err := convValue(e, true)
					if err != nil {
						return err
					}
					cmd.Either = append(cmd.Either, v)
				}
				exp = nil
				continue
			}
			v, err := convValue(r, true)
			if err != nil {
				return err
			}
			exp = append(exp, v)
		}
		if exp != nil {
			cmd.Expected = exp
		}
		c.cmds = append(c.cmds, cmd)
	case "assert_trap", "assert_exhaustion", "assert_exception":
		if len(l) < 2 {
			return fmt.Errorf("bad %s", h)
		}
		if l[1].head() == "module" { // (assert_trap (module ...) "msg"): a trap while instantiating
			m, err := c.module(l[1], line)
			if err != nil {
				return err
			}
			m.Type, m.Name, m.Text, m.ModuleType = "assert_uninstantiable", "", textOf(l, 2), "binary"
			c.cmds = append(c.cmds, m)
			return nil
		}
		a, err := convAction(l[1])
		if err != nil {
			return err
		}
		c.cmds = append(c.cmds, &command{Type: h, Line: line, Action: a, Text: textOf(l, 2)})
	case "assert_malformed", "assert_invalid", "assert_unlinkable", "assert_uninstantiable":
		if len(l) < 2 {
			return fmt.Errorf("bad %s", h)
		}
		if isQuote(l[1]) {
			c.cmds = append(c.cmds, &command{Type: h, Line: line, ModuleType: "text", Text: textOf(l, 2)})
			return nil
		}
		m, err := c.module(l[1], line)
		if err != nil {
			return err
		}
		m.Type, m.Name, m.Text, m.ModuleType = h, "", textOf(l, 2), "binary"
		c.cmds = append(c.cmds, m)
	default:
		return fmt.Errorf("unknown command %q", h)
	}
	return nil
}

// convAction: (invoke [$m] "name" arg*) or (get [$m] "name").
func convAction(n *node) (*action, error) {
	h := n.head()
	if h != "invoke" && h != "get" {
		return nil, fmt.Errorf("want an action, got %s", n)
	}
	a := &action{Type: h, Args: []*value{}}
	i := 1
	if i < len(n.list) && strings.HasPrefix(n.list[i].atom, "$") {
		a.Module = n.list[i].atom
		i++
	}
	if i >= len(n.list) || !n.list[i].isStr {
		return nil, fmt.Errorf("action without a name: %s", n)
	}
	a.Field = string(n.list[i].str)
	for _, x := range n.list[i+1:] {
		v, err := convValue(x, false)
		if err != nil {
			return nil, err
		}
		a.Args = append(a.Args, v)
	}
	return a, nil
}
