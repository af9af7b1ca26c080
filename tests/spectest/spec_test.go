package spectest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// optionsFromEnv reads HLWASM_SPEC_CMD_TIMEOUT (a time.Duration, e.g. "5s").
func optionsFromEnv() (Options, error) {
	var opt Options
	if s := os.Getenv("HLWASM_SPEC_CMD_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return opt, fmt.Errorf("HLWASM_SPEC_CMD_TIMEOUT: %w", err)
		}
		opt.CommandTimeout = d
	}
	return opt, nil
}

// TestSpec runs each suite file (Suites: the core versions, then the proposals) as a subtest;
// -v shows the per-file counts and one summary line per suite:
//
//	go test ./tests/spectest -run TestSpec/v2/i32 -v
//	go test ./tests/spectest -run TestSpec/tail-call -v
//	HLWASM_SPEC_BACKEND=wazero go test ./tests/spectest -run TestSpec/v1 -v
//
// A suite the engine does not implement (Suite.Implemented false) runs too, but its failures
// are logged, not errors: its summary line says "not implemented". With the micro-VM backend
// by default both tiers run each suite: first compiled code, then the interpreter
// (microvm-interp, its subtests named suite-interp).
func TestSpec(t *testing.T) {
	for _, s := range Suites {
		bs, err := BackendsFor(s.Name)
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range bs {
			name := s.Name
			if i > 0 {
				name += "-" + strings.TrimPrefix(b.Name(), "microvm-")
			}
			runSuite(t, name, s, b)
		}
	}
}

func runSuite(t *testing.T, name string, s Suite, b Backend) {
	suite := s.Name
	t.Run(name, func(t *testing.T) {
		dir, err := SuiteDir(suite)
		if err != nil {
			t.Fatal(err)
		}
		files, err := SuiteFiles(dir)
		if err != nil {
			t.Fatal(err)
		}
		opt, err := optionsFromEnv()
		if err != nil {
			t.Fatal(err)
		}
		total := &Result{}
		for _, name := range files {
			t.Run(name, func(t *testing.T) {
				res, err := RunFile(context.Background(), b, dir, name, opt)
				if err != nil {
					total.Failed++
					t.Fatal(err)
				}
				total.Add(res)
				fmt.Println(res)
				for _, s := range res.Skips {
					fmt.Println("  skipped:", s)
				}
				for _, f := range res.Failures {
					if s.Implemented {
						t.Error(f)
					} else {
						t.Log(f)
					}
				}
			})
		}
		line := fmt.Sprintf("spectest: %d passed, %d failed, %d skipped", total.Passed, total.Failed, total.Skipped)
		if total.NA > 0 {
			line += fmt.Sprintf(", %d n/a (text-format modules)", total.NA)
		}
		if !s.Implemented {
			line += " (not implemented: failures expected)"
		}
		fmt.Printf("%s [%s %s]\n", line, b.Name(), suite)
	})
}
