package inventory

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/airlockhq/airlock/internal/buckettest"
	"github.com/airlockhq/airlock/internal/miniotest"
	"github.com/airlockhq/airlock/manifest"
	"github.com/airlockhq/airlock/record"
)

var minio miniotest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	minio.Close()
	os.Exit(code)
}

func imageEntry(key, digest string, body []byte, sum string) manifest.Entry {
	name := key[:len(key)-len("/x-1.tgz")]
	return manifest.Entry{Path: manifest.ImagesFolder + key, Size: int64(len(body)), SHA256: sum,
		Image: &manifest.Image{Source: "reg/" + name, Digest: digest, Platform: "linux/amd64", Name: name, Version: "1", Key: key}}
}

func TestBuildListsIntactImagesAndLeavesOutTheRest(t *testing.T) {
	srv := minio.Get(t)
	s := buckettest.New(t, srv)
	ctx := context.Background()
	const prefix = "ci/"
	var older, newer []manifest.Entry
	bodies := map[string][]byte{}
	for i, key := range []string{"a/x-1.tgz", "b/x-1.tgz", "c/x-1.tgz", "d/x-1.tgz", "e/x-1.tgz"} {
		body, sum := buckettest.Data(1000+i, uint64(i))
		bodies[key] = body
		if err := s.Put(ctx, prefix+key, bytes.NewReader(body), int64(len(body)), sum); err != nil {
			t.Fatal(err)
		}
		newer = append(newer, imageEntry(key, digestOf(string(rune('a'+i))), body, sum))
	}
	// An older bundle listed d with other content; the newer record wins.
	oldBody, oldSum := buckettest.Data(5, 99)
	older = append(older, imageEntry("d/x-1.tgz", digestOf("f"), oldBody, oldSum))
	records := []record.Record{
		{ID: "bbbbbbbbbbbbbbbb", Prefix: prefix, Manifest: &manifest.Manifest{Created: time.Unix(2000, 0), Entries: newer}},
		{ID: "aaaaaaaaaaaaaaaa", Prefix: prefix, Manifest: &manifest.Manifest{Created: time.Unix(1000, 0), Entries: older}},
	}

	// Behind airlock's back: a deleted, one replaced without a recorded
	// checksum, c cut short, e's data changed under its recorded checksum.
	cl := srv.Client()
	if _, err := cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.Bucket()), Key: aws.String(prefix + "a/x-1.tgz")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket()), Key: aws.String(prefix + "b/x-1.tgz"), Body: bytes.NewReader(bodies["b/x-1.tgz"])}); err != nil {
		t.Fatal(err)
	}
	short := bodies["c/x-1.tgz"][:10]
	if err := s.Put(ctx, prefix+"c/x-1.tgz", bytes.NewReader(short), int64(len(short)), buckettest.SHA(short)); err != nil {
		t.Fatal(err)
	}
	forged := bytes.Repeat([]byte{7}, len(bodies["e/x-1.tgz"]))
	if _, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket()), Key: aws.String(prefix + "e/x-1.tgz"), Body: bytes.NewReader(forged),
		Metadata: map[string]string{"sha256": newer[4].SHA256}}); err != nil {
		t.Fatal(err)
	}

	r, err := Build(ctx, s, records, WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(r.Images); got != "d/x-1.tgz e/x-1.tgz" {
		t.Errorf("shallow receipt lists %q", got)
	}
	if r.Images[0].Digest != digestOf("d") || r.Images[0].Bundle != "bbbbbbbbbbbbbbbb" || r.Images[0].SHA256 != newer[3].SHA256 {
		t.Errorf("d listed as %+v", r.Images[0])
	}
	wantLeft := map[string]string{"a/x-1.tgz": Missing, "b/x-1.tgz": Unverified, "c/x-1.tgz": Drifted}
	if len(r.LeftOut) != len(wantLeft) {
		t.Errorf("left out %+v", r.LeftOut)
	}
	for _, l := range r.LeftOut {
		if wantLeft[l.Key] != l.Reason {
			t.Errorf("%s left out as %q (%s), want %q", l.Key, l.Reason, l.Detail, wantLeft[l.Key])
		}
	}

	deep, err := Build(ctx, s, records, WithPrefix(prefix), WithDeep(true))
	if err != nil {
		t.Fatal(err)
	}
	if got := keysOf(deep.Images); got != "d/x-1.tgz" || !deep.Deep {
		t.Errorf("deep receipt lists %q", got)
	}
	// Its file passes the reader's rules.
	data, err := deep.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(data); err != nil {
		t.Fatalf("built receipt does not parse: %v", err)
	}
}

func keysOf(ims []Image) string {
	var b bytes.Buffer
	for i, im := range ims {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(im.Key)
	}
	return b.String()
}
