package importer

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/airlockhq/airlock/bucket"
	"github.com/airlockhq/airlock/internal/buckettest"
	"github.com/airlockhq/airlock/internal/miniotest"
	"github.com/airlockhq/airlock/internal/stall"
	"github.com/airlockhq/airlock/record"
)

// On MinIO in distributed erasure mode (4 nodes, one drive each, EC:2), a
// node killed in the middle of a multipart upload costs nothing: the import
// finishes (or fails naming what to do, and a re-run with the node still
// down finishes), a deep audit finds the bucket as signed and no
// incomplete upload is left, with the node down and after it is back.
func TestImportSurvivesANodeKilledMidUpload(t *testing.T) {
	srv := miniotest.StartDistributed(t, 4)
	s := buckettest.New(t, srv)
	files, trusted := writeBundle(t, 2, 12<<20, 40) // 5 MiB parts: 3 parts an image

	killed := false
	res, err := runImport(t, s, files, trusted, WithEvents(func(e Event) {
		if e.Kind == Progress && !killed {
			killed = true
			srv.KillNode(t, 3)
		}
	}))
	if !killed {
		t.Fatal("the import reported no progress: no node was killed")
	}
	if err != nil {
		t.Logf("import with node 3 killed mid-upload failed: %v; running it again", err)
		if res, err = runImport(t, s, files, trusted); err != nil {
			t.Fatalf("re-run with one node of four down: %v", err)
		}
	}
	if res.Uploaded+res.Skipped != 2 {
		t.Fatalf("import: %d uploaded, %d skipped; want 2 images in all", res.Uploaded, res.Skipped)
	}
	assertAuditOK(t, s, trusted, 2)
	if ups := buckettest.Uploads(t, srv, s.Bucket(), "img0/img0-1.0.tgz", "img1/img1-1.1.tgz"); len(ups) != 0 {
		t.Fatalf("incomplete uploads left with the node down: %v", ups)
	}

	srv.StartNode(t, 3)
	assertAuditOK(t, s, trusted, 2)
	if ups := buckettest.Uploads(t, srv, s.Bucket(), "img0/img0-1.0.tgz", "img1/img1-1.1.tgz"); len(ups) != 0 {
		t.Fatalf("incomplete uploads left after the node came back: %v", ups)
	}
}

// With two of four nodes down MinIO has no write quorum. What it answers
// varies (observed: 503 ServiceUnavailable to the HEAD of a missing key,
// 503 SlowDownWrite to a new multipart upload, no answer to a PutObject;
// see miniotest), so an object of each kind is tried. The import does not
// wait for ever: a 503 fails it at once and the stall timeout airlock's CLI
// sets cuts off a request left unanswered; the error names the endpoint.
// Once the nodes are back a re-run finishes the job and leaves nothing
// behind.
func TestImportWithoutWriteQuorumFailsInTime(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
	}{
		{"put", 1 << 20},
		{"multipart", 6 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := miniotest.StartDistributed(t, 4)
			name := buckettest.Name(t)
			srv.MakeBucket(t, name)
			files, trusted := writeBundle(t, 1, tc.size, 50)
			srv.KillNode(t, 3)
			srv.KillNode(t, 2)

			s := buckettest.Open(t, srv, name, bucket.WithMaxAttempts(1), bucket.WithTransportWrapper(func(rt http.RoundTripper) http.RoundTripper {
				return stall.Transport(rt, 2*time.Second)
			}))
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a guard: the stall timeout must come first
			defer cancel()
			start := time.Now()
			_, err := runImportCtx(ctx, t, s, files, trusted)
			took := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), srv.Endpoint) || ctx.Err() != nil {
				t.Fatalf("import without write quorum: err = %v after %s, want one naming %s before the guard", err, took, srv.Endpoint)
			}
			t.Logf("import without write quorum failed after %s: %v", took.Round(time.Millisecond), err)

			srv.StartNode(t, 2)
			srv.StartNode(t, 3)
			s = buckettest.Open(t, srv, name)
			if _, err := runImport(t, s, files, trusted); err != nil {
				t.Fatalf("re-run with every node back: %v", err)
			}
			assertAuditOK(t, s, trusted, 1)
			if ups := buckettest.Uploads(t, srv, name, "img0/img0-1.0.tgz"); len(ups) != 0 {
				t.Fatalf("incomplete uploads left: %v", ups)
			}
		})
	}
}

