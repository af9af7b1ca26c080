package wasi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/wit"
)

// ErrHandle: a WASI 0.2 guest passed a resource handle it does not hold (the Component
// Model traps).
var ErrHandle = errors.New("wasi: unknown resource handle")

// Preview2 is the WASI 0.2 state of one guest: the interfaces of a wasi:cli/command
// (wasi:cli, wasi:io, wasi:clocks, wasi:random, wasi:filesystem) as Go functions for
// wit.World.Bind. It is built on an [Instance]: descriptors are its descriptors, so files
// are confined to the preopens, opened, read, written and limited exactly as in preview1,
// and stdio, clocks and randomness come from the same Config. Resources are handle tables
// of their own, emptied by Reset.
//
// Reads from streams block until data or end of stream (as preview1's fd_read), and
// pollables of streams are always ready; only clock pollables wait.
type Preview2 struct {
	in   *Instance
	desc table[*descriptor]
	ins  table[*inStream]
	outs table[*outStream]
	poll table[*pollable]
	dirs table[*dirStream]
	errs table[*ioError]
}

type table[T any] struct {
	next uint32
	m    map[uint32]T
}

func (t *table[T]) add(v T) wit.Handle {
	if t.m == nil {
		t.m = map[uint32]T{}
	}
	t.next++ // handle 0 is never valid
	t.m[t.next] = v
	return wit.Handle(t.next)
}

func (t *table[T]) get(h wit.Handle, what string) (T, error) {
	v, ok := t.m[uint32(h)]
	if !ok {
		return v, fmt.Errorf("%w: %s %d", ErrHandle, what, h)
	}
	return v, nil
}

func (t *table[T]) drop(h wit.Handle, what string) (T, error) {
	v, err := t.get(h, what)
	if err == nil {
		delete(t.m, uint32(h))
	}
	return v, err
}

// descriptor is a handle on a descriptor of the Instance.
type descriptor struct {
	fd uint32
	e  *fdEntry
}

type inStream struct {
	stdin  bool
	e      *fdEntry // a file
	offset int64
}

type outStream struct {
	kind   fdKind   // kindStdout, kindStderr or kindFile
	e      *fdEntry // a file
	offset int64
	append bool
}

type pollable struct {
	deadline time.Duration // on the monotonic clock; 0: ready
}

type dirStream struct {
	entries []dirent
	next    int
}

type ioError struct {
	msg  string
	code Errno // ErrnoSuccess: not a file-system error
}

// NewPreview2 validates cfg and returns WASI 0.2 state in its initial state.
func NewPreview2(cfg Config) (*Preview2, error) {
	in, err := NewInstance(cfg)
	if err != nil {
		return nil, err
	}
	return &Preview2{in: in}, nil
}

// Reset drops every resource and returns to cfg's initial state (see Instance.Reset).
func (p *Preview2) Reset(cfg Config) error {
	if err := p.in.Reset(cfg); err != nil {
		return err
	}
	p.in.mu.Lock()
	defer p.in.mu.Unlock()
	*p = Preview2{in: p.in}
	return nil
}

// Close closes every descriptor.
func (p *Preview2) Close() error { return p.in.Close() }

// Preview2Func returns the implementation of a WASI 0.2 function, by its World.Func key with
// or without the interface version ("wasi:io/streams@0.2.3#[method]output-stream.write"), as
// a Go func for wit.World.Bind; false if this package does not implement it.
func (p *Preview2) Func(key string) (any, bool) {
	iface, name, ok := strings.Cut(key, "#")
	if !ok {
		return nil, false
	}
	iface, _, _ = strings.Cut(iface, "@")
	f, ok := p.funcs()[iface+"#"+name]
	return f, ok
}

// locked runs f with the instance locked.
func locked[T any](p *Preview2, f func() (T, error)) (T, error) {
	p.in.mu.Lock()
	defer p.in.mu.Unlock()
	return f()
}

func (p *Preview2) dropper(t interface {
	dropH(wit.Handle) error
}) func(wit.Handle) error {
	return func(h wit.Handle) error {
		p.in.mu.Lock()
		defer p.in.mu.Unlock()
		return t.dropH(h)
	}
}

func (t *table[T]) dropH(h wit.Handle) error { _, err := t.drop(h, "resource"); return err }

type (
	datetime struct {
		Seconds     uint64
		Nanoseconds uint32
	}
	descriptorStat struct {
		Type                      string
		LinkCount                 uint64
		Size                      uint64
		DataAccessTimestamp       wit.Option[datetime]
		DataModificationTimestamp wit.Option[datetime]
		StatusChangeTimestamp     wit.Option[datetime]
	}
	dirEntryRec struct {
		Type string
		Name string
	}
	metadataHash struct {
		Lower uint64
		Upper uint64
	}
	envVar struct {
		Name, Value string
	}
	preopenDir struct {
		Dir  wit.Handle
		Path string
	}
	readResult struct {
		Data []byte
		End  bool
	}
	seed struct{ A, B uint64 }
)

