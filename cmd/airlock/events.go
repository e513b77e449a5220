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
// "schema".
type eventEncoder struct {
	mu sync.Mutex
	w  io.Writer
}

func newEventEncoder(w io.Writer) *eventEncoder { return &eventEncoder{w: w} }

// Encode writes v, which must encode as a JSON object, as one line.
func (e *eventEncoder) Encode(v any) error {
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
	e.mu.Lock()
	defer e.mu.Unlock()
	_, err = e.w.Write(line.Bytes())
	return err
}

// errorEvent is the last line of a failed command run with --json.
type errorEvent struct {
	Event    string `json:"event"` // "error"
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error"`
	Hint     string `json:"hint,omitempty"`
}
