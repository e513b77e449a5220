package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/inventory"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/rootfs"
)

// version and commit are set at build time (make build, make dist:
// -ldflags "-X main.version=... -X main.commit=..."). The commit is also
// read from the build info where the go command recorded it (a build in a
// git clone with -buildvcs); a git worktree gets none, hence the stamp.
var (
	version = "dev"
	commit  = ""
)

type versionOptions struct {
	json bool
}

func newVersionCmd(s streams) *cobra.Command {
	var o versionOptions
	c := &cobra.Command{
		Use:   "version [--json]",
		Short: "Print airlock's version (as --version); --json adds how it was built and the formats it reads and writes",
		Long: `Print airlock's version, the commit it was built from and the Go version.

With --json, one JSON document (docs/events.md): the version, the commit and
its time, whether the tree had changes, the Go version and platform, the
build settings, the main module and every module compiled in with its
version and go.sum hash, and the versions of the formats this airlock reads
and writes (bundle, part index, receipt, rootfs).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runVersion(cmd.Context(), o, s)
		},
	}
	c.Flags().BoolVar(&o.json, "json", false, "print one JSON document (docs/events.md)")
	return c
}

func runVersion(_ context.Context, o versionOptions, s streams) error {
	doc := buildVersionDoc()
	if o.json {
		return writeJSON(s.out, doc)
	}
	built := doc.Commit
	if built == "" {
		built = "an unknown commit"
	}
	if doc.Modified != nil && *doc.Modified {
		built += " with uncommitted changes"
	}
	_, err := fmt.Fprintf(s.out, "airlock version %s\nbuilt from %s with %s for %s\n", doc.Version, built, doc.GoVersion, doc.Platform)
	return err
}

// buildVersionDoc describes this binary from the stamped version and the
// build info the go command embeds.
func buildVersionDoc() versionDoc {
	doc := versionDoc{
		Schema:    eventSchema,
		Version:   version,
		Commit:    commit,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
		Build:     map[string]string{},
		Deps:      []moduleVersion{},
		Formats: formatVersions{
			Bundle:    formatVersion{Reads: manifest.ReadFormats, Writes: manifest.FormatVersion},
			PartIndex: formatVersion{Reads: []int{bundle.IndexFormat}, Writes: bundle.IndexFormat},
			Receipt:   formatVersion{Reads: []int{inventory.FormatVersion}, Writes: inventory.FormatVersion},
			Rootfs:    rootfs.FormatVersion,
		},
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return doc
	}
	doc.Main = newModuleVersion(&bi.Main)
	if doc.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		doc.Version = bi.Main.Version // go install .../cmd/airlock@VERSION
	}
	for _, d := range bi.Deps {
		doc.Deps = append(doc.Deps, newModuleVersion(d))
	}
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			doc.Commit = kv.Value
		case "vcs.time":
			doc.CommitTime = kv.Value
		case "vcs.modified":
			modified := kv.Value == "true"
			doc.Modified = &modified
		default:
			doc.Build[kv.Key] = kv.Value
		}
	}
	return doc
}

func newModuleVersion(m *debug.Module) moduleVersion {
	v := moduleVersion{Path: m.Path, Version: m.Version, Sum: m.Sum}
	if m.Replace != nil {
		r := newModuleVersion(m.Replace)
		v.Replace = &r
	}
	return v
}
