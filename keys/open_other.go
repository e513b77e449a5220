//go:build !unix

package keys

const openFlags = 0
