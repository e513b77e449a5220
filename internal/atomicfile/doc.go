// Package atomicfile writes files that readers see either whole or not at
// all: data goes to a temporary file in the destination's folder, which is
// fsynced and renamed into place, and the folder is fsynced after. Commit
// replaces what is at the destination; CommitNoReplace never does, so two
// runs writing the same name cannot silently lose one's output.
package atomicfile
