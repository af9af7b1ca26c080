package wit_test

import (
	"bufio"
	"context"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/wit"
)

const testdata = "../tests/testdata/wit/"

var (
	rtOnce  sync.Once
	rtWorld *wit.World
	rtErr   error
)

// loadRT loads the round-trip world once (wasm-tools runs under wazero: the first load
// compiles it, which takes seconds).
func loadRT(t testing.TB) *wit.World {
	t.Helper()
	rtOnce.Do(func() { rtWorld, rtErr = wit.LoadFile(testdata+"rt.wit", "rt") })
	require.NoError(t, rtErr)
	w := *rtWorld // a copy, so tests can change Options
	return &w
}

type roundCase struct{ fn, wave string }

func roundCases(t testing.TB) []roundCase {
	f, err := os.Open(testdata + "roundtrip.txt")
	require.NoError(t, err)
	defer f.Close()
	var cs []roundCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		fn, v, _ := strings.Cut(line, " ")
		cs = append(cs, roundCase{"echo-" + fn, v})
	}
	return cs
}

// dynamicHost binds every import of rt with DynamicFuncs: echo-* return their argument.
func dynamicHost(t testing.TB, w *wit.World, logs *[]string) map[string]any {
	impls := map[string]any{}
	for _, f := range w.Imports {
		switch {
		case strings.HasPrefix(f.Name, "echo-"):
			impls[f.Key()] = wit.DynamicFunc(func(_ context.Context, args []wit.Value) (wit.Value, error) {
				return args[0], nil
			})
		case f.Name == "spill":
			impls[f.Key()] = wit.DynamicFunc(func(_ context.Context, args []wit.Value) (wit.Value, error) {
				return wit.List(args), nil
			})
		default: // log, root-log
			name := f.Name
			impls[f.Key()] = func(msg string) { *logs = append(*logs, name+": "+msg) }
		}
	}
	return impls
}

func TestRoundTripDynamic(t *testing.T) {
	w := loadRT(t)
	var logs []string
	funcs, err := w.Bind(dynamicHost(t, w, &logs))
	require.NoError(t, err)
	wasm, err := os.ReadFile(testdata + "rt.wasm")
	require.NoError(t, err)
	inst := instantiate(t, wasm, funcs)
	ctx := context.Background()
	cases := roundCases(t)
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.fn] = true
		t.Run(c.fn+"/"+c.wave, func(t *testing.T) {
			f, err := w.Func("guest#"+c.fn, true)
			require.NoError(t, err)
			arg, err := wit.ParseWAVE(f.Params[0].Type, c.wave)
			require.NoError(t, err)
			got, err := w.CallFunc(ctx, inst, f, arg)
			require.NoError(t, err)
			s, err := wit.FormatWAVE(f.Result, got)
			require.NoError(t, err)
			require.Equal(t, c.wave, s)
		})
	}
	// every echo function of the world has a case
	for _, f := range w.Exports {
		if strings.HasPrefix(f.Name, "echo-") {
			require.True(t, seen[f.Name], "no round-trip case for %s", f.Name)
		}
	}
}

// Go types for the rt world's types, for typed bindings.
type point struct {
	X int32 `wit:"x"`
	Y int32 `wit:"y"`
}

type mixed struct {
	A uint8
	B uint64
	C string
	D float32
	E bool
}

type color uint8

const (
	red color = iota
	green
	blue
)

type perms uint8

type tup struct {
	A uint8
	B string
	C float64
}

func echo[T any](x T) T { return x }

// typedHost binds rt's imports with typed Go functions.
func typedHost(logs *[]string) map[string]any {
	return map[string]any{
		"host#echo-bool":       echo[bool],
		"host#echo-s8":         echo[int8],
		"host#echo-u8":         echo[uint8],
		"host#echo-s16":        echo[int16],
		"host#echo-u16":        echo[uint16],
		"host#echo-s32":        echo[int32],
		"host#echo-u32":        echo[uint32],
		"host#echo-s64":        echo[int64],
		"host#echo-u64":        echo[uint64],
		"host#echo-f32":        echo[float32],
		"host#echo-f64":        echo[float64],
		"host#echo-char":       echo[rune],
		"host#echo-string":     echo[string],
		"host#echo-bytes":      echo[[]byte],
		"host#echo-strings":    echo[[]string],
		"host#echo-points":     echo[[]point],
		"host#echo-nested":     echo[[][]uint16],
		"host#echo-point":      func(ctx context.Context, p point) (point, error) { return p, nil },
		"host#echo-mixed":      echo[mixed],
		"host#echo-tuple":      echo[tup],
		"host#echo-shape":      echo[wit.Variant],
		"host#echo-color":      echo[color],
		"host#echo-perms":      echo[perms],
		"host#echo-many":       echo[[]string],
		"host#echo-opt":        echo[wit.Option[uint32]],
		"host#echo-opt-str":    echo[*string],
		"host#echo-opt-opt":    echo[wit.Option[wit.Option[uint8]]],
		"host#echo-res":        echo[wit.Result[uint32, string]],
		"host#echo-res-empty":  echo[wit.Result[struct{}, struct{}]],
		"host#echo-res-float":  echo[wit.Result[float32, float64]],
		"host#echo-res-err":    echo[wit.Result[struct{}, color]],
		"host#echo-shapes":     echo[[]wit.Value],
		"host#echo-colors":     echo[[]string],
		"host#echo-perms-list": echo[[]uint32],
		"host#echo-opt-shape":  echo[wit.Option[wit.Variant]],
		"test:rt/host#spill": func(a, b, c, d, e, f, g, h, i string) []string {
			return []string{a, b, c, d, e, f, g, h, i}
		},
		"test:rt/host@0.1.0#log": func(msg string) { *logs = append(*logs, "log: "+msg) },
		"root-log":               func(msg string) { *logs = append(*logs, "root-log: "+msg) },
	}
}