// Results of the interfaces' types: enums and stream errors are passed by case name.
type (
	fsResult[T any]     = wit.Result[T, string]
	streamResult[T any] = wit.Result[T, wit.Variant]
)

func fsErr[T any](e Errno) fsResult[T] { return wit.Err[T, string](errorCode(e)) }

func fsOK[T any](v T, e Errno) fsResult[T] {
	if e != ErrnoSuccess {
		return fsErr[T](e)
	}
	return wit.Ok[T, string](v)
}

var closed = wit.Variant{Case: "closed"}

// descriptor flags, open flags and path flags (the bits of the WIT flags types).
const (
	dflagRead            = 1 << 0
	dflagWrite           = 1 << 1
	dflagMutateDirectory = 1 << 5
	pflagSymlinkFollow   = 1 << 0
)

// errorCode is the wasi:filesystem error-code case for a preview1 errno.
func errorCode(e Errno) string {
	switch e {
	case ErrnoAcces:
		return "access"
	case ErrnoAgain:
		return "would-block"
	case ErrnoBadf:
		return "bad-descriptor"
	case ErrnoBusy:
		return "busy"
	case ErrnoExist:
		return "exist"
	case ErrnoFbig:
		return "file-too-large"
	case ErrnoIntr:
		return "interrupted"
	case ErrnoInval, ErrnoFault, Errno2big:
		return "invalid"
	case ErrnoIsdir:
		return "is-directory"
	case ErrnoLoop:
		return "loop"
	case ErrnoNametoolong:
		return "name-too-long"
	case ErrnoNoent:
		return "no-entry"
	case ErrnoNomem, ErrnoMfile:
		return "insufficient-memory"
	case ErrnoNospc:
		return "insufficient-space"
	case ErrnoNosys, ErrnoNotsup:
		return "unsupported"
	case ErrnoNotdir:
		return "not-directory"
	case ErrnoNotempty:
		return "not-empty"
	case ErrnoPerm, ErrnoNotcapable:
		return "not-permitted"
	case ErrnoRofs:
		return "read-only"
	case ErrnoSpipe:
		return "invalid-seek"
	case ErrnoXdev:
		return "cross-device"
	}
	return "io"
}

// descriptorType is the wasi:filesystem descriptor-type case of a preview1 file type.
func descriptorType(ft uint8) string {
	switch ft {
	case filetypeBlockDevice:
		return "block-device"
	case filetypeCharDevice:
		return "character-device"
	case filetypeDirectory:
		return "directory"
	case filetypeRegular:
		return "regular-file"
	case filetypeSymlink:
		return "symbolic-link"
	}
	return "unknown"
}

func timestamp(ns uint64) wit.Option[datetime] {
	if ns == 0 {
		return wit.None[datetime]()
	}
	return wit.Some(datetime{Seconds: ns / 1e9, Nanoseconds: uint32(ns % 1e9)})
}

func statRecord(st stat) descriptorStat {
	return descriptorStat{Type: descriptorType(st.filetype), LinkCount: st.nlink, Size: st.size,
		DataAccessTimestamp: timestamp(st.atim), DataModificationTimestamp: timestamp(st.mtim),
		StatusChangeTimestamp: timestamp(st.ctim)}
}

// dir returns a live descriptor (its fd still holds the same entry).
func (p *Preview2) dir(h wit.Handle) (*descriptor, Errno, error) {
	d, err := p.desc.get(h, "descriptor")
	if err != nil {
		return nil, 0, err
	}
	if p.in.lookup(d.fd) != d.e {
		return nil, ErrnoBadf, nil
	}
	return d, ErrnoSuccess, nil
}

// streamFailed makes a last-operation-failed stream error with an error resource.
func (p *Preview2) streamFailed(err error, code Errno) wit.Variant {
	return wit.Variant{Case: "last-operation-failed", Payload: p.errs.add(&ioError{msg: err.Error(), code: code})}
}

