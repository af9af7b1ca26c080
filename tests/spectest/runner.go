package spectest

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// Result counts the commands of one file. Skipped commands are those the backend cannot
// run; n/a are those no binary backend can (text-format modules).
type Result struct {
	File                        string
	Passed, Failed, Skipped, NA int
	Failures, Skips, NotApplied []string // "file.json:line: type: detail"
}

func (r *Result) String() string {
	s := fmt.Sprintf("%s: %d passed, %d failed, %d skipped", r.File, r.Passed, r.Failed, r.Skipped)
	if r.NA > 0 {
		s += fmt.Sprintf(", %d n/a", r.NA)
	}
	return s
}

// Add accumulates o's counts into r (for suite totals).
func (r *Result) Add(o *Result) {
	r.Passed += o.Passed
	r.Failed += o.Failed
	r.Skipped += o.Skipped
	r.NA += o.NA
}

// outcome of one command.
type outcome int

const (
	pass outcome = iota
	fail
	skip
	notApplicable
)

// Options tune a run.
type Options struct {
	// CommandTimeout bounds each command (default 30s): a hung engine costs one command, not
	// the whole run (the micro-VM is unusable after a deadline, so the rest of its file fails
	// quickly).
	CommandTimeout time.Duration
}

const defaultCommandTimeout = 30 * time.Second

// RunFile runs one wast2json file of dir in a fresh Store of b.
func RunFile(ctx context.Context, b Backend, dir, name string, opt Options) (*Result, error) {
	if opt.CommandTimeout <= 0 {
		opt.CommandTimeout = defaultCommandTimeout
	}
	tf, err := loadTestFile(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	store, err := b.NewStore(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: new store: %w", name, err)
	}
	defer store.Close()
	sctx, cancel := context.WithTimeout(ctx, opt.CommandTimeout)
	stw := spectestWasm
	if sm, ok := b.(spectestModuler); ok {
		stw = sm.spectestModule()
	}
	st, err := instantiate(sctx, store, stw, "spectest")
	if err == nil {
		err = store.Register(sctx, st, "spectest")
	}
	cancel()
	if err != nil {
		return nil, fmt.Errorf("%s: spectest module: %w", name, err)
	}
	dev, _ := b.(Deviator)
	f := &fileRun{store: store, dir: dir, named: map[string]*modRef{}, res: &Result{File: name},
		defs: map[string]string{}, instantiated: map[string]bool{}}
	cmds := tf.Commands
	for i := range cmds {
		if cmds[i].Type == "module_instance" {
			f.instantiated[cmds[i].Module] = true
		}
	}
	for i := 0; i < len(cmds); i++ {
		c := &cmds[i]
		var next *command
		if i+1 < len(cmds) {
			next = &cmds[i+1]
		}
		var cancel context.CancelFunc
		f.ctx, cancel = context.WithTimeout(ctx, opt.CommandTimeout)
		f.lastErr = nil
		o, detail := f.runSafely(c, next)
		cancel()
		if o == fail && dev != nil {
			if reason := dev.Deviation(c.Type, c.Text, f.lastErr); reason != "" {
				o, detail = skip, reason+" ("+detail+")"
			}
		}
		if ld, ok := b.(LineDeviator); ok && o == fail {
			if reason := ld.LineDeviation(name, c.Line); reason != "" {
				o, detail = skip, reason+" ("+detail+")"
			}
		}
		f.record(c, o, detail)
	}
	return f.res, nil
}

func (f *fileRun) record(c *command, o outcome, detail string) {
	msg := fmt.Sprintf("%s:%d: %s: %s", f.res.File, c.Line, c.Type, detail)
	switch o {
	case pass:
		f.res.Passed++
	case fail:
		f.res.Failed++
		f.res.Failures = append(f.res.Failures, msg)
	case skip:
		f.res.Skipped++
		f.res.Skips = append(f.res.Skips, msg)
	case notApplicable:
		f.res.NA++
		f.res.NotApplied = append(f.res.NotApplied, msg)
	}
}

func (f *fileRun) runSafely(c, next *command) (o outcome, detail string) {
	defer func() {
		if p := recover(); p != nil {
			o, detail = fail, fmt.Sprintf("panic: %v", p)
		}
	}()
	return f.run(c, next)
}
