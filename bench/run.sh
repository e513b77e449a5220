#!/usr/bin/env bash
# bench/run.sh: airlock side by side with the tools users would otherwise
# use and with the bare pipeline that bounds it; writes BENCHMARKS.md. Run
# through `make bench`, which builds bin/airlock and the pinned crane, mc and
# minio first (the full run takes ~15 min on 2 CPUs; keep it under 20).
#
#   TOOLS=.tools/bin AIRLOCK=bin/airlock bash bench/run.sh
#
# Environment:
#   BENCH_REPS=5       alternated runs of the small side-by-side jobs (one-image
#                      exports of the Debian images, verify, part check, repair, import)
#   BENCH_REPS_BIG=3   alternated runs of the big ones (golang:bookworm export,
#                      10 images vs limit, cores, parity); 50 images vs limit is
#                      always one alternated pair
#   BENCH_REPS_CODEC=2 alternated runs per compression level (level 9 takes ~15 s
#                      a side on golang:bookworm)
#   BENCH_ONLY=LIST    comma-separated sections to run, e.g. BENCH_ONLY=export or
#                      BENCH_ONLY=codec,cores; sections: export (one image vs peer
#                      and vs limit), scale (1/10/50 images, vs limit), codec
#                      (--compression levels), cores (GOMAXPROCS 1 vs 2), verify,
#                      parts (parity, part check, repair), import (vs mc and aws),
#                      delta (weekly refresh), objects (import, audit and
#                      inventory of 1,000 and 10,000 small objects; ~3 min),
#                      profiles (perf), shared (50 images on one base, --format 1
#                      vs 2, with import and a weekly refresh, then 50 distinct
#                      images, ~20 min; part of the full run; also
#                      `bash bench/run.sh shared` alone, see bench/shared.sh). verify, parts,
#                      import and profiles first export the 1/10/50-image bundles
#                      they read when scale did not run (untimed, ~2 min).
#                      A partial run writes bench/.work/report.md, not BENCHMARKS.md.
#                      BENCH_ONLY=report writes BENCHMARKS.md again from the last
#                      full run's results (after editing bench/findings.md).
#   BENCH_SMALL=1      a small generated base image (bench/.corpus-small/, no
#                      debootstrap) in place of the corpus: every image is it
#                      or its variants; for trying the script, not for numbers
#   BENCH_PROFILE=0    skip the perf profiles
#   BENCH_OUT=FILE     report path (default BENCHMARKS.md at the repository root,
#                      bench/.work/report.md for partial or small runs)
#   BENCH_KEEP=1       keep the bundles and MinIO data in bench/.work/ (several GB)
#
# The "limit" in the export rows is `benchtool pipeline`: the bare pure-Go
# pipeline over the image's layer blobs, fetched into bench/.work/blobs/
# before timing (gunzip → tar → rootfs/ names → pgzip → SHA-256 → file,
# fsync), with airlock's -j for several images; see bench/benchtool. The
# distinct images of the shared section also run it with -verify, which
# checks each blob's SHA-256 against its digest as it reads it, as
# airlock's registry client must.
#
# Everything lives in git-ignored folders: the corpus's layer tarballs in
# bench/.corpus/ (built once, ~1 min), the run's registry, MinIO, bundles
# and logs in bench/.work/ (wiped at the start of every run).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
: "${TOOLS:?set TOOLS to the folder holding crane, mc and minio}"
: "${AIRLOCK:?set AIRLOCK to the airlock binary}"
TOOLS=$(cd "$TOOLS" && pwd)
REPS=${BENCH_REPS:-5}
REPS_BIG=${BENCH_REPS_BIG:-3}
REPS_CODEC=${BENCH_REPS_CODEC:-2}
PROFILE=${BENCH_PROFILE:-1}
ONLY=${BENCH_ONLY:-}
SMALL=${BENCH_SMALL:-0}
if [[ (-n $ONLY && $ONLY != report) || $SMALL == 1 ]]; then
	OUT=${BENCH_OUT:-$HERE/.work/report.md}
else
	OUT=${BENCH_OUT:-$ROOT/BENCHMARKS.md}
fi
CORPUS=$HERE/.corpus
AWS=/usr/bin/aws # Debian's awscli (v2); a pyenv shim of another version may come first on PATH
W=$HERE/.work
RES=$W/results.tsv
export TOOLS AIRLOCK

log() { printf 'bench: %s\n' "$*" >&2; }
die() {
	printf 'bench: error: %s\n' "$*" >&2
	exit 1
}

# shellcheck source=bench/corpus.sh
source "$HERE/corpus.sh"
# shellcheck source=bench/shared.sh
source "$HERE/shared.sh"

# --- prerequisites ----------------------------------------------------------

