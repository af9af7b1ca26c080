package main

import (
	"context"
	"testing"
)

func TestRun(t *testing.T) {
	if err := run(context.Background(), "test"); err != nil {
		t.Fatal(err)
	}
}