func (p *Preview2) funcs() map[string]any {
	in := p.in
	return map[string]any{
		// wasi:cli
		"wasi:cli/environment#get-environment": func(ctx context.Context) []envVar {
			var out []envVar
			for _, kv := range in.cfg.Env {
				k, v, _ := strings.Cut(kv, "=")
				out = append(out, envVar{k, v})
			}
			return out
		},
		"wasi:cli/environment#get-arguments": func(ctx context.Context) []string { return in.args(ctx) },
		"wasi:cli/environment#initial-cwd":   func() wit.Option[string] { return wit.None[string]() },
		"wasi:cli/exit#exit": func(status wit.Result[struct{}, struct{}]) error {
			if status.IsErr {
				return &api.ExitError{Code: 1}
			}
			return &api.ExitError{Code: 0}
		},
		"wasi:cli/exit#exit-with-code": func(code uint8) error { return &api.ExitError{Code: uint32(code)} },
		"wasi:cli/stdin#get-stdin": func() (wit.Handle, error) {
			return locked(p, func() (wit.Handle, error) { return p.ins.add(&inStream{stdin: true}), nil })
		},
		"wasi:cli/stdout#get-stdout": func() (wit.Handle, error) {
			return locked(p, func() (wit.Handle, error) { return p.outs.add(&outStream{kind: kindStdout}), nil })
		},
		"wasi:cli/stderr#get-stderr": func() (wit.Handle, error) {
			return locked(p, func() (wit.Handle, error) { return p.outs.add(&outStream{kind: kindStderr}), nil })
		},
		// Standard streams are not terminals (as preview1 reports them, and wazero).
		"wasi:cli/terminal-stdin#get-terminal-stdin":   func() wit.Option[wit.Handle] { return wit.None[wit.Handle]() },
		"wasi:cli/terminal-stdout#get-terminal-stdout": func() wit.Option[wit.Handle] { return wit.None[wit.Handle]() },
		"wasi:cli/terminal-stderr#get-terminal-stderr": func() wit.Option[wit.Handle] { return wit.None[wit.Handle]() },
		"wasi:cli/terminal-input#[resource-drop]terminal-input": func(h wit.Handle) error {
			return fmt.Errorf("%w: terminal-input %d", ErrHandle, h)
		},
		"wasi:cli/terminal-output#[resource-drop]terminal-output": func(h wit.Handle) error {
			return fmt.Errorf("%w: terminal-output %d", ErrHandle, h)
		},

		// wasi:clocks
		"wasi:clocks/wall-clock#now": func() datetime {
			t := in.clock.Now()
			return datetime{Seconds: uint64(max(t.Unix(), 0)), Nanoseconds: uint32(t.Nanosecond())}
		},
		"wasi:clocks/wall-clock#resolution":      func() datetime { return datetime{Nanoseconds: 1} },
		"wasi:clocks/monotonic-clock#now":        func() uint64 { return uint64(in.clock.Monotonic()) },
		"wasi:clocks/monotonic-clock#resolution": func() uint64 { return 1 },
		"wasi:clocks/monotonic-clock#subscribe-instant": func(when uint64) (wit.Handle, error) {
			return locked(p, func() (wit.Handle, error) {
				return p.poll.add(&pollable{deadline: time.Duration(min(when, math.MaxInt64))}), nil
			})
		},
		"wasi:clocks/monotonic-clock#subscribe-duration": func(d uint64) (wit.Handle, error) {
			return locked(p, func() (wit.Handle, error) {
				now := in.clock.Monotonic()
				return p.poll.add(&pollable{deadline: now + time.Duration(min(d, uint64(math.MaxInt64-now)))}), nil
			})
		},

		// wasi:random
		"wasi:random/random#get-random-bytes":            p.randomBytes,
		"wasi:random/random#get-random-u64":              p.randomU64,
		"wasi:random/insecure#get-insecure-random-bytes": p.randomBytes,
		"wasi:random/insecure#get-insecure-random-u64":   p.randomU64,
		"wasi:random/insecure-seed#insecure-seed": func(ctx context.Context) (seed, error) {
			a, err := p.randomU64(ctx)
			if err != nil {
				return seed{}, err
			}
			b, err := p.randomU64(ctx)
			return seed{a, b}, err
		},

		// wasi:io
		"wasi:io/error#[resource-drop]error": p.dropper(&p.errs),
		"wasi:io/error#[method]error.to-debug-string": func(h wit.Handle) (string, error) {
			return locked(p, func() (string, error) {
				e, err := p.errs.get(h, "error")
				if err != nil {
					return "", err
				}
				return e.msg, nil
			})
		},
		"wasi:io/poll#[resource-drop]pollable": p.dropper(&p.poll),
		"wasi:io/poll#[method]pollable.ready": func(h wit.Handle) (bool, error) {
			return locked(p, func() (bool, error) {
				pl, err := p.poll.get(h, "pollable")
				if err != nil {
					return false, err
				}
				return pl.deadline <= in.clock.Monotonic(), nil
			})
		},
		"wasi:io/poll#[method]pollable.block": func(ctx context.Context, h wit.Handle) error {
			_, err := p.pollList(ctx, []wit.Handle{h})
			return err
		},
		"wasi:io/poll#poll": p.pollList,

		"wasi:io/streams#[resource-drop]input-stream":        p.dropper(&p.ins),
		"wasi:io/streams#[resource-drop]output-stream":       p.dropper(&p.outs),
		"wasi:io/streams#[method]input-stream.read":          p.read,
		"wasi:io/streams#[method]input-stream.blocking-read": p.read,
		"wasi:io/streams#[method]input-stream.skip":          p.skip,
		"wasi:io/streams#[method]input-stream.blocking-skip": p.skip,
		"wasi:io/streams#[method]input-stream.subscribe":     p.readyPollable(&p.ins),
		"wasi:io/streams#[method]output-stream.subscribe":    p.readyPollable(&p.outs),
		"wasi:io/streams#[method]output-stream.check-write": func(h wit.Handle) (streamResult[uint64], error) {
			return locked(p, func() (streamResult[uint64], error) {
				if _, err := p.outs.get(h, "output-stream"); err != nil {
					return streamResult[uint64]{}, err
				}
				return wit.Ok[uint64, wit.Variant](chunkSize), nil
			})
		},
		"wasi:io/streams#[method]output-stream.write":                    p.write,
		"wasi:io/streams#[method]output-stream.blocking-write-and-flush": p.write,
		"wasi:io/streams#[method]output-stream.flush":                    p.flush,
		"wasi:io/streams#[method]output-stream.blocking-flush":           p.flush,
		"wasi:io/streams#[method]output-stream.write-zeroes": func(ctx context.Context, h wit.Handle, n uint64) (streamResult[struct{}], error) {
			return p.write(ctx, h, make([]byte, min(n, chunkSize)))
		},
		"wasi:io/streams#[method]output-stream.blocking-write-zeroes-and-flush": func(ctx context.Context, h wit.Handle, n uint64) (streamResult[struct{}], error) {
			return p.write(ctx, h, make([]byte, min(n, chunkSize)))
		},
		"wasi:io/streams#[method]output-stream.splice":          p.splice,
		"wasi:io/streams#[method]output-stream.blocking-splice": p.splice,

		// wasi:filesystem
		"wasi:filesystem/preopens#get-directories": func() ([]preopenDir, error) {
			return locked(p, func() ([]preopenDir, error) {
				var out []preopenDir
				for i, pre := range in.cfg.Preopens {
					fd := uint32(3 + i)
					out = append(out, preopenDir{p.desc.add(&descriptor{fd: fd, e: in.fds[fd]}), pre.GuestPath})
				}
				return out, nil
			})
		},
		"wasi:filesystem/types#[resource-drop]descriptor": func(h wit.Handle) error {
			in.mu.Lock()
			defer in.mu.Unlock()
			d, err := p.desc.drop(h, "descriptor")
			if err != nil {
				return err
			}
			// Preopens stay open: get-directories hands out handles on them again.
			if d.fd >= uint32(3+len(in.cfg.Preopens)) && in.lookup(d.fd) == d.e {
				d.e.close()
				in.fds[d.fd] = nil
			}
			return nil
		},
		"wasi:filesystem/types#[resource-drop]directory-entry-stream": p.dropper(&p.dirs),
		"wasi:filesystem/types#filesystem-error-code": func(h wit.Handle) (wit.Option[string], error) {
			return locked(p, func() (wit.Option[string], error) {
				e, err := p.errs.get(h, "error")
				if err != nil || e.code == ErrnoSuccess {
					return wit.None[string](), err
				}
				return wit.Some(errorCode(e.code)), nil
			})
		},
		"wasi:filesystem/types#[method]descriptor.read-via-stream":  p.descStream(false, false),
		"wasi:filesystem/types#[method]descriptor.write-via-stream": p.descStream(true, false),
		"wasi:filesystem/types#[method]descriptor.append-via-stream": func(h wit.Handle) (fsResult[wit.Handle], error) {
			return p.descStream(true, true)(h, 0)
		},
		"wasi:filesystem/types#[method]descriptor.advise": func(h wit.Handle, _, _ uint64, _ uint8) (fsResult[struct{}], error) {
			return descOp(p, h, func(d *descriptor) (struct{}, Errno) { return struct{}{}, ErrnoSuccess })
		},
		"wasi:filesystem/types#[method]descriptor.sync-data": p.sync,
		"wasi:filesystem/types#[method]descriptor.sync":      p.sync,
		"wasi:filesystem/types#[method]descriptor.get-flags": func(h wit.Handle) (fsResult[uint8], error) {
			return descOp(p, h, func(d *descriptor) (uint8, Errno) {
				switch {
				case d.e.kind == kindDir && in.writableFS(d.e.preopen) != nil:
					return dflagRead | dflagMutateDirectory, ErrnoSuccess
				case d.e.kind == kindDir:
					return dflagRead, ErrnoSuccess
				}
				var f uint8
				if !d.e.noRead {
					f |= dflagRead
				}
				if d.e.wfile != nil {
					f |= dflagWrite
				}
				return f, ErrnoSuccess
			})
		},
		"wasi:filesystem/types#[method]descriptor.get-type": func(h wit.Handle) (fsResult[string], error) {
			return descOp(p, h, func(d *descriptor) (string, Errno) {
				st, e := in.statEntry(d.e)
				return descriptorType(st.filetype), e
			})
		},
		"wasi:filesystem/types#[method]descriptor.set-size": func(h wit.Handle, size uint64) (fsResult[struct{}], error) {
			return descOp(p, h, func(d *descriptor) (struct{}, Errno) { return struct{}{}, in.resize(d.fd, size, false) })
		},
		"wasi:filesystem/types#[method]descriptor.set-times": func(h wit.Handle, _, _ wit.Variant) (fsResult[struct{}], error) {
			return descOp(p, h, func(d *descriptor) (struct{}, Errno) { return struct{}{}, in.unsupportedChange(d.e) })
		},
		"wasi:filesystem/types#[method]descriptor.set-times-at": func(h wit.Handle, _ uint8, _ string, _, _ wit.Variant) (fsResult[struct{}], error) {
			return descOp(p, h, func(d *descriptor) (struct{}, Errno) { return struct{}{}, in.unsupportedChange(d.e) })
		},
		"wasi:filesystem/types#[method]descriptor.link-at": func(h wit.Handle, _ uint8, _ string, _ wit.Handle, _ string) (fsResult[struct{}], error) {
			return descOp(p, h, func(d *descriptor) (struct{}, Errno) { return struct{}{}, in.unsupportedChange(d.e) })
		},
		"wasi:filesystem/types#[method]descriptor.symlink-at": func(h wit.Handle, _, _ string) (fsResult[struct{}], error) {
			return descOp(p, h, func(d *descriptor) (struct{}, Errno) { return struct{}{}, in.unsupportedChange(d.e) })
		},
		"wasi:filesystem/types#[method]descriptor.read": func(h wit.Handle, n, off uint64) (fsResult[readResult], error) {
			return descOp(p, h, func(d *descriptor) (readResult, Errno) {
				b, eof, e := readAt(d.e, n, off)
				return readResult{b, eof}, e
			})
		},
		"wasi:filesystem/types#[method]descriptor.write": func(h wit.Handle, b []byte, off uint64) (fsResult[uint64], error) {
			return descOp(p, h, func(d *descriptor) (uint64, Errno) {
				if d.e.kind != kindFile || d.e.wfile == nil || off > math.MaxInt64 {
					return 0, ErrnoBadf
				}
				n, err := (&atWriter{f: d.e.wfile, at: int64(off), limit: in.maxFileSize(d.e.preopen)}).Write(b)
				if n == 0 && err != nil {
					return 0, errnoOf(err)
				}
				return uint64(n), ErrnoSuccess
			})
		},
		"wasi:filesystem/types#[method]descriptor.read-directory": func(h wit.Handle) (fsResult[wit.Handle], error) {
			return descOp(p, h, func(d *descriptor) (wit.Handle, Errno) {
				if d.e.kind != kindDir {
					return 0, ErrnoNotdir
				}
				ds, e := in.listDir(d.e)
				if e != ErrnoSuccess {
					return 0, e
				}
				return p.dirs.add(&dirStream{entries: ds[2:]}), ErrnoSuccess // WASI 0.2 lists no "." and ".."
			})
		},
		"wasi:filesystem/types#[method]directory-entry-stream.read-directory-entry": func(h wit.Handle) (fsResult[wit.Option[dirEntryRec]], error) {
			return locked(p, func() (fsResult[wit.Option[dirEntryRec]], error) {
				s, err := p.dirs.get(h, "directory-entry-stream")
				if err != nil {
					return fsResult[wit.Option[dirEntryRec]]{}, err
				}
				if s.next >= len(s.entries) {
					return wit.Ok[wit.Option[dirEntryRec], string](wit.None[dirEntryRec]()), nil
				}
				d := s.entries[s.next]
				s.next++
				return wit.Ok[wit.Option[dirEntryRec], string](wit.Some(dirEntryRec{descriptorType(d.filetype), d.name})), nil
			})
		},
		"wasi:filesystem/types#[method]descriptor.stat": func(h wit.Handle) (fsResult[descriptorStat], error) {
			return descOp(p, h, func(d *descriptor) (descriptorStat, Errno) {
				st, e := in.statEntry(d.e)
				return statRecord(st), e
			})
		},
		"wasi:filesystem/types#[method]descriptor.stat-at": func(h wit.Handle, flags uint8, path string) (fsResult[descriptorStat], error) {
			return dirOp(p, h, path, func(d *descriptor) (descriptorStat, Errno) {
				st, e := in.statAt(d.e, path, flags&pflagSymlinkFollow != 0)
				return statRecord(st), e
			})
		},
		"wasi:filesystem/types#[method]descriptor.metadata-hash": func(h wit.Handle) (fsResult[metadataHash], error) {
			return descOp(p, h, func(d *descriptor) (metadataHash, Errno) {
				st, e := in.statEntry(d.e)
				return metadataHash{st.ino, st.dev}, e
			})
		},
		"wasi:filesystem/types#[method]descriptor.metadata-hash-at": func(h wit.Handle, flags uint8, path string) (fsResult[metadataHash], error) {
			return dirOp(p, h, path, func(d *descriptor) (metadataHash, Errno) {
				st, e := in.statAt(d.e, path, flags&pflagSymlinkFollow != 0)
				return metadataHash{st.ino, st.dev}, e
			})
		},
		"wasi:filesystem/types#[method]descriptor.is-same-object": func(h, o wit.Handle) (bool, error) {
			return locked(p, func() (bool, error) {
				a, e1, err := p.dir(h)
				if err != nil {
					return false, err
				}
				b, e2, err := p.dir(o)
				if err != nil || e1 != ErrnoSuccess || e2 != ErrnoSuccess {
					return false, err
				}
				sa, e1 := in.statEntry(a.e)
				sb, e2 := in.statEntry(b.e)
				return e1 == ErrnoSuccess && e2 == ErrnoSuccess && sa.dev == sb.dev && sa.ino == sb.ino && sa.ino != 0, nil
			})
		},
		"wasi:filesystem/types#[method]descriptor.open-at": func(h wit.Handle, pflags uint8, path string, oflags, dflags uint8) (fsResult[wit.Handle], error) {
			return dirOp(p, h, path, func(d *descriptor) (wit.Handle, Errno) {
				rights := uint64(rightFdRead)
				if dflags&dflagWrite != 0 {
					rights = rightFdWrite
					if dflags&dflagRead != 0 {
						rights |= rightFdRead
					}
				}
				fd, e := in.openAt(d.e, path, pflags&pflagSymlinkFollow != 0, uint16(oflags), rights, 0)
				if e != ErrnoSuccess {
					return 0, e
				}
				return p.desc.add(&descriptor{fd: fd, e: in.fds[fd]}), ErrnoSuccess
			})
		},
		"wasi:filesystem/types#[method]descriptor.create-directory-at": func(h wit.Handle, path string) (fsResult[struct{}], error) {
			return dirOp(p, h, path, func(d *descriptor) (struct{}, Errno) {
				return struct{}{}, in.createDirectoryAt(in.writableAt(d.fd, path))
			})
		},
		"wasi:filesystem/types#[method]descriptor.remove-directory-at": func(h wit.Handle, path string) (fsResult[struct{}], error) {
			return dirOp(p, h, path, func(d *descriptor) (struct{}, Errno) {
				return struct{}{}, in.removeDirectoryAt(in.writableAt(d.fd, path))
			})
		},
		"wasi:filesystem/types#[method]descriptor.unlink-file-at": func(h wit.Handle, path string) (fsResult[struct{}], error) {
			return dirOp(p, h, path, func(d *descriptor) (struct{}, Errno) { return struct{}{}, in.unlinkFileAt(in.writableAt(d.fd, path)) })
		},
		"wasi:filesystem/types#[method]descriptor.rename-at": func(h wit.Handle, oldPath string, nh wit.Handle, newPath string) (fsResult[struct{}], error) {
			return dirOp(p, h, oldPath, func(d *descriptor) (struct{}, Errno) {
				to, e, err := p.dir(nh)
				switch {
				case err != nil:
					return struct{}{}, ErrnoBadf
				case e != ErrnoSuccess:
					return struct{}{}, e
				case checkPath(newPath) != ErrnoSuccess:
					return struct{}{}, checkPath(newPath)
				}
				wfs, from, oldp, e := in.writableAt(d.fd, oldPath)
				if e != ErrnoSuccess {
					return struct{}{}, e
				}
				_, dst, newp, e := in.writableAt(to.fd, newPath)
				if e != ErrnoSuccess {
					return struct{}{}, e
				}
				return struct{}{}, renameAt(wfs, from, oldp, dst, newp)
			})
		},
		"wasi:filesystem/types#[method]descriptor.readlink-at": func(h wit.Handle, path string) (fsResult[string], error) {
			return dirOp(p, h, path, func(d *descriptor) (string, Errno) { return in.readlinkAt(d.e, path) })
		},
	}
}

