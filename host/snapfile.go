package host

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"

	"github.com/hlwasm/hlwasm/internal/machine"
	"github.com/hlwasm/hlwasm/internal/wasmbin"
)

// SaveSnapshot writes the module's instantiated state (start function and everything before
// it done) to a snapshot file: guest memory pages, the vCPU state and the module itself.
// Runtime.LoadSnapshot starts sandboxes from it without parsing, validating or instantiating.
// The file is versioned and checksummed and only loads into the same hlwasm build; with
// Config.SnapshotKey it also carries an HMAC made with that key.
func (m *Module) SaveSnapshot(ctx context.Context, path string) error {
	if m.rt.cfg.Engine != EngineMicroVM {
		return fmt.Errorf("%w: snapshot files need the micro-VM engine", ErrUnsupportedEngine)
	}
	sb, err := m.newSandbox(ctx)
	if err != nil {
		return err
	}
	defer sb.Close(ctx)
	vi := sb.in.(*vmInstance)
	if vi.snap == nil {
		return ErrNoSnapshot
	}
	payload := binary.LittleEndian.AppendUint32(nil, vi.inst)
	payload = append(payload, m.wasm...)
	var b bytes.Buffer
	if err := vi.mach.WriteSnapshot(&b, vi.snap, payload, m.rt.cfg.SnapshotKey); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// LoadSnapshot opens a snapshot file written by Module.SaveSnapshot and returns a module whose
// sandboxes start in the saved state. Memory pages are mapped from the file copy-on-write, so
// sandboxes of one file share the pages they never write. A corrupt, truncated or foreign
// file (another build, or made on a CPU with features this one's guest lacks) is refused with an error wrapping ErrSnapshotCorrupt or ErrSnapshotForeign; with
// Config.SnapshotKey, a file whose HMAC does not verify with the key (unkeyed files included)
// with ErrSnapshotUnauthenticated. Every field is checked against what the host itself would
// produce (docs/ARCHITECTURE.md, "Threat model for snapshot files").
func (r *Runtime) LoadSnapshot(ctx context.Context, path string) (*Module, error) {
	if r.cfg.Engine != EngineMicroVM {
		return nil, fmt.Errorf("%w: snapshot files need the micro-VM engine", ErrUnsupportedEngine)
	}
	sf, err := machine.OpenSnapshotFile(path, nil, r.cfg.SnapshotKey)
	if err != nil {
		return nil, err
	}
	if err := sf.CheckCPU(ctx, r.machineConfig()); err != nil {
		sf.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(sf.Payload) < 4 {
		sf.Close()
		return nil, fmt.Errorf("%s: %w: no module in the snapshot", path, machine.ErrSnapshotCorrupt)
	}
	inst := binary.LittleEndian.Uint32(sf.Payload)
	wasm := sf.Payload[4:]
	info, err := wasmbin.Parse(wasm)
	if err != nil {
		sf.Close()
		return nil, fmt.Errorf("%s: %w: %w", path, machine.ErrSnapshotCorrupt, err)
	}
	funcs, err := r.allowed().link(info, r.cfg.AllowImports)
	if err != nil {
		sf.Close()
		return nil, err
	}
	m, err := r.newModule(wasm, info)
	if err != nil {
		sf.Close()
		return nil, err
	}
	m.hostFuncs = r.observeHosts(funcs)
	m.snapFile, m.snapInst = sf, inst
	return m, nil
}

// Errors for snapshot files (errors.Is).
var (
	ErrSnapshotCorrupt = machine.ErrSnapshotCorrupt
	ErrSnapshotForeign = machine.ErrSnapshotForeign
	// ErrSnapshotUnauthenticated: Config.SnapshotKey is set and the file's HMAC does not
	// verify with it.
	ErrSnapshotUnauthenticated = machine.ErrSnapshotUnauthenticated
)
