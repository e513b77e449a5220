# bench/shared.sh: the "shared base" section (docs/format-v2.md, issue #19):
# N images (SHARED_IMAGES, default 50), each the corpus base plus one
# distinct tiny layer, exported with --format 1 and with --format 2 into a
# cold staging cache, alternated SHARED_REPS times (default 1): bundle size
# against one image's tgz plus the distinct layers, export time, peak RSS.
# Sourced by bench/run.sh; run alone with
#
#   TOOLS=.tools/bin AIRLOCK=bin/airlock bash bench/run.sh shared
#
# (needs crane in TOOLS, debootstrap and pigz for the corpus, or
# BENCH_SMALL=1 for the small generated one; not mc, minio or aws), or as
# a section of a partial run: BENCH_ONLY=shared. Writes bench/.work/shared.md
# (and, alone, prints it).

# shared_jobs: the section; expects REG, BASE, XF, W, RES and the scale:vNNN
# variants of run.sh's main (or shared_main).
shared_jobs() {
	local n=${SHARED_IMAGES:-50} reps=${SHARED_REPS:-1} list rep order fmt job one layers=0 i
	((n <= 60)) || die "shared: SHARED_IMAGES=$n; the corpus has 60 tiny layers"
	list=$W/tmp/shared-$n.txt
	seq -f "$REG/scale:v%03g" 1 "$n" >"$list"
	log "shared: $n images on $BASE, --format 1 vs --format 2, $reps alternated run(s)"
	for rep in $(seq 1 "$reps"); do
		order="1 2"
		((rep % 2 == 0)) && order="2 1"
		for fmt in $order; do
			job=shared-f$fmt
			rm -rf "$W/cache/$job" "$W/out/$job.tar"
			timed "$job" airlock "$rep" "$AIRLOCK" export -f "$list" "${XF[@]}" --format "$fmt" \
				--key "$W/release.key" -o "$W/out/$job" --cache-dir "$W/cache/$job" --json
			rm -rf "$W/cache/$job"
		done
	done
	# One image's tgz: the first image's in the format 1 bundle.
	one=$(tar -tvf "$W/out/shared-f1.tar" | awk '$6 ~ /^images\// { print $3; exit }')
	for i in $(seq -f %03g 1 "$n"); do
		layers=$((layers + $(size_of "$CORPUS/layers/tiny-$i.tar.gz")))
	done
	local members distinct listed flat
	members=$(tar -xOf "$W/out/shared-f2.tar" manifest.json | jq '[.entries[] | select(.path | startswith("members/"))] | length')
	listed=$(tar -xOf "$W/out/shared-f2.tar" manifest.json | jq '[.images[].members | length] | add')
	distinct=$(tar -xOf "$W/out/shared-f2.tar" manifest.json | jq '[.entries[] | select(.path | startswith("members/")) | .size] | add')
	flat=$(tar -xOf "$W/out/shared-f2.tar" manifest.json | jq '[.images[].tar_size] | add')
	{
		printf '\n## Shared base: format 1 vs format 2\n\n'
		printf '%d images, each %s plus one distinct tiny layer (bench/corpus.sh), exported into a cold\n' "$n" "$BASE"
		printf 'staging cache with default -j and compression, %d alternated run(s) per format (medians).\n' "$reps"
		printf 'Reference: one image'"'"'s tgz (%s) plus the %d distinct layers as pushed (%s).\n' \
			"$(human "$one")" "$n" "$(human "$layers")"
		printf 'Format 2 carries %d distinct members of %d listed (%s of members for %s of tar).\n\n' \
			"$members" "$listed" "$(human "$distinct")" "$(human "$flat")"
		printf '| format | bundle | ÷ reference | export | peak RSS |\n|---|---:|---:|---:|---:|\n'
		for fmt in 1 2; do
			awk -F'\t' -v j="shared-f$fmt" -v f="$fmt" -v b="$(size_of "$W/out/shared-f$fmt.tar")" -v ref="$((one + layers))" '
				function median(s, a, n, i, k, t) {
					n = split(s, a, " ")
					for (i = 2; i <= n; i++) for (k = i; k > 1 && a[k - 1] > a[k]; k--) { t = a[k]; a[k] = a[k - 1]; a[k - 1] = t }
					return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
				}
				$1 == "S" && $2 == j { s = s " " $5; r = r " " $6 }
				END { printf "| %s | %.1f MB | %.2f× | %.1f s | %.0f MB |\n", f, b / 1e6, b / ref, median(s), median(r) / 1024 }' "$RES"
		done
	} >"$W/shared.md"
	info "bundle.shared-f1" "$(size_of "$W/out/shared-f1.tar")"
	info "bundle.shared-f2" "$(size_of "$W/out/shared-f2.tar")"
}

human() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }

# shared_main: bench/run.sh shared: only this section, with only what it
# needs (crane, airlock, the corpus); results in bench/.work/shared/.
shared_main() {
	[[ -x $AIRLOCK ]] || die "no airlock binary at $AIRLOCK (make build)"
	[[ -x $TOOLS/crane ]] || die "no crane in $TOOLS"
	command -v jq >/dev/null || die "shared: needs jq"
	W=$HERE/.work/shared
	RES=$W/results.tsv
	rm -rf "$W"
	mkdir -p "$W/logs" "$W/out" "$W/cache" "$W/tmp" "$W/registry"
	: >"$RES"
	local help
	help=$("$AIRLOCK" export --help 2>&1) || die "airlock export --help failed: $help"
	grep -q -- '--format' <<<"$help" || die "$AIRLOCK has no export --format"
	XF=(--insecure)
	grep -q -- --allow-floating-versions <<<"$help" && XF+=(--allow-floating-versions)
	if [[ $SMALL == 1 ]]; then
		CORPUS=$HERE/.corpus-small
		corpus_small
	else
		command -v pigz >/dev/null || die "shared: needs pigz (and debootstrap) to build the corpus; or BENCH_SMALL=1"
		corpus_build
	fi
	local rport
	rport=$(free_port)
	REG=127.0.0.1:$rport
	"$TOOLS/crane" registry serve --address "$REG" --disk "$W/registry" >"$W/logs/registry.log" 2>&1 &
	PIDS+=($!)
	wait_http "http://$REG/v2/" registry
	if [[ $SMALL == 1 ]]; then
		corpus_push_small "$REG"
		BASE=small:base
	else
		corpus_push "$REG"
		BASE=debian:bookworm
	fi
	corpus_push_variants "$REG" "$BASE" scale "${SHARED_IMAGES:-50}" 2>"$W/logs/push.log" ||
		die "pushing the variants failed; see $W/logs/push.log"
	"$AIRLOCK" keygen -o "$W/release" >/dev/null 2>&1 || die "airlock keygen failed"
	shared_jobs
	cat "$W/shared.md"
	cleanup
	PIDS=()
	[[ ${BENCH_KEEP:-0} == 1 ]] || rm -rf "$W/out" "$W/cache" "$W/registry"
}
