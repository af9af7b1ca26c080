package wit_test

import (
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hlwasm/hlwasm/wit"
)

const waveWIT = `package t:wave;
world w {
  record opts { name: string, size: option<u32>, %type: option<string> }
  variant v { %none, %some(u8), plain }
  enum e { %true, other }
  flags f { %ok, b }
  export f-opts: func(x: opts);
  export f-v: func(x: v);
  export f-e: func(x: e);
  export f-f: func(x: f);
  export f-f32: func(x: f32);
  export f-f64: func(x: f64);
  export f-s8: func(x: s8);
  export f-u64: func(x: u64);
  export f-char: func(x: char);
  export f-str: func(x: string);
  export f-list: func(x: list<list<bool>>);
  export f-tuple: func(x: tuple<u8, tuple<string>>);
  export f-res: func(x: result<_, string>);
}
`

var (
	waveOnce  sync.Once
	waveWorld *wit.World
)

func waveType(t *testing.T, fn string) *wit.Type {
	waveOnce.Do(func() {
		var err error
		waveWorld, err = wit.Load(strings.NewReader(waveWIT), "")
		require.NoError(t, err)
	})
	require.NotNil(t, waveWorld)
	f, err := waveWorld.Func("f-"+fn, true)
	require.NoError(t, err)
	return f.Params[0].Type
}

func TestWAVE(t *testing.T) {
	for _, c := range []struct{ fn, in, out string }{
		{"opts", `{name: "n"}`, `{name: "n", size: none, type: none}`},
		{"opts", ` { %type : some("t") , name:"n", } `, `{name: "n", size: none, type: some("t")}`},
		{"v", `%none`, `%none`},
		{"v", `%some(7)`, `%some(7)`},
		{"v", `plain`, `plain`},
		{"e", `%true`, `%true`},
		{"f", `{b, %ok}`, `{%ok, b}`},
		{"f", `{}`, `{}`},
		{"f32", `-1.25`, `-1.25`},
		{"f32", `1e10`, `10000000000`},
		{"f32", `1e-20`, `1e-20`},
		{"f64", `nan`, `nan`},
		{"f64", `-0.0`, `-0`},
		{"s8", `-0`, `0`},
		{"u64", `18446744073709551615`, `18446744073709551615`},
		{"char", `'\u{1F600}'`, `'😀'`},
		{"char", `'\n'`, `'\n'`},
		{"char", `'"'`, `'"'`},
		{"str", `"a\u{0}b\"'"`, `"a\u{0}b\"'"`},
		{"list", `[[true], [], [false, true,],]`, `[[true], [], [false, true]]`},
		{"tuple", `(1, ("x"))`, `(1, ("x"))`},
		{"res", `ok`, `ok`},
		{"res", `err("e")`, `err("e")`},
	} {
		ty := waveType(t, c.fn)
		v, err := wit.ParseWAVE(ty, c.in)
		require.NoError(t, err, "%s %s", c.fn, c.in)
		s, err := wit.FormatWAVE(ty, v)
		require.NoError(t, err)
		require.Equal(t, c.out, s, "%s %s", c.fn, c.in)
	}
	v, err := wit.ParseWAVE(waveType(t, "f32"), "inf")
	require.NoError(t, err)
	require.True(t, math.IsInf(float64(v.(float32)), 1))
}

func TestWAVEErrors(t *testing.T) {
	for _, c := range []struct{ fn, in, msg string }{
		{"opts", `{size: some(1)}`, "missing field"},
		{"opts", `{name: "a", name: "b"}`, "twice"},
		{"opts", `{nom: "a"}`, "no field"},
		{"v", `nope(1)`, "no case"},
		{"v", `%some`, "needs a payload"},
		{"v", `plain(1)`, "no payload"},
		{"e", `maybe`, "no case"},
		{"f", `{c}`, "no flag"},
		{"f32", `0x10`, "bad number"},
		{"s8", `128`, "out of range"},
		{"s8", `-129`, "out of range"},
		{"u64", `-1`, "out of range"},
		{"u64", `18446744073709551616`, "bad integer"},
		{"char", `'ab'`, "one character"},
		{"char", `'\u{D800}'`, "bad \\u escape"},
		{"str", `"abc`, "unterminated"},
		{"str", `"\q"`, "unknown escape"},
		{"str", `abc`, "expected"},
		{"list", `[true false]`, "expected"},
		{"tuple", `(1)`, "1 values"},
		{"tuple", `(1, ("x"), 3)`, "too many"},
		{"str", `"a" "b"`, "after the value"},
		{"str", ``, "expected"},
	} {
		_, err := wit.ParseWAVE(waveType(t, c.fn), c.in)
		require.ErrorIs(t, err, wit.ErrWAVE, "%s %s", c.fn, c.in)
		require.ErrorContains(t, err, c.msg, "%s %s", c.fn, c.in)
	}
}

func TestParseArgs(t *testing.T) {
	w := loadRT(t)
	f, err := w.Func("guest#spill", true)
	require.NoError(t, err)
	args, err := wit.ParseArgs(f, strings.Split(`"a" "b" "c" "d" "e" "f" "g" "h" "i"`, " "))
	require.NoError(t, err)
	require.Len(t, args, 9)
	_, err = wit.ParseArgs(f, []string{`"a"`})
	require.ErrorIs(t, err, wit.ErrWAVE)
}
