package concourse

// Metadata is Concourse's metadata.json, as registry-image-resource writes
// it: the file Concourse reads from the root of a fetched image folder.
type Metadata struct {
	Cmd        []string `json:"cmd"`        // null when the config has none
	Entrypoint []string `json:"entrypoint"` // null when the config has none
	Env        []string `json:"env"`        // K=V; null when the config has none
	User       string   `json:"user"`       // the config's user verbatim
}
