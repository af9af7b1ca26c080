package wasi

import (
	"context"
	"strings"

	"github.com/hlwasm/hlwasm/api"
)

type argsKey struct{}

// WithArgs returns a context whose WASI calls see args as the program's arguments instead of
// the Config's: what a service needs to run one command with each request's arguments while
// its sandboxes share one Config. An argument containing NUL is cut there.
func WithArgs(ctx context.Context, args []string) context.Context {
	a := make([]string, len(args))
	for i, s := range args {
		a[i], _, _ = strings.Cut(s, "\x00")
	}
	return context.WithValue(ctx, argsKey{}, a)
}

func (in *Instance) args(ctx context.Context) []string {
	if a, ok := ctx.Value(argsKey{}).([]string); ok {
		return a
	}
	return in.cfg.Args
}

type envKey struct{}

// WithEnv returns a context whose WASI calls see env ("KEY=VALUE" entries) as the program's
// environment instead of the Config's, as WithArgs does for arguments. Entries that are not
// KEY=VALUE or contain NUL are dropped (Config.Env refuses them at NewInstance).
func WithEnv(ctx context.Context, env []string) context.Context {
	e := make([]string, 0, len(env))
	for _, s := range env {
		if strings.IndexByte(s, 0) < 0 && strings.IndexByte(s, '=') > 0 {
			e = append(e, s)
		}
	}
	return context.WithValue(ctx, envKey{}, e)
}

func (in *Instance) env(ctx context.Context) []string {
	if e, ok := ctx.Value(envKey{}).([]string); ok {
		return e
	}
	return in.cfg.Env
}

func argsGet(in *Instance, ctx context.Context, m api.Memory, p []uint64) Errno {
	return writeStrings(m, in.args(ctx), uint32(p[0]), uint32(p[1]))
}

func argsSizesGet(in *Instance, ctx context.Context, m api.Memory, p []uint64) Errno {
	return writeSizes(m, in.args(ctx), uint32(p[0]), uint32(p[1]))
}

func environGet(in *Instance, ctx context.Context, m api.Memory, p []uint64) Errno {
	return writeStrings(m, in.env(ctx), uint32(p[0]), uint32(p[1]))
}

func environSizesGet(in *Instance, ctx context.Context, m api.Memory, p []uint64) Errno {
	return writeSizes(m, in.env(ctx), uint32(p[0]), uint32(p[1]))
}

// writeSizes stores the count of strs and their total size with NUL terminators.
func writeSizes(m api.Memory, strs []string, countPtr, sizePtr uint32) Errno {
	size := uint64(0)
	for _, s := range strs {
		size += uint64(len(s)) + 1
	}
	if size > 1<<32-1 {
		return Errno2big
	}
	if !m.WriteUint32Le(countPtr, uint32(len(strs))) || !m.WriteUint32Le(sizePtr, uint32(size)) {
		return ErrnoFault
	}
	return ErrnoSuccess
}

// writeStrings stores pointers to strs at ptrs and the NUL-terminated strings at buf.
func writeStrings(m api.Memory, strs []string, ptrs, buf uint32) Errno {
	// Check both ranges up front so nothing is written on a fault.
	size := uint64(0)
	for _, s := range strs {
		size += uint64(len(s)) + 1
	}
	if uint64(ptrs)+4*uint64(len(strs)) > m.Size() || uint64(buf)+size > m.Size() {
		return ErrnoFault
	}
	for i, s := range strs {
		if !m.WriteUint32Le(ptrs+4*uint32(i), buf) || !m.Write(buf, append([]byte(s), 0)) {
			return ErrnoFault
		}
		buf += uint32(len(s)) + 1
	}
	return ErrnoSuccess
}
