package main

import (
	"fmt"
	"strconv"
	"strings"
)

// node is one s-expression: an atom (keyword, number, $id), a string, or a list.
type node struct {
	atom   string
	str    []byte // the decoded bytes of a string
	isStr  bool
	list   []*node
	isList bool
	line   int
}

func (n *node) head() string {
	if !n.isList || len(n.list) == 0 || n.list[0].isList || n.list[0].isStr {
		return ""
	}
	return n.list[0].atom
}

func (n *node) String() string {
	switch {
	case n.isStr:
		return strconv.Quote(string(n.str))
	case n.isList:
		var parts []string
		for _, c := range n.list {
			parts = append(parts, c.String())
		}
		return "(" + strings.Join(parts, " ") + ")"
	}
	return n.atom
}

// parseScript reads a WebAssembly script (text format): its top-level s-expressions.
// Comments (line and nested block) are skipped; annotations are read as lists.
func parseScript(src []byte) ([]*node, error) {
	p := &parser{src: src, line: 1}
	var top []*node
	for {
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.pos >= len(p.src) {
			return top, nil
		}
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		top = append(top, n)
	}
}

type parser struct {
	src  []byte
	pos  int
	line int
}

func (p *parser) errf(format string, args ...any) error {
	return fmt.Errorf("line %d: %s", p.line, fmt.Sprintf(format, args...))
}

func (p *parser) skipSpace() error {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '\n':
			p.line++
			p.pos++
		case c == ' ' || c == '\t' || c == '\r':
			p.pos++
		case c == ';' && p.pos+1 < len(p.src) && p.src[p.pos+1] == ';':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		case c == '(' && p.pos+1 < len(p.src) && p.src[p.pos+1] == ';':
			depth := 0
			for {
				if p.pos+1 >= len(p.src) {
					return p.errf("unterminated block comment")
				}
				switch {
				case p.src[p.pos] == '(' && p.src[p.pos+1] == ';':
					depth++
					p.pos += 2
				case p.src[p.pos] == ';' && p.src[p.pos+1] == ')':
					depth--
					p.pos += 2
				default:
					if p.src[p.pos] == '\n' {
						p.line++
					}
					p.pos++
				}
				if depth == 0 {
					break
				}
			}
		default:
			return nil
		}
	}
	return nil
}

// expr reads one expression; nesting is bounded only by memory (lists are built with an
// explicit stack, no recursion).
func (p *parser) expr() (*node, error) {
	var stack []*node
	for {
		if err := p.skipSpace(); err != nil {
			return nil, err
		}
		if p.pos >= len(p.src) {
			return nil, p.errf("unexpected end of script")
		}
		var n *node
		switch c := p.src[p.pos]; c {
		case '(':
			stack = append(stack, &node{isList: true, line: p.line})
			p.pos++
			continue
		case ')':
			if len(stack) == 0 {
				return nil, p.errf("unbalanced )")
			}
			p.pos++
			n = stack[len(stack)-1]
			stack = stack[:len(stack)-1]
		case '"':
			s, err := p.string()
			if err != nil {
				return nil, err
			}
			n = &node{isStr: true, str: s, line: p.line}
		default:
			start := p.pos
			for p.pos < len(p.src) && !strings.ContainsRune(" \t\r\n();\"", rune(p.src[p.pos])) {
				p.pos++
			}
			n = &node{atom: string(p.src[start:p.pos]), line: p.line}
		}
		if len(stack) == 0 {
			return n, nil
		}
		top := stack[len(stack)-1]
		top.list = append(top.list, n)
	}
}

func (p *parser) string() ([]byte, error) {
	p.pos++ // opening quote
	var out []byte
	for {
		if p.pos >= len(p.src) {
			return nil, p.errf("unterminated string")
		}
		c := p.src[p.pos]
		p.pos++
		switch {
		case c == '"':
			return out, nil
		case c == '\n':
			return nil, p.errf("newline in string")
		case c != '\\':
			out = append(out, c)
			continue
		}
		if p.pos >= len(p.src) {
			return nil, p.errf("unterminated string")
		}
		e := p.src[p.pos]
		p.pos++
		switch e {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case '\\', '\'', '"':
			out = append(out, e)
		case 'u':
			end := strings.IndexByte(string(p.src[p.pos:]), '}')
			if p.pos >= len(p.src) || p.src[p.pos] != '{' || end < 0 {
				return nil, p.errf("bad \\u escape")
			}
			v, err := strconv.ParseUint(strings.ReplaceAll(string(p.src[p.pos+1:p.pos+end]), "_", ""), 16, 32)
			if err != nil || v > 0x10ffff || v >= 0xd800 && v < 0xe000 {
				return nil, p.errf("bad \\u escape")
			}
			out = append(out, string(rune(v))...)
			p.pos += end + 1
		default:
			if p.pos >= len(p.src) {
				return nil, p.errf("bad escape")
			}
			v, err := strconv.ParseUint(string([]byte{e, p.src[p.pos]}), 16, 8)
			if err != nil {
				return nil, p.errf("bad escape \\%c", e)
			}
			out = append(out, byte(v))
			p.pos++
		}
	}
}