// descOp runs f on a live descriptor, with the instance locked; a dead one answers
// bad-descriptor, an unknown handle traps.
func descOp[T any](p *Preview2, h wit.Handle, f func(*descriptor) (T, Errno)) (fsResult[T], error) {
	p.in.mu.Lock()
	defer p.in.mu.Unlock()
	d, e, err := p.dir(h)
	if err != nil {
		return fsResult[T]{}, err
	}
	if e != ErrnoSuccess {
		return fsErr[T](e), nil
	}
	var zero T
	v, e := f(d)
	if e != ErrnoSuccess {
		v = zero
	}
	return fsOK(v, e), nil
}

// dirOp is descOp for a directory and a path.
func dirOp[T any](p *Preview2, h wit.Handle, path string, f func(*descriptor) (T, Errno)) (fsResult[T], error) {
	return descOp(p, h, func(d *descriptor) (T, Errno) {
		var zero T
		if d.e.kind != kindDir {
			return zero, ErrnoNotdir
		}
		if e := checkPath(path); e != ErrnoSuccess {
			return zero, e
		}
		return f(d)
	})
}

func (p *Preview2) sync(h wit.Handle) (fsResult[struct{}], error) {
	return descOp(p, h, func(d *descriptor) (struct{}, Errno) {
		if d.e.wfile != nil {
			return struct{}{}, errnoOf(d.e.wfile.Sync())
		}
		return struct{}{}, ErrnoSuccess
	})
}

