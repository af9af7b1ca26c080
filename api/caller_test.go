package api_test

import (
	"context"
	"testing"

	"github.com/hlwasm/hlwasm/api"
)

// A CallerContext is WithCaller's context: the caller for CallerFromContext, every other value
// and the deadline from its parent.
func TestCallerContext(t *testing.T) {
	type key struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, 7))
	var c api.Caller = fakeCaller{}
	cc := &api.CallerContext{Context: parent, Caller: c}
	got, ok := api.CallerFromContext(cc)
	if !ok || got != c {
		t.Fatalf("CallerFromContext = %v, %v", got, ok)
	}
	if v := cc.Value(key{}); v != 7 {
		t.Fatalf("parent value = %v", v)
	}
	if _, ok := api.CallerFromContext(parent); ok {
		t.Fatal("the parent has a caller")
	}
	cancel()
	<-cc.Done()
	if cc.Err() == nil {
		t.Fatal("not canceled with its parent")
	}
}

type fakeCaller struct{}

func (fakeCaller) Memory() api.Memory { return nil }
func (fakeCaller) Call(context.Context, string, ...uint64) ([]uint64, error) {
	return nil, nil
}
