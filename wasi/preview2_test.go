package wasi_test

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/wasi"
	"github.com/hlwasm/hlwasm/wit"
)

// p2fn returns a Preview2 function with its Go type (a version in the key is ignored).
func p2fn[T any](t *testing.T, p *wasi.Preview2, key string) T {
	t.Helper()
	f, ok := p.Func(key)
	require.True(t, ok, key)
	g, ok := f.(T)
	require.True(t, ok, "%s is %T", key, f)
	return g
}

type fsRes[T any] = wit.Result[T, string]

func newP2(t *testing.T, cfg wasi.Config) *wasi.Preview2 {
	p, err := wasi.NewPreview2(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { p.Close() })
	return p
}

// p2call calls a function whose types are the package's own records, by reflection.
func p2call(t *testing.T, p *wasi.Preview2, key string, args ...any) []reflect.Value {
	t.Helper()
	f, ok := p.Func(key)
	require.True(t, ok, key)
	in := make([]reflect.Value, len(args))
	for i, a := range args {
		in[i] = reflect.ValueOf(a)
	}
	return reflect.ValueOf(f).Call(in)
}

func preopen(t *testing.T, p *wasi.Preview2) wit.Handle {
	out := p2call(t, p, "wasi:filesystem/preopens@0.2.3#get-directories")
	require.True(t, out[1].IsNil())
	ds := out[0]
	require.Equal(t, 1, ds.Len())
	require.Equal(t, "/data", ds.Index(0).Field(1).String())
	return ds.Index(0).Field(0).Interface().(wit.Handle)
}

func TestPreview2Confinement(t *testing.T) {
	fsys := fstest.MapFS{"a.txt": {Data: []byte("hello")}, "sub/b.txt": {Data: []byte("b")}}
	p := newP2(t, wasi.Config{Preopens: []wasi.Preopen{{GuestPath: "/data", FS: fsys}}})
	d := preopen(t, p)
	open := p2fn[func(wit.Handle, uint8, string, uint8, uint8) (fsRes[wit.Handle], error)](t, p, "wasi:filesystem/types#[method]descriptor.open-at")
	for path, want := range map[string]string{
		"../a.txt": "not-permitted", "/etc/passwd": "not-permitted", "sub/../../a.txt": "not-permitted",
		"missing": "no-entry", "": "no-entry", "a\x00b": "invalid", strings.Repeat("x", 5000): "name-too-long",
	} {
		r, err := open(d, 0, path, 0, 1)
		require.NoError(t, err)
		require.True(t, r.IsErr, path)
		require.Equal(t, want, r.Err, path)
	}
	// read-only preopen: creating or writing answers read-only
	r, err := open(d, 0, "new", 1, 2)
	require.NoError(t, err)
	require.Equal(t, "read-only", r.Err)
	mkdir := p2fn[func(wit.Handle, string) (fsRes[struct{}], error)](t, p, "wasi:filesystem/types#[method]descriptor.create-directory-at")
	m, err := mkdir(d, "x")
	require.NoError(t, err)
	require.Equal(t, "read-only", m.Err)

	r, err = open(d, 0, "a.txt", 0, 1)
	require.NoError(t, err)
	require.False(t, r.IsErr)
	got := p2call(t, p, "wasi:filesystem/types#[method]descriptor.read", r.OK, uint64(100), uint64(1))
	require.True(t, got[1].IsNil())
	ok := got[0].FieldByName("OK")
	require.Equal(t, "ello", string(ok.Field(0).Bytes()))
	require.True(t, ok.Field(1).Bool())
	// a file is not a directory for open-at
	r2, err := open(r.OK, 0, "x", 0, 1)
	require.NoError(t, err)
	require.Equal(t, "not-directory", r2.Err)
}

func TestPreview2Handles(t *testing.T) {
	var out bytes.Buffer
	p := newP2(t, wasi.Config{Stdout: &out, Stdin: strings.NewReader("in")})
	write := p2fn[func(context.Context, wit.Handle, []byte) (wit.Result[struct{}, wit.Variant], error)](t, p, "wasi:io/streams#[method]output-stream.blocking-write-and-flush")
	drop := p2fn[func(wit.Handle) error](t, p, "wasi:io/streams#[resource-drop]output-stream")
	stdout, err := p2fn[func() (wit.Handle, error)](t, p, "wasi:cli/stdout#get-stdout")()
	require.NoError(t, err)
	ctx := context.Background()
	_, err = write(ctx, stdout, []byte("hi"))
	require.NoError(t, err)
	require.Equal(t, "hi", out.String())
	// unknown, dropped and wrong-kind handles trap
	_, err = write(ctx, stdout+7, []byte("x"))
	require.ErrorIs(t, err, wasi.ErrHandle)
	require.NoError(t, drop(stdout))
	require.ErrorIs(t, drop(stdout), wasi.ErrHandle)
	_, err = write(ctx, stdout, []byte("x"))
	require.ErrorIs(t, err, wasi.ErrHandle)
	_, err = p2fn[func(context.Context, []wit.Handle) ([]uint32, error)](t, p, "wasi:io/poll#poll")(ctx, nil)
	require.ErrorIs(t, err, wasi.ErrHandle)

	// stdin reads, then reports closed
	stdin, err := p2fn[func() (wit.Handle, error)](t, p, "wasi:cli/stdin#get-stdin")()
	require.NoError(t, err)
	read := p2fn[func(context.Context, wit.Handle, uint64) (wit.Result[[]byte, wit.Variant], error)](t, p, "wasi:io/streams#[method]input-stream.blocking-read")
	r, err := read(ctx, stdin, 10)
	require.NoError(t, err)
	require.Equal(t, "in", string(r.OK))
	r, err = read(ctx, stdin, 10)
	require.NoError(t, err)
	require.Equal(t, "closed", r.Err.Case)

	// Reset forgets every handle
	require.NoError(t, p.Reset(wasi.Config{}))
	_, err = read(ctx, stdin, 10)
	require.ErrorIs(t, err, wasi.ErrHandle)
	_, ok := p.Func("wasi:sockets/tcp#[method]tcp-socket.bind")
	require.False(t, ok)
}

func TestPreview2Clocks(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1700000000, 5)}
	p := newP2(t, wasi.Config{Clock: clock})
	now := p2call(t, p, "wasi:clocks/wall-clock#now")[0]
	require.Equal(t, uint64(1700000000), now.Field(0).Uint())
	require.Equal(t, uint64(5), now.Field(1).Uint())
	sub := p2fn[func(uint64) (wit.Handle, error)](t, p, "wasi:clocks/monotonic-clock#subscribe-duration")
	soon, err := sub(1000)
	require.NoError(t, err)
	never, err := sub(1 << 62)
	require.NoError(t, err)
	ready, err := p2fn[func(context.Context, []wit.Handle) ([]uint32, error)](t, p, "wasi:io/poll#poll")(context.Background(), []wit.Handle{never, soon})
	require.NoError(t, err)
	require.Equal(t, []uint32{1}, ready)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = p2fn[func(context.Context, []wit.Handle) ([]uint32, error)](t, p, "wasi:io/poll#poll")(ctx, []wit.Handle{never})
	require.ErrorIs(t, err, context.Canceled)
}
