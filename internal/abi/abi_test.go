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

func TestMailboxLayoutFits(t *testing.T) {
	if MbReqParams+8*MaxValues > MbRepStatus || MbRepResults+8*MaxValues > MbHostFunc ||
		MbHostValues+8*MaxValues > MbMsg || MbMsg+MsgMax > MbStatCalls || MbStatParks+8 > MailboxSize {
		t.Fatal("mailbox regions overlap")
	}
}
