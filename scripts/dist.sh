#!/usr/bin/env bash
# dist.sh: reproducible release files in dist/ (run by `make dist`).
#
# For each platform, a static airlock binary, built so that two builds of
# one commit are byte-identical wherever the checkout lies and whenever it
# is built:
#   CGO_ENABLED=0           static, no C toolchain involved
#   -trimpath               no file system paths in the binary
#   -buildvcs=true          the commit, its time and the modified flag go in
#                           the build info (a git clone; a git worktree gets
#                           none, so the commit is also stamped below)
#   -ldflags "-s -w -buildid= -X main.version=V -X main.commit=C"
#                           no symbol table or build id; the version from
#                           git describe, never from the clock
#   GOFLAGS= GOEXPERIMENT= GOAMD64=v1 GOARM64=v8.0
#                           nothing from the caller's environment
# The same Go toolchain is needed for the same bytes: version --json and the
# SBOMs name it.
#
# Then, beside the binaries:
#   airlock-OS-ARCH[.exe].cdx.json  CycloneDX SBOM of the binary's modules
#                                   (cyclonedx-gomod bin, no serial number
#                                   or timestamp, so it is reproducible too)
#   SHA256SUMS                      sha256sum lines of every file above
#   SHA256SUMS.sig                  with KEY: raw Ed25519 signature over
#                                   SHA256SUMS (airlock sign), checked with
#     openssl pkeyutl -verify -pubin -inkey KEY.pub -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig
#
# Everything is written to a temporary folder beside OUT and moved into place
# at the end: after a failure OUT is as it was and nothing half-written is
# left.
#
# Environment (the Makefile sets them):
#   GO         the go command (default go)
#   OUT        the output folder (default dist)
#   PLATFORMS  GOOS/GOARCH list (default linux/amd64 linux/arm64 darwin/arm64 windows/amd64)
#   CYCLONEDX  the cyclonedx-gomod binary (default .tools/bin/cyclonedx-gomod)
#   KEY        an airlock private key (airlock keygen) to sign SHA256SUMS; optional
set -Eeuo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GO=${GO:-go}
OUT=${OUT:-dist}
PLATFORMS=${PLATFORMS:-linux/amd64 linux/arm64 darwin/arm64 windows/amd64}
CYCLONEDX=${CYCLONEDX:-$ROOT/.tools/bin/cyclonedx-gomod}
KEY=${KEY:-}

die() {
	printf 'dist: error: %s\n' "$*" >&2
	exit 1
}

if [[ -n $KEY ]]; then # a relative KEY is relative to where make ran
	[[ -f $KEY && -r $KEY ]] || die "KEY=$KEY is not a readable file; create a key with airlock keygen -o release"
	KEY=$(cd "$(dirname "$KEY")" && pwd)/$(basename "$KEY")
fi
cd "$ROOT" # OUT is relative to the checkout

command -v git >/dev/null || die "git is not installed; the version comes from git describe"
git rev-parse --git-dir >/dev/null 2>&1 || die "$ROOT is not a git checkout; make dist builds from a clone"
[[ -x $CYCLONEDX ]] || die "$CYCLONEDX is not an executable file; run make $(basename "$CYCLONEDX") or set CYCLONEDX"
if command -v sha256sum >/dev/null; then
	SHA256=(sha256sum)
elif command -v shasum >/dev/null; then
	SHA256=(shasum -a 256)
else
	die "neither sha256sum nor shasum is installed"
fi

VERSION=$(git describe --tags --always --dirty)
COMMIT=$(git rev-parse HEAD)
HOST=$("$GO" env GOHOSTOS)/$("$GO" env GOHOSTARCH)
[[ $VERSION == *-dirty ]] && printf 'dist: warning: the tree has uncommitted changes; the files are not those of commit %s\n' "$COMMIT" >&2

case $(basename "$OUT") in . | .. | /) die "OUT=$OUT is not a folder make dist may replace" ;; esac
if [[ -e $OUT ]]; then # replaced whole below: only an earlier dist
	[[ -d $OUT ]] || die "OUT=$OUT exists and is not a folder; remove it or choose another OUT"
	for f in "$OUT"/* "$OUT"/.[!.]*; do
		[[ -e $f ]] || continue
		case $(basename "$f") in airlock-* | SHA256SUMS | SHA256SUMS.sig) ;; *) die "OUT=$OUT holds $(basename "$f"), which make dist did not write; remove it or choose another OUT" ;; esac
	done
fi

mkdir -p "$(dirname "$OUT")"
TMP=$(mktemp -d "$OUT.partial-XXXXXX")
TMP=$(cd "$TMP" && pwd)
SIGNDIR=''
trap 'rm -rf "$TMP" ${SIGNDIR:+"$SIGNDIR"}' EXIT
trap 'exit 130' INT TERM

# build GOOS/GOARCH FILE
build() {
	local goos=${1%/*} goarch=${1#*/}
	env GOFLAGS= GOEXPERIMENT= CGO_ENABLED=0 GOOS="$goos" GOARCH="$goarch" GOAMD64=v1 GOARM64=v8.0 \
		"$GO" build -trimpath -buildvcs=true \
		-ldflags "-s -w -buildid= -X main.version=$VERSION -X main.commit=$COMMIT" \
		-o "$2" ./cmd/airlock
}

signer=''
files=()
for p in $PLATFORMS; do
	[[ $p =~ ^[a-z0-9]+/[a-z0-9]+$ ]] || die "platform $p is not GOOS/GOARCH"
	name=airlock-${p%/*}-${p#*/}
	[[ ${p%/*} == windows ]] && name+=.exe
	printf 'dist: building %s %s\n' "$name" "$VERSION" >&2
	build "$p" "$TMP/$name"
	"$CYCLONEDX" bin -json -noserial -notimestamp -std -version "$VERSION" -output "$TMP/$name.cdx.json" "$TMP/$name"
	files+=("$name" "$name.cdx.json")
	[[ $p == "$HOST" ]] && signer=$TMP/$name
done
((${#files[@]})) || die "PLATFORMS is empty"

sorted=() # in byte order; no mapfile: macOS has bash 3.2
while IFS= read -r f; do sorted+=("$f"); done < <(printf '%s\n' "${files[@]}" | LC_ALL=C sort)
(cd "$TMP" && "${SHA256[@]}" "${sorted[@]}" >SHA256SUMS)

if [[ -n $KEY ]]; then
	if [[ -z $signer ]]; then # the host is not among PLATFORMS: a signer of its own, outside OUT
		SIGNDIR=$(mktemp -d)
		signer=$SIGNDIR/airlock
		build "$HOST" "$signer"
	fi
	(cd "$TMP" && "$signer" sign --key "$KEY" SHA256SUMS)
fi

rm -rf "$OUT"
mv "$TMP" "$OUT"
printf 'dist: wrote %s:\n' "$OUT" >&2
(cd "$OUT" && ls -l) >&2
