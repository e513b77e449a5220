// Package concourse is airlock's one home for the contract with
// Concourse's S3 resource: what a NAME may be, which versions the resource
// can parse and how it orders them (with go-semi-semantic, the parser the
// resource itself uses, plus airlock's stricter rules), what a key may be
// and how key templates render keys, the regexp that selects a series'
// versions and how the resource applies it, collisions between series,
// and the image_resource snippets for pipelines.
//
// It imports no other airlock package; manifest and source build on it.
// See docs/format.md sections 5 and 7.
package concourse
