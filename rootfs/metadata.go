package rootfs

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/airlockhq/airlock/concourse"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// MetadataOf returns the metadata of an image config. A nil config gives
// empty metadata.
func MetadataOf(cfg *v1.ConfigFile) concourse.Metadata {
	if cfg == nil {
		return concourse.Metadata{}
	}
	c := cfg.Config
	return concourse.Metadata{Cmd: c.Cmd, Entrypoint: c.Entrypoint, Env: c.Env, User: c.User}
}

func writeMetadata(tw *tar.Writer, md concourse.Metadata) error {
	b, err := json.Marshal(md)
	if err != nil {
		return fmt.Errorf("encoding metadata.json: %w", err)
	}
	b = append(b, '\n')
	hdr := ownHeader("metadata.json", tar.TypeReg, 0o644)
	hdr.Size = int64(len(b))
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("writing metadata.json: %w", err)
	}
	if _, err := tw.Write(b); err != nil {
		return fmt.Errorf("writing metadata.json: %w", err)
	}
	return nil
}

// maxMetadata bounds the metadata.json ReadMetadata accepts.
const maxMetadata = 1 << 20

// ReadMetadata returns the metadata.json of a rootfs tgz that Write wrote:
// its first entry. It reads no further than that entry, so it costs a few
// KiB of inflating whatever the tgz's size. It proves nothing about the
// rest of the tgz; the caller checks the whole file's sha256.
func ReadMetadata(r io.Reader) (concourse.Metadata, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return concourse.Metadata{}, fmt.Errorf("reading metadata.json: %w", err)
	}
	tr := tar.NewReader(zr)
	hdr, err := tr.Next()
	if err != nil {
		return concourse.Metadata{}, fmt.Errorf("reading metadata.json: %w", err)
	}
	if hdr.Name != "metadata.json" || hdr.Typeflag != tar.TypeReg || hdr.Size > maxMetadata {
		return concourse.Metadata{}, errors.New("reading metadata.json: the tgz does not start with it")
	}
	var md concourse.Metadata
	b, err := io.ReadAll(tr)
	if err == nil {
		err = json.Unmarshal(b, &md)
	}
	if err != nil {
		return concourse.Metadata{}, fmt.Errorf("reading metadata.json: %w", err)
	}
	return md, nil
}
