package components

import (
	"errors"
	"fmt"
)

// reader reads the WebAssembly binary encoding with every length checked.
type reader struct {
	b   []byte
	off int // offset of b[0] in the whole file, for messages
	i   int
}

var errEOF = errors.New("unexpected end of data")

func (r *reader) errf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %#x: %s", ErrMalformed, r.off+r.i, fmt.Sprintf(format, args...))
}

func (r *reader) done() bool { return r.i >= len(r.b) }

func (r *reader) byte() (byte, error) {
	if r.i >= len(r.b) {
		return 0, r.errf("%v", errEOF)
	}
	c := r.b[r.i]
	r.i++
	return c, nil
}

func (r *reader) u32() (uint32, error) {
	var v uint64
	for shift := 0; shift < 35; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if v > 0xFFFFFFFF {
				return 0, r.errf("LEB128 u32 overflows")
			}
			return uint32(v), nil
		}
	}
	return 0, r.errf("LEB128 u32 too long")
}

func (r *reader) bytes(n uint32) ([]byte, error) {
	if uint64(n) > uint64(len(r.b)-r.i) {
		return nil, r.errf("%d bytes past the end (%d left)", n, len(r.b)-r.i)
	}
	b := r.b[r.i : r.i+int(n)]
	r.i += int(n)
	return b, nil
}

func (r *reader) name() (string, error) {
	n, err := r.u32()
	if err != nil {
		return "", err
	}
	b, err := r.bytes(n)
	return string(b), err
}

// section is one section of a module or component.
type section struct {
	id      byte
	off     int // offset of the contents in the file
	payload []byte
}

// sections splits a module or component body (after the 8-byte preamble).
func sections(b []byte) ([]section, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: %d bytes is too short for a WebAssembly binary", ErrMalformed, len(b))
	}
	r := &reader{b: b, i: 8}
	var out []section
	for !r.done() {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		n, err := r.u32()
		if err != nil {
			return nil, err
		}
		off := r.i
		p, err := r.bytes(n)
		if err != nil {
			return nil, err
		}
		out = append(out, section{id: id, off: off, payload: p})
	}
	return out, nil
}

// coreInfo is what the host needs to know of a core module.
type coreInfo struct {
	exports       map[string]byte // name -> kind (0 func, 1 table, 2 memory, 3 global)
	imports       [][2]string
	importsMemory bool
	definesMemory bool
	custom        map[string][][]byte
}

func parseCore(b []byte) (*coreInfo, error) {
	secs, err := sections(b)
	if err != nil {
		return nil, err
	}
	ci := &coreInfo{exports: map[string]byte{}, custom: map[string][][]byte{}}
	for _, s := range secs {
		r := &reader{b: s.payload, off: s.off}
		switch s.id {
		case 0:
			name, err := r.name()
			if err != nil {
				return nil, err
			}
			ci.custom[name] = append(ci.custom[name], s.payload[r.i:])
		case 2: // imports
			n, err := r.u32()
			if err != nil {
				return nil, err
			}
			for range n {
				mod, err := r.name()
				if err != nil {
					return nil, err
				}
				name, err := r.name()
				if err != nil {
					return nil, err
				}
				ci.imports = append(ci.imports, [2]string{mod, name})
				if r.i < len(r.b) && r.b[r.i] == 2 { // memory
					ci.importsMemory = true
				}
				if err := r.importDesc(); err != nil {
					return nil, err
				}
			}
		case 5: // memory
			ci.definesMemory = true
		case 7: // exports
			n, err := r.u32()
			if err != nil {
				return nil, err
			}
			for range n {
				name, err := r.name()
				if err != nil {
					return nil, err
				}
				kind, err := r.byte()
				if err != nil {
					return nil, err
				}
				if _, err := r.u32(); err != nil {
					return nil, err
				}
				ci.exports[name] = kind
			}
		}
	}
	return ci, nil
}

func (r *reader) limits() error {
	flags, err := r.byte()
	if err != nil {
		return err
	}
	if _, err := r.u32(); err != nil { // min (u64 for memory64 is rejected below)
		return err
	}
	if flags&0x04 != 0 {
		return r.errf("memory64 limits")
	}
	if flags&0x01 != 0 {
		_, err = r.u32()
	}
	return err
}
