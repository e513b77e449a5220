// Package stall detects HTTP exchanges that stop moving: a server that
// accepts a request and then sends nothing, or stops reading an upload or
// sending a download halfway, is cut off after an interval without a byte in
// either direction instead of being waited on for ever.
package stall

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// DefaultInterval is how long an exchange may go without a byte.
const DefaultInterval = 60 * time.Second

// Error is an exchange cut off because nothing moved for Interval. It is
// temporary, so the retrying layers of go-containerregistry and the AWS SDK
// try again within their budgets.
type Error struct {
	Method   string
	URL      string // scheme, host and path; never the query (it may hold credentials)
	Interval time.Duration
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s: no data for %s; the server stalled", e.Method, e.URL, e.Interval)
}

// Temporary reports true: a stalled exchange is worth another try.
func (e *Error) Temporary() bool { return true }

// Timeout reports true: the exchange timed out.
func (e *Error) Timeout() bool { return true }

// Transport wraps base so that every exchange fails with *Error once
// interval passes without a byte read from the response or taken from the
// request body; interval <= 0 returns base unchanged.
func Transport(base http.RoundTripper, interval time.Duration) http.RoundTripper {
	if interval <= 0 {
		return base
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{base: base, interval: interval}
}

type transport struct {
	base     http.RoundTripper
	interval time.Duration
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	u := *req.URL
	u.RawQuery, u.User = "", nil
	w := &watch{cancel: cancel, err: &Error{Method: req.Method, URL: u.String(), Interval: t.interval}}
	w.timer = time.AfterFunc(t.interval, w.fire)
	req = req.Clone(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = &body{ReadCloser: req.Body, w: w}
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		w.stop()
		return nil, w.cause(err)
	}
	w.kick()
	resp.Body = &body{ReadCloser: resp.Body, w: w, closeStops: true}
	return resp, nil
}

// watch is one exchange's timer: every byte moved restarts it; when it
// fires, the exchange's context is cancelled with the stall as its cause.
type watch struct {
	cancel context.CancelCauseFunc
	err    *Error

	mu      sync.Mutex
	timer   *time.Timer
	fired   bool
	stopped bool
}

func (w *watch) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.fired = true
		w.cancel(w.err)
	}
}

func (w *watch) kick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped && !w.fired {
		w.timer.Reset(w.err.Interval)
	}
}

func (w *watch) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	w.timer.Stop()
}

// cause returns the stall error in place of err when the watch fired.
func (w *watch) cause(err error) error {
	w.mu.Lock()
	fired := w.fired
	w.mu.Unlock()
	if fired && err != nil && !errors.Is(err, io.EOF) {
		return w.err
	}
	return err
}

type body struct {
	io.ReadCloser
	w          *watch
	closeStops bool
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.w.kick()
	}
	return n, b.w.cause(err)
}

func (b *body) Close() error {
	if b.closeStops {
		b.w.stop()
		b.w.cancel(nil)
	}
	return b.ReadCloser.Close()
}