// unsupportedChange answers changes this package does not make (times, links): read-only on
// read-only preopens, unsupported on writable ones (as preview1).
func (in *Instance) unsupportedChange(e *fdEntry) Errno {
	if in.writableFS(e.preopen) == nil {
		return in.readOnly(e.preopen, "change", e.path)
	}
	return ErrnoNotsup
}

// readAt reads up to n bytes (at most one chunk) of file e at off.
func readAt(e *fdEntry, n, off uint64) ([]byte, bool, Errno) {
	switch {
	case e.kind == kindDir:
		return nil, false, ErrnoIsdir
	case e.kind != kindFile || e.noRead:
		return nil, false, ErrnoBadf
	case off > math.MaxInt64:
		return nil, false, ErrnoInval
	}
	ra, ok := e.file.(io.ReaderAt)
	if !ok {
		return nil, false, ErrnoSpipe
	}
	b := make([]byte, min(n, chunkSize))
	k, err := ra.ReadAt(b, int64(off))
	switch {
	case errors.Is(err, io.EOF):
		return b[:k], k == 0 || k < len(b), ErrnoSuccess
	case err != nil && k == 0:
		return nil, false, errnoOf(err)
	}
	return b[:k], false, ErrnoSuccess
}

// descStream opens a stream on a file at offset (append: at its end).
func (p *Preview2) descStream(write, append bool) func(wit.Handle, uint64) (fsResult[wit.Handle], error) {
	return func(h wit.Handle, off uint64) (fsResult[wit.Handle], error) {
		return descOp(p, h, func(d *descriptor) (wit.Handle, Errno) {
			switch {
			case d.e.kind == kindDir:
				return 0, ErrnoIsdir
			case off > math.MaxInt64:
				return 0, ErrnoInval
			case write && d.e.wfile == nil, !write && d.e.noRead:
				return 0, ErrnoBadf
			case write:
				return p.outs.add(&outStream{kind: kindFile, e: d.e, offset: int64(off), append: append}), ErrnoSuccess
			}
			return p.ins.add(&inStream{e: d.e, offset: int64(off)}), ErrnoSuccess
		})
	}
}

