package main

import (
	"encoding/json"
	"os"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/airlockhq/airlock/internal/bundletest"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
)

// mksigned KEY OUT ENTRIES.json writes the one-file bundle OUT, signed
// by KEY, whose manifest lists the entries in ENTRIES.json (a JSON array of
// manifest entries) as given: nothing is checked, as with a hostile or
// buggy exporter. Each payload holds its own path.
func cmdMkSigned(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: mksigned KEY OUT ENTRIES.json")
	}
	priv, err := keys.LoadPrivate(ts.MkAbs(args[0]))
	ts.Check(err)
	raw, err := os.ReadFile(ts.MkAbs(args[2]))
	ts.Check(err)
	var entries []manifest.Entry
	ts.Check(json.Unmarshal(raw, &entries))
	bodies := make([][]byte, len(entries))
	for i, e := range entries {
		bodies[i] = []byte(e.Path + "\n")
	}
	ts.Check(bundletest.WriteSigned(ts.MkAbs(args[1]), priv, entries, bodies))
}
