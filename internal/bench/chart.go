package bench

import (
	"fmt"
	"math"
	"sort"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// Series is one scenario on one engine, with its samples.
type Series struct {
	Scenario, Engine string
	Samples          []time.Duration
}

// Chart writes box plots of every series' latency distribution (log scale, microseconds) to
// path; the extension (.svg, .png, .pdf) picks the format.
func Chart(path string, series []Series) error {
	if len(series) == 0 {
		return fmt.Errorf("bench: nothing to chart")
	}
	sort.SliceStable(series, func(i, j int) bool { return series[i].Scenario < series[j].Scenario })
	p := plot.New()
	p.Title.Text = "hlwasm bench: latency per call (µs, log scale; box = p25–p75, whiskers = 1.5 IQR)"
	p.Y.Label.Text = "µs"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	names := make([]string, len(series))
	width := vg.Points(14)
	for i, s := range series {
		vals := make(plotter.Values, 0, len(s.Samples))
		for _, d := range s.Samples {
			vals = append(vals, math.Max(float64(d)/1e3, 0.01))
		}
		if len(vals) == 0 {
			vals = append(vals, 0.01)
		}
		b, err := plotter.NewBoxPlot(width, float64(i), vals)
		if err != nil {
			return err
		}
		p.Add(b)
		names[i] = s.Scenario + "\n" + s.Engine
	}
	p.NominalX(names...)
	w := vg.Length(math.Max(8, float64(len(series))*0.9)) * vg.Inch
	return p.Save(w, 6*vg.Inch, path)
}
