package abi

import (
	"os"
	"testing"
)

// The committed C header must be exactly what the generator makes from abi.go.
func TestHeaderUpToDate(t *testing.T) {
	got, err := os.ReadFile("../../wasmguest/include/abi.h")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(Header()) {
		t.Fatal("wasmguest/include/abi.h is stale: run `go generate ./internal/abi`")
	}
}

// TestChecks evaluates in Go the invariants abi.h asserts in C (checks.go).
func TestChecks(t *testing.T) {
	cs := Checks()
	if len(cs) < 100 {
		t.Fatalf("only %d checks", len(cs))
	}
	for _, c := range cs {
		ok, err := c.Eval()
		if err != nil || !ok {
			t.Errorf("%s (%s): %v %v", c.Expr, c.Why, ok, err)
		}
		_ = cExpr(c.Expr) // renders
	}
	for _, bad := range []string{"MailboxSize == 0x2000", "MbReqParams+8*MaxValues <= MbReqParams", "MbMsg%8 == 1"} {
		if ok, err := (Check{Expr: bad}).Eval(); ok || err != nil {
			t.Errorf("%s: %v %v, want false", bad, ok, err)
		}
	}
	if _, err := (Check{Expr: "NoSuchConst == 0"}).Eval(); err == nil {
		t.Error("unknown constant accepted")
	}
}
