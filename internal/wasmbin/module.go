package wasmbin

// Module is what the host needs to know about a module before it enters the VM.
type Module struct {
	Types    []FuncType
	Imports  []Import
	Funcs    []uint32 // type index of each function defined in the module
	Tables   []TableType
	Memories []MemType
	Globals  []GlobalType // defined globals (their init expressions are skipped)
	Tags     []uint32     // type index of each tag defined in the module (exception handling)
	Exports  []Export
	Start    uint32 // the start function's index, if HasStart
	// GCTypes: the module declares GC types (rec groups, sub types, struct or array types) or
	// uses the struct/array heap types. The guest engine implements them; wazero does not.
	GCTypes  bool
	HasStart bool
	// CodeBytes and DataBytes are the sizes of the code and data sections (what the engine's
	// memory use grows with: host.Config's default engine heap is sized from them).
	CodeBytes, DataBytes uint64

	importedFuncs   []uint32 // type indices of imported functions, in order
	importedGlobals []GlobalType
	numImported     [5]int // per ExternKind
}

// count is the size of the index space of kind k (imports included).
func (m *Module) count(k ExternKind) int {
	switch k {
	case KindFunc:
		return len(m.importedFuncs) + len(m.Funcs)
	case KindTable:
		return m.numImported[KindTable] + len(m.Tables)
	case KindMemory:
		return m.numImported[KindMemory] + len(m.Memories)
	case KindGlobal:
		return len(m.importedGlobals) + len(m.Globals)
	case KindTag:
		return m.numImported[KindTag] + len(m.Tags)
	}
	return 0
}

// NumFuncs is the size of the function index space (imported functions first).
func (m *Module) NumFuncs() int { return m.count(KindFunc) }

// FuncTypeOf returns the type of function funcIndex, resolving imported functions first.
func (m *Module) FuncTypeOf(funcIndex uint32) (FuncType, bool) {
	var ti uint32
	if n := uint64(len(m.importedFuncs)); uint64(funcIndex) < n {
		ti = m.importedFuncs[funcIndex]
	} else if i := uint64(funcIndex) - n; i < uint64(len(m.Funcs)) {
		ti = m.Funcs[i]
	} else {
		return FuncType{}, false
	}
	if uint64(ti) >= uint64(len(m.Types)) {
		return FuncType{}, false
	}
	return m.Types[ti], true
}

// GlobalTypeOf returns the type of global globalIndex, imported globals first.
func (m *Module) GlobalTypeOf(globalIndex uint32) (GlobalType, bool) {
	if n := uint64(len(m.importedGlobals)); uint64(globalIndex) < n {
		return m.importedGlobals[globalIndex], true
	} else if i := uint64(globalIndex) - n; i < uint64(len(m.Globals)) {
		return m.Globals[i], true
	}
	return GlobalType{}, false
}

// Export looks an export up by name and returns its index in the export section.
func (m *Module) Export(name string) (int, Export, bool) {
	for i, e := range m.Exports {
		if e.Name == name {
			return i, e, true
		}
	}
	return -1, Export{}, false
}

// ExportedFunc returns the export-section index and the type of the function exported
// as name; false if there is no such export or it is not a function.
func (m *Module) ExportedFunc(name string) (exportIndex int, ft FuncType, ok bool) {
	i, e, ok := m.Export(name)
	if !ok || e.Kind != KindFunc {
		return -1, FuncType{}, false
	}
	ft, ok = m.FuncTypeOf(e.Index)
	if !ok {
		return -1, FuncType{}, false
	}
	return i, ft, true
}

// ExportedGlobal returns the export-section index and the type of the global exported as
// name; false if there is no such export or it is not a global.
func (m *Module) ExportedGlobal(name string) (exportIndex int, gt GlobalType, ok bool) {
	i, e, ok := m.Export(name)
	if !ok || e.Kind != KindGlobal {
		return -1, GlobalType{}, false
	}
	gt, ok = m.GlobalTypeOf(e.Index)
	if !ok {
		return -1, GlobalType{}, false
	}
	return i, gt, true
}
