package wit

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// WAVE (WebAssembly Value Encoding) is the text form of WIT values used by wasmtime
// --invoke and wasm-wave: "hi", 'x', 42, -1.5, nan, inf, true, [1, 2], (1, "a"),
// {x: 1, y: 2} for records (option fields may be left out: none), red for enum cases,
// circle(1.5) / empty for variant cases, some(3) / none, ok(1) / err("e") / ok / err,
// {read, write} for flags. Labels that are keywords are written %label.

// ParseWAVE parses s as a value of type t and returns it in canonical dynamic form.
func ParseWAVE(t *Type, s string) (Value, error) {
	p := &waveParser{s: s}
	v, err := p.value(t)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.i < len(p.s) {
		return nil, p.errf("unexpected %q after the value", p.rest())
	}
	return v, nil
}

// ParseArgs parses one WAVE argument per parameter of f.
func ParseArgs(f *Func, args []string) ([]Value, error) {
	if len(args) != len(f.Params) {
		return nil, fmt.Errorf("%w: %s takes %d arguments, got %d", ErrWAVE, f, len(f.Params), len(args))
	}
	out := make([]Value, len(args))
	for i, a := range args {
		v, err := ParseWAVE(f.Params[i].Type, a)
		if err != nil {
			return nil, fmt.Errorf("argument %s: %w", f.Params[i].Name, err)
		}
		out[i] = v
	}
	return out, nil
}

type waveParser struct {
	s string
	i int
}

func (p *waveParser) errf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", ErrWAVE, p.i, fmt.Sprintf(format, args...))
}

func (p *waveParser) rest() string {
	r := p.s[p.i:]
	if len(r) > 20 {
		r = r[:20] + "…"
	}
	return r
}

func (p *waveParser) ws() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *waveParser) peek() byte {
	p.ws()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *waveParser) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

func (p *waveParser) expect(c byte) error {
	if !p.eat(c) {
		if p.i >= len(p.s) {
			return p.errf("expected %q, found the end", c)
		}
		return p.errf("expected %q, found %q", c, p.rest())
	}
	return nil
}

// label reads a kebab-case label (optionally %-escaped).
func (p *waveParser) label() (string, error) {
	p.ws()
	start := p.i
	if p.i < len(p.s) && p.s[p.i] == '%' {
		p.i++
		start = p.i
	}
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '-' || c == '_' || c == '.' || c == '+' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
			p.i++
			continue
		}
		break
	}
	if p.i == start {
		if p.i >= len(p.s) {
			return "", p.errf("expected a value, found the end")
		}
		return "", p.errf("unexpected %q", p.rest())
	}
	return p.s[start:p.i], nil
}

// seq parses "open elem, elem, ... close" (trailing comma allowed).
func (p *waveParser) seq(open, close byte, elem func() error) error {
	if err := p.expect(open); err != nil {
		return err
	}
	for !p.eat(close) {
		if err := elem(); err != nil {
			return err
		}
		if !p.eat(',') {
			return p.expect(close)
		}
	}
	return nil
}

