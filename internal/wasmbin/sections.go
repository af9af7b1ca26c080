package wasmbin

import (
	"fmt"

	"github.com/hlwasm/hlwasm/api"
)

// types reads the type section: rec groups (0x4e) of sub types (0x50 sub, 0x4f sub final:
// supertype indices, then a composite type) of composite types: func (0x60), struct (0x5f)
// and array (0x5e). The index space counts sub types. Structure only: the engine validates.
// It is read twice: first which types are struct/array types (references to them are anyref
// to the host API, and a rec group may refer to later types of the group), then the types.
func (p *parser) types(r *reader) error {
	first := *r
	if err := p.typeSection(&first, nil); err != nil {
		return err
	}
	data := make([]bool, 0, len(first.data))
	for _, t := range p.m.Types {
		data = append(data, t.Data)
	}
	r.data = data
	p.data = data
	return p.typeSection(r, data)
}

func (p *parser) typeSection(r *reader, data []bool) error {
	n, err := r.count(1)
	if err != nil {
		return err
	}
	p.m.Types = make([]FuncType, 0, n)
	for g := uint32(0); g < n; g++ {
		k := uint32(1)
		if r.remaining() > 0 && r.peek() == 0x4e {
			r.pos++
			r.sawGC()
			if k, err = r.count(1); err != nil {
				return err
			}
		}
		for j := uint32(0); j < k; j++ {
			i := len(p.m.Types)
			form, err := r.byte()
			if err != nil {
				return err
			}
			if form == 0x50 || form == 0x4f {
				r.sawGC()
				ns, err := r.count(1)
				if err != nil {
					return err
				}
				for x := uint32(0); x < ns; x++ {
					if _, err := r.u32(); err != nil {
						return err
					}
				}
				if form, err = r.byte(); err != nil {
					return err
				}
			}
			var ft FuncType
			switch form {
			case 0x60:
				if ft.Params, err = valTypes(r); err != nil {
					return fmt.Errorf("type %d: %w", i, err)
				}
				if ft.Results, err = valTypes(r); err != nil {
					return fmt.Errorf("type %d: %w", i, err)
				}
			case 0x5f, 0x5e:
				r.sawGC()
				ft.Data = true
				nf := uint32(1)
				if form == 0x5f {
					if nf, err = r.count(2); err != nil {
						return fmt.Errorf("type %d: %w", i, err)
					}
				}
				for x := uint32(0); x < nf; x++ {
					if err := fieldType(r); err != nil {
						return fmt.Errorf("type %d: %w", i, err)
					}
				}
			default:
				return r.errorf("type %d: malformed composite type 0x%02x", i, form)
			}
			p.m.Types = append(p.m.Types, ft)
		}
	}
	if data == nil {
		r.data = make([]bool, len(p.m.Types))
	}
	return nil
}

// fieldType reads a struct or array field: a storage type (a value type, or packed i8 0x78 /
// i16 0x77) and its mutability.
func fieldType(r *reader) error {
	if r.remaining() > 0 && (r.peek() == 0x78 || r.peek() == 0x77) {
		r.pos++
	} else if _, err := r.valType(); err != nil {
		return err
	}
	m, err := r.byte()
	if err != nil {
		return err
	}
	if m > 1 {
		return r.errorf("malformed mutability %d", m)
	}
	return nil
}

