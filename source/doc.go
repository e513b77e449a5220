// Package source decides what airlock exports: it parses image lists and
// command-line arguments into Requests, derives the NAME and VERSION that
// become the Concourse S3 key NAME/NAME-VERSION.tgz, renders keys and
// regexps with a concourse.KeyTemplate, and resolves every request against
// its registry into Targets, one per requested platform.
//
// Everything that can be checked offline (reference syntax, names,
// versions, keys, duplicates) is checked by Resolve before any network
// access; it then fetches all descriptors and reports every broken
// reference at once, so a bad line fails the run before anything is
// written.
//
// A Client is the one way airlock reaches registries: Client.Resolve uses
// it, the images it returns read their layers through it, and
// Client.RemoteOptions hands it to what else talks to registries (the
// signature checks of package provenance).
//
// Names, versions and keys follow the rules of package concourse (see
// concourse.ValidateVersion): one invalid version in a folder makes the
// resource panic for every pipeline that uses it, so airlock refuses to
// produce one. The package never prints; warnings are returned as data
// (see Collisions). See docs/format.md for the key layout.
package source
