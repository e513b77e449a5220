// Package imagetest builds container images, indexes and an in-process
// registry for tests.
//
// Layers are described as data ([File] values) so a test reads like the
// filesystem it exercises. [EdgeCase] is a ready-made image covering the
// awkward corners of layer flattening (whiteouts, opaque directories,
// hardlinks across layers, device nodes, setuid bits, long names) that
// every package turning images into files should be tested against.
package imagetest
