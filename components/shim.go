package components

import "strconv"

// bypassShims links imports straight to canonical built-ins where wit-component routes them
// through a shim: a part whose functions only forward to slots of its own table (call_indirect
// with their parameters), filled once by a fixup part's element segment with built-ins. The
// shim exists because the component model lowers an import only once the memory it uses is
// instantiated; hlwasm's built-ins are host functions that exist from the start. Called
// directly, a built-in is called from an instance with the memory its options name (not the
// shim, which has none), and the call skips a trampoline. Only a shim and fixup that match
// this shape exactly are bypassed (nothing else imports the table, the fixup defines no code),
// so the table's contents cannot change and the bypass is the same call.
func (k *linker) bypassShims() error {
	bypass := map[coreItem]int{} // shim export -> canonical built-in
	for p := range k.l.Parts {
		slots, ok := trampolines(k.orig[p])
		if !ok || len(k.resolved[p]) != 0 {
			continue
		}
		filler := -1
		for f, res := range k.resolved {
			for _, ri := range res {
				if ri.kind == 1 && ri.it.part == p {
					if filler >= 0 && filler != f {
						filler = -2
					}
					if filler != -2 {
						filler = f
					}
				}
			}
		}
		if filler < 0 {
			continue
		}
		fill, ok := elemFill(k.orig[filler], k.resolved[filler])
		if !ok {
			continue
		}
		for name, slot := range slots {
			if c, ok := fill[slot]; ok {
				bypass[coreItem{part: p, name: name}] = c
			}
		}
	}
	if len(bypass) == 0 {
		return nil
	}
	for p, res := range k.resolved {
		i := 0
		wasm, err := rewriteImports(k.orig[p], func(_, _ string, _ byte) (string, string, error) {
			it := res[i].it
			i++
			if c, ok := bypass[it]; ok && res[i-1].kind == 0 {
				return CanonModule, strconv.Itoa(c), nil
			}
			if it.part < 0 {
				return CanonModule, strconv.Itoa(it.canon), nil
			}
			return PartName(it.part), it.name, nil
		})
		if err != nil {
			return err
		}
		k.l.Parts[p].Wasm = wasm
	}
	return nil
}

// trampolines recognizes a shim: no imports, one table, and every function `local.get 0 …
// local.get n-1; i32.const S; call_indirect (table 0); end` with no locals. It returns each
// exported function's slot S.
func trampolines(b []byte) (map[string]uint32, bool) {
	secs, err := sections(b)
	if err != nil {
		return nil, false
	}
	var slots []uint32
	exports := map[string]uint32{}
	tables := 0
	for _, s := range secs {
		r := &reader{b: s.payload, off: s.off}
		switch s.id {
		case 0, 1, 3: // custom, types, functions
		case 4:
			n, err := r.u32()
			if err != nil {
				return nil, false
			}
			tables = int(n)
		case 7:
			n, err := r.u32()
			if err != nil {
				return nil, false
			}
			for range n {
				name, err := r.name()
				if err != nil {
					return nil, false
				}
				kind, err := r.byte()
				if err != nil {
					return nil, false
				}
				idx, err := r.u32()
				if err != nil {
					return nil, false
				}
				if kind == 0 {
					exports[name] = idx
				}
			}
		case 10:
			n, err := r.u32()
			if err != nil {
				return nil, false
			}
			for range n {
				size, err := r.u32()
				if err != nil {
					return nil, false
				}
				body, err := r.bytes(size)
				if err != nil {
					return nil, false
				}
				slot, ok := trampolineSlot(body)
				if !ok {
					return nil, false
				}
				slots = append(slots, slot)
			}
		default: // imports, memories, globals, start, elements, data...
			return nil, false
		}
	}
	if tables != 1 {
		return nil, false
	}
	out := map[string]uint32{}
	for name, idx := range exports {
		if idx >= uint32(len(slots)) {
			return nil, false
		}
		out[name] = slots[idx]
	}
	return out, true
}

func trampolineSlot(body []byte) (uint32, bool) {
	r := &reader{b: body}
	if n, err := r.u32(); err != nil || n != 0 { // no locals
		return 0, false
	}
	for want := uint32(0); ; want++ {
		op, err := r.byte()
		if err != nil {
			return 0, false
		}
		if op == 0x41 { // i32.const S
			break
		}
		if op != 0x20 {
			return 0, false
		}
		if i, err := r.u32(); err != nil || i != want {
			return 0, false
		}
	}
	slot, ok := r.slot()
	if !ok {
		return 0, false
	}
	if op, err := r.byte(); err != nil || op != 0x11 {
		return 0, false
	}
	if _, err := r.u32(); err != nil {
		return 0, false
	}
	if t, err := r.byte(); err != nil || t != 0 {
		return 0, false
	}
	if op, err := r.byte(); err != nil || op != 0x0b || !r.done() {
		return 0, false
	}
	return slot, true
}

// elemFill recognizes a fixup: no functions of its own, table 0 imported, and active element
// segments `(elem (i32.const N) func …)` of imported functions. It returns the canonical
// built-in each filled slot gets.
func elemFill(b []byte, res []resolvedImport) (map[uint32]int, bool) {
	secs, err := sections(b)
	if err != nil {
		return nil, false
	}
	var funcs []coreItem // imported functions, in index order
	tableImported := false
	for _, ri := range res {
		switch ri.kind {
		case 0:
			funcs = append(funcs, ri.it)
		case 1:
			tableImported = true
		}
	}
	out := map[uint32]int{}
	for _, s := range secs {
		r := &reader{b: s.payload, off: s.off}
		switch s.id {
		case 0, 1, 2:
		case 9:
			n, err := r.u32()
			if err != nil {
				return nil, false
			}
			for range n {
				if flags, err := r.u32(); err != nil || flags != 0 {
					return nil, false
				}
				if op, err := r.byte(); err != nil || op != 0x41 {
					return nil, false
				}
				off, ok := r.slot()
				if !ok {
					return nil, false
				}
				if op, err := r.byte(); err != nil || op != 0x0b {
					return nil, false
				}
				m, err := r.u32()
				if err != nil {
					return nil, false
				}
				for j := range m {
					f, err := r.u32()
					if err != nil || f >= uint32(len(funcs)) {
						return nil, false
					}
					if it := funcs[f]; it.part < 0 {
						out[off+j] = it.canon
					} else {
						delete(out, off+j) // a later segment's function replaces a built-in
					}
				}
			}
		default: // functions, code, start, tables, memories...
			return nil, false
		}
	}
	return out, tableImported
}

// slot reads an i32.const operand (signed LEB128) that is a table slot: 0 <= v < 2^30.
func (r *reader) slot() (uint32, bool) {
	var v uint64
	for shift := 0; shift < 35; shift += 7 {
		c, err := r.byte()
		if err != nil {
			return 0, false
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if c&0x40 != 0 || v >= 1<<30 { // negative, or far beyond any table
				return 0, false
			}
			return uint32(v), true
		}
	}
	return 0, false
}
