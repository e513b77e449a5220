package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/concourse"
	"github.com/airlockhq/airlock/importer"
	"github.com/airlockhq/airlock/internal/atomicfile"
)

type importOptions struct {
	s3          s3Flags
	pubs        []string
	overwrite   bool
	force       bool
	missingBase bool
	dryRun      bool
	json        bool
	concourse   string
	style       choiceValue[concourse.Style]
	versions    choiceValue[concourse.VersionMode]
	fresh       freshnessFlags
	jobs        int // > 0: each argument is a bundle, imported this many at a time
}

func newImportCmd(s streams) *cobra.Command {
	var o importOptions
	c := &cobra.Command{
		Use:   "import BUNDLE... --pub KEY.pub --bucket B [--endpoint URL] [--prefix P] [-j N]",
		Short: "Load a verified bundle's images into an S3 bucket",
		Long: `Load every image of a bundle into an S3 bucket, in one pass: the signature is
checked first, then each rootfs tgz streams from the bundle straight into a
(multipart) upload while it is hashed. An entry that does not match the
signed manifest aborts its upload, so no unverified object ever appears, and
the import stops with exit code 3. Objects already there with the same
checksum are skipped, so re-running after any failure finishes the job.
The bundle's signed manifest is kept in the bucket under .airlock/bundles/
for audit.

A delta bundle (export --have) records the images it leaves out because the
bucket held them: import checks, before uploading anything, that the bucket
holds each one under --prefix with the recorded size and sha256, and refuses
with exit code 3, naming the missing ones, unless --allow-missing-base.

A bundle carries a channel, a sequence number and an expiry (export
--channel, --valid-for): import refuses, with exit code 3, a bundle that has
expired (--now sets the reference time), or one older than the channel's
last accepted bundle, or another bundle of the same sequence (a replay);
--allow-expired and --allow-rollback let it in, and the channel state under
.airlock/state/ records that. The state moves to the bundle only once every
object is in place. A bundle without them (older airlock) imports with a
warning.

Before anything is uploaded, every key the import would write (the objects
and the bundle's record) is checked against S3's limit of 1024 bytes; a
--prefix that makes one longer is a usage error (exit code 2) naming the
key, and the hint says how long a prefix fits.

Without -j, several arguments are the parts of one bundle. With -j N each
argument is a whole bundle (its file, its first part or its base name),
and N of them are imported at a time into the same bucket: each one's
output is printed when it is done, under a "# bundle ARG" line; a bundle
that fails does not stop the others, and the exit code is the worst one's.
Re-running the same call imports what is missing. --concourse takes one
bundle.

Credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, --profile, ...).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(cmd.Context(), o, args, s)
		},
	}
	o.s3.add(c)
	o.fresh.add(c)
	c.Flags().IntVarP(&o.jobs, "jobs", "j", 0, "import each argument as a bundle, this many at a time (default: the arguments are one bundle's parts)")
	addPubFlag(c, &o.pubs)
	c.Flags().BoolVar(&o.overwrite, "overwrite", false, "replace objects that exist with another checksum")
	c.Flags().BoolVar(&o.force, "force", false, "upload every image even when the bucket records the same checksum (repairs what audit --deep found)")
	c.Flags().BoolVar(&o.missingBase, "allow-missing-base", false, "import a delta bundle (export --have) even where the bucket lacks images of the base it was cut against")
	c.Flags().BoolVar(&o.dryRun, "dry-run", false, "check the bundle's signature and the bucket, print what would be uploaded")
	c.Flags().BoolVar(&o.json, "json", false, "print events and the result as JSON lines")
	c.Flags().StringVar(&o.concourse, "concourse", "", "write Concourse snippets to this file (default: print them)")
	o.style = choiceValue[concourse.Style]{concourse.ImageResourceStyle, concourse.ParseStyle, "string"} // help: --concourse-style string, as before
	c.Flags().Var(&o.style, "concourse-style", "snippet form: image_resource (a task's image_resource per image) or resource (resources: entries, get with unpack: true, task image:)")
	o.versions = choiceValue[concourse.VersionMode]{concourse.FollowVersions, concourse.ParseVersionMode, "mode"}
	c.Flags().Var(&o.versions, "concourse-version", "snippets follow each series' newest version (follow: a newer import reaches pipelines at their next check) or pin the imported one (pin: version: {path: KEY})")
	return c
}

func runImport(ctx context.Context, o importOptions, args []string, s streams) error {
	switch {
	case o.jobs < 0:
		return usagef("-j %d: give the number of bundles to import at a time (1 or more)", o.jobs)
	case o.jobs > 0 && o.concourse != "" && len(args) > 1:
		return usagef("--concourse writes one file for one bundle; leave it out with several bundles (each one's snippets are printed)")
	case o.jobs > 0:
		return importEach(ctx, o, args, s)
	}
	return importBundle(ctx, o, args, s)
}

// importEach imports every argument as a bundle, o.jobs at a time, into
// the same bucket. Each bundle's output is held until it is done, so that
// the lines of bundles imported at once do not interleave; failures are
// joined, each naming its bundle.
func importEach(ctx context.Context, o importOptions, args []string, s streams) error {
	var (
		mu   sync.Mutex // s.out and s.err, one bundle's output at a time
		errs = make([]error, len(args))
		g    errgroup.Group // not WithContext: one bundle's failure does not stop the others
	)
	g.SetLimit(o.jobs)
	for i, arg := range args {
		g.Go(func() error {
			if ctx.Err() != nil { // interrupted: start no other bundle
				errs[i] = fmt.Errorf("bundle %s: not started: %w", arg, context.Cause(ctx))
				return nil
			}
			var out, stderr bytes.Buffer
			if err := importBundle(ctx, o, []string{arg}, streams{in: s.in, out: &out, err: &stderr}); err != nil {
				errs[i] = fmt.Errorf("bundle %s: %w", arg, err)
			}
			mu.Lock()
			defer mu.Unlock()
			if !o.json {
				fmt.Fprintf(s.out, "# bundle %s\n", arg)
			}
			_, _ = out.WriteTo(s.out)
			_, _ = stderr.WriteTo(s.err)
			return nil
		})
	}
	_ = g.Wait() // every bundle's error is in errs
	return errors.Join(errs...)
}

// importBundle imports the one bundle whose files args name.
func importBundle(ctx context.Context, o importOptions, args []string, s streams) error {
	if o.concourse != "" {
		if err := checkFolder(o.concourse); err != nil {
			return err
		}
	}
	r, err := openBundle(o.pubs, args, s.err)
	if err != nil {
		return err
	}
	defer r.Close()
	images, err := r.Manifest.ConcourseImages() // before any upload: an image without a usable regexp stops here
	if err != nil {
		return err
	}
	store, err := o.s3.open(ctx)
	if err != nil {
		return err
	}
	ui := newImportUI(s, o.json, r.Manifest)
	res, err := importer.Run(ctx, store, r, importer.WithPrefix(o.s3.prefix), importer.WithOverwrite(o.overwrite),
		importer.WithForce(o.force), importer.WithDryRun(o.dryRun), importer.WithAllowMissingBase(o.missingBase), importer.WithEvents(ui.event), importer.WithOptions(o.fresh.options()...))
	ui.close()
	if err != nil {
		return importHint(err)
	}
	if o.dryRun {
		return nil
	}
	if err := ui.summary(res, store); err != nil {
		return err
	}
	return writeSnippets(o, o.style.v, store, images, s)
}

// importHint adds what to do about a refused overwrite.
func importHint(err error) error {
	var c *importer.ConflictError
	var long *importer.KeyTooLongError
	var base *importer.BaseError
	switch {
	case errors.As(err, &base):
		return withHint(err, fmt.Sprintf("import it into the bucket and --prefix whose receipt it was cut against (bucket %s, --prefix %q), after the bundles that put the listed images there; "+
			"or export a full bundle (without --have) for this bucket; --allow-missing-base imports it anyway, leaving those images missing", base.Base.Bucket, base.Base.Prefix))
	case errors.As(err, &long) && long.MaxPrefix > 0:
		return usageError{withHint(err, fmt.Sprintf("use a --prefix of at most %d bytes for this bundle", long.MaxPrefix))}
	case errors.As(err, &long):
		return usageError{withHint(err, "import this bundle without --prefix")}
	case !errors.As(err, &c):
		return s3Hint(err)
	case c.Meanwhile():
		return withHint(err, "another import wrote these keys while this one ran; run the import again to check what is there now (it skips what matches)")
	}
	return withHint(err, "Concourse workers cache images by version, so workers that already fetched this version keep the old content after an overwrite; "+
		"export the new content under a new version first (\"REF as NAME:VERSION\"); --overwrite replaces it anyway (--force re-uploads every image)")
}

func writeSnippets(o importOptions, style concourse.Style, store *bucket.Store, list []concourse.Image, s streams) error {
	if o.concourse == "" && o.json {
		return nil
	}
	t := concourse.Target{Bucket: o.s3.bucket, Prefix: o.s3.prefix, Region: store.Region(),
		PathStyle: store.PathStyle(), CABundle: o.s3.caBundle != "", Versions: o.versions.v}
	if o.concourse == "" {
		fmt.Fprintf(s.out, "# Concourse %s for each image:\n", style)
		return concourse.WriteSnippets(s.out, style, t, list)
	}
	return writeFileAtomic(o.concourse, func(f *os.File) error { return concourse.WriteSnippets(f, style, t, list) })
}

// checkFolder fails early when path's folder does not exist.
func checkFolder(path string) error {
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("folder %s for %s does not exist", dir, path)
	}
	return nil
}

// writeFileAtomic writes path through a temporary file renamed into
// place; /dev/stdout or a pipe is written directly (see atomicfile.WriteFile).
func writeFileAtomic(path string, fill func(*os.File) error) error {
	return atomicfile.WriteFile(path, 0o644, fill)
}
