package wit_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/wit"
)

func rtInstance(t *testing.T, opts wit.Options) (*wit.World, *wzInst) {
	w := loadRT(t)
	w.Options = opts
	var logs []string
	funcs, err := w.Bind(dynamicHost(t, w, &logs))
	require.NoError(t, err)
	wasm, err := os.ReadFile(testdata + "rt.wasm")
	require.NoError(t, err)
	return w, instantiate(t, wasm, funcs)
}

// Malformed values from the guest: results of exports, and arguments and return areas of
// imports. Each must fail with ErrTrap and the specific sentinel, never crash the host.
func TestMalformed(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		opts  wit.Options
		key   string
		arg   []any
		cause error
	}{
		{"string past memory", wit.Options{}, "guest#bad-string", []any{uint32(0)}, wit.ErrBadPointer},
		{"string invalid utf8", wit.Options{}, "guest#bad-string", []any{uint32(1)}, wit.ErrInvalidUTF8},
		{"string over limit", wit.Options{}, "guest#bad-string", []any{uint32(2)}, wit.ErrLimit},
		{"string ptr+len wraps", wit.Options{}, "guest#bad-string", []any{uint32(3)}, wit.ErrBadPointer},
		{"return area past memory", wit.Options{}, "guest#bad-string", []any{uint32(4)}, wit.ErrBadPointer},
		{"list misaligned", wit.Options{}, "guest#bad-list", []any{uint32(0)}, wit.ErrMisaligned},
		{"list 4GiB", wit.Options{}, "guest#bad-list", []any{uint32(1)}, wit.ErrLimit},
		{"list past memory", wit.Options{}, "guest#bad-list", []any{uint32(2)}, wit.ErrBadPointer},
		{"list over configured limit", wit.Options{MaxBytes: 1 << 20}, "guest#bad-list", []any{uint32(3)}, wit.ErrLimit},
		{"return area misaligned", wit.Options{}, "guest#bad-list", []any{uint32(4)}, wit.ErrMisaligned},
		{"enum discriminant", wit.Options{}, "guest#bad-enum", nil, wit.ErrInvalidValue},
		{"char surrogate", wit.Options{}, "guest#bad-char", nil, wit.ErrInvalidValue},
		{"option discriminant", wit.Options{}, "guest#bad-option", nil, wit.ErrInvalidValue},
		{"import arg bad pointer", wit.Options{}, "guest#call-bad", []any{uint32(0)}, wit.ErrBadPointer},
		{"import arg invalid utf8", wit.Options{}, "guest#call-bad", []any{uint32(1)}, wit.ErrInvalidUTF8},
		{"import return area past memory", wit.Options{}, "guest#call-bad", []any{uint32(2)}, wit.ErrBadPointer},
		{"import arg misaligned list", wit.Options{}, "guest#call-bad", []any{uint32(3)}, wit.ErrMisaligned},
		{"import return area misaligned", wit.Options{}, "guest#call-bad", []any{uint32(4)}, wit.ErrMisaligned},
		{"import arg over limit", wit.Options{}, "guest#call-bad", []any{uint32(5)}, wit.ErrLimit},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, inst := rtInstance(t, c.opts)
			_, err := w.Call(ctx, inst, c.key, c.arg...)
			require.Error(t, err)
			require.ErrorIs(t, err, wit.ErrTrap)
			require.ErrorIs(t, err, c.cause)
			t.Log(err)
		})
	}
	// the control case works
	w, inst := rtInstance(t, wit.Options{})
	s, err := wit.Invoke[string](ctx, w, inst, "guest#call-bad", uint32(99))
	require.NoError(t, err)
	require.Equal(t, "fine", s)
}

