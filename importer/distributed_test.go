package importer

import (
	"testing"

	"github.com/airlockhq/airlock/internal/buckettest"
	"github.com/airlockhq/airlock/internal/miniotest"
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
