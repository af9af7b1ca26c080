package wit_test

import (
	"context"
	"sync"
	"testing"

	"github.com/hlwasm/hlwasm/api"
	"github.com/hlwasm/hlwasm/internal/wazeroengine"
)

// wzInst is a guest on hlwasm's wazero engine (which links []api.HostFunction and puts an
// api.Caller in each host call's context, for cabi_realloc), recording the exports called.
type wzInst struct {
	*wazeroengine.Instance
	mu    sync.Mutex
	calls []string
}

func (i *wzInst) Call(ctx context.Context, name string, params ...uint64) ([]uint64, error) {
	i.mu.Lock()
	i.calls = append(i.calls, name)
	i.mu.Unlock()
	return i.Instance.Call(ctx, name, params...)
}

func instantiate(t testing.TB, wasm []byte, funcs []api.HostFunction) *wzInst {
	t.Helper()
	ctx := context.Background()
	mod, err := wazeroengine.Load(ctx, wasm, funcs, wazeroengine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mod.Close() })
	in, err := mod.Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &wzInst{Instance: in}
}
