package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/hlwasm/hlwasm/api"
)

// parseArgs decodes a JSON array of arguments by the parameter types: i32 and i64 as integers
// (signed or unsigned range), f32 and f64 as numbers or "nan", "inf", "-inf". An empty body is
// no arguments.
func parseArgs(body []byte, types []api.ValueType) ([]uint64, error) {
	// Elements stay raw (no decoder, no interface boxing): numbers are parsed exactly below.
	var raw []json.RawMessage
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &raw); err != nil {
			return nil, fmt.Errorf("arguments must be one JSON array: %v", err)
		}
	}
	if len(raw) != len(types) {
		return nil, fmt.Errorf("%d arguments given, the export takes %d %v", len(raw), len(types), types)
	}
	out := make([]uint64, 0, len(types))
	for i, t := range types {
		var x any = json.Number(raw[i])
		switch raw[i][0] {
		case '"':
			var str string
			json.Unmarshal(raw[i], &str)
			x = str
		case '[', '{', 't', 'f', 'n':
			x = string(raw[i])
		}
		v, err := parseArg(x, t)
		if err != nil {
			return nil, fmt.Errorf("argument %d (%v): %v", i, t, err)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseArg(v any, t api.ValueType) (uint64, error) {
	switch t {
	case api.ValueTypeI32, api.ValueTypeI64:
		n, ok := v.(json.Number)
		if !ok {
			return 0, fmt.Errorf("want an integer, got %v", v)
		}
		bits := 64
		if t == api.ValueTypeI32 {
			bits = 32
		}
		if i, err := strconv.ParseInt(n.String(), 10, bits); err == nil {
			if bits == 32 {
				return uint64(uint32(int32(i))), nil
			}
			return uint64(i), nil
		}
		u, err := strconv.ParseUint(n.String(), 10, bits)
		if err != nil {
			return 0, fmt.Errorf("want an integer that fits %v, got %s", t, n)
		}
		return u, nil
	case api.ValueTypeF32, api.ValueTypeF64:
		var f float64
		switch x := v.(type) {
		case json.Number:
			var err error
			if f, err = strconv.ParseFloat(x.String(), 64); err != nil {
				return 0, err
			}
		case string:
			switch strings.ToLower(x) {
			case "nan":
				f = math.NaN()
			case "inf", "+inf", "infinity":
				f = math.Inf(1)
			case "-inf", "-infinity":
				f = math.Inf(-1)
			default:
				return 0, fmt.Errorf("want a number, \"nan\", \"inf\" or \"-inf\", got %q", x)
			}
		default:
			return 0, fmt.Errorf("want a number, got %v", v)
		}
		if t == api.ValueTypeF32 {
			return uint64(math.Float32bits(float32(f))), nil
		}
		return math.Float64bits(f), nil
	}
	return 0, fmt.Errorf("type %v cannot be passed over HTTP", t)
}

// formatResults encodes results as JSON values: integers signed, floats as numbers (shortest
// form that round-trips in their own precision) or "nan", "inf", "-inf".
func formatResults(res []uint64, types []api.ValueType) []any {
	out := make([]any, 0, len(types))
	for i, t := range types {
		if i >= len(res) {
			break
		}
		v := res[i]
		switch t {
		case api.ValueTypeI32:
			out = append(out, int32(uint32(v)))
		case api.ValueTypeI64:
			out = append(out, int64(v))
		case api.ValueTypeF32:
			out = append(out, floatJSON(float64(math.Float32frombits(uint32(v))), 32))
		case api.ValueTypeF64:
			out = append(out, floatJSON(math.Float64frombits(v), 64))
		default:
			out = append(out, strconv.FormatUint(v, 10))
		}
	}
	return out
}

func floatJSON(f float64, bits int) any {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, bits))
}
