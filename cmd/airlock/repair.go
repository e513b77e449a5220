package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/airlockhq/airlock/bundle"
)

type repairOptions struct {
	pubs []string
	dir  string
}

func newRepairCmd(s streams) *cobra.Command {
	var o repairOptions
	c := &cobra.Command{
		Use:   "repair PART... --pub KEY.pub [-o DIR]",
		Short: "Rebuild lost or damaged parts of a split bundle from its parity parts",
		Long: `Rebuild the missing or damaged parts of a bundle exported with --parity K.
Give every part you have (data and parity, from any folders; one part alone
brings in the others beside it); the signed part index is found beside them.
Up to K missing or damaged parts are rebuilt from the others, checked
against the index, and written to DIR (default: the folder of the first
PART) under a temporary name, then renamed to their signed names.

When parts are missing, repair rebuilds them from as many others as it
needs, without hashing those first: a rebuilt part that matches the index
is proven correct. Only if it does not match (a part it was rebuilt from is
damaged), or when nothing is missing, is every part checked against the
index, and every damaged one rebuilt too. Run airlock verify afterwards to
check every part and entry.

A damaged part in DIR is moved to DIR/damaged/ (where no NAME.tar.0* or
NAME.* glob picks it up); no other file is replaced. With -o DIR elsewhere,
the damaged part stays where it is: verify and import given both folders
use the copy that matches the signed part index and name the other.
With more than K parts lost, repair names the parts it needs and writes
nothing (exit 3).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRepair(cmd.Context(), o, args, s)
		},
	}
	addPubFlag(c, &o.pubs)
	c.Flags().StringVarP(&o.dir, "output-dir", "o", "", "folder for the rebuilt parts (default: the folder of the first PART)")
	return c
}

func runRepair(ctx context.Context, o repairOptions, args []string, s streams) error {
	trusted, err := loadTrusted(o.pubs, s.err)
	if err != nil {
		return err
	}
	set, err := bundle.FindSet(args, trusted)
	if err != nil {
		return err
	}
	if set == nil {
		return errors.New("no signed part index (NAME.parts.sha256) beside the parts given; only split bundles with an index can be repaired")
	}
	dir := o.dir
	if dir == "" {
		dir = filepath.Dir(args[0])
	}
	res, err := bundle.Repair(ctx, set, dir)
	if err != nil {
		var pe *bundle.PartsError
		if errors.As(err, &pe) {
			return withHint(err, "copy the named parts again (from any folder) and re-run repair with them")
		}
		return err
	}
	for _, k := range res.Kept {
		fmt.Fprintf(s.out, "kept damaged copy as %s\n", k)
	}
	for _, p := range res.Rebuilt {
		fmt.Fprintf(s.out, "rebuilt %s: matches the signed part index\n", p)
	}
	switch res.Pass {
	case bundle.FastPass:
		fmt.Fprintf(s.out, "rebuilt from %s; those parts were not hashed one by one (airlock verify checks each)\n", strings.Join(res.From, ", "))
	case bundle.FullPass:
		if res.FastPassFailed {
			fmt.Fprintf(s.out, "a part rebuilt from the others did not match the signed part index (one of those is damaged), so all %d parts at hand were checked against it\n", res.Checked)
		} else {
			fmt.Fprintf(s.out, "checked all %d parts at hand against the signed part index\n", res.Checked)
		}
	}
	if len(res.Rebuilt) == 0 {
		fmt.Fprintf(s.out, "all %d parts match the signed part index; nothing to repair\n", len(set.Index.Files()))
		return nil
	}
	fmt.Fprintf(s.out, "repaired %d part(s) of bundle %s; run airlock verify on the parts to check every entry\n", len(res.Rebuilt), set.Index.Bundle)
	return nil
}
