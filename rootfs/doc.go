// Package rootfs turns a container image into the rootfs tarball Concourse
// runs tasks in: a gzip'd tar holding metadata.json and rootfs/, the
// image's flattened filesystem, as the S3 resource unpacks it with
// `params: {unpack: true}` (gunzip, then GNU tar as root without --xattrs,
// in an unprivileged container).
//
// Layout of the tar, in order:
//
//	metadata.json    Concourse's image metadata (see [concourse.Metadata])
//	rootfs/          directory, 0755
//	rootfs/...       every file of the flattened image
//
// What [Write] changes on the way so the tar unpacks cleanly and the same
// way everywhere:
//   - device nodes, FIFOs and everything under /dev are left out (an empty
//     rootfs/dev directory stays); an unprivileged container cannot create them
//   - uname/gname are cleared so GNU tar keeps numeric uid/gid instead of
//     mapping names through the unpacking host's /etc/passwd
//   - xattrs and other PAX records are dropped (GNU tar ignores them without
//     --xattrs); long names still use PAX
//   - hardlinks always point at an earlier entry; a hardlink whose target an
//     upper layer deleted or replaced becomes a copy of the target as it was
//     in the link's layer
//   - layers apply by path, never through symlinks; no entry lies beneath a
//     symlink or another non-directory: of two such entries the first in
//     flattening order (top layer first) stays, the other is left out and
//     reported through [WithWarning] (docs/format.md section 7)
//
// Symlink targets, numeric ownership, mode bits (setuid, setgid, sticky) and
// file modification times are kept.
//
// While it writes, Write lints the flattened image for what fails or
// misbehaves in a Concourse task (owners above 65535, metadata.json's user
// missing from /etc/passwd, file capabilities, setuid files, very large
// images) and reports it once through [WithLint]; see [Lint] and
// docs/format.md section 5. Output is deterministic: the same image
// and options give the same bytes; [FormatVersion] changes whenever that
// output changes for the same input.
//
// By default the tar is compressed as one pgzip stream. With [WithMembers]
// the same tar is cut at content-defined entry boundaries into runs, each
// compressed as a gzip member of its own and reported with its offset, size
// and SHA-256, so that images sharing files share members: the draft of
// bundle format 2, docs/format-v2.md section 3. The file is still an
// ordinary tgz. With [WithMemberSource] as well, a run whose member an
// earlier conversion made (another image on the same base) is copied from
// there instead of compressed again; the bytes are the same.
package rootfs
