package rootfs

import (
	"archive/tar"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Metadata is Concourse's metadata.json, as registry-image-resource writes it.
type Metadata struct {
	Cmd        []string `json:"cmd"`        // null when the config has none
	Entrypoint []string `json:"entrypoint"` // null when the config has none
	Env        []string `json:"env"`        // K=V; null when the config has none
	User       string   `json:"user"`       // the config's user verbatim
}

// MetadataOf returns the metadata of an image config. A nil config gives
// empty metadata.
func MetadataOf(cfg *v1.ConfigFile) Metadata {
	if cfg == nil {
		return Metadata{}
	}
	c := cfg.Config
	return Metadata{Cmd: c.Cmd, Entrypoint: c.Entrypoint, Env: c.Env, User: c.User}
}

func writeMetadata(tw *tar.Writer, md Metadata) error {
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
