package serve

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestComponents: components upload and run like modules: a library of several core modules
// (WASI preview1 reactor + adapter) is called with WAVE values on fresh state, a trap is a
// typed outcome, bad arguments and handle parameters are 400; a wasi:cli/command component
// runs with arguments and stdin; a tenant without WASI may not upload WASI components; a
// component importing what serve cannot provide is refused at upload naming the import.
func TestComponents(t *testing.T) {
	tenants := append(slices.Clone(testTenants), Tenant{Name: "dave", Tokens: []string{"dave-token"}}) // no WASI
	ts := newTestServer(t, Config{Tenants: tenants})
	r := do(t, "POST", ts.url+"/v1/modules", "alice-token", fixture(t, "wasi/p2lib.component.wasm"))
	wantCode(t, r, http.StatusCreated)
	info := r.json(t)
	if info["component"] != true || info["wasi"] != true || info["command"] != false {
		t.Fatalf("info %s", r.body)
	}
	if !strings.Contains(string(r.body), `"name":"shout","params":["s: string"],"results":["string"]`) {
		t.Fatalf("exports not described in WIT: %s", r.body)
	}
	hash := info["hash"].(string)
	call := func(export, body string) resp {
		return do(t, "POST", ts.url+"/v1/modules/"+hash+"/call/"+url.PathEscape(export), "alice-token", []byte(body))
	}
	for _, c := range []struct{ export, body, want string }{
		{"add", `["2", "40"]`, `"results":["42"]`},
		{"shout", `["\"hi there\""]`, `"results":["\"HI THERE\""]`},
		{"bump", ``, `"results":["1"]`}, // fresh state every call
		{"bump", ``, `"results":["1"]`},
		{"store#roundtrip", `["7"]`, `"results":["7"]`},
		{"env", `["\"NOPE\""]`, `"results":["none"]`},
		{"boom", ``, `"outcome":"trap"`},
	} {
		r := call(c.export, c.body)
		if r.code != http.StatusOK || !strings.Contains(string(r.body), c.want) {
			t.Errorf("%s(%s): %d %s, want %s", c.export, c.body, r.code, r.body, c.want)
		}
	}
	for _, c := range []struct {
		export, body string
		code         int
	}{
		{"add", `["2"]`, http.StatusBadRequest},
		{"add", `[2, 3]`, http.StatusBadRequest}, // WAVE values are strings
		{"add", `["x", "3"]`, http.StatusBadRequest},
		{"store#[method]counter.add", `["1", "2"]`, http.StatusBadRequest}, // a handle
		{"nothing", ``, http.StatusNotFound},
	} {
		if r := call(c.export, c.body); r.code != c.code {
			t.Errorf("%s(%s): %d %s, want %d", c.export, c.body, r.code, r.body, c.code)
		}
	}

	r = do(t, "POST", ts.url+"/v1/modules", "alice-token", fixture(t, "wasi/p2prog.component.wasm"))
	wantCode(t, r, http.StatusCreated)
	if info := r.json(t); info["command"] != true || info["component"] != true {
		t.Fatalf("command info %s", r.body)
	}
	cmd := r.json(t)["hash"].(string)
	r = do(t, "POST", ts.url+"/v1/modules/"+cmd+"/run?arg=exit&arg=3", "alice-token", nil)
	if r.code != http.StatusOK || !strings.Contains(string(r.body), `"exit_code":1`) || !strings.Contains(string(r.body), "exiting with 3") {
		t.Fatalf("run exit 3: %d %s", r.code, r.body)
	}
	if r := do(t, "POST", ts.url+"/v1/modules/"+cmd+"/call/run", "alice-token", nil); r.code != http.StatusNotFound {
		t.Fatalf("call on a command: %d %s", r.code, r.body)
	}
	if r := do(t, "POST", ts.url+"/v1/modules", "dave-token", fixture(t, "wasi/p2lib.component.wasm")); r.code != http.StatusForbidden {
		t.Fatalf("WASI component for a tenant without WASI: %d %s", r.code, r.body)
	}
	r = do(t, "POST", ts.url+"/v1/modules", "alice-token", fixture(t, "wit/xres.component.wasm"))
	if r.code != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "added") {
		t.Fatalf("a component importing a host function serve lacks: %d %s", r.code, r.body)
	}
}

// TestComponentsPersist: a stored component is called again after a restart (components keep
// no snapshot file: they load from the stored .wasm).
func TestComponentsPersist(t *testing.T) {
	dir := t.TempDir()
	ts := newTestServer(t, Config{DataDir: dir})
	hash := upload(t, ts, "alice-token", "wasi/p2lib.component.wasm")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	ts2 := newTestServer(t, Config{DataDir: dir})
	r := do(t, "POST", ts2.url+"/v1/modules/"+hash+"/call/add", "alice-token", []byte(`["1", "2"]`))
	if r.code != http.StatusOK || !strings.Contains(string(r.body), `"results":["3"]`) {
		t.Fatalf("after a restart: %d %s", r.code, r.body)
	}
}