func (p *Preview2) readyPollable(t interface {
	has(wit.Handle) bool
}) func(wit.Handle) (wit.Handle, error) {
	return func(h wit.Handle) (wit.Handle, error) {
		return locked(p, func() (wit.Handle, error) {
			if !t.has(h) {
				return 0, fmt.Errorf("%w: stream %d", ErrHandle, h)
			}
			return p.poll.add(&pollable{}), nil
		})
	}
}

func (t *table[T]) has(h wit.Handle) bool { _, ok := t.m[uint32(h)]; return ok }

// pollList waits until one of the pollables is ready and returns the indices of those that are.
func (p *Preview2) pollList(ctx context.Context, hs []wit.Handle) ([]uint32, error) {
	if len(hs) == 0 {
		return nil, fmt.Errorf("%w: poll of an empty list", ErrHandle)
	}
	for {
		p.in.mu.Lock()
		now := p.in.clock.Monotonic()
		var ready []uint32
		next := time.Duration(math.MaxInt64)
		for i, h := range hs {
			pl, err := p.poll.get(h, "pollable")
			if err != nil {
				p.in.mu.Unlock()
				return nil, err
			}
			if pl.deadline <= now {
				ready = append(ready, uint32(i))
			}
			next = min(next, pl.deadline)
		}
		p.in.mu.Unlock()
		if len(ready) > 0 {
			return ready, nil
		}
		if err := p.in.clock.Sleep(ctx, next-now); err != nil {
			return nil, err
		}
	}
}

