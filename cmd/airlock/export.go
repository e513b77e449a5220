package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/spf13/cobra"

	"github.com/airlockhq/airlock/bundle"
	"github.com/airlockhq/airlock/concourse"
	"github.com/airlockhq/airlock/export"
	"github.com/airlockhq/airlock/internal/stall"
	"github.com/airlockhq/airlock/keys"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/release"
	"github.com/airlockhq/airlock/source"
)

type exportOptions struct {
	file        string
	platforms   platformsValue
	key         string
	out         string
	partSize    partSizeValue
	parity      int
	keyTemplate string
	insecure    bool
	stall       time.Duration
	jobs        int
	cacheDir    string
	json        bool
	dryRun      bool
	floating    bool
	registryCAs []string
	certsDir    string
	strictPlats bool
	have        haveFlags
	verifyKeys  []string
	requireSigs bool
	carrySigs   bool
	carryAtts   bool
	sigstore    sigstoreFlags
	compression compressionValue
	lint        lintValue
	carryBins   []string
	distDir     string
	channel     string
	validFor    validForValue
	sequence    uint64
	previous    string
	format      int
}

func newExportCmd(s streams) *cobra.Command {
	o := exportOptions{validFor: validForValue{text: "60d", d: defaultValidFor}}
	c := &cobra.Command{
		Use:   "export [REF [as NAME:VERSION]]... [-f LIST] --key KEY.key -o NAME",
		Short: "Pull images, convert them to Concourse rootfs tgz files, write one signed bundle",
		Long: `Pull images, flatten each (per platform) into a Concourse rootfs tgz, and
write one signed bundle NAME.tar (or NAME.tar.001... with --part-size).

Images come from arguments and/or a list file (-f): one reference per line,
'#' comments, an optional override "REF as NAME:VERSION", and an optional
"verify=PATH" naming the cosign public key the image must be signed with
(relative to the list's folder), optional "identity=REGEXP" and
"issuer=URL" overriding --certificate-identity-regexp and
--certificate-oidc-issuer for that image, and an optional
"lint=error|warn|off" overriding --lint for that image. Each tgz is
destined for the S3 key NAME/NAME-VERSION.tgz (NAME: the repository's last
path element, VERSION: the tag), or --key-template. Every reference is
resolved before any work starts. With several --platform, each image is
exported for the requested platforms it has (a warning names the others;
--strict-platforms makes that an error), the first platform keeps the key
NAME/NAME-VERSION.tgz so pipelines keep matching, and the others get
NAME/OS-ARCH[-VARIANT]/NAME-VERSION.tgz. Converted images are kept in a staging
cache, so an interrupted export resumes and a repeated one is quick.

Key templates use Go text/template over .Name .Version .OS .Arch .Variant
.Platform, e.g. '{{.Name}}/{{.OS}}-{{.Arch}}/{{.Name}}-{{.Version}}.tgz'; keys stay inside NAME/.

SOURCE_DATE_EPOCH fixes the bundle's creation time for reproducible bundles.

With --verify-key (or verify= on a line), every image's cosign signature is
checked before anything is converted, offline (no transparency log): a
signature on the image's digest or on the index it was resolved through must
verify with one of the keys. A signature that does not verify stops the
export (exit 3) before any bundle is written; an unsigned image is reported
and recorded, or refused with --require-signatures. The result is recorded
in the signed manifest; --carry-signatures also carries the evidence so that
'airlock verify --image-signatures KEY.pub' re-checks it offline. Both of
cosign's schemes are read: the ".sig" tag, and sigstore bundles attached
through the referrers API or its tag fallback (cosign sign
--new-bundle-format). With --trusted-root trusted_root.json, certificate-based
(keyless) bundles verify when the certificate chains to one of its
authorities and its identity matches the image's policy, still offline.
--carry-attestations also carries the attestations (SBOMs, SLSA
provenance) that verify under the same policy.

While it flattens, export checks each image for what fails or misbehaves in
a Concourse task (README "Will it run in Concourse?"): metadata.json's user
missing from /etc/passwd, file capabilities (lost on the way), uids above
65535, setuid files, very large images. Findings name the image, platform
and path with a fix, are recorded in the signed manifest, and with
--lint error an image with a warning is refused before any bundle is written.

Every bundle carries, signed, a channel (--channel, default the key id), the
channel's next sequence number, taken from KEY.key.state beside the key
(reserved under a lock before the bundle is written: never reused), an
expiry (--valid-for, default 60d) and the digest of the channel's previous
bundle. Import refuses an older, a same-numbered other or an expired
bundle (README "Rollback and freeze protection"). --sequence N rebuilds a
bundle byte for byte without touching the state.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExport(cmd.Context(), o, args, s)
		},
	}
	f := c.Flags()
	f.StringVarP(&o.file, "file", "f", "", "image list file ('-' for stdin)")
	f.Var(&o.platforms, "platform", "platform OS/ARCH[/VARIANT] to export (repeatable; default linux/amd64)")
	f.StringVar(&o.key, "key", "", "private signing key (from airlock keygen)")
	f.StringVarP(&o.out, "output", "o", "", "bundle name: writes NAME.tar or NAME.tar.001...")
	f.Var(&o.partSize, "part-size", "split into parts: fat32, dvd, bd25, or a size like 2GiB")
	f.IntVar(&o.parity, "parity", 0, "with --part-size: write this many Reed-Solomon parity parts (NAME.parity.001...), so as many lost parts can be rebuilt; data and parity parts make at most 256")
	f.StringVar(&o.keyTemplate, "key-template", "", "S3 key template (default NAME/NAME-VERSION.tgz for the first --platform, NAME/OS-ARCH/NAME-VERSION.tgz for the others)")
	f.BoolVar(&o.insecure, "insecure", false, "allow plain-HTTP and self-signed registries")
	f.DurationVar(&o.stall, "stall-timeout", stall.DefaultInterval, "give up on (and retry) a registry request after this long without a byte moving; 0 waits for ever")
	f.IntVarP(&o.jobs, "jobs", "j", 2, "images converted at a time")
	f.StringVar(&o.cacheDir, "cache-dir", "", "staging cache folder (default: the user cache dir)")
	f.BoolVar(&o.json, "json", false, "print progress events and the result as JSON lines")
	f.BoolVar(&o.dryRun, "dry-run", false, "resolve every image and print what would be exported, write nothing")
	f.BoolVar(&o.floating, "allow-floating-versions", false, "export versions that do not start with a number (latest, stable, v2), which the S3 resource sorts above every numeric version")
	f.StringArrayVar(&o.registryCAs, "registry-ca", nil, "PEM file of a CA to trust for registries (repeatable; added to the system's, see SSL_CERT_FILE)")
	f.BoolVar(&o.strictPlats, "strict-platforms", false, "fail when an image lacks one of the requested platforms (default: export the ones it has, with a warning)")
	f.StringVar(&o.certsDir, "registry-certs-dir", source.DefaultCertsDir, "per-registry CAs as for docker: DIR/HOST[:PORT]/ca.crt")
	o.have.add(c)
	f.StringArrayVar(&o.verifyKeys, "verify-key", nil, "cosign public key that must have signed images without verify= (repeatable; any one suffices)")
	f.BoolVar(&o.requireSigs, "require-signatures", false, "refuse unsigned images instead of reporting them")
	f.BoolVar(&o.carrySigs, "carry-signatures", false, "carry image manifests, configs and cosign signatures in the bundle for offline re-checks")
	f.BoolVar(&o.carryAtts, "carry-attestations", false, "also carry the images' attestations (SBOMs, SLSA provenance as sigstore bundles) that verify like their signatures; implies --carry-signatures")
	o.sigstore.add(c, "must issue")
	f.Var(&o.lint, "lint", "what to do with lint findings of images whose list line sets no lint=: warn (show and record them), error (refuse an image with a warning, writing no bundle), off")
	f.StringSliceVar(&o.carryBins, "carry-airlock", nil, "carry airlock itself for the disconnected side: --carry-airlock for this machine's platform, --carry-airlock=linux/amd64,windows/amd64 for others (from --airlock-dist, checked against its SHA256SUMS)")
	f.Lookup("carry-airlock").NoOptDefVal = release.Host
	f.StringVar(&o.distDir, "airlock-dist", "dist", "the folder make dist wrote the airlock binaries to carry into")
	f.Var(&o.compression, "compression", "compression `level` of each rootfs tgz, recorded in the manifest: fast (gzip level 1: faster, larger), default, or best (level 9: much slower, a little smaller)")
	f.StringVar(&o.channel, "channel", "", "channel the bundle belongs to: its sequence numbers and expiry are checked per channel (default: the key id)")
	f.Var(&o.validFor, "valid-for", "how long the bundle stays fresh: import refuses it (exit 3) once it has expired (README \"Rollback and freeze protection\")")
	f.Uint64Var(&o.sequence, "sequence", 0, "rebuild a bundle byte for byte: use this sequence instead of the next one from KEY.key.state (left alone)")
	f.StringVar(&o.previous, "previous", "", "with --sequence: the previous bundle's digest to record")
	f.IntVar(&o.format, "format", manifest.FormatV1, "bundle format: 1 (one whole tgz per image, docs/format.md) or 2 (each distinct gzip member of the tgz files once, docs/format-v2.md)")
	return c
}

// defaultValidFor is --valid-for's default: two monthly deliveries, so one
// late or missed bundle does not stop a site, and a site frozen for longer
// is noticed (README "Rollback and freeze protection").
const defaultValidFor = 60 * 24 * time.Hour

// exportPlan is everything checked before the first byte is pulled.
type exportPlan struct {
	reqs      []source.Request
	platforms []v1.Platform
	partSize  int64
	created   time.Time
	priv      ed25519.PrivateKey
	sigs      *signaturePolicy
	binaries  []release.Binary
}

func checkExport(o exportOptions, args []string, s streams) (*exportPlan, error) {
	if !o.dryRun && (o.key == "" || o.out == "") {
		return nil, usagef("export needs --key KEY.key and -o NAME (or --dry-run)")
	}
	reqs, err := exportRequests(o.file, args, s)
	if err != nil {
		return nil, err
	}
	p := &exportPlan{reqs: reqs}
	if o.channel != "" {
		if err := manifest.CheckChannel(o.channel); err != nil {
			return nil, usagef("--channel: %w", err)
		}
	}
	if !slices.Contains(export.Formats, o.format) {
		return nil, usagef("--format %d: known formats are %s", o.format, export.FormatNames())
	}
	if o.previous != "" && (o.sequence == 0 || !manifest.IsSHA256Hex(o.previous)) {
		return nil, usagef("--previous %q needs --sequence and a digest of 64 lowercase hex digits", o.previous)
	}
	if o.keyTemplate != "" {
		if _, err := concourse.ParseKeyTemplate(o.keyTemplate); err != nil {
			return nil, usageError{err}
		}
	}
	p.platforms, p.partSize = o.platforms.list, o.partSize.bytes
	if err := bundle.CheckSplit(p.partSize, o.parity); err != nil {
		return nil, usagef("--part-size %s --parity %d: %w", o.partSize.String(), o.parity, err)
	}
	if err := bundle.CheckSplitName(o.out, p.partSize); err != nil {
		return nil, usagef("-o %s --part-size %s: %w", o.out, o.partSize.String(), err)
	}
	if p.created, err = sourceDateEpoch(); err != nil {
		return nil, err
	}
	if p.sigs, err = loadSignaturePolicy(o, reqs); err != nil {
		return nil, err
	}
	if p.binaries, err = carriedBinaries(o, args); err != nil {
		return nil, err
	}
	if o.dryRun {
		return p, nil
	}
	if p.priv, err = keys.LoadPrivate(o.key); err != nil {
		return nil, err
	}
	if w := keys.CheckPrivateMode(o.key); w != nil {
		fmt.Fprintf(s.err, "airlock: warning: %s; anyone who can read it can sign bundles: run chmod 600 %s\n", w, o.key)
	}
	return p, bundle.CheckOutput(o.out)
}

// carriedBinaries finds the airlock binaries --carry-airlock asks for. A
// platform given after a space instead of "=" would read as an image
// reference, so such an argument is refused.
func carriedBinaries(o exportOptions, args []string) ([]release.Binary, error) {
	if len(o.carryBins) == 0 {
		return nil, nil
	}
	for _, p := range o.carryBins {
		if p != release.Host && !isPlatform(p) {
			return nil, usagef("--carry-airlock %s: want os/arch (linux/amd64), or no value for this machine's platform", p)
		}
	}
	for _, a := range args {
		if isPlatform(a) {
			return nil, usagef("%s is a platform, not an image: write --carry-airlock=%s", a, a)
		}
	}
	bins, err := release.Find(o.distDir, o.carryBins, version)
	if errors.As(err, new(*release.NotFoundError)) {
		return nil, withHint(err, "build the release binaries first: make dist PLATFORMS=\"linux/amd64 ...\", or pass --airlock-dist DIR")
	}
	return bins, err
}

// isPlatform reports whether s reads as os/arch (lowercase letters and
// digits), as no image reference airlock takes does: a reference without
// a tag gets none here.
func isPlatform(s string) bool {
	osName, arch, ok := strings.Cut(s, "/")
	word := func(w string) bool {
		return w != "" && len(w) <= 16 && strings.Trim(w, "abcdefghijklmnopqrstuvwxyz0123456789") == ""
	}
	return ok && word(osName) && word(arch) && slices.Contains(knownOS, osName)
}

// knownOS are the operating systems Go builds for that a platform names.
var knownOS = []string{"aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows"}

func exportRequests(file string, args []string, s streams) ([]source.Request, error) {
	reqs, err := source.FromArgs(args)
	if err != nil {
		return nil, err
	}
	if file != "" {
		r, name := s.in, "stdin"
		if file != "-" {
			f, err := os.Open(file)
			if err != nil {
				return nil, fmt.Errorf("image list %s: %w", file, err)
			}
			defer f.Close()
			r, name = f, file
		}
		listed, err := source.ParseList(r, name)
		if err != nil {
			return nil, err
		}
		for i, req := range listed {
			if req.VerifyKey != "" && file != "-" && !filepath.IsAbs(req.VerifyKey) {
				listed[i].VerifyKey = filepath.Join(filepath.Dir(file), req.VerifyKey)
			}
		}
		reqs = append(reqs, listed...)
	}
	if len(reqs) == 0 {
		return nil, usagef("no images given; pass references as arguments or a list with -f FILE")
	}
	return reqs, nil
}

func sourceDateEpoch() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Now(), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a number of seconds", v)
	}
	return time.Unix(n, 0), nil
}

func runExport(ctx context.Context, o exportOptions, args []string, s streams) error {
	p, err := checkExport(o, args, s)
	if err != nil {
		return err
	}
	if err := o.have.load(s.err); err != nil {
		return err
	}
	var warnings []string
	tlsOpts, err := registryTLS(o.registryCAs, o.certsDir)
	if err != nil {
		return err
	}
	reg := source.NewClient(append(tlsOpts, source.WithInsecure(o.insecure), source.WithUserAgent("airlock/"+version), source.WithStallTimeout(o.stall))...)
	targets, err := reg.Resolve(ctx, p.reqs, p.platforms, source.WithKeyTemplate(o.keyTemplate),
		source.WithFloatingVersions(o.floating), source.WithStrictPlatforms(o.strictPlats),
		source.WithPlatformWarnings(func(e *source.MissingPlatformsError) { warnings = append(warnings, e.Error()) }))
	if err != nil {
		return resolveHint(err)
	}
	if targets, err = o.have.apply(s, targets, o.dryRun, o.json); err != nil || len(targets) == 0 {
		return err
	}
	ui := newExportUI(s, o.json, len(targets))
	for _, w := range warnings {
		ui.warn(w)
	}
	for _, w := range source.Collisions(targets) {
		ui.warn(w.String())
	}
	if o.dryRun {
		return printPlan(s, targets, o.json)
	}
	opts := []export.Option{export.WithJobs(o.jobs), export.WithPartSize(p.partSize), export.WithParity(o.parity), export.WithCreated(p.created),
		export.WithTool("airlock " + version), export.WithCacheDir(o.cacheDir), export.WithEvents(ui.event), export.WithCompression(o.compression.value()),
		export.WithLint(o.lint.value()), export.WithBase(o.have.base), export.WithHeldMembers(o.have.held()), export.WithBinaries(p.binaries),
		export.WithSequence(o.key, o.channel, o.validFor.d), export.WithFormat(o.format)}
	if o.sequence > 0 {
		opts = append(opts, export.WithFixedSequence(o.sequence, o.previous))
	}
	if p.sigs != nil {
		opts = append(opts, export.WithSignatureCheck(p.sigs.verifier(reg), p.sigs.policyFor), export.WithCarrySignatures(o.carrySigs || o.carryAtts))
	}
	res, err := export.Run(ctx, targets, o.out, p.priv, opts...)
	ui.close()
	if errors.As(err, new(*bundle.TooManyPartsError)) {
		return fmt.Errorf("--part-size %s --parity %d: %w", o.partSize.String(), o.parity, err)
	}
	if err != nil {
		return registryTLSHint(err)
	}
	return ui.summary(res)
}

func printPlan(s streams, targets []source.Target, asJSON bool) error {
	rows := make([]planEvent, len(targets))
	for i, t := range targets {
		rows[i] = planEvent{Event: "plan", Source: t.Request.Ref, Platform: t.Platform.String(), Digest: t.Digest.String(),
			Name: t.Name, Version: t.Version, Key: t.Key, Regexp: t.Regexp}
		if t.IndexDigest != nil {
			rows[i].IndexDigest = t.IndexDigest.String()
		}
	}
	if asJSON {
		enc := newEventEncoder(s.out)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tPLATFORM\tDIGEST\tKEY\tREGEXP")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Source, r.Platform, shortDigest(r.Digest), r.Key, r.Regexp)
	}
	return tw.Flush()
}

// resolveHint says what to do about a refused version.
func resolveHint(err error) error {
	if errors.As(err, new(*source.FloatingVersionError)) {
		return withHint(err, "pin a version: write \"REF as NAME:VERSION\" (e.g. \"docker.io/library/alpine:latest as alpine:3.19.1\"), "+
			"or pass --allow-floating-versions if the series should follow it")
	}
	return registryTLSHint(err)
}
