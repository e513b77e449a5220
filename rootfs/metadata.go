package rootfs

import (
	"archive/tar"
	"encoding/json"
	"fmt"

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
