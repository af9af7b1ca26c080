package serve

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hlwasm/hlwasm/components"
	"github.com/hlwasm/hlwasm/internal/wasmbin"
	"github.com/hlwasm/hlwasm/wit"
)

// Export is one exported function and its signature.
type Export struct {
	Name    string   `json:"name"`
	Params  []string `json:"params"`
	Results []string `json:"results"`
}

// ModuleInfo is what the API says about a module.
type ModuleInfo struct {
	Hash     string    `json:"hash"`
	Size     int       `json:"size"`
	Created  time.Time `json:"created"`
	ReadOnly bool      `json:"read_only,omitempty"` // from --modules-dir: visible to all, not deletable
	WASI     bool      `json:"wasi"`                // imports wasi_snapshot_preview1 (a component: WASI 0.2)
	Command  bool      `json:"command"`             // exports _start, or is a wasi:cli/command (POST .../run)
	// Component: a WebAssembly component; its exports are WIT functions (keys as
	// wit.World.Func takes them), called with WAVE values, their types WIT types.
	Component bool     `json:"component,omitempty"`
	Exports   []Export `json:"exports"`
}

// meta is the on-disk record beside a stored module.
type meta struct {
	Hash    string    `json:"hash"`
	Created time.Time `json:"created"`
	Owners  []string  `json:"owners"`
}

type entry struct {
	info     ModuleInfo
	owners   []string
	wasmPath string
	wasm     []byte // without a data directory: the module itself (later loads need it)
}

// bytes returns the module's content.
func (e *entry) bytes() ([]byte, error) {
	if e.wasm != nil {
		return e.wasm, nil
	}
	return os.ReadFile(e.wasmPath)
}

func (e *entry) visibleTo(tenant string) bool {
	return e.info.ReadOnly || slices.Contains(e.owners, tenant)
}

// store keeps modules content-addressed under dataDir/modules (hash.wasm, hash.json) and their
// snapshots under dataDir/snapshots; modulesDir's *.wasm are added read-only.
type store struct {
	dataDir string
	mu      sync.Mutex
	byHash  map[string]*entry
}

func hashOf(wasm []byte) string {
	h := sha256.Sum256(wasm)
	return hex.EncodeToString(h[:])
}

// describe reads a module's exports and imports on the host (no VM).
func describe(hash string, wasm []byte) (ModuleInfo, error) {
	if components.Detect(wasm) == components.KindComponent {
		return describeComponent(hash, wasm)
	}
	m, err := wasmbin.Parse(wasm)
	if err != nil {
		return ModuleInfo{}, err
	}
	info := ModuleInfo{Hash: hash, Size: len(wasm), Exports: []Export{}}
	for _, im := range m.Imports {
		if im.Module == "wasi_snapshot_preview1" {
			info.WASI = true
		}
	}
	for _, e := range m.Exports {
		if e.Kind != wasmbin.KindFunc {
			continue
		}
		ft, ok := m.FuncTypeOf(e.Index)
		if !ok {
			continue
		}
		ex := Export{Name: e.Name, Params: []string{}, Results: []string{}}
		for _, p := range ft.Params {
			ex.Params = append(ex.Params, p.String())
		}
		for _, r := range ft.Results {
			ex.Results = append(ex.Results, r.String())
		}
		info.Exports = append(info.Exports, ex)
		if e.Name == "_start" {
			info.Command = true
		}
	}
	sort.Slice(info.Exports, func(i, j int) bool { return info.Exports[i].Name < info.Exports[j].Name })
	return info, nil
}

func openStore(dataDir, modulesDir string) (*store, error) {
	s := &store{dataDir: dataDir, byHash: map[string]*entry{}}
	if dataDir != "" {
		for _, d := range []string{"modules", "snapshots"} {
			if err := os.MkdirAll(filepath.Join(dataDir, d), 0o755); err != nil {
				return nil, err
			}
		}
		if err := s.refresh(); err != nil {
			return nil, err
		}
	}
	if modulesDir != "" {
		files, err := filepath.Glob(filepath.Join(modulesDir, "*.wasm"))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			wasm, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			h := hashOf(wasm)
			info, err := describe(h, wasm)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			st, _ := os.Stat(f)
			info.Created, info.ReadOnly = st.ModTime().UTC(), true
			s.byHash[h] = &entry{info: info, wasmPath: f}
		}
	}
	return s, nil
}

// readEntry reads one stored module's record and checks its content against its hash.
func readEntry(jsonPath string) (*entry, error) {
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		return nil, err
	}
	var m meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", jsonPath, err)
	}
	wp := strings.TrimSuffix(jsonPath, ".json") + ".wasm"
	wasm, err := os.ReadFile(wp)
	if err != nil {
		return nil, err
	}
	if hashOf(wasm) != m.Hash {
		return nil, fmt.Errorf("%s: content does not match its hash", wp)
	}
	info, err := describe(m.Hash, wasm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", wp, err)
	}
	info.Created = m.Created
	return &entry{info: info, owners: m.Owners, wasmPath: wp}, nil
}