need_packages() {
	local missing=() p
	command -v debootstrap >/dev/null || missing+=(debootstrap)
	command -v pigz >/dev/null || missing+=(pigz)
	command -v jq >/dev/null || missing+=(jq)
	[[ -x /usr/bin/time ]] || missing+=(time)
	[[ -x $AWS ]] || missing+=(awscli)
	((${#missing[@]} == 0)) && return
	log "installing ${missing[*]}"
	if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then
		die "missing ${missing[*]}; install them (Debian: apt-get install -y ${missing[*]})"
	fi
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
	for p in pigz jq; do command -v $p >/dev/null || die "could not install $p"; done
	[[ -x /usr/bin/time ]] || die "could not install time"
	[[ -x $AWS ]] || die "could not install awscli ($AWS)"
}

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
}

wait_http() { # URL NAME
	local i
	for i in $(seq 1 100); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return
		sleep 0.1
	done
	die "$2 did not come up at $1"
}

PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT

# --- measuring --------------------------------------------------------------

info() { printf 'I\t%s\t%s\n' "$1" "$2" >>"$RES"; }

# timed JOB TOOL REP CMD...: runs CMD under /usr/bin/time, records its wall
# time and the peak RSS of its largest process.
timed() {
	local job=$1 tool=$2 rep=$3 t0 t1 rc=0
	shift 3
	local lg=$W/logs/$job.$tool.$rep
	t0=$(date +%s%N)
	/usr/bin/time -f '%M' -o "$lg.time" "$@" >"$lg.out" 2>"$lg.err" || rc=$?
	t1=$(date +%s%N)
	((rc == 0)) || die "$job: $tool (run $rep) failed with exit code $rc; see $lg.err: $(tail -3 "$lg.err")"
	printf 'S\t%s\t%s\t%s\t%s\t%s\n' "$job" "$tool" "$rep" \
		"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", (b - a) / 1e9 }')" "$(tail -1 "$lg.time")" >>"$RES"
}

# phases: the "Phases" section (bench/.work/phases.md) from the scale
# runs' bundle_watch times, the limit's runs and this disk's sustained
# write speed.
phases() {
	[[ -s $W/tmp/phases.tsv ]] || return 0
	local mbs
	log "phases: the disk's sustained write speed (dd, 4 GB, fsync)"
	mbs=$(dd if=/dev/zero of="$W/tmp/dd" bs=1M count=4000 conv=fsync 2>&1 |
		awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s,") { printf "%.0f", 4194304000 / $(i - 1) / 1e6 } }')
	rm -f "$W/tmp/dd"
	{
		printf '\n## Phases: where the multi-image exports spend their time\n\n'
		printf 'Each airlock run of the scale table split where the bundle file starts (polled every\n'
		printf '0.05 s): before it, every image is converted into the staging cache; after it, the\n'
		printf 'bundle is written. The signed manifest, which holds every payload'"'"'s size and SHA-256,\n'
		printf 'leads the bundle, so no byte of it can be written earlier. Converting ÷ limit: the\n'
		printf 'limit'"'"'s median for the same images over the converting time. This disk sustains\n'
		printf '%s MB/s of writes (`dd bs=1M count=4000 conv=fsync`).\n\n' "$mbs"
		printf '| images | run | total | converting | converting ÷ limit | writing the bundle | bundle | written at |\n'
		printf '|---|---|---|---|---|---|---|---|\n'
		awk -F'\t' '
			function median(s, a, n, i, j, t) {
				n = split(s, a, " ")
				for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
				return n ? (n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2) : 0
			}
			FNR == 1 { f++ }
			f == 1 && $1 == "S" && $3 == "limit" { lim[$2] = lim[$2] " " $5 }
			f == 1 && $1 == "I" && $2 ~ /^bundle\./ { b[substr($2, 8)] = $3 }
			f == 2 {
				m = median(lim[$1])
				conv = $3 / 1000; write = ($4 - $3) / 1000
				printf "| %s | %s | %.1f s | %.1f s | %s | %.1f s | %.2f GB | %s |\n", substr($1, 7), $2, $4 / 1000, conv,
					(m ? sprintf("%.0f%%", 100 * m / conv) : "—"), write, b[$1] / 1e9,
					(write > 0 ? sprintf("%.0f MB/s", b[$1] / 1e6 / write) : "—")
			}' "$RES" "$W/tmp/phases.tsv"
	} >"$W/phases.md"
}

# bundle_watch DIR FILE: writes into FILE the time (date +%s%N) at which a
# bundle file being written (a non-empty .airlock-*.partial) first shows in
# DIR, polling every 0.05 s until killed; the export's conversions are over
# by then (the signed manifest leads the bundle).
bundle_watch() {
	while :; do
		if [[ -n $(find "$1" -maxdepth 1 -name '.airlock-*.partial' -size +0 -print -quit 2>/dev/null) ]]; then
			date +%s%N >"$2"
			return
		fi
		sleep 0.05
	done
}

# staging_watch DIR FILE: records the largest `du` of DIR into FILE every
# 0.5 s until killed.
staging_watch() {
	local dir=$1 file=$2 peak=0 s
	while :; do
		s=$(du -sb "$dir" 2>/dev/null | cut -f1) || s=0
		((${s:-0} > peak)) && peak=$s && echo "$peak" >"$file"
		sleep 0.5
	done
}

size_of() { stat -c %s "$1"; }

# --- the peers --------------------------------------------------------------

# peer_export IMAGE OUT.tgz DIR: what users do without airlock: flatten with
# crane, write metadata.json from the config, tar and pigz it.
peer_export() {
	local img=$1 out=$2 d=$3
	mkdir -p "$d/rootfs"
	"$TOOLS/crane" export "$img" - | tar -x -C "$d/rootfs"
	"$TOOLS/crane" config "$img" |
		jq '{env: (.config.Env // []), user: (.config.User // ""), cmd: .config.Cmd, entrypoint: .config.Entrypoint}' >"$d/metadata.json"
	tar -C "$d" -cf - metadata.json rootfs | pigz -p2 -6 >"$out"
}

# peer_verify BUNDLE DIR: the documented standard-tools check.
peer_verify() {
	mkdir -p "$2"
	tar -xf "$1" -C "$2"
	cd "$2" && sha256sum --strict --quiet -c SHA256SUMS
}
export -f peer_export peer_verify

# --- main -------------------------------------------------------------------

# want SECTION: whether BENCH_ONLY (empty: everything) names SECTION.
want() { [[ -z $ONLY || ,$ONLY, == *",$1,"* ]]; }

# section NAME FUNC ARGS...: runs FUNC when NAME is wanted and notes how long
# it took for the runtime line.
SECTIONS=()
section() {
	local name=$1 t0=$SECONDS
	shift
	want "$name" || return 0
	log "== $name"
	"$@"
	SECTIONS+=("$name $((SECONDS - t0)) s")
}

# rereport: BENCH_ONLY=report; the report again from the last full run's
# results (bench/.work/results.tsv), e.g. after editing bench/findings.md.
rereport() {
	[[ -s $RES && -x $W/benchtool ]] || die "no results of a full run in $W; run make bench first"
	"$W/benchtool" report "$RES" >"$W/report.md"
	[[ -f $W/phases.md ]] && cat "$W/phases.md" >>"$W/report.md"
	[[ -f $W/objects.md ]] && cat "$W/objects.md" >>"$W/report.md"
	[[ -f $W/profiles.md ]] && cat "$W/profiles.md" >>"$W/report.md"
	[[ -f $W/shared.md ]] && cat "$W/shared.md" >>"$W/report.md"
	{
		echo
		cat "$HERE/findings.md"
	} >>"$W/report.md"
	cp "$W/report.md" "$OUT"
	log "wrote $OUT from $RES"
}

# bench_setup: a fresh $W with its folders and results file, benchtool
# built ($BT), airlock export's default -j ($AJ) and the flags of every
# export ($XF).
bench_setup() {
	rm -rf "$W"
	mkdir -p "$W/logs" "$W/out" "$W/cache" "$W/tmp" "$W/registry" "$W/blobs"
	: >"$RES"
	log "building bench/benchtool"
	(cd "$ROOT" && go build -o "$W/benchtool" ./bench/benchtool) || die "building bench/benchtool failed"
	BT=$W/benchtool
	EXPORT_HELP=$("$AIRLOCK" export --help 2>&1) || die "airlock export --help failed: $EXPORT_HELP"
	AJ=$(sed -n 's/.*--jobs int.*(default \([0-9][0-9]*\)).*/\1/p' <<<"$EXPORT_HELP" | head -1)
	[[ -n $AJ ]] || die "could not read airlock export's default --jobs from its --help"
	# Flags of every airlock export: the registry is plain HTTP, and the
	# corpus's tags (bookworm, v001) do not start with a number.
	XF=(--insecure)
	if grep -q -- --allow-floating-versions <<<"$EXPORT_HELP"; then
		XF+=(--allow-floating-versions)
	fi
}

# start_registry: the corpus built (or the small one with BENCH_SMALL=1)
# and a registry serving from $W/registry at $REG; nothing pushed yet.
start_registry() {
	if [[ $SMALL == 1 ]]; then
		CORPUS=$HERE/.corpus-small
		corpus_small
	else
		corpus_build
	fi
	local rport
	rport=$(free_port)
	REG=127.0.0.1:$rport
	"$TOOLS/crane" registry serve --address "$REG" --disk "$W/registry" >"$W/logs/registry.log" 2>&1 &
	PIDS+=($!)
	wait_http "http://$REG/v2/" registry
}

main() {
	local start=$SECONDS s
	if [[ $ONLY == report ]]; then
		rereport
		return
	fi
	for s in ${ONLY//,/ }; do
		case $s in
		export | scale | codec | cores | verify | parts | import | delta | objects | profiles | shared) ;;
		*) die "BENCH_ONLY: unknown section $s (pick from export, scale, codec, cores, verify, parts, import, delta, objects, profiles, shared)" ;;
		esac
	done
	need_packages
	[[ -x $AIRLOCK ]] || die "no airlock binary at $AIRLOCK (make build)"
	for t in crane mc minio; do [[ -x $TOOLS/$t ]] || die "no $t in $TOOLS (make bench installs it)"; done
	bench_setup
	start_registry
	log "pushing the corpus images to $REG"
	if [[ $SMALL == 1 ]]; then
		corpus_push_small "$REG"
		EXPORT_IMAGES=(small:base)
		BIG=small:base
		BASE=small:base
	else
		corpus_push "$REG"
		EXPORT_IMAGES=(debian:bookworm debian:bookworm-slim golang:bookworm)
		BIG=golang:bookworm
		BASE=debian:bookworm
	fi
	corpus_push_variants "$REG" "$BASE" scale 50 2>"$W/logs/push.log" ||
		die "pushing the scale variants failed; see $W/logs/push.log"
	"$AIRLOCK" keygen -o "$W/release" >/dev/null 2>&1 || die "airlock keygen failed"
	describe
	SECTIONS=("setup $((SECONDS - start)) s")

	section export export_jobs
	section scale scale_jobs
	section codec codec_jobs
	section cores cores_jobs
	section verify verify_jobs
	section parts parts_jobs
	if "$AIRLOCK" import --help >/dev/null 2>&1; then
		section import import_jobs
	else
		log "airlock has no import command yet; its rows stay 'not yet measured'"
	fi
	if "$AIRLOCK" inventory --help >/dev/null 2>&1; then
		section delta delta_jobs scale
		section objects objects_jobs
	fi
	if [[ $PROFILE == 1 ]] && command -v perf >/dev/null; then
		section profiles profiles
	fi
	section shared shared_jobs
	info notes "$(notes)"
	local total=$((SECONDS - start))
	info runtime "$total s ($((total / 60)) min $((total % 60)) s) for the measurements: $(
		IFS=,
		echo "${SECTIONS[*]}" | sed 's/,/, /g'
	); target < 20 min for the whole \`make bench\`"
	"$BT" report "$RES" >"$W/report.md"
	if [[ -f $W/phases.md ]]; then
		cat "$W/phases.md" >>"$W/report.md"
	fi
	if [[ -f $W/objects.md ]]; then
		cat "$W/objects.md" >>"$W/report.md"
	fi
	if [[ -f $W/profiles.md ]]; then
		cat "$W/profiles.md" >>"$W/report.md"
	fi
	if [[ -f $W/shared.md ]]; then
		cat "$W/shared.md" >>"$W/report.md"
	fi
	if [[ -f $HERE/findings.md && -z $ONLY && $SMALL != 1 ]]; then
		{
			echo
			cat "$HERE/findings.md"
		} >>"$W/report.md"
	fi
	[[ $OUT -ef $W/report.md ]] || cp "$W/report.md" "$OUT"
	cat "$W/report.md"
	cleanup # stop the registry and MinIO before removing their data
	PIDS=()
	if [[ ${BENCH_KEEP:-0} != 1 ]]; then
		rm -rf "$W/out" "$W/minio" "$W/registry" "$W/cache" "$W/blobs"
	fi
	log "wrote $OUT in $((SECONDS - start)) s"
}

describe() {
	local model cpus mem rev
	model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
	cpus=$(grep -c '^processor' /proc/cpuinfo)
	mem=$(awk '/MemTotal/ { printf "%.0f GB", $2 / 1024 / 1024 }' /proc/meminfo)
	rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
	if [[ -n $(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null) || -n $(git -C "$ROOT" ls-files --others --exclude-standard 2>/dev/null | head -1) ]]; then
		rev="$rev (with uncommitted changes)"
	fi
	info date "$(date -u '+%Y-%m-%d %H:%M UTC')"
	info machine "$cpus CPUs, $model, $mem RAM, $(uname -sr)"
	info revision "$rev; $("$AIRLOCK" --version 2>/dev/null | head -1)"
	info corpus "$(cat "$CORPUS/description")"
	info peers "crane $(modversion crane), mc $(modversion mc), minio $(modversion minio), $("$AWS" --version 2>&1 | cut -d' ' -f1), pigz $(pigz --version 2>&1 | cut -d' ' -f2), $(tar --version | head -1), $(sha256sum --version | head -1)"
	info method "$REPS alternated runs per small side-by-side job, $REPS_BIG per big one, $REPS_CODEC per compression level (order reversed on even runs), warm page cache, registry (crane, --disk) and MinIO on this machine; airlock with default -j ($AJ); a fresh staging cache per export run; the limit pipeline over layer blobs fetched to disk beforehand, -j $AJ"
	if [[ -n $ONLY || $SMALL == 1 ]]; then
		info scope "partial run: BENCH_ONLY=${ONLY:-(all)}$([[ $SMALL == 1 ]] && echo ' BENCH_SMALL=1')"
	fi
}

# modversion TOOL: the module version a go-installed tool was built from.
modversion() { go version -m "$TOOLS/$1" 2>/dev/null | awk '$1 == "mod" { print $3 }'; }

# payload_size BUNDLE: the bytes of its images/ entries (the tgz files).
payload_size() { tar -tvf "$1" | awk '$6 ~ /^images\// { s += $3 } END { printf "%.0f\n", s }'; }

# blobs_of IMAGE: the paths of IMAGE's layer blobs, comma-separated, top
# layer first (the order airlock reads them), fetched into $W/blobs/ once.
blobs_of() {
	local img=$1 d paths=()
	while read -r d; do
		[[ $d =~ ^sha256:[0-9a-f]{64}$ ]] || die "$img: unexpected layer digest '$d'"
		if [[ ! -s $W/blobs/${d#sha256:} ]]; then
			"$TOOLS/crane" blob --insecure "${img%:*}@$d" >"$W/blobs/${d#sha256:}.tmp" ||
				die "$img: could not fetch layer $d"
			mv "$W/blobs/${d#sha256:}.tmp" "$W/blobs/${d#sha256:}"
		fi
		paths+=("$W/blobs/${d#sha256:}")
	done < <("$TOOLS/crane" manifest --insecure "$img" | jq -r '.layers[].digest' | tac)
	((${#paths[@]} > 0)) || die "$img: no layers"
	(
		IFS=,
		echo "${paths[*]}"
	)
}

# limit JOB TOOL REP LEVEL LAYERS...: one timed run of the limit pipeline
# (one LAYERS argument per image); its output total line goes to
# $W/tmp/limit.total. With LIMIT_VERIFY=1, the pipeline also checks each
# blob's digest as it reads it (benchtool pipeline -verify).
limit() {
	local job=$1 tool=$2 rep=$3 level=$4
	shift 4
	rm -rf "$W/out/limit"
	timed "$job" "$tool" "$rep" "$BT" pipeline -level "$level" -j "$AJ" ${LIMIT_VERIFY:+-verify} ${LIMIT_PULL:+-pull} -o "$W/out/limit" "$@"
	tail -1 "$W/logs/$job.$tool.$rep.out" >"$W/tmp/limit.total"
	rm -rf "$W/out/limit"
}

# limit_tgz: the compressed bytes of the last limit run.
limit_tgz() { awk '{ print $3 }' "$W/tmp/limit.total"; }

# export_one JOB TOOL REP IMAGE [FLAGS...]: one timed airlock export of
# IMAGE with a cold staging cache into $W/out/JOB.tar.
export_one() {
	local job=$1 tool=$2 rep=$3 img=$4
	shift 4
	rm -rf "$W/cache/$job" "$W/out/$job.tar"
	timed "$job" "$tool" "$rep" "$AIRLOCK" export "$REG/$img" "${XF[@]}" \
		--key "$W/release.key" -o "$W/out/$job" --cache-dir "$W/cache/$job" "$@"
	rm -rf "$W/cache/$job"
}

# export_jobs: one image at a time, cold staging cache, airlock vs the
# crane + tar + pigz pipeline vs the limit pipeline over its layer blobs.
export_jobs() {
	local img job rep order tool reps layers n
	for img in "${EXPORT_IMAGES[@]}"; do
		job=export-${img//[:]/-}
		layers=$(blobs_of "$REG/$img")
		reps=$REPS
		[[ $img == "$BIG" && $SMALL != 1 ]] && reps=$REPS_BIG
		log "$job: $reps alternated runs"
		for rep in $(seq 1 "$reps"); do
			order="airlock peer limit"
			((rep % 2 == 0)) && order="limit peer airlock"
			for tool in $order; do
				case $tool in
				airlock) export_one "$job" airlock "$rep" "$img" ;;
				peer)
					rm -rf "$W/tmp/peer"
					timed "$job" peer "$rep" bash -c 'peer_export "$@"' _ "$REG/$img" "$W/out/$job.peer.tgz" "$W/tmp/peer"
					rm -rf "$W/tmp/peer"
					;;
				limit) limit "$job" limit "$rep" -1 "$layers" ;;
				esac
			done
		done
		info "bytes.$job" "$("$BT" flatsize "$W/out/$job.tar")"
		info "tgz.$job" "$(payload_size "$W/out/$job.tar")"
		info "limittgz.$job" "$(limit_tgz)"
		info "peertgz.$job" "$(size_of "$W/out/$job.peer.tgz")"
		printf 'R\texport one image: %s\t%s\tairlock\tpeer\t2.5\tbytes.%s\tcrane export | tar -x, metadata.json, tar | pigz -p2 -6\n' \
			"$(image_label "$img")" "$job" "$job" >>"$RES"
		n=$(tr , '\n' <<<"$layers" | wc -l)
		printf 'R\texport %s, vs limit\t%s\tairlock\tlimit\t0.85\tbytes.%s\tlimit pipeline over its %s layer blob%s\n' \
			"$img" "$job" "$job" "$n" "$( ((n == 1)) || echo s)" >>"$RES"
	done
}

# scale_jobs: export of 1, 10 and 50 images (the base plus one distinct tiny
# layer each), cold staging cache, watching its disk use; 10 and 50 images
# alternated with the limit pipeline over the same images' blobs.
scale_jobs() {
	local n job list watcher bwatcher t0 t1 flat reps rep order tool img layers
	for n in 1 10 50; do
		job=scale-$n
		list=$W/tmp/$job.txt
		seq -f "$REG/scale:v%03g" 1 "$n" >"$list"
		layers=()
		reps=1
		if ((n > 1)); then
			while read -r img; do layers+=("$(blobs_of "$img")"); done <"$list"
			((n == 10)) && reps=$REPS_BIG
		fi
		log "$job: export of $n images, $reps run(s)"
		for rep in $(seq 1 "$reps"); do
			order="airlock limit"
			((rep % 2 == 0)) && order="limit airlock"
			((n == 1)) && order=airlock # the export rows hold one image vs the limit
			for tool in $order; do
				case $tool in
				airlock)
					rm -rf "$W/cache/$job" "$W/out/$job.tar"
					mkdir -p "$W/cache/$job"
					staging_watch "$W/cache/$job" "$W/tmp/$job.peak" &
					watcher=$!
					rm -f "$W/tmp/$job.writing"
					bundle_watch "$W/out" "$W/tmp/$job.writing" &
					bwatcher=$!
					t0=$(date +%s%N)
					timed "$job" airlock "$rep" "$AIRLOCK" export -f "$list" "${XF[@]}" \
						--key "$W/release.key" -o "$W/out/$job" --cache-dir "$W/cache/$job"
					t1=$(date +%s%N)
					kill "$watcher" "$bwatcher" 2>/dev/null
					wait "$watcher" "$bwatcher" 2>/dev/null || true
					if [[ -s $W/tmp/$job.writing ]]; then
						printf '%s\t%s\t%s\t%s\n' "$job" "$rep" "$(((($(cat "$W/tmp/$job.writing") - t0)) / 1000000))" \
							"$(((t1 - t0) / 1000000))" >>"$W/tmp/phases.tsv"
					fi
					info "staging.$job" "$(du -sb "$W/cache/$job" | cut -f1)"
					info "stagingpeak.$job" "$(cat "$W/tmp/$job.peak" 2>/dev/null || echo 0)"
					rm -rf "$W/cache/$job" "$W/tmp/$job.peak"
					;;
				limit) limit "$job" limit "$rep" -1 "${layers[@]}" ;;
				esac
			done
		done
		((n == 1)) && flat=$("$BT" flatsize "$W/out/$job.tar")
		info "images.$job" "$n"
		info "bundle.$job" "$(size_of "$W/out/$job.tar")"
		info "bytes.$job" "$((flat * n))"
		if ((n > 1)); then
			printf 'R\texport %d images, vs limit\t%s\tairlock\tlimit\t0.9\tbytes.%s\tlimit pipeline over their layer blobs, -j %s\n' \
				"$n" "$job" "$job" "$AJ" >>"$RES"
		fi
	done
	phases
	printf 'M\texport\tscale-1,scale-10,scale-50\n' >>"$RES"
	printf 'X\texport of %s + one distinct tiny layer per image\tscale-1,scale-10,scale-50\t1,10,50\n' "$BASE" >>"$RES"
}

# ensure_bundles N...: the N-image bundles $W/out/scale-N.tar, exported
# (untimed) when the scale section did not make them.
ensure_bundles() {
	local n
	for n in "$@"; do
		[[ -f $W/out/scale-$n.tar ]] && continue
		log "exporting $n images for the later sections (untimed)"
		seq -f "$REG/scale:v%03g" 1 "$n" >"$W/tmp/scale-$n.txt"
		"$AIRLOCK" export -f "$W/tmp/scale-$n.txt" "${XF[@]}" --key "$W/release.key" -o "$W/out/scale-$n" \
			--cache-dir "$W/cache/ensure" >"$W/logs/ensure-$n.log" 2>&1 || die "export of $n images failed; see $W/logs/ensure-$n.log"
		rm -rf "$W/cache/ensure"
	done
}

# codec_jobs: the big image with each --compression choice against the limit
# at the same pgzip level. The default level reuses the export rows' runs
# when the export section ran.
codec_jobs() {
	local job=export-${BIG//[:]/-} layers rep order tool name level names=(fast best) has=1 entries=()
	local -A lv=([fast]=1 [default]=-1 [best]=9)
	layers=$(blobs_of "$REG/$BIG")
	grep -q -- --compression <<<"$EXPORT_HELP" || has=0
	if ! grep -q "^I	bytes.$job	" "$RES"; then
		names=(fast default best)
	fi
	for name in "${names[@]}"; do
		job=codec-$name
		log "$job: $REPS_CODEC alternated runs"
		[[ $has == 1 || $name == default ]] || info "skip.$job" "no --compression flag in this airlock"
		for rep in $(seq 1 "$REPS_CODEC"); do
			order="airlock limit"
			((rep % 2 == 0)) && order="limit airlock"
			for tool in $order; do
				case $tool in
				airlock)
					if [[ $name == default ]]; then
						export_one "$job" airlock "$rep" "$BIG"
					elif ((has == 1)); then
						export_one "$job" airlock "$rep" "$BIG" --compression "$name"
					fi
					;;
				limit) limit "$job" limit "$rep" "${lv[$name]}" "$layers" ;;
				esac
			done
		done
		[[ -f $W/out/$job.tar ]] && info "tgz.$job" "$(payload_size "$W/out/$job.tar")"
		info "limittgz.$job" "$(limit_tgz)"
	done
	job=export-${BIG//[:]/-}
	[[ -f $W/out/codec-default.tar ]] && job=codec-default
	local flat
	flat=$(awk -F'\t' -v k="bytes.$job" '$1 == "I" && $2 == k { v = $3 } END { print v }' "$RES")
	[[ -n $flat ]] || flat=$("$BT" flatsize "$W/out/$job.tar")
	for name in fast default best; do
		[[ $name == default ]] && entries+=("default:-1 (klauspost level 5):$job") && continue
		info "bytes.codec-$name" "$flat"
		entries+=("$name:${lv[$name]}:codec-$name")
	done
	info "bytes.$job" "$flat"
	printf 'C\t%s\t%s\n' "$BIG" "$(
		IFS=,
		echo "${entries[*]}"
	)" >>"$RES"
}

# cores_jobs: the big image's export and its limit with GOMAXPROCS=1 and 2,
# alternated.
cores_jobs() {
	local layers rep order tool p
	layers=$(blobs_of "$REG/$BIG")
	log "cores: $REPS_BIG alternated runs at GOMAXPROCS=1 and 2"
	for rep in $(seq 1 "$REPS_BIG"); do
		order="airlock-p1 limit-p1 airlock-p2 limit-p2"
		((rep % 2 == 0)) && order="limit-p2 airlock-p2 limit-p1 airlock-p1"
		for tool in $order; do
			p=${tool##*-p}
			case $tool in
			airlock-*)
				rm -rf "$W/cache/cores" "$W/out/cores.tar"
				timed cores "$tool" "$rep" env GOMAXPROCS="$p" "$AIRLOCK" export "$REG/$BIG" "${XF[@]}" \
					--key "$W/release.key" -o "$W/out/cores" --cache-dir "$W/cache/cores"
				rm -rf "$W/cache/cores"
				;;
			limit-*)
				rm -rf "$W/out/limit"
				timed cores "$tool" "$rep" env GOMAXPROCS="$p" "$BT" pipeline -j "$AJ" -o "$W/out/limit" "$layers"
				rm -rf "$W/out/limit"
				;;
			esac
		done
	done
	info bytes.cores "$("$BT" flatsize "$W/out/cores.tar")"
	rm -f "$W/out/cores.tar"
	printf 'P\texport %s\tcores\tbytes.cores\n' "$BIG" >>"$RES"
}

verify_jobs() {
	local b=$W/out/scale-10.tar rep tool order n
	ensure_bundles 1 10 50
	log "verify: $REPS alternated runs on $(($(size_of "$b") / 1000000)) MB"
	cat "$b" >/dev/null # same warm page cache for everyone
	for rep in $(seq 1 "$REPS"); do
		order="airlock tar-sha256sum gosha256"
		((rep % 2 == 0)) && order="gosha256 tar-sha256sum airlock"
		for tool in $order; do
			case $tool in
			airlock) timed verify airlock "$rep" "$AIRLOCK" verify "$b" --pub "$W/release.pub" ;;
			tar-sha256sum)
				rm -rf "$W/tmp/verify"
				timed verify tar-sha256sum "$rep" bash -c 'peer_verify "$@"' _ "$b" "$W/tmp/verify"
				rm -rf "$W/tmp/verify"
				;;
			gosha256) timed verify gosha256 "$rep" "$BT" sha256 "$b" ;;
			esac
		done
	done
	info bytes.verify "$(size_of "$b")"
	for n in 1 10 50; do
		log "verify-$n: memory"
		timed "verify-$n" airlock 1 "$AIRLOCK" verify "$W/out/scale-$n.tar" --pub "$W/release.pub"
		info "images.verify-$n" "$n"
		info "bundle.verify-$n" "$(size_of "$W/out/scale-$n.tar")"
	done
	printf 'R\tverify bundle (10 images)\tverify\tairlock\ttar-sha256sum\t3\tbytes.verify\ttar -x + sha256sum -c\n' >>"$RES"
	printf 'R\tverify bundle, vs limit\tverify\tairlock\tgosha256\t0.85\tbytes.verify\tGo SHA-256 over the bundle file\n' >>"$RES"
	printf 'M\tverify\tverify-1,verify-10,verify-50\n' >>"$RES"
}

# parts_jobs: the 10-image export split into 8 parts, without and with one
# parity part (cold staging cache each run); checking one part alone (with
# the part index beside it) vs Go SHA-256 over that file; rebuilding one
# lost data part vs reading the surviving parts.
parts_jobs() {
	local list=$W/tmp/scale-10.txt size ps rep tool order d=$W/out/parts disc=$W/tmp/disc rp=$W/tmp/repair
	ensure_bundles 10
	seq -f "$REG/scale:v%03g" 1 10 >"$list"
	size=$(size_of "$W/out/scale-10.tar")
	ps=$(((size + 7) / 8))
	log "parity: $REPS_BIG alternated exports of 10 images in 8 parts of $((ps / 1000000)) MB"
	for rep in $(seq 1 "$REPS_BIG"); do
		order="split parity"
		((rep % 2 == 0)) && order="parity split"
		for tool in $order; do
			rm -rf "$W/cache/parts" "$d-$tool"
			mkdir -p "$d-$tool"
			local extra=()
			[[ $tool == parity ]] && extra=(--parity 1)
			timed parity "airlock-$tool" "$rep" "$AIRLOCK" export -f "$list" "${XF[@]}" --key "$W/release.key" \
				-o "$d-$tool/b" --part-size "$ps" "${extra[@]}" --cache-dir "$W/cache/parts"
		done
	done
	rm -rf "$W/cache/parts" "$d-split"
	info bytes.parity "$("$BT" flatsize "$W/out/scale-10.tar")"

	rm -rf "$disc" && mkdir -p "$disc"
	ln "$d-parity/b.tar.003" "$d-parity/b.parts.sha256" "$d-parity/b.parts.sha256.sig" "$disc/"
	cat "$disc/b.tar.003" >/dev/null
	log "partcheck: $REPS alternated runs on one part"
	for rep in $(seq 1 "$REPS"); do
		order="airlock gosha256"
		((rep % 2 == 0)) && order="gosha256 airlock"
		for tool in $order; do
			case $tool in
			airlock) timed partcheck airlock "$rep" "$AIRLOCK" verify --partial "$disc/b.tar.003" --pub "$W/release.pub" ;;
			gosha256) timed partcheck gosha256 "$rep" "$BT" sha256 "$disc/b.tar.003" ;;
			esac
		done
	done
	info bytes.partcheck "$(size_of "$disc/b.tar.003")"

	rm -rf "$rp" && mkdir -p "$rp/in" "$rp/out"
	ln "$d-parity"/b.* "$rp/in/"
	rm "$rp/in/b.tar.003"
	log "repair: $REPS alternated runs rebuilding one of 8 parts"
	for rep in $(seq 1 "$REPS"); do
		order="airlock read"
		((rep % 2 == 0)) && order="read airlock"
		for tool in $order; do
			case $tool in
			airlock)
				rm -f "$rp/out/b.tar.003"
				timed repair airlock "$rep" "$AIRLOCK" repair "$rp/in/b.tar.001" -o "$rp/out" --pub "$W/release.pub"
				;;
			read) timed repair read "$rep" bash -c 'cat "$@" >/dev/null' _ "$rp"/in/b.tar.0* "$rp/in/b.parity.001" ;;
			esac
		done
	done
	cmp "$rp/out/b.tar.003" "$d-parity/b.tar.003" || die "repair: the rebuilt part differs"
	info bytes.repair "$(cat "$rp"/in/b.tar.0* "$rp/in/b.parity.001" | wc -c)"
	rm -rf "$rp" "$disc" "$d-parity"
	printf 'R\texport 10 images in 8 parts + 1 parity part\tparity\tairlock-parity\tairlock-split\t0.8\tbytes.parity\tthe same export in 8 parts without parity\n' >>"$RES"
	printf 'R\tcheck one part alone (1 of 8)\tpartcheck\tairlock\tgosha256\t0.85\tbytes.partcheck\tGo SHA-256 over the part file\n' >>"$RES"
	printf 'R\trepair one lost part of 8 (+1 parity)\trepair\tairlock\tread\t0.5\tbytes.repair\tcat of the 8 surviving parts\n' >>"$RES"
}

# start_minio: a MinIO on this machine at $MINIO_URL, with the mc alias
# "local" and AWS_* credentials for airlock.
start_minio() {
	local mport cport
	mport=$(free_port)
	cport=$(free_port)
	while [[ $cport == "$mport" ]]; do cport=$(free_port); done
	MINIO_URL=http://127.0.0.1:$mport
	export AWS_ACCESS_KEY_ID=benchbench AWS_SECRET_ACCESS_KEY=benchbenchbench AWS_REGION=us-east-1
	MINIO_ROOT_USER=$AWS_ACCESS_KEY_ID MINIO_ROOT_PASSWORD=$AWS_SECRET_ACCESS_KEY MINIO_BROWSER=off \
		"$TOOLS/minio" server "$W/minio" --address "127.0.0.1:$mport" --console-address "127.0.0.1:$cport" --quiet \
		>"$W/logs/minio.log" 2>&1 &
	PIDS+=($!)
	wait_http "$MINIO_URL/minio/health/ready" minio
	export MC_CONFIG_DIR=$W/mc
	"$TOOLS/mc" alias set local "$MINIO_URL" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >/dev/null
}

# delta_jobs REPO: the weekly refresh. REPO:v001 ... v010 (one base image
# plus a distinct tiny layer each) are exported, imported and inventoried
# (a signed receipt); then one image changes (v010 is replaced by v011) and
# the new list is exported in full and with --have against the receipt,
# each with a cold staging cache and with the one the first export left
# (warm, as on a connected machine that exports every week). The delta is
# then imported and audited.
delta_jobs() {
	local repo=$1 a=$W/tmp/delta-a.txt b=$W/tmp/delta-b.txt mode kind job extra
	[[ -n ${MINIO_URL:-} ]] || start_minio
	seq -f "$REG/$repo:v%03g" 1 10 >"$a"
	{
		seq -f "$REG/$repo:v%03g" 1 9
		echo "$REG/$repo:v011"
	} >"$b"
	log "delta: the first delivery (full export, import, inventory)"
	rm -rf "$W/cache/delta-base"
	"$AIRLOCK" export -f "$a" "${XF[@]}" --key "$W/release.key" -o "$W/out/delta-first" \
		--cache-dir "$W/cache/delta-base" >"$W/logs/delta-first.log" 2>&1 || die "delta: first export failed; see $W/logs/delta-first.log"
	"$TOOLS/mc" mb -q local/delta >/dev/null
	"$AIRLOCK" import "$W/out/delta-first.tar" --pub "$W/release.pub" --bucket delta --endpoint "$MINIO_URL" \
		>>"$W/logs/delta-first.log" 2>&1 || die "delta: first import failed; see $W/logs/delta-first.log"
	"$AIRLOCK" keygen -o "$W/offline" >/dev/null 2>&1 || die "airlock keygen failed"
	timed delta-inventory airlock 1 "$AIRLOCK" inventory --bucket delta --endpoint "$MINIO_URL" \
		--pub "$W/release.pub" --key "$W/offline.key" -o "$W/out/receipt.json"
	info images.delta-inventory 10
	for mode in cold warm; do
		for kind in full have; do
			job=delta-$kind-$mode
			log "$job: export of 10 images, one changed"
			rm -rf "$W/cache/$job" "$W/out/$job.tar"
			[[ $mode == cold ]] || cp -a "$W/cache/delta-base" "$W/cache/$job"
			extra=()
			[[ $kind == full ]] || extra=(--have "$W/out/receipt.json" --have-pub "$W/offline.pub")
			timed "$job" airlock 1 "$AIRLOCK" export -f "$b" "${XF[@]}" --key "$W/release.key" -o "$W/out/$job" \
				--cache-dir "$W/cache/$job" "${extra[@]}"
			info "bundle.$job" "$(size_of "$W/out/$job.tar")"
			info "images.$job" "$(tar -tf "$W/out/$job.tar" | grep -c '^images/')"
			rm -rf "$W/cache/$job"
		done
	done
	"$AIRLOCK" import "$W/out/delta-have-cold.tar" --pub "$W/release.pub" --bucket delta --endpoint "$MINIO_URL" \
		>>"$W/logs/delta-first.log" 2>&1 && "$AIRLOCK" audit --bucket delta --endpoint "$MINIO_URL" --pub "$W/release.pub" \
		>>"$W/logs/delta-first.log" 2>&1 || die "delta: the delta bundle did not import and audit clean; see $W/logs/delta-first.log"
	"$TOOLS/mc" rb -q --force local/delta >/dev/null
	rm -rf "$W/cache/delta-base"
	info delta.method "Ten images $repo:v001–v010 (the base plus one distinct tiny layer each) were exported, imported into MinIO and inventoried (airlock inventory --key: a signed receipt); then v010 was replaced by v011 in the list. Each row exports the new list once (one run each), in full or with --have receipt.json, with a cold staging cache or with a copy of the one the first export left (warm). The delta bundle was then imported and audited clean."
	printf 'D\tweekly refresh, 10 images with one changed\tdelta-full-cold,delta-have-cold,delta-full-warm,delta-have-warm\tfull, cold cache;--have, cold cache;full, warm cache;--have, warm cache\n' >>"$RES"
}

# import_jobs: airlock import (verifying) vs mc cp --recursive and aws s3 cp
# --recursive of the same tgz files (unverified) into a fresh bucket each
# run, then airlock alone on 1, 10 and 50 images for memory.
import_jobs() {
	local url mc rep tool order n b=$W/out/scale-10.tar
	ensure_bundles 1 10 50
	[[ -n ${MINIO_URL:-} ]] || start_minio
	url=$MINIO_URL
	mc=$TOOLS/mc
	# The AWS CLI reads only its own config (path-style addressing spelled
	# out) and takes the credentials from AWS_* in the environment.
	mkdir -p "$W/aws"
	printf '[default]\ns3 =\n  addressing_style = path\n' >"$W/aws/config"
	: >"$W/aws/credentials"
	# The peers upload the same tgz files, unpacked from the bundle beforehand.
	mkdir -p "$W/tmp/payloads"
	tar -xf "$b" -C "$W/tmp/payloads" images
	log "import: $REPS alternated runs on $(($(size_of "$b") / 1000000)) MB"
	for rep in $(seq 1 "$REPS"); do
		order="airlock mc aws"
		((rep % 2 == 0)) && order="aws mc airlock"
		for tool in $order; do
			"$mc" mb -q "local/$tool-$rep" >/dev/null
			case $tool in
			airlock)
				timed import airlock "$rep" "$AIRLOCK" import "$b" --pub "$W/release.pub" \
					--bucket "$tool-$rep" --endpoint "$url"
				;;
			mc)
				timed import mc "$rep" "$mc" cp -q --recursive "$W/tmp/payloads/images/" "local/$tool-$rep/"
				;;
			aws)
				timed import aws "$rep" env AWS_CONFIG_FILE="$W/aws/config" AWS_SHARED_CREDENTIALS_FILE="$W/aws/credentials" \
					AWS_DEFAULT_REGION="$AWS_REGION" "$AWS" s3 cp --recursive --only-show-errors --endpoint-url "$url" \
					"$W/tmp/payloads/images/" "s3://$tool-$rep/"
				;;
			esac
			"$mc" rb -q --force "local/$tool-$rep" >/dev/null
		done
	done
	info bytes.import "$(du -sb "$W/tmp/payloads/images" | cut -f1)"
	rm -rf "$W/tmp/payloads"
	for n in 1 10 50; do
		log "import-$n: memory"
		"$mc" mb -q "local/mem-$n" >/dev/null
		timed "import-$n" airlock 1 "$AIRLOCK" import "$W/out/scale-$n.tar" --pub "$W/release.pub" \
			--bucket "mem-$n" --endpoint "$url"
		"$mc" rb -q --force "local/mem-$n" >/dev/null
		info "images.import-$n" "$n"
		info "bundle.import-$n" "$(size_of "$W/out/scale-$n.tar")"
	done
	printf 'R\timport to MinIO (10 images)\timport\tairlock\tmc\t1\tbytes.import\tmc cp --recursive of the tgz files, unverified\n' >>"$RES"
	printf 'R\timport to MinIO (10 images)\timport\tairlock\taws\t1\tbytes.import\taws s3 cp --recursive of the tgz files, unverified\n' >>"$RES"
	printf 'M\timport\timport-1,import-10,import-50\n' >>"$RES"
}

# objects_jobs: many small objects. OBJECTS_COUNTS (1,000 and 10,000)
# images of 512 B each, in bundles of OBJECTS_PER_BUNDLE (500) written by
# bench/mkbundle (an export of that many images would time the registry),
# are imported into an empty bucket by one import call with -j
# OBJECTS_JOBS (4), audited (shallow with --evidence, and --deep) and
# inventoried, one run each; bench/.work/objects.md gets objects/s and the
# peak RSS of each step, so that audit's memory can be compared between
# the two counts.
objects_jobs() {
	local n step sec rss per=${OBJECTS_PER_BUNDLE:-500} jobs=${OBJECTS_JOBS:-4} bundles
	[[ -n ${MINIO_URL:-} ]] || start_minio
	(cd "$ROOT" && go build -o "$W/mkbundle" ./bench/mkbundle) || die "objects: building bench/mkbundle failed"
	{
		printf '\n## Many small objects: import, audit and inventory\n\n'
		printf 'N images of 512 B each (bench/mkbundle, 100 series) in bundles of %d, imported into an empty\n' "$per"
		printf 'bucket of one MinIO by one call (import -j %d --json, a bundle per argument), then audited\n' "$jobs"
		printf '(shallow with --evidence, then --deep) and inventoried (an unsigned receipt), one run each.\n'
		printf 'objects/s is N over the wall time; RSS is the peak of the airlock process.\n\n'
		printf '| objects | step | seconds | objects/s | peak RSS |\n|---:|---|---:|---:|---:|\n'
	} >"$W/objects.md"
	for n in ${OBJECTS_COUNTS:-1000 10000}; do
		log "objects-$n: bundle, import, audit, audit --deep, inventory"
		bundles=$(((n + per - 1) / per))
		"$W/mkbundle" -n "$n" -bundles "$bundles" -size 512 -key "$W/release.key" -o "$W/out/objects-$n" ||
			die "objects: mkbundle -n $n -bundles $bundles failed"
		"$TOOLS/mc" mb -q "local/objects-$n" >/dev/null
		# shellcheck disable=SC2046 # one argument per bundle file
		timed "objects-$n" import 1 "$AIRLOCK" import $(objects_bundles "$n" "$bundles") -j "$jobs" --pub "$W/release.pub" \
			--bucket "objects-$n" --endpoint "$MINIO_URL" --json
		timed "objects-$n" audit 1 "$AIRLOCK" audit --bucket "objects-$n" --endpoint "$MINIO_URL" --pub "$W/release.pub" \
			--evidence "$W/out/objects-$n.evidence.json"
		timed "objects-$n" audit-deep 1 "$AIRLOCK" audit --bucket "objects-$n" --endpoint "$MINIO_URL" --pub "$W/release.pub" --deep
		timed "objects-$n" inventory 1 "$AIRLOCK" inventory --bucket "objects-$n" --endpoint "$MINIO_URL" \
			--pub "$W/release.pub" -o "$W/out/objects-$n.receipt.json"
		for step in import audit audit-deep inventory; do
			read -r sec rss < <(awk -F'\t' -v j="objects-$n" -v t="$step" '$1 == "S" && $2 == j && $3 == t { print $5, $6 }' "$RES")
			awk -v n="$n" -v s="$step" -v sec="$sec" -v rss="$rss" \
				'BEGIN { printf "| %d | %s | %.1f | %.0f | %.0f MB |\n", n, s, sec, n / sec, rss / 1024 }' >>"$W/objects.md"
		done
		"$TOOLS/mc" rb -q --force "local/objects-$n" >/dev/null
		rm -f $(objects_bundles "$n" "$bundles") "$W/out/objects-$n.evidence.json"
	done
}

# objects_bundles N B: the bundle files mkbundle wrote for N objects in B bundles.
objects_bundles() {
	if (($2 == 1)); then
		echo "$W/out/objects-$1.tar"
	else
		local b
		for ((b = 1; b <= $2; b++)); do echo "$W/out/objects-$1-$b.tar"; done
	fi
}

image_label() {
	case $1 in
	debian:bookworm) echo "debian:bookworm (3 layers)" ;;
	debian:bookworm-slim) echo "debian:bookworm-slim (+ whiteout layer)" ;;
	golang:bookworm) echo "golang:bookworm (+ 229 MB toolchain layer)" ;;
	*) echo "$1" ;;
	esac
}

notes() {
	local j jobs
	jobs=$(awk -F'\t' '$1 == "I" && $2 ~ /^peertgz\./ { sub(/^peertgz\./, "", $2); print $2 }' "$RES")
	[[ -z $jobs ]] || printf '%s' "Image sizes (flattened tar → airlock tgz / limit tgz / peer tgz):"
	for j in $jobs; do
		awk -v j="$j" -F'\t' '$1 == "I" && $2 == "bytes."j { f = $3 } $1 == "I" && $2 == "tgz."j { a = $3 }
			$1 == "I" && $2 == "limittgz."j { l = $3 } $1 == "I" && $2 == "peertgz."j { p = $3 }
			END { printf " %s %.0f MB → %.0f / %.0f / %.0f MB;", j, f / 1e6, a / 1e6, l / 1e6, p / 1e6 }' "$RES"
	done
	[[ -z $jobs ]] || printf '%s' '\n'
	printf '%s' 'The export MB/s column counts uncompressed (flattened) bytes of the airlock tgz for both sides; the airlock time includes resolving, pulling from the local registry, converting, fsyncing the staging copy and writing the signed bundle. '
	printf '%s' 'The limit is `benchtool pipeline`, the bare pure-Go pipeline over the same layer blobs already on disk (fetching them is not part of it): klauspost gunzip → archive/tar → names under rootfs/, Uname/Gname cleared → archive/tar → pgzip at airlock'"'"'s level, block size (1 MiB) and concurrency (GOMAXPROCS) → SHA-256 → a file, fsynced; images -j at a time as airlock. It applies no whiteouts and writes no metadata.json, bundle, signature or staging copy, so it does at least the compression work airlock does (more for the slim image: it also compresses the files the whiteouts hide). '
	printf '%s' 'The former limit, pgzip compressing the flattened tar from memory, is gone: it left out the layer gunzip and the tar work that any export must do, so no export could reach it. '
	printf '%s' 'airlock'"'"'s default compression is pgzip.DefaultCompression, which klauspost/compress maps to level 5 (not 6). The peer export keeps device nodes and does not drop /dev, so its tgz is not exactly equivalent; aws s3 cp is AWS CLI v2 from Debian (/usr/bin/aws) with an empty config besides path-style addressing.'
}

# profiles: perf profiles of the real binary for export (the big image),
# of the limit pipeline on the same image, verify and import, as flat
# top-of-profile tables.
profiles() {
	local p=$W/prof
	ensure_bundles 10
	mkdir -p "$p"
	log "profiling with perf"
	rm -rf "$W/cache/prof"
	perf record -F 999 -g -o "$p/export.data" -- "$AIRLOCK" export "$REG/$BIG" "${XF[@]}" \
		--key "$W/release.key" -o "$W/out/prof" --cache-dir "$W/cache/prof" >"$p/export.log" 2>&1 || return 0
	rm -rf "$W/out/limit"
	perf record -F 999 -g -o "$p/limit.data" -- "$BT" pipeline -j "$AJ" -o "$W/out/limit" "$(blobs_of "$REG/$BIG")" \
		>"$p/limit.log" 2>&1 || return 0
	rm -rf "$W/out/limit"
	rm -rf "$W/cache/prof" "$W/out/prof.tar"
	perf record -F 999 -g -o "$p/export-small.data" -- "$AIRLOCK" export "$REG/$BASE" "${XF[@]}" \
		--key "$W/release.key" -o "$W/out/prof" --cache-dir "$W/cache/prof" >"$p/export-small.log" 2>&1 || return 0
	perf record -F 999 -g -o "$p/verify.data" -- "$AIRLOCK" verify "$W/out/scale-10.tar" --pub "$W/release.pub" >"$p/verify.log" 2>&1 || return 0
	if [[ -n ${MINIO_URL:-} ]]; then
		"$TOOLS/mc" mb -q local/prof >/dev/null
		perf record -F 999 -g -a -o "$p/import.data" -- "$AIRLOCK" import "$W/out/scale-10.tar" --pub "$W/release.pub" \
			--bucket prof --endpoint "$MINIO_URL" >"$p/import.log" 2>&1 || return 0
	fi
	{
		printf '\n## Profiles (perf, flat: self time by function)\n\n'
		printf 'Recorded by `bench/run.sh` with `perf record -g` on the real binary; the raw data is in\n'
		printf '`bench/.work/prof/` (`perf report -i bench/.work/prof/export.data`).\n'
		profile_top "export $BIG" "$p/export.data"
		profile_top "limit pipeline, $BIG" "$p/limit.data"
		profile_stages "export $BIG" "$p/export.data"
		profile_stages "export $BASE" "$p/export-small.data"
		profile_top "verify, 10 images" "$p/verify.data"
		if [[ -f $p/import.data ]]; then
			printf '\nThe import profile is system-wide (`perf record -a`): MinIO shares the 2 CPUs.\n'
			profile_top "import, 10 images (all processes)" "$p/import.data"
		fi
	} >"$W/profiles.md"
}

# profile_stages TITLE DATA: inclusive share of the export's stages (perf
# --children), so the work the limit pipeline does not do shows.
profile_stages() {
	printf '\n### %s: inclusive share by stage\n\n| stage | function | share of samples |\n|---|---|---|\n' "$1"
	perf report -i "$2" --children --sort symbol --stdio -g none 2>/dev/null | awk '
		BEGIN {
			n = split("compression (pgzip blocks)|pgzip.(*Writer).compressBlock;layer gunzip (pgzip read-ahead)|pgzip.(*Reader).doReadAhead.func1;flattening walker and tar|rootfs.(*walker).walk;layer download and digest check|export.fetchLayerOnce;staging hash and write|stage.(*hashWriter).Write;bundle write (read, re-check, write, fsync)|bundle.writeStream", st, ";")
			for (i = 1; i <= n; i++) { split(st[i], kv, "|"); name[i] = kv[1]; fn[i] = kv[2] }
		}
		{ for (i = 1; i <= n; i++) if (!(i in got) && index($0, fn[i]) > 0) { got[i] = $1 } }
		END { for (i = 1; i <= n; i++) printf "| %s | `%s` | %s |\n", name[i], fn[i], (i in got ? got[i] : "—") }'
}

profile_top() {
	printf '\n### %s\n\n```\n' "$1"
	perf report -i "$2" --no-children --sort comm,symbol --stdio -g none --percent-limit 1.5 2>/dev/null |
		grep -v '^#' | grep -v '^$' | head -25
	printf '```\n'
}

if [[ ${1:-} == shared ]]; then
	shared_main
else
	main "$@"
fi