// cabi_realloc misbehaving while the host passes a string or list into the guest.
func TestBadRealloc(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		mode  uint32
		key   string
		arg   any
		cause error
	}{
		{1, "guest#echo-string", "x", wit.ErrBadPointer},
		{2, "guest#echo-points", []point{{1, 2}}, wit.ErrMisaligned},
		{3, "guest#echo-string", "x", wit.ErrRealloc},
	} {
		w, inst := rtInstance(t, wit.Options{})
		_, err := w.Call(ctx, inst, "guest#set-realloc-mode", c.mode)
		require.NoError(t, err)
		_, err = w.Call(ctx, inst, c.key, c.arg)
		require.ErrorIs(t, err, wit.ErrTrap, "mode %d", c.mode)
		require.ErrorIs(t, err, c.cause, "mode %d: %v", c.mode, err)
	}
}

// Values the host cannot pass: over the limit, or of the wrong type.
func TestHostSideErrors(t *testing.T) {
	ctx := context.Background()
	w, inst := rtInstance(t, wit.Options{MaxBytes: 1000})
	_, err := w.Call(ctx, inst, "guest#echo-bytes", make([]byte, 2000))
	require.ErrorIs(t, err, wit.ErrLimit)
	_, err = w.Call(ctx, inst, "guest#echo-u8", 300)
	require.ErrorIs(t, err, wit.ErrType)
	_, err = w.Call(ctx, inst, "guest#echo-u8", "x")
	require.ErrorIs(t, err, wit.ErrType)
	_, err = w.Call(ctx, inst, "guest#echo-u8")
	require.ErrorIs(t, err, wit.ErrType)
	_, err = w.Call(ctx, inst, "guest#no-such")
	require.ErrorIs(t, err, wit.ErrNotFound)
	_, err = w.Call(ctx, inst, "guest#echo-color", wit.Enum("purple"))
	require.ErrorIs(t, err, wit.ErrType)
	_, err = w.Call(ctx, inst, "guest#echo-char", rune(0xD800))
	require.ErrorIs(t, err, wit.ErrType)
	// the total lifted per call is bounded too: 600 + 600 bytes > 1000
	_, err = w.Call(ctx, inst, "guest#echo-strings", []string{string(make([]byte, 600)), string(make([]byte, 600))})
	require.Error(t, err)
	require.True(t, errors.Is(err, wit.ErrLimit), "%v", err)
}

func TestBindErrors(t *testing.T) {
	w := loadRT(t)
	var logs []string
	impls := typedHost(&logs)
	delete(impls, "root-log")
	_, err := w.Bind(impls)
	require.ErrorIs(t, err, wit.ErrUnbound)
	require.ErrorContains(t, err, "root-log")

	impls = typedHost(&logs)
	impls["not-in-world"] = func() {}
	_, err = w.Bind(impls)
	require.ErrorIs(t, err, wit.ErrNotFound)

	impls = typedHost(&logs)
	impls["host#echo-u8"] = func(x string) string { return x }
	_, err = w.Bind(impls)
	require.ErrorIs(t, err, wit.ErrType)

	impls = typedHost(&logs)
	impls["host#echo-point"] = func(p struct{ X, Z int32 }) struct{ X, Z int32 } { return p }
	_, err = w.Bind(impls)
	require.ErrorIs(t, err, wit.ErrType)
	require.ErrorContains(t, err, "record field y")

	impls = typedHost(&logs)
	impls["host#echo-u8"] = func(x uint8) (uint8, uint8) { return x, x }
	_, err = w.Bind(impls)
	require.ErrorIs(t, err, wit.ErrType)
}

func TestHostFunctionError(t *testing.T) {
	w := loadRT(t)
	var logs []string
	impls := dynamicHost(t, w, &logs)
	boom := errors.New("boom")
	impls["root-log"] = func(string) error { return boom }
	funcs, err := w.Bind(impls)
	require.NoError(t, err)
	wasm, err := os.ReadFile(testdata + "rt.wasm")
	require.NoError(t, err)
	inst := instantiate(t, wasm, funcs)
	_, err = w.Call(context.Background(), inst, "run", "x")
	require.ErrorIs(t, err, boom)
}
