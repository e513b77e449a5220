package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// eventSchema is the version of the JSON event lines (docs/events.md),
// carried by every line as "schema". Raise it when a field changes meaning
// or goes away; adding fields does not change it.
const eventSchema = 1

// eventEncoder writes one JSON object per line, each beginning with
// "schema". It keeps the first error, so callers that cannot return one
// (event callbacks) learn of it from Err before their last line.
type eventEncoder struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

func newEventEncoder(w io.Writer) *eventEncoder { return &eventEncoder{w: w} }

// Err returns the first error of Encode, or nil.
func (e *eventEncoder) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// Encode writes v, which must encode as a JSON object, as one line. After
// a failure it writes nothing more and returns the first error.
func (e *eventEncoder) Encode(v any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		return e.err
	}
	if e.err = e.encode(v); e.err != nil {
		e.err = fmt.Errorf("writing the JSON output: %w", e.err)
	}
	return e.err
}

func (e *eventEncoder) encode(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var line bytes.Buffer
	fmt.Fprintf(&line, `{"schema":%d`, eventSchema)
	if body := bytes.TrimPrefix(b, []byte("{")); !bytes.HasPrefix(body, []byte("}")) {
		line.WriteByte(',')
		line.Write(body)
	} else {
		line.WriteByte('}')
	}
	line.WriteByte('\n')
	_, err = e.w.Write(line.Bytes())
	return err
}