func TestRoundTripTyped(t *testing.T) {
	w := loadRT(t)
	var logs []string
	funcs, err := w.Bind(typedHost(&logs))
	require.NoError(t, err)
	wasm, err := os.ReadFile(testdata + "rt.wasm")
	require.NoError(t, err)
	inst := instantiate(t, wasm, funcs)
	ctx := context.Background()
	for _, c := range roundCases(t) {
		t.Run(c.fn+"/"+c.wave, func(t *testing.T) {
			f, err := w.Func("guest#"+c.fn, true)
			require.NoError(t, err)
			arg, err := wit.ParseWAVE(f.Params[0].Type, c.wave)
			require.NoError(t, err)
			got, err := w.CallFunc(ctx, inst, f, arg)
			require.NoError(t, err)
			s, err := wit.FormatWAVE(f.Result, got)
			require.NoError(t, err)
			require.Equal(t, c.wave, s)
		})
	}

	// typed calls of exports
	p, err := wit.Invoke[point](ctx, w, inst, "guest#echo-point", point{3, -4})
	require.NoError(t, err)
	require.Equal(t, point{3, -4}, p)
	col, err := wit.Invoke[color](ctx, w, inst, "test:rt/guest@0.1.0#echo-color", blue)
	require.NoError(t, err)
	require.Equal(t, blue, col)
	o, err := wit.Invoke[*string](ctx, w, inst, "guest#echo-opt-str", wit.Some("x"))
	require.NoError(t, err)
	require.Equal(t, "x", *o)
	r, err := wit.Invoke[wit.Result[uint32, string]](ctx, w, inst, "guest#echo-res", wit.Err[uint32]("no"))
	require.NoError(t, err)
	require.Equal(t, wit.Err[uint32]("no"), r)
	pr, err := wit.Invoke[perms](ctx, w, inst, "guest#echo-perms", perms(5))
	require.NoError(t, err)
	require.Equal(t, perms(5), pr)

	// spill: 18 flat parameters go through memory both ways
	args := []any{"a", "bb", "", "dddd", "é", "f", "g", "h", "i"}
	sp, err := wit.Invoke[[]string](ctx, w, inst, "guest#spill", args...)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "bb", "", "dddd", "é", "f", "g", "h", "i"}, sp)

	// world-level export and import, post-return
	inst.calls = nil
	hello, err := wit.Invoke[string](ctx, w, inst, "run", "wit")
	require.NoError(t, err)
	require.Equal(t, "hello, wit", hello)
	require.Equal(t, []string{"root-log: wit", "log: from host#log"}, logs)
	require.Contains(t, inst.calls, "cabi_post_run")
}

// Values the guest builds with C's own layouts.
func TestGuestLayouts(t *testing.T) {
	w := loadRT(t)
	var logs []string
	funcs, err := w.Bind(dynamicHost(t, w, &logs))
	require.NoError(t, err)
	wasm, err := os.ReadFile(testdata + "rt.wasm")
	require.NoError(t, err)
	inst := instantiate(t, wasm, funcs)
	ctx := context.Background()
	wave := func(key string, args ...any) string {
		t.Helper()
		f, err := w.Func(key, true)
		require.NoError(t, err)
		v, err := w.CallFunc(ctx, inst, f, args...)
		require.NoError(t, err)
		s, err := wit.FormatWAVE(f.Result, v)
		require.NoError(t, err)
		return s
	}
	require.Equal(t, "{a: 3, b: 3000000000000, c: \"mixed\", d: 3.5, e: true}", wave("guest#make-mixed", uint32(3)))
	require.Equal(t, "circle(1.5)", wave("guest#make-shape", uint32(0)))
	require.Equal(t, "rect({x: -3, y: 4})", wave("guest#make-shape", uint32(1)))
	require.Equal(t, "empty", wave("guest#make-shape", uint32(2)))
	require.Equal(t, "big(18446744073709551615)", wave("guest#make-shape", uint32(3)))
	require.Equal(t, "label(\"lbl\")", wave("guest#make-shape", uint32(4)))
	require.Equal(t, "[[1, 2, 3], [], [65535]]", wave("guest#make-nested"))
	require.Equal(t, "5", wave("guest#count-flags", wit.Flags{"b0", "b3", "b30", "b31", "b17"}))
	require.Equal(t, "-1998", wave("guest#sum-points", []point{{1, 2}, {-3, 0}}))
}
