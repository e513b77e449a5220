#!/usr/bin/env bash
# bench/members.sh: what gzip members (rootfs.WithMembers, docs/format-v2.md
# section 3) cost against today's single pgzip stream, on a realistic rootfs:
# tgz size at the levels fast, default and best, and write speed, in
# alternated runs of the two writers (BenchmarkMembers in rootfs): median
# wall-clock MB/s and median CPU seconds (steadier on a shared machine).
# Prints a Markdown table; not part of `make bench`. ~10 min on 2 cores.
#
#   bash bench/members.sh [TAR]
#
# TAR is an uncompressed tar of a root filesystem. Without it the script
# makes bench/.work/members/rootfs.tar once: a debootstrap'd Debian bookworm
# minbase (as bench/corpus.sh) when debootstrap works, else a tar of this
# Debian host's /etc and parts of /usr (docs, man pages, locales, headers,
# Perl, libraries; ~590 MB, ~48k entries).
#
# Environment:
#   MEMBERS_COUNT=3      alternated runs of each level and writer
#   MEMBERS_LEVELS=fast|default|best   the levels (a regexp over the names)
#   AIRLOCK_MEMBERS_SIZES=MIN,SCALE,MAX,PIECE  other cut thresholds to try (bytes)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
WORK=$HERE/.work/members
COUNT=${MEMBERS_COUNT:-3}
LEVELS=${MEMBERS_LEVELS:-fast|default|best}
mkdir -p "$WORK"

log() { printf 'members: %s\n' "$*" >&2; }

corpus() {
	local tar=$WORK/rootfs.tar root=$WORK/root mirror
	if [[ -f $tar ]]; then
		echo "$tar"
		return
	fi
	if command -v debootstrap >/dev/null; then
		mirror=$(grep -h -m1 -o 'https\?://[^ ]*/debian/\?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 || true)
		log "debootstrap --variant=minbase bookworm (~35 s)"
		if debootstrap --variant=minbase bookworm "$root" "${mirror:-http://deb.debian.org/debian}" >"$WORK/debootstrap.log" 2>&1; then
			tar --numeric-owner --sort=name -C "$root" -cf "$tar.tmp" .
			rm -rf "$root"
			mv "$tar.tmp" "$tar"
			echo "$tar"
			return
		fi
		log "debootstrap failed (see $WORK/debootstrap.log); using this host's files"
		rm -rf "$root"
	fi
	(cd / && tar --numeric-owner --sort=name -cf "$tar.tmp" etc usr/sbin usr/share/doc usr/share/man \
		usr/share/perl usr/share/perl5 usr/share/zoneinfo usr/share/locale usr/include \
		usr/lib/x86_64-linux-gnu/perl* usr/lib/x86_64-linux-gnu/gconv usr/lib/x86_64-linux-gnu/lib[a-f]* 2>/dev/null) || true
	mv "$tar.tmp" "$tar"
	echo "$tar"
}

TAR=${1:-$(corpus)}
[[ -f $TAR ]] || { log "no tar at $TAR"; exit 1; }
log "corpus $TAR ($(du -h "$TAR" | cut -f1), $(tar -tf "$TAR" | wc -l) entries)"
(cd "$ROOT" && go test -c -o "$WORK/rootfs.test" ./rootfs)
log "running BenchmarkMembers, $COUNT alternated runs per level"
# -test.count repeats each sub-benchmark back to back; one process per round
# alternates the writers and levels instead.
: >"$WORK/raw.txt"
for ((i = 1; i <= COUNT; i++)); do
	AIRLOCK_MEMBERS_TAR=$TAR "$WORK/rootfs.test" -test.run '^$' -test.bench "BenchmarkMembers/level=($LEVELS)/" \
		-test.benchtime 1x | tee -a "$WORK/raw.txt" >&2
done

# One row per level: sizes (the same every run: deterministic) and median speeds.
awk '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
/^BenchmarkMembers\// {
	split($1, p, "/"); level = substr(p[2], 7); mode = p[3]; sub(/-[0-9]+$/, "", mode)
	for (i = 2; i <= NF; i++) {
		if ($i == "MB/s") speed[level, mode] = speed[level, mode] " " $(i - 1)
		if ($i == "cpu-s/op") cpu[level, mode] = cpu[level, mode] " " $(i - 1)
		if ($i == "tgz-bytes") size[level, mode] = $(i - 1)
		if ($i == "members") members[level] = $(i - 1)
	}
	if (!(level in seen)) { seen[level] = 1; order[++nl] = level }
}
END {
	print "| level | single stream, bytes | members, bytes | members | size change | stream MB/s | members MB/s | speed ratio | stream CPU s | members CPU s | CPU ratio |"
	print "|---|---|---|---|---|---|---|---|---|---|---|"
	for (k = 1; k <= nl; k++) {
		l = order[k]; s = size[l, "stream"]; m = size[l, "members"]
		vs = median(speed[l, "stream"]); vm = median(speed[l, "members"])
		cs = median(cpu[l, "stream"]); cm = median(cpu[l, "members"])
		printf "| %s | %d | %d | %d | %+.3f%% | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f |\n", l, s, m, members[l], 100 * (m - s) / s, vs, vm, vm / vs, cs, cm, (cs > 0 ? cm / cs : 0)
	}
}' "$WORK/raw.txt"