// The node the import talks to dies in the middle of a multipart upload:
// the import fails naming that node's endpoint; a re-run through another
// node of the cluster finishes the job (the first run's uploads belong to
// the cluster, not the node, and are aborted), and a deep audit through it
// is clean. Once the node is back, its listing by key still shows the
// uploads aborted while it was down (ListParts says NoSuchUpload), which
// audit does not report; an import run again through it clears them
// (logged, not asserted: MinIO's healing may get there first), and a deep
// audit through it is clean with no incomplete upload.
//
// The re-run through node 1 takes about 2 minutes (observed 116 s): the
// upload of the image node 0 was writing when it died waits, presumably
// for the lock the dead node held on it to expire. So this test runs in
// make test-distributed only (CI runs it), not in make test.
func TestImportThroughAnotherNodeAfterItsNodeDies(t *testing.T) {
	if os.Getenv(miniotest.EnvNodes) == "" {
		t.Skipf("takes about 2 minutes (MinIO's lock expiry); runs in the distributed pass, with $%s set (make test-distributed, which CI runs)", miniotest.EnvNodes)
	}
	srv := miniotest.StartDistributed(t, 4)
	name := buckettest.Name(t)
	srv.MakeBucket(t, name)
	files, trusted := writeBundle(t, 2, 12<<20, 60)
	keys := []string{"ci/img0/img0-1.0.tgz", "ci/img1/img1-1.1.tgz"}
	start := time.Now()
	step := func(what string) { t.Logf("%6.1fs %s", time.Since(start).Seconds(), what) }

	s0 := buckettest.OpenAt(t, srv, srv.NodeEndpoint(0), name, bucket.WithMaxAttempts(1))
	killed := false
	_, err := runImport(t, s0, files, trusted, WithEvents(func(e Event) {
		if e.Kind == Progress && !killed {
			killed = true
			srv.KillNode(t, 0)
		}
	}))
	if !killed || err == nil || !strings.Contains(err.Error(), srv.NodeEndpoint(0)) {
		t.Fatalf("import with its node killed (killed %v): err = %v, want one naming %s", killed, err, srv.NodeEndpoint(0))
	}
	step("import through node 0 failed")

	// Right after a node dies the others can answer 503 for a few seconds
	// while its cluster probe already says healthy (seen in CI: node 1's
	// answers to the re-run's first HEAD, 0.3 s after node 0 died, after
	// the SDK's 3 tries). README's advice for a 503 is to import again, so
	// the test does, a few times; any other error fails it at once.
	s1 := buckettest.OpenAt(t, srv, srv.NodeEndpoint(1), name)
	for try := 1; ; try++ {
		_, err := runImport(t, s1, files, trusted)
		if err == nil {
			break
		}
		if try == 5 || !strings.Contains(err.Error(), "503") {
			t.Fatalf("re-run %d through node 1: %v", try, err)
		}
		step(fmt.Sprintf("re-run %d through node 1: %v; importing again", try, err))
		time.Sleep(2 * time.Second)
	}
	step("re-run through node 1 done")
	assertAuditOK(t, s1, trusted, 2)
	step("audit through node 1 clean")

	srv.StartNode(t, 0)
	step("node 0 back")
	s0 = buckettest.Open(t, srv, name)
	// Just back, the node may not reach the others' drives yet and answer
	// 404 for what was written while it was down: wait (bounded) until it
	// sees the bundle record.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(500 * time.Millisecond) {
		if _, err := record.Read(context.Background(), s0, "ci/", trusted); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("node 0, back for a minute, does not see the record: %v", err)
		}
	}
	step("node 0 sees the record")
	for _, k := range keys {
		ups, err := s0.Uploads(context.Background(), k)
		t.Logf("node 0 back: its listing of %s: %v (%v)", k, ups, err)
	}
	// Its listing may still show the uploads aborted while it was down;
	// the audit asks for each by its id and reports none of those.
	if rep := deepAudit(t, s0, trusted, "ci/"); len(rep.Incomplete) > 0 {
		t.Errorf("audit through node 0, back, reports uploads that are gone: %v", rep.Incomplete)
	}
	if _, err := runImport(t, s0, files, trusted); err != nil {
		t.Fatalf("re-run through node 0, back: %v", err)
	}
	assertAuditOK(t, s0, trusted, 2)
	if ups := buckettest.Uploads(t, srv, name, keys[0][len("ci/"):], keys[1][len("ci/"):]); len(ups) != 0 {
		t.Fatalf("incomplete uploads left: %v", ups)
	}
	step("re-run and audit through node 0 clean")
}