func (p *waveParser) value(t *Type) (Value, error) {
	p.ws()
	switch t.k {
	case kBool:
		l, err := p.label()
		if err != nil {
			return nil, err
		}
		switch l {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, p.errf("want bool, found %q", l)
	case kS8, kS16, kS32, kS64, kU8, kU16, kU32, kU64, kOwn, kBorrow:
		l, err := p.number()
		if err != nil {
			return nil, err
		}
		if t.k == kOwn || t.k == kBorrow {
			n, err := strconv.ParseUint(l, 10, 32)
			if err != nil {
				return nil, p.errf("bad handle %q", l)
			}
			return Handle(n), nil
		}
		var v Value
		if l[0] == '-' {
			n, err := strconv.ParseInt(l, 10, 64)
			if err != nil {
				return nil, p.errf("bad integer %q for %s", l, t)
			}
			v = n
		} else {
			n, err := strconv.ParseUint(l, 10, 64)
			if err != nil {
				return nil, p.errf("bad integer %q for %s", l, t)
			}
			v = n
		}
		x, err := conform(t, v)
		if err != nil {
			return nil, p.errf("integer %s out of range for %s", l, t)
		}
		return x, nil
	case kF32, kF64:
		l, err := p.number()
		if err != nil {
			return nil, err
		}
		var f float64
		switch l {
		case "nan":
			f = math.NaN()
		case "inf":
			f = math.Inf(1)
		case "-inf":
			f = math.Inf(-1)
		default:
			bits := 64
			if t.k == kF32 {
				bits = 32
			}
			f, err = strconv.ParseFloat(l, bits)
			if err != nil || strings.ContainsAny(l, "xXpP_") {
				return nil, p.errf("bad number %q for %s", l, t)
			}
		}
		if t.k == kF32 {
			return float32(f), nil
		}
		return f, nil
	case kChar:
		s, err := p.quoted('\'')
		if err != nil {
			return nil, err
		}
		r, n := utf8.DecodeRuneInString(s)
		if n == 0 || n != len(s) {
			return nil, p.errf("a char literal holds one character, not %q", s)
		}
		return Char(r), nil
	case kString:
		return p.quoted('"')
	case kList:
		out := List{}
		err := p.seq('[', ']', func() error {
			v, err := p.value(t.elem)
			out = append(out, v)
			return err
		})
		if err == nil && t.elem.k == kU8 {
			return conform(t, out) // list<u8>'s dynamic form is []byte
		}
		return out, err
	case kTuple:
		out := Tuple{}
		err := p.seq('(', ')', func() error {
			if len(out) == len(t.subs) {
				return p.errf("too many values for %s", t)
			}
			v, err := p.value(t.subs[len(out)])
			out = append(out, v)
			return err
		})
		if err == nil && len(out) != len(t.subs) {
			return nil, p.errf("%d values for %s", len(out), t)
		}
		return out, err
	case kRecord:
		vals := make([]Value, len(t.subs))
		set := make([]bool, len(t.subs))
		if p.peek() == '{' && strings.HasPrefix(strings.TrimLeft(p.s[p.i+1:], " \t\r\n"), ":") {
			p.i++ // {:} is the empty record
			p.eat(':')
			if err := p.expect('}'); err != nil {
				return nil, err
			}
		} else if err := p.seq('{', '}', func() error {
			name, err := p.label()
			if err != nil {
				return err
			}
			i := indexOf(t.names, name)
			if i < 0 {
				return p.errf("record %s has no field %q", t, name)
			}
			if set[i] {
				return p.errf("field %q given twice", name)
			}
			if err := p.expect(':'); err != nil {
				return err
			}
			vals[i], err = p.value(t.subs[i])
			set[i] = true
			return err
		}); err != nil {
			return nil, err
		}
		r := make(Record, len(vals))
		for i, name := range t.names {
			if !set[i] {
				if t.subs[i].k != kOption {
					return nil, p.errf("record %s: missing field %q", t, name)
				}
				vals[i] = Option[Value]{}
			}
			r[i] = Field{Name: name, Value: vals[i]}
		}
		return r, nil
	case kFlags:
		out := Flags{}
		seen := map[string]bool{}
		err := p.seq('{', '}', func() error {
			name, err := p.label()
			if err != nil {
				return err
			}
			if indexOf(t.names, name) < 0 {
				return p.errf("flags %s has no flag %q", t, name)
			}
			seen[name] = true
			return nil
		})
		for _, n := range t.names {
			if seen[n] {
				out = append(out, n)
			}
		}
		return out, err
	case kVariant, kEnum, kOption, kResult:
		name, err := p.label()
		if err != nil {
			return nil, err
		}
		names := t.names
		if t.k == kResult {
			names = []string{"ok", "err"}
		}
		i := indexOf(names, name)
		if i < 0 {
			return nil, p.errf("%s has no case %q", t, name)
		}
		var payload Value
		if p.peek() == '(' {
			if t.subs[i] == nil {
				return nil, p.errf("case %s of %s takes no payload", name, t)
			}
			p.i++
			if payload, err = p.value(t.subs[i]); err != nil {
				return nil, err
			}
			if err := p.expect(')'); err != nil {
				return nil, err
			}
		} else if t.subs[i] != nil {
			return nil, p.errf("case %s of %s needs a payload", name, t)
		}
		return t.makeCase(i, payload), nil
	}
	return nil, fmt.Errorf("%w: WAVE for %s", ErrUnsupported, t)
}

func (p *waveParser) number() (string, error) {
	p.ws()
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
			p.i++
			continue
		}
		break
	}
	if p.i == start {
		return "", p.errf("expected a number, found %q", p.rest())
	}
	return p.s[start:p.i], nil
}

