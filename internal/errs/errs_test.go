package errs

import (
	"context"
	"errors"
	"testing"
	"time"
)

// lateContext is a context whose deadline has passed while its own timer has not fired yet, as
// when every P of Go's scheduler runs a guest.
type lateContext struct{ context.Context }

func (lateContext) Deadline() (time.Time, bool) { return time.Now().Add(-time.Millisecond), true }

func TestFromContextAndExpired(t *testing.T) {
	late := lateContext{context.Background()}
	if late.Err() != nil || !Expired(late) || !errors.Is(FromContext(late), ErrDeadline) {
		t.Fatalf("a passed deadline whose timer has not fired: Expired %v, FromContext %v", Expired(late), FromContext(late))
	}
	if Expired(context.Background()) {
		t.Fatal("a context without a deadline expired")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	if Expired(ctx) {
		t.Fatal("a deadline an hour away expired")
	}
	cancel()
	if !Expired(ctx) || !errors.Is(FromContext(ctx), ErrCanceled) {
		t.Fatalf("canceled: Expired %v, FromContext %v", Expired(ctx), FromContext(ctx))
	}
	ctx, cancel = context.WithTimeout(context.Background(), 0)
	defer cancel()
	<-ctx.Done()
	if !errors.Is(FromContext(ctx), ErrDeadline) {
		t.Fatalf("deadline: FromContext %v", FromContext(ctx))
	}
}
