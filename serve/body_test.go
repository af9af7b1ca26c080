package serve

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A client that sends part of its body and then nothing gets 408 after the server's body
// timeout and its connection back; the server keeps serving others meanwhile. (No time is
// asserted: a server without the timeout would leave the read below waiting until the test's
// own 30 s read deadline fails it.)
func TestStalledBodyTimesOut(t *testing.T) {
	ts := newTestServer(t, Config{BodyTimeout: 200 * time.Millisecond})
	hash := upload(t, ts, "alice-token", "arith.wasm")
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/modules/%s/call/i32_add HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice-token\r\n"+
		"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n[1,", hash)
	// Meanwhile another client is served.
	wantCode(t, call(t, ts, "alice-token", hash, "i32_add", "[1,2]"), http.StatusOK)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to a stalled body: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("stalled body: status %d, want 408", res.StatusCode)
	}
}