func (p *Preview2) randomBytes(ctx context.Context, n uint64) ([]byte, error) {
	if n > 1<<24 { // the Canonical ABI's list limit (wit.DefaultMaxBytes) would refuse it anyway
		return nil, fmt.Errorf("wasi: get-random-bytes of %d bytes", n)
	}
	p.in.mu.Lock()
	defer p.in.mu.Unlock()
	b := make([]byte, n)
	for off := 0; off < len(b); off += chunkSize {
		if _, err := io.ReadFull(p.in.rand, b[off:min(off+chunkSize, len(b))]); err != nil {
			return nil, fmt.Errorf("wasi: random source: %w", err)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return b, nil
}

func (p *Preview2) randomU64(ctx context.Context) (uint64, error) {
	b, err := p.randomBytes(ctx, 8)
	if err != nil {
		return 0, err
	}
	return le.Uint64(b), nil
}

// read implements read and blocking-read: one host read of up to n bytes (at most a chunk).
func (p *Preview2) read(ctx context.Context, h wit.Handle, n uint64) (streamResult[[]byte], error) {
	p.in.mu.Lock()
	s, err := p.ins.get(h, "input-stream")
	if err != nil {
		p.in.mu.Unlock()
		return streamResult[[]byte]{}, err
	}
	if !s.stdin {
		defer p.in.mu.Unlock()
		b, eof, e := readAt(s.e, n, uint64(s.offset))
		switch {
		case e != ErrnoSuccess:
			return wit.Err[[]byte](p.streamFailed(errors.New(errorCode(e)), e)), nil
		case eof && len(b) == 0 && n > 0:
			return wit.Err[[]byte](closed), nil
		}
		s.offset += int64(len(b))
		return wit.Ok[[]byte, wit.Variant](b), nil
	}
	st := p.in.stdio(ctx, kindStdin)
	p.in.mu.Unlock() // a blocking read must not hold the instance
	if n == 0 {
		return wit.Ok[[]byte, wit.Variant]([]byte{}), nil
	}
	if st == nil {
		return wit.Err[[]byte](closed), nil
	}
	if err := st.lock(ctx); err != nil {
		return streamResult[[]byte]{}, err
	}
	buf := make([]byte, min(n, chunkSize))
	k, rerr := st.read(ctx, buf)
	st.unlock()
	switch {
	case errCtx(ctx, rerr):
		return streamResult[[]byte]{}, rerr
	case k == 0 && errors.Is(rerr, io.EOF):
		return wit.Err[[]byte](closed), nil
	case k == 0 && rerr != nil:
		p.in.mu.Lock()
		defer p.in.mu.Unlock()
		return wit.Err[[]byte](p.streamFailed(rerr, ErrnoIo)), nil
	}
	return wit.Ok[[]byte, wit.Variant](buf[:k]), nil
}

func (p *Preview2) skip(ctx context.Context, h wit.Handle, n uint64) (streamResult[uint64], error) {
	r, err := p.read(ctx, h, n)
	if err != nil || r.IsErr {
		return wit.Result[uint64, wit.Variant]{Err: r.Err, IsErr: r.IsErr}, err
	}
	return wit.Ok[uint64, wit.Variant](uint64(len(r.OK))), nil
}

// write implements write and blocking-write-and-flush: everything is written before it
// returns (there is no buffering to flush).
func (p *Preview2) write(ctx context.Context, h wit.Handle, b []byte) (streamResult[struct{}], error) {
	p.in.mu.Lock()
	s, err := p.outs.get(h, "output-stream")
	if err != nil {
		p.in.mu.Unlock()
		return streamResult[struct{}]{}, err
	}
	if s.kind == kindFile {
		defer p.in.mu.Unlock()
		if s.e.file == nil { // its descriptor was dropped
			return wit.Err[struct{}](closed), nil
		}
		if s.append { // WASI 0.2 descriptors have no append mode: write at the end
			fi, err := s.e.wfile.Stat()
			if err != nil {
				return wit.Err[struct{}](p.streamFailed(err, errnoOf(err))), nil
			}
			s.offset = fi.Size()
		}
		n, werr := (&atWriter{f: s.e.wfile, at: s.offset, limit: p.in.maxFileSize(s.e.preopen)}).Write(b)
		s.offset += int64(n)
		if werr != nil {
			return wit.Err[struct{}](p.streamFailed(werr, errnoOf(werr))), nil
		}
		return wit.Ok[struct{}, wit.Variant](struct{}{}), nil
	}
	st := p.in.stdio(ctx, s.kind)
	p.in.mu.Unlock() // the stream serializes itself
	if st == nil || len(b) == 0 {
		return wit.Ok[struct{}, wit.Variant](struct{}{}), nil
	}
	if err := st.lock(ctx); err != nil {
		return streamResult[struct{}]{}, err
	}
	_, werr := st.write(ctx, b)
	st.unlock()
	switch {
	case errCtx(ctx, werr):
		return streamResult[struct{}]{}, werr
	case werr != nil:
		p.in.mu.Lock()
		defer p.in.mu.Unlock()
		return wit.Err[struct{}](p.streamFailed(werr, ErrnoIo)), nil
	}
	return wit.Ok[struct{}, wit.Variant](struct{}{}), nil
}

func (p *Preview2) flush(h wit.Handle) (streamResult[struct{}], error) {
	return locked(p, func() (streamResult[struct{}], error) {
		if _, err := p.outs.get(h, "output-stream"); err != nil {
			return streamResult[struct{}]{}, err
		}
		return wit.Ok[struct{}, wit.Variant](struct{}{}), nil
	})
}

func (p *Preview2) splice(ctx context.Context, h, src wit.Handle, n uint64) (streamResult[uint64], error) {
	r, err := p.read(ctx, src, n)
	if err != nil || r.IsErr {
		return wit.Result[uint64, wit.Variant]{Err: r.Err, IsErr: r.IsErr}, err
	}
	w, err := p.write(ctx, h, r.OK)
	if err != nil || w.IsErr {
		return wit.Result[uint64, wit.Variant]{Err: w.Err, IsErr: w.IsErr}, err
	}
	return wit.Ok[uint64, wit.Variant](uint64(len(r.OK))), nil
}