// quoted parses a string or char literal with WAVE escapes.
func (p *waveParser) quoted(q byte) (string, error) {
	if err := p.expect(q); err != nil {
		return "", err
	}
	var b strings.Builder
	for {
		if p.i >= len(p.s) {
			return "", p.errf("unterminated literal")
		}
		c := p.s[p.i]
		switch {
		case c == q:
			p.i++
			return b.String(), nil
		case c == '\\':
			p.i++
			if p.i >= len(p.s) {
				return "", p.errf("unterminated escape")
			}
			e := p.s[p.i]
			p.i++
			switch e {
			case '\\', '\'', '"':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'u':
				end := strings.IndexByte(p.s[p.i:], '}')
				if !strings.HasPrefix(p.s[p.i:], "{") || end < 0 {
					return "", p.errf("bad \\u escape")
				}
				n, err := strconv.ParseUint(p.s[p.i+1:p.i+end], 16, 32)
				if err != nil || n >= 0x110000 || (n >= 0xD800 && n <= 0xDFFF) {
					return "", p.errf("bad \\u escape %q", p.s[p.i:p.i+end+1])
				}
				b.WriteRune(rune(n))
				p.i += end + 1
			default:
				return "", p.errf("unknown escape \\%c", e)
			}
		case c == '\n':
			return "", p.errf("newline in literal")
		default:
			r, n := utf8.DecodeRuneInString(p.s[p.i:])
			if r == utf8.RuneError && n <= 1 {
				return "", p.errf("invalid UTF-8")
			}
			b.WriteString(p.s[p.i : p.i+n])
			p.i += n
		}
	}
}

// FormatWAVE renders v (of type t, in dynamic form or as a Go value accepted by [Bind])
// as WAVE.
func FormatWAVE(t *Type, v any) (string, error) {
	cv, err := conform(t, v)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	writeWAVE(&b, t, cv)
	return b.String(), nil
}

var waveKeywords = map[string]bool{"true": true, "false": true, "some": true, "none": true, "ok": true, "err": true, "inf": true, "nan": true}

func waveLabel(s string) string {
	if waveKeywords[s] {
		return "%" + s
	}
	return s
}

func writeWAVE(b *strings.Builder, t *Type, v Value) {
	switch t.k {
	case kF32:
		b.WriteString(waveFloat(float64(v.(float32)), 32))
	case kF64:
		b.WriteString(waveFloat(v.(float64), 64))
	case kChar:
		b.WriteString(waveQuote(string(rune(v.(Char))), '\''))
	case kString:
		b.WriteString(waveQuote(v.(string), '"'))
	case kList:
		b.WriteByte('[')
		if bs, ok := v.([]byte); ok { // list<u8>
			for i, x := range bs {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(strconv.Itoa(int(x)))
			}
			b.WriteByte(']')
			break
		}
		for i, x := range v.(List) {
			if i > 0 {
				b.WriteString(", ")
			}
			writeWAVE(b, t.elem, x)
		}
		b.WriteByte(']')
	case kTuple:
		b.WriteByte('(')
		for i, x := range v.(Tuple) {
			if i > 0 {
				b.WriteString(", ")
			}
			writeWAVE(b, t.subs[i], x)
		}
		b.WriteByte(')')
	case kRecord:
		r := v.(Record)
		if len(r) == 0 {
			b.WriteString("{:}")
			return
		}
		b.WriteByte('{')
		for i, f := range r {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(waveLabel(f.Name) + ": ")
			writeWAVE(b, t.subs[i], f.Value)
		}
		b.WriteByte('}')
	case kFlags:
		fs := make([]string, 0)
		for _, f := range v.(Flags) {
			fs = append(fs, waveLabel(f))
		}
		b.WriteString("{" + strings.Join(fs, ", ") + "}")
	case kEnum:
		b.WriteString(waveLabel(string(v.(Enum))))
	case kVariant, kOption, kResult:
		d, payload, _ := caseOf(t, v)
		name := waveLabel(t.names[d])
		if t.k == kOption || t.k == kResult {
			name = [2][2]string{{"none", "some"}, {"ok", "err"}}[t.k-kOption][d]
		}
		b.WriteString(name)
		if t.subs[d] != nil {
			b.WriteByte('(')
			writeWAVE(b, t.subs[d], payload)
			b.WriteByte(')')
		}
	default:
		fmt.Fprint(b, v)
	}
}

func waveFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e21) {
		return strconv.FormatFloat(f, 'f', -1, bits)
	}
	return strings.Replace(strconv.FormatFloat(f, 'g', -1, bits), "e+", "e", 1)
}

func waveQuote(s string, q rune) string {
	var b strings.Builder
	b.WriteRune(q)
	for _, r := range s {
		switch {
		case r == q || r == '\\':
			b.WriteRune('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\u{%x}`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteRune(q)
	return b.String()
}