func valTypes(r *reader) ([]api.ValueType, error) {
	n, err := r.count(1)
	if err != nil {
		return nil, err
	}
	ts := make([]api.ValueType, n)
	for i := range ts {
		if ts[i], err = r.valType(); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

func (p *parser) imports(r *reader) error {
	n, err := r.count(4) // two names, kind, descriptor
	if err != nil {
		return err
	}
	m := p.m
	m.Imports = make([]Import, 0, n)
	for i := uint32(0); i < n; i++ {
		var im Import
		if im.Module, err = r.name(); err != nil {
			return fmt.Errorf("import %d: %w", i, err)
		}
		if im.Name, err = r.name(); err != nil {
			return fmt.Errorf("import %d: %w", i, err)
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		im.Kind = ExternKind(kind)
		switch im.Kind {
		case KindFunc:
			if im.TypeIndex, err = r.u32(); err != nil {
				return err
			}
			if int64(im.TypeIndex) >= int64(len(m.Types)) {
				return fmt.Errorf("%w: import %d: unknown type %d", ErrInvalid, i, im.TypeIndex)
			}
			if m.Types[im.TypeIndex].Data {
				return fmt.Errorf("%w: import %d: type %d is not a function type", ErrInvalid, i, im.TypeIndex)
			}
			im.FuncType = m.Types[im.TypeIndex]
			m.importedFuncs = append(m.importedFuncs, im.TypeIndex)
		case KindTable:
			if im.TableType, err = tableType(r); err != nil {
				return fmt.Errorf("import %d: %w", i, err)
			}
		case KindMemory:
			if im.MemType.Limits, err = r.limits(true); err != nil {
				return fmt.Errorf("import %d: %w", i, err)
			}
		case KindGlobal:
			if im.GlobalType, err = r.globalType(); err != nil {
				return fmt.Errorf("import %d: %w", i, err)
			}
			m.importedGlobals = append(m.importedGlobals, im.GlobalType)
		case KindTag:
			if im.TypeIndex, err = tagType(r); err != nil {
				return fmt.Errorf("import %d: %w", i, err)
			}
			if int64(im.TypeIndex) >= int64(len(m.Types)) {
				return fmt.Errorf("%w: import %d: unknown type %d", ErrInvalid, i, im.TypeIndex)
			}
		default:
			return r.errorf("import %d: malformed import kind 0x%02x", i, kind)
		}
		m.numImported[im.Kind]++
		m.Imports = append(m.Imports, im)
	}
	return nil
}

func tableType(r *reader) (TableType, error) {
	t, err := r.refType()
	if err != nil {
		return TableType{}, err
	}
	l, err := r.limits(false)
	return TableType{Elem: t, Limits: l}, err
}

func (p *parser) functions(r *reader) error {
	n, err := r.count(1)
	if err != nil {
		return err
	}
	p.m.Funcs = make([]uint32, n)
	for i := range p.m.Funcs {
		if p.m.Funcs[i], err = r.u32(); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) tables(r *reader) error {
	n, err := r.count(3)
	if err != nil {
		return err
	}
	p.m.Tables = make([]TableType, n)
	for i := range p.m.Tables {
		init := r.remaining() > 0 && r.peek() == 0x40 // a table with an initializer expression
		if init {
			if _, err = r.bytes(1); err == nil {
				var zero byte
				if zero, err = r.byte(); err == nil && zero != 0 {
					err = r.errorf("malformed table")
				}
			}
			if err != nil {
				return fmt.Errorf("table %d: %w", i, err)
			}
		}
		if p.m.Tables[i], err = tableType(r); err != nil {
			return fmt.Errorf("table %d: %w", i, err)
		}
		if init {
			if err = skipConstExpr(r); err != nil {
				return fmt.Errorf("table %d: %w", i, err)
			}
		}
	}
	return nil
}

func (p *parser) memories(r *reader) error {
	n, err := r.count(2)
	if err != nil {
		return err
	}
	p.m.Memories = make([]MemType, n)
	for i := range p.m.Memories {
		if p.m.Memories[i].Limits, err = r.limits(true); err != nil {
			return fmt.Errorf("memory %d: %w", i, err)
		}
	}
	return nil
}

func (p *parser) globals(r *reader) error {
	n, err := r.count(3) // type, mutability, end
	if err != nil {
		return err
	}
	p.m.Globals = make([]GlobalType, n)
	for i := range p.m.Globals {
		if p.m.Globals[i], err = r.globalType(); err != nil {
			return fmt.Errorf("global %d: %w", i, err)
		}
		if err = skipConstExpr(r); err != nil {
			return fmt.Errorf("global %d: %w", i, err)
		}
	}
	return nil
}

func (p *parser) exports(r *reader) error {
	n, err := r.count(3) // name, kind, index
	if err != nil {
		return err
	}
	p.m.Exports = make([]Export, n)
	for i := range p.m.Exports {
		e := &p.m.Exports[i]
		if e.Name, err = r.name(); err != nil {
			return fmt.Errorf("export %d: %w", i, err)
		}
		kind, err := r.byte()
		if err != nil {
			return err
		}
		if kind > byte(KindTag) {
			return r.errorf("export %d: malformed export kind 0x%02x", i, kind)
		}
		e.Kind = ExternKind(kind)
		if e.Index, err = r.u32(); err != nil {
			return err
		}
	}
	return nil
}

// tagType reads a tag's attribute (0: exception) and type index.
func tagType(r *reader) (uint32, error) {
	attr, err := r.byte()
	if err != nil {
		return 0, err
	}
	if attr != 0 {
		return 0, r.errorf("malformed tag attribute 0x%02x", attr)
	}
	return r.u32()
}

func (p *parser) tags(r *reader) error {
	n, err := r.count(2) // attribute, type index
	if err != nil {
		return err
	}
	p.m.Tags = make([]uint32, n)
	for i := range p.m.Tags {
		if p.m.Tags[i], err = tagType(r); err != nil {
			return fmt.Errorf("tag %d: %w", i, err)
		}
	}
	return nil
}

func (p *parser) start(r *reader) error {
	idx, err := r.u32()
	p.m.Start, p.m.HasStart = idx, err == nil
	return err
}
