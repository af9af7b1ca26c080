package wit

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// CallWAVE calls the export key with arguments written in WAVE (one per parameter) and
// returns the result in WAVE ("" for a function without a result): what
// `hlwasm call --wit` needs.
func (w *World) CallWAVE(ctx context.Context, inst Instance, key string, args []string) (string, error) {
	f, err := w.Func(key, true)
	if err != nil {
		return "", err
	}
	vals, err := ParseArgs(f, args)
	if err != nil {
		return "", err
	}
	anys := make([]any, len(vals))
	copy(anys, vals)
	res, err := w.CallFunc(ctx, inst, f, anys...)
	if err != nil || f.Result == nil {
		return "", err
	}
	return FormatWAVE(f.Result, res)
}

// FormatCall renders a call in WAVE: "name(arg, ...)".
func FormatCall(f *Func, args []Value) string {
	s := make([]string, len(args))
	for i, a := range args {
		if i < len(f.Params) {
			if x, err := FormatWAVE(f.Params[i].Type, a); err == nil {
				s[i] = x
				continue
			}
		}
		s[i] = fmt.Sprint(a)
	}
	return f.Key() + "(" + strings.Join(s, ", ") + ")"
}

// ZeroValue is the default value of a type: false, 0, "", [], none, the first case of a
// variant or enum, ok with a default payload for a result, no flags, a record of defaults.
func ZeroValue(t *Type) Value {
	switch t.k {
	case kBool:
		return false
	case kS8:
		return int8(0)
	case kS16:
		return int16(0)
	case kS32:
		return int32(0)
	case kS64:
		return int64(0)
	case kU8:
		return uint8(0)
	case kU16:
		return uint16(0)
	case kU32:
		return uint32(0)
	case kU64:
		return uint64(0)
	case kF32:
		return float32(0)
	case kF64:
		return float64(0)
	case kChar:
		return Char(0)
	case kString:
		return ""
	case kList:
		if t.elem.k == kU8 {
			return []byte{}
		}
		return List{}
	case kOwn, kBorrow:
		return Handle(0)
	case kFlags:
		return Flags{}
	case kTuple, kRecord:
		vals := make([]Value, len(t.subs))
		for i, e := range t.subs {
			vals[i] = ZeroValue(e)
		}
		return (&cx{}).makeRecord(t, vals)
	}
	// variant, enum, option, result: the first case
	var payload Value
	if t.subs[0] != nil {
		payload = ZeroValue(t.subs[0])
	}
	return t.makeCase(0, payload)
}

// TraceImports binds every import of w to a function that writes the call in WAVE to out
// and returns the result type's [ZeroValue]: for running a guest from the command line
// without Go implementations of its imports. Pass the map to [World.Bind], after replacing
// the entries you implement.
func (w *World) TraceImports(out io.Writer) map[string]any {
	m := map[string]any{}
	for _, f := range w.Imports {
		m[f.Key()] = DynamicFunc(func(_ context.Context, args []Value) (Value, error) {
			fmt.Fprintln(out, "import", FormatCall(f, args))
			if f.Result == nil {
				return nil, nil
			}
			return ZeroValue(f.Result), nil
		})
	}
	return m
}
