package stall

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const interval = 150 * time.Millisecond

func client() *http.Client {
	return &http.Client{Transport: Transport(http.DefaultTransport.(*http.Transport).Clone(), interval)}
}

// server serves h until the test ends; done is closed first, so handlers
// that wait on it return before the server closes.
func server(t *testing.T, h func(done chan struct{}) http.HandlerFunc) *httptest.Server {
	done := make(chan struct{})
	srv := httptest.NewServer(h(done))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) })
	return srv
}

func wantStall(t *testing.T, err error, path string) {
	t.Helper()
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *stall.Error", err)
	}
	if !strings.Contains(se.Error(), path) || strings.Contains(se.Error(), "secret") {
		t.Fatalf("error %q should name %s and never the query", se, path)
	}
	if !se.Temporary() || !se.Timeout() {
		t.Fatal("a stall must be temporary so retrying layers try again")
	}
}

func TestNoHeaders(t *testing.T) {
	srv := server(t, func(done chan struct{}) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { <-done }
	})
	start := time.Now()
	_, err := client().Get(srv.URL + "/v2/blobs/x?token=secret")
	wantStall(t, err, "/v2/blobs/x")
	if time.Since(start) > 20*interval {
		t.Fatalf("stall noticed after %s", time.Since(start))
	}
}

func TestBodyStopsHalfway(t *testing.T) {
	srv := server(t, func(done chan struct{}) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			w.Write(make([]byte, 100))
			w.(http.Flusher).Flush()
			<-done
		}
	})
	resp, err := client().Get(srv.URL + "/blob")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if n != 100 {
		t.Errorf("read %d bytes before the stall, want 100", n)
	}
	wantStall(t, err, "/blob")
}

func TestUploadNotRead(t *testing.T) {
	srv := server(t, func(done chan struct{}) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { <-done }
	})
	body := io.MultiReader(bytes.NewReader(make([]byte, 64<<20)))
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/object", body)
	_, err := client().Do(req)
	wantStall(t, err, "/object")
}

// A slow but moving exchange is never cut off.
func TestSlowButMoving(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range 8 {
			w.Write([]byte("chunk"))
			w.(http.Flusher).Flush()
			time.Sleep(interval / 3)
		}
	}))
	defer srv.Close()
	resp, err := client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || len(b) != 40 {
		t.Fatalf("read %d bytes, err %v; want all 40", len(b), err)
	}
}

func TestZeroIntervalIsBase(t *testing.T) {
	base := http.DefaultTransport
	if Transport(base, 0) != base {
		t.Fatal("interval 0 must leave the transport alone")
	}
}
