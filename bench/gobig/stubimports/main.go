// Command stubimports rewrites a Wasm module so that it has no function imports: every
// imported function becomes a defined function of the same type whose body is `unreachable`.
// Defined functions are prepended, so every function index (calls, exports, element segments,
// the name section) keeps its meaning. The benchmark uses it to turn the Go-built wasip1 module
// into one that any engine loads without providing WASI (hlwasm refuses imports).
//
//	go run ./bench/gobig/stubimports < in.wasm > out.wasm
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

func main() {
	in, err := io.ReadAll(os.Stdin)
	if err == nil {
		var out []byte
		if out, err = stub(in); err == nil {
			_, err = os.Stdout.Write(out)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "stubimports:", err)
		os.Exit(1)
	}
}

type reader struct {
	b   []byte
	off int
}

func (r *reader) byte() (byte, error) {
	if r.off >= len(r.b) {
		return 0, io.ErrUnexpectedEOF
	}
	r.off++
	return r.b[r.off-1], nil
}

func (r *reader) u32() (uint32, error) {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("LEB128 too long")
}

func (r *reader) bytes(n uint32) ([]byte, error) {
	if uint64(r.off)+uint64(n) > uint64(len(r.b)) {
		return nil, io.ErrUnexpectedEOF
	}
	r.off += int(n)
	return r.b[r.off-int(n) : r.off], nil
}

func leb(v uint32) []byte {
	var out []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			out = append(out, c|0x80)
			continue
		}
		return append(out, c)
	}
}

func section(id byte, payload []byte) []byte {
	return append(append([]byte{id}, leb(uint32(len(payload)))...), payload...)
}

func stub(in []byte) ([]byte, error) {
	if len(in) < 8 || !bytes.Equal(in[:8], []byte{0, 'a', 's', 'm', 1, 0, 0, 0}) {
		return nil, errors.New("not a Wasm 1 module")
	}
	r := &reader{b: in, off: 8}
	out := append([]byte(nil), in[:8]...)
	var stubTypes []uint32 // type index of each imported function, in order
	for r.off < len(r.b) {
		id, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, err := r.u32()
		if err != nil {
			return nil, err
		}
		payload, err := r.bytes(size)
		if err != nil {
			return nil, err
		}
		switch id {
		case 2: // import
			p := &reader{b: payload}
			n, err := p.u32()
			if err != nil {
				return nil, err
			}
			for i := uint32(0); i < n; i++ {
				for j := 0; j < 2; j++ { // module and field names
					l, err := p.u32()
					if err != nil {
						return nil, err
					}
					if _, err := p.bytes(l); err != nil {
						return nil, err
					}
				}
				kind, err := p.byte()
				if err != nil {
					return nil, err
				}
				if kind != 0 {
					return nil, fmt.Errorf("import %d is not a function (kind %d): unsupported", i, kind)
				}
				t, err := p.u32()
				if err != nil {
					return nil, err
				}
				stubTypes = append(stubTypes, t)
			}
			continue // drop the section
		case 3: // function: prepend the stubs' types
			p := &reader{b: payload}
			n, err := p.u32()
			if err != nil {
				return nil, err
			}
			var b []byte
			b = append(b, leb(n+uint32(len(stubTypes)))...)
			for _, t := range stubTypes {
				b = append(b, leb(t)...)
			}
			payload = append(b, payload[p.off:]...)
		case 10: // code: prepend the stubs' bodies
			p := &reader{b: payload}
			n, err := p.u32()
			if err != nil {
				return nil, err
			}
			var b []byte
			b = append(b, leb(n+uint32(len(stubTypes)))...)
			for range stubTypes {
				b = append(b, 3, 0, 0x00, 0x0b) // size 3: no locals, unreachable, end
			}
			payload = append(b, payload[p.off:]...)
		}
		out = append(out, section(id, payload)...)
	}
	return out, nil
}
