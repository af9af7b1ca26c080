package wasmbin

import (
	"fmt"
	"reflect"
	"testing"
)

// The module's go.sum does not cover testify's own dependencies, so the tests use these
// small stdlib helpers.

func eq(t testing.TB, want, got any, msg ...any) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Errorf("%s: got %#v, want %#v", fmt.Sprint(msg...), got, want)
	}
}

func must(t testing.TB, err error, msg ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", fmt.Sprint(msg...), err)
	}
}

func truth(t testing.TB, cond bool, msg ...any) {
	t.Helper()
	if !cond {
		t.Errorf("%s: condition is false", fmt.Sprint(msg...))
	}
}
