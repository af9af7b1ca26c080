package wasmbin

import (
	"bytes"
	"fmt"
)

// Section ids.
const (
	secCustom    = 0
	secType      = 1
	secImport    = 2
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secExport    = 7
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secData      = 11
	secDataCount = 12
	secTag       = 13
)

// sectionOrder is the position of each known non-custom section id in the required order
// (data count comes between element and code).
var sectionOrder = [...]int{
	secType: 1, secImport: 2, secFunction: 3, secTable: 4, secMemory: 5, secTag: 6, secGlobal: 7,
	secExport: 8, secStart: 9, secElement: 10, secDataCount: 11, secCode: 12, secData: 13,
}

var header = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

// Parse reads the signatures of a binary module. b is not retained.
func Parse(b []byte) (*Module, error) {
	if len(b) < 4 || !bytes.Equal(b[:4], header[:4]) {
		return nil, fmt.Errorf("%w: magic header not detected", ErrMalformed)
	}
	if len(b) < 8 || !bytes.Equal(b[4:8], header[4:]) {
		return nil, fmt.Errorf("%w: unknown binary version", ErrMalformed)
	}
	p := &parser{m: &Module{}}
	r := &reader{b: b[8:], off: 8}
	last := 0
	for r.remaining() > 0 {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		start := r.off + r.pos
		body, err := r.bytes(size)
		if err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		if id != secCustom {
			if int(id) >= len(sectionOrder) {
				return nil, fmt.Errorf("%w: at offset %d: malformed section id %d", ErrMalformed, start-1, id)
			}
			if sectionOrder[id] <= last {
				return nil, fmt.Errorf("%w: at offset %d: unexpected section %d (junk after last section or wrong order)", ErrMalformed, start-1, id)
			}
			last = sectionOrder[id]
		}
		switch id {
		case secCode:
			p.m.CodeBytes = uint64(size)
		case secData:
			p.m.DataBytes = uint64(size)
		}
		sr := &reader{b: body, off: start, data: p.data, gc: &p.m.GCTypes}
		if err := p.section(id, sr); err != nil {
			return nil, fmt.Errorf("section %d: %w", id, err)
		}
		if sr.remaining() != 0 {
			return nil, fmt.Errorf("section %d: %w", id, sr.errorf("section size mismatch"))
		}
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	return p.m, nil
}

// parser holds the state shared between sections.
type parser struct {
	m            *Module
	codeCount    int64 // -1 if no code section
	dataCount    int64 // from the data count section, -1 if none
	dataSegments int64 // -1 if no data section
	seenCode     bool
	seenDataCnt  bool
	seenData     bool
	data         []bool // reader.data: which types are struct or array types
}

func (p *parser) section(id byte, r *reader) error {
	switch id {
	case secCustom:
		_, err := r.name()
		r.pos = len(r.b) // the payload is opaque
		return err
	case secType:
		return p.types(r)
	case secImport:
		return p.imports(r)
	case secFunction:
		return p.functions(r)
	case secTable:
		return p.tables(r)
	case secMemory:
		return p.memories(r)
	case secGlobal:
		return p.globals(r)
	case secTag:
		return p.tags(r)
	case secExport:
		return p.exports(r)
	case secStart:
		return p.start(r)
	case secElement:
		return skipVector(r)
	case secDataCount:
		n, err := r.u32()
		p.seenDataCnt, p.dataCount = true, int64(n)
		return err
	case secCode:
		n, err := r.count(1)
		p.seenCode, p.codeCount = true, int64(n)
		r.pos = len(r.b)
		return err
	case secData:
		n, err := r.count(1)
		p.seenData, p.dataSegments = true, int64(n)
		r.pos = len(r.b)
		return err
	}
	return r.errorf("malformed section id %d", id)
}

// skipVector checks a vector count and skips the section's contents.
func skipVector(r *reader) error {
	_, err := r.count(1)
	r.pos = len(r.b)
	return err
}

// finish checks the cross-section counts and indices the Module's methods rely on.
func (p *parser) finish() error {
	m := p.m
	var code int64
	if p.seenCode {
		code = p.codeCount
	}
	if code != int64(len(m.Funcs)) {
		return fmt.Errorf("%w: function and code section have inconsistent lengths (%d, %d)", ErrMalformed, len(m.Funcs), code)
	}
	if p.seenDataCnt {
		var data int64
		if p.seenData {
			data = p.dataSegments
		}
		if data != p.dataCount {
			return fmt.Errorf("%w: data count and data section have inconsistent lengths (%d, %d)", ErrMalformed, p.dataCount, data)
		}
	}
	for i, t := range m.Funcs {
		if int64(t) >= int64(len(m.Types)) {
			return fmt.Errorf("%w: function %d: unknown type %d", ErrInvalid, m.numImported[KindFunc]+i, t)
		}
	}
	names := make(map[string]struct{}, len(m.Exports))
	for _, e := range m.Exports {
		if _, dup := names[e.Name]; dup {
			return fmt.Errorf("%w: duplicate export name %q", ErrInvalid, e.Name)
		}
		names[e.Name] = struct{}{}
		if n := m.count(e.Kind); int64(e.Index) >= int64(n) {
			return fmt.Errorf("%w: export %q: unknown %s %d", ErrInvalid, e.Name, e.Kind, e.Index)
		}
	}
	for i, t := range m.Tags {
		if int64(t) >= int64(len(m.Types)) {
			return fmt.Errorf("%w: tag %d: unknown type %d", ErrInvalid, m.numImported[KindTag]+i, t)
		}
	}
	if m.HasStart && int64(m.Start) >= int64(m.count(KindFunc)) {
		return fmt.Errorf("%w: unknown start function %d", ErrInvalid, m.Start)
	}
	return nil
}