// refresh re-reads the records on disk: other replicas sharing the data directory (a
// ReadWriteMany volume) may have added, changed or deleted modules. Callers hold s.mu or own s.
func (s *store) refresh() error {
	if s.dataDir == "" {
		return nil
	}
	files, err := filepath.Glob(filepath.Join(s.dataDir, "modules", "*.json"))
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, f := range files {
		e, err := readEntry(f)
		if errors.Is(err, os.ErrNotExist) { // deleted meanwhile
			continue
		}
		if err != nil {
			return err
		}
		seen[e.info.Hash] = true
		if old, ok := s.byHash[e.info.Hash]; ok && old.info.ReadOnly {
			continue
		}
		s.byHash[e.info.Hash] = e
	}
	for h, e := range s.byHash {
		if !e.info.ReadOnly && !seen[h] {
			delete(s.byHash, h)
		}
	}
	return nil
}

// lookupDisk finds a module another replica stored since the last refresh.
func (s *store) lookupDisk(hash string) {
	if b, err := hex.DecodeString(hash); s.dataDir == "" || err != nil || len(b) != sha256.Size {
		return
	}
	if e, err := readEntry(filepath.Join(s.dataDir, "modules", hash+".json")); err == nil && e.info.Hash == hash {
		s.byHash[hash] = e
	}
}

func (s *store) get(hash, tenant string) (*entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byHash[hash]
	if !ok || !e.visibleTo(tenant) {
		s.lookupDisk(hash)
		e, ok = s.byHash[hash]
	}
	if !ok || !e.visibleTo(tenant) {
		return nil, false
	}
	return e, true
}

func (s *store) list(tenant string) ([]ModuleInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.refresh(); err != nil {
		return nil, err
	}
	out := []ModuleInfo{}
	for _, e := range s.byHash {
		if e.visibleTo(tenant) {
			out = append(out, e.info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Hash < out[j].Hash })
	return out, nil
}

func (s *store) snapshotPath(hash string) string {
	if s.dataDir == "" {
		return ""
	}
	return filepath.Join(s.dataDir, "snapshots", hash+".snap")
}

// add records that tenant owns the module (already validated); created says it is new.
func (s *store) add(tenant string, info ModuleInfo, wasm []byte) (ModuleInfo, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byHash[info.Hash]
	if ok && (e.info.ReadOnly || slices.Contains(e.owners, tenant)) {
		return e.info, false, nil
	}
	if !ok {
		info.Created = time.Now().UTC()
		e = &entry{info: info}
		if s.dataDir != "" {
			e.wasmPath = filepath.Join(s.dataDir, "modules", info.Hash+".wasm")
			if err := writeFileAtomic(e.wasmPath, wasm); err != nil {
				return ModuleInfo{}, false, err
			}
		} else {
			e.wasm = wasm
		}
	}
	owners := append(slices.Clone(e.owners), tenant)
	if err := s.writeMeta(e.info, owners); err != nil {
		return ModuleInfo{}, false, err
	}
	e.owners = owners
	s.byHash[info.Hash] = e
	return e.info, true, nil
}

// remove drops tenant's ownership; gone says the module is deleted (no owner left).
func (s *store) remove(hash, tenant string) (gone bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byHash[hash]
	if !ok || !slices.Contains(e.owners, tenant) {
		return false, errNotFound
	}
	owners := slices.DeleteFunc(slices.Clone(e.owners), func(o string) bool { return o == tenant })
	if len(owners) > 0 {
		if err := s.writeMeta(e.info, owners); err != nil {
			return false, err
		}
		e.owners = owners
		return false, nil
	}
	delete(s.byHash, hash)
	if s.dataDir != "" {
		for _, p := range []string{filepath.Join(s.dataDir, "modules", hash+".json"), e.wasmPath, s.snapshotPath(hash)} {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return true, err
			}
		}
	}
	return true, nil
}

func (s *store) writeMeta(info ModuleInfo, owners []string) error {
	if s.dataDir == "" {
		return nil
	}
	b, err := json.MarshalIndent(meta{Hash: info.Hash, Created: info.Created, Owners: owners}, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(s.dataDir, "modules", info.Hash+".json"), b)
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

var errNotFound = errors.New("not found")

func (s *store) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byHash)
}

// describeComponent reads a component's world: a single core module's, or that of several
// linked core modules (the WASI adapter's shape, a command when it exports wasi:cli/run).
func describeComponent(hash string, wasm []byte) (ModuleInfo, error) {
	info := ModuleInfo{Hash: hash, Size: len(wasm), Component: true, Exports: []Export{}}
	var w *wit.World
	c, err := components.Decode(wasm, "")
	switch {
	case err == nil:
		w = c.World
	case errors.Is(err, components.ErrUnsupported):
		l, lerr := components.DecodeLink(wasm)
		if lerr != nil {
			return ModuleInfo{}, lerr
		}
		w = l.World
		_, info.Command = l.RunExport()
	default:
		return ModuleInfo{}, err
	}
	for _, f := range w.Imports {
		if strings.HasPrefix(f.Interface, "wasi:") {
			info.WASI = true
		}
	}
	if info.Command {
		return info, nil
	}
	for _, f := range w.Exports {
		ex := Export{Name: f.Key(), Params: []string{}, Results: []string{}}
		for _, p := range f.Params {
			ex.Params = append(ex.Params, p.Name+": "+p.Type.String())
		}
		if f.Result != nil {
			ex.Results = append(ex.Results, f.Result.String())
		}
		info.Exports = append(info.Exports, ex)
	}
	sort.Slice(info.Exports, func(i, j int) bool { return info.Exports[i].Name < info.Exports[j].Name })
	return info, nil
}
