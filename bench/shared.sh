# bench/shared.sh: the "shared base" section (docs/format-v2.md, issue #19):
# N images (SHARED_IMAGES, default 50), each the corpus base plus one
# distinct tiny layer, exported with --format 1 and with --format 2 into a
# cold staging cache, alternated SHARED_REPS times (default 1): bundle size
# against one image's tgz plus the distinct layers, export time, peak RSS;
# then SHARED_DISTINCT (default 50; 0 leaves it out) images that share no
# file, against format 1 and the limit, plain and checking layer digests,
# alternated DISTINCT_REPS times (default SHARED_REPS; SHARED_IMAGES=0:
# only those). The imports alternate SHARED_IMPORT_REPS times (default
# SHARED_REPS, at least 5: a run against the local MinIO varies by ±30%).
# Sourced by bench/run.sh; run alone with
#
#   TOOLS=.tools/bin AIRLOCK=bin/airlock bash bench/run.sh shared
#
# (needs crane in TOOLS, debootstrap and pigz for the corpus, or
# BENCH_SMALL=1 for the small generated one; minio and mc for the import
# and refresh tables, which are left out without them), or as
# a section of a partial run: BENCH_ONLY=shared. Writes bench/.work/shared.md
# (and, alone, prints it).

# shared_jobs: the section; expects REG, BASE, XF, W, RES and the scale:vNNN
# variants of run.sh's main (or shared_main).
shared_jobs() {
	local n=${SHARED_IMAGES:-50} reps=${SHARED_REPS:-1} list rep order fmt job one layers=0 i img blobs=()
	((n <= 60)) || die "shared: SHARED_IMAGES=$n; the corpus has 60 tiny layers"
	if ((n == 0)); then # only the distinct images
		shared_distinct "${SHARED_DISTINCT:-50}"
		return
	fi
	list=$W/tmp/shared-$n.txt
	seq -f "$REG/scale:v%03g" 1 "$n" >"$list"
	while read -r img; do blobs+=("$(blobs_of "$img")"); done <"$list"
	log "shared: $n images on $BASE, --format 1 vs --format 2 vs the limit, $reps alternated run(s)"
	for rep in $(seq 1 "$reps"); do
		order="1 2 limit"
		((rep % 2 == 0)) && order="limit 2 1"
		for fmt in $order; do
			sync # the runs before wrote GBs: their writeback is not the next run's cost
			if [[ $fmt == limit ]]; then
				limit shared-limit limit "$rep" -1 "${blobs[@]}"
				continue
			fi
			export_cold "shared-f$fmt" "$rep" "$fmt" "$list"
		done
	done
	# One image's tgz: the first image's in the format 1 bundle.
	one=$(tar -tvf "$W/out/shared-f1.tar" | awk '$6 ~ /^images\// { print $3; exit }')
	for i in $(seq -f %03g 1 "$n"); do
		layers=$((layers + $(size_of "$CORPUS/layers/tiny-$i.tar.gz")))
	done
	local members distinct listed flat
	members=$(tar -xOf "$W/out/shared-f2.tar" manifest.json | jq '[.entries[] | (select(.path | startswith("members/")) | 1), (.members // [] | .[] | 1)] | length')
	listed=$(tar -xOf "$W/out/shared-f2.tar" manifest.json | jq '[.images[] | (.member_index // .members) | length] | add')
	distinct=$(tar -xOf "$W/out/shared-f2.tar" manifest.json | jq '[.entries[] | select(.path | startswith("members/") or startswith("packs/")) | .size] | add')
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
		awk -F'\t' -v n="$n" -v aj="$AJ" '
			function median(s, a, k, i, j, t) {
				k = split(s, a, " ")
				for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
				return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
			}
			$1 == "S" && $2 == "shared-limit" { l = l " " $5 }
			$1 == "S" && $2 == "shared-f2" { f = f " " $5 }
			END {
				printf "\nThe limit pipeline (bench/benchtool: gunzip, flatten, pgzip of every image, -j %d) over the same %d images'"'"'\n", aj, n
				printf "layer blobs, fetched beforehand, in the same alternation: %.1f s. Format 2 export: %.1f× faster than it\n", median(l), median(l) / median(f)
				printf "(target ≥ 5×; it converts a layer several images share once and copies the runs it made).\n"
			}' "$RES"
	} >"$W/shared.md"
	info "bundle.shared-f1" "$(size_of "$W/out/shared-f1.tar")"
	info "bundle.shared-f2" "$(size_of "$W/out/shared-f2.tar")"
	if [[ -x $TOOLS/minio && -x $TOOLS/mc ]]; then
		shared_import "${SHARED_IMPORT_REPS:-$((reps > 5 ? reps : 5))}"
		if [[ $SMALL == 1 ]]; then
			printf '\n(the weekly refresh rebuilds the debootstrap base'"'"'s usr/ layer: not measured with BENCH_SMALL=1)\n' >>"$W/shared.md"
		else
			shared_refresh "$n"
		fi
	else
		printf '\n(no minio and mc in %s: import and refresh not measured)\n' "$TOOLS" >>"$W/shared.md"
	fi
	if [[ $SMALL == 1 ]]; then
		printf '\n(the distinct images salt the debootstrap base'"'"'s layers: not measured with BENCH_SMALL=1)\n' >>"$W/shared.md"
	elif ((${SHARED_DISTINCT:-50} > 0)); then
		[[ ${BENCH_KEEP:-0} == 1 ]] || rm -f "$W/out/shared-f1.tar" "$W/out/shared-f2.tar" # room for the distinct bundles
		shared_distinct "${SHARED_DISTINCT:-50}"
	fi
}

# export_cold JOB REP FORMAT LIST: one timed airlock export of the images
# in LIST with --format FORMAT and a cold staging cache into $W/out/JOB.tar.
export_cold() {
	local job=$1 rep=$2 fmt=$3 list=$4
	rm -rf "$W/cache/$job" "$W/out/$job.tar"
	timed "$job" airlock "$rep" "$AIRLOCK" export -f "$list" "${XF[@]}" --format "$fmt" \
		--key "$W/release.key" -o "$W/out/$job" --cache-dir "$W/cache/$job" --json
	rm -rf "$W/cache/$job"
}

# shared_distinct N: N images that share no file (each the corpus base
# with every regular file salted by its number: benchtool salt), exported
# with --format 1 and --format 2 into a cold staging cache and run
# through the limit pipeline, plain and checking each blob's digest,
# alternated DISTINCT_REPS times (default SHARED_REPS): format 2 must not
# cost what sharing saves elsewhere (issue #19: ≥ 95% of the limit, bundle
# within 1% of format 1's).
shared_distinct() {
	local n=$1 list=$W/tmp/distinct-$n.txt d=$W/tmp/distinct img blobs=() refs=() tool rep tools
	local reps=${DISTINCT_REPS:-${SHARED_REPS:-1}}
	rm -rf "$d" && mkdir -p "$d"
	log "shared: $n distinct images (salted copies of $BASE's layers), --format 1 vs --format 2 vs the limit, $reps run(s)"
	seq -f %03g 1 "$n" | xargs -P2 -I{} sh -c '
		for l in usr var rest; do "$1" salt "image-{}" "$2/base-$l.tar.gz" "$3/{}-$l.tar.gz" || exit 1; done
		"$4" append -f "$3/{}-usr.tar.gz" -f "$3/{}-var.tar.gz" -f "$3/{}-rest.tar.gz" -t "$5/distinct:stage-{}" >/dev/null 2>&1 &&
		"$4" mutate "$5/distinct:stage-{}" --set-platform linux/amd64 --env LANG=C.UTF-8 --cmd bash -t "$5/distinct:v{}" >/dev/null 2>&1 &&
		rm -f "$3/{}-"*.tar.gz' _ "$BT" "$CORPUS/layers" "$d" "$TOOLS/crane" "$REG" ||
		die "shared: making the distinct images failed"
	seq -f "$REG/distinct:v%03g" 1 "$n" >"$list"
	while read -r img; do blobs+=("$(blobs_of "$img")"); done <"$list"
	tools=(f1 f2 limit verify pull)
	for rep in $(seq 1 "$reps"); do
		for tool in "${tools[@]}"; do
			sync
			case $tool in
			limit) limit distinct-limit limit "$rep" -1 "${blobs[@]}" ;;
			verify) LIMIT_VERIFY=1 limit distinct-verify limit "$rep" -1 "${blobs[@]}" ;;
			pull) mapfile -t refs <"$list" && LIMIT_PULL=1 limit distinct-pull limit "$rep" -1 "${refs[@]}" ;;
			*) export_cold "distinct-$tool" "$rep" "${tool#f}" "$list" ;;
			esac
		done
		tools=("${tools[@]:1}" "${tools[0]}") # the next run starts with the next tool
	done
	rm -rf "$W/blobs" && mkdir -p "$W/blobs"
	local f1 f2 members
	f1=$(size_of "$W/out/distinct-f1.tar")
	f2=$(size_of "$W/out/distinct-f2.tar")
	members=$(tar -xOf "$W/out/distinct-f2.tar" manifest.json | jq '[.entries[] | (select(.path | startswith("members/")) | .sha256), (.members // [] | .[])] | unique | length')
	info "bundle.distinct-f1" "$f1"
	info "bundle.distinct-f2" "$f2"
	[[ ${BENCH_KEEP:-0} == 1 ]] || rm -f "$W/out/distinct-f1.tar" "$W/out/distinct-f2.tar"
	{
		printf '\n### Distinct images: nothing shared\n\n'
		printf 'Measured %s with airlock %s.\n\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$("$AIRLOCK" version 2>/dev/null | sed -n '1s/^airlock version //p')"
		printf '%d images that share no file: each is %s with every regular file salted by its number (a first\n' "$n" "$BASE"
		printf 'line; bench/benchtool salt: the same tree, sizes and compressibility), exported into a cold staging\n'
		printf 'cache and run through the limit pipeline, %d alternated run(s) each (times: median, min–max). Format 2\n' "$reps"
		printf 'carries %d distinct members. The second limit also checks each layer blob'"'"'s SHA-256 against its digest\n' "$members"
		printf 'as it reads it, the one check airlock'"'"'s registry client makes that the first limit skips; the third\n'
		printf 'fetches the blobs from the registry as it reads them (go-containerregistry, each checked against its\n'
		printf 'digest), as airlock does: the registry serving them runs on this machine too, on the same two CPUs.\n\n'
		printf '| export | bundle | ÷ format 1 | time | ÷ limit | ÷ limit with digest checks | ÷ limit fetching from the registry | peak RSS |\n|---|---:|---:|---:|---:|---:|---:|---:|\n'
		awk -F'\t' -v f1="$f1" -v f2="$f2" '
			function med(s,   a, k, i, j, x) {
				k = split(substr(s, 2), a, " ")
				for (i = 2; i <= k; i++) { x = a[i]; for (j = i - 1; j > 0 && a[j] + 0 > x + 0; j--) a[j + 1] = a[j]; a[j + 1] = x }
				return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
			}
			function lo(s,   a, k, i, m) { k = split(substr(s, 2), a, " "); m = a[1]; for (i = 2; i <= k; i++) if (a[i] + 0 < m + 0) m = a[i]; return m }
			function hi(s,   a, k, i, m) { k = split(substr(s, 2), a, " "); m = a[1]; for (i = 2; i <= k; i++) if (a[i] + 0 > m + 0) m = a[i]; return m }
			$1 == "S" && $2 ~ /^distinct-(f1|f2|limit|verify|pull)$/ { j = substr($2, 10); t[j] = t[j] " " $5; T[j, $4] = $5; if ($4 > reps) reps = $4; if ($6 > r[j]) r[j] = $6 }
			END {
				b["f1"] = f1; b["f2"] = f2; l = med(t["limit"]); v = med(t["verify"]); p = med(t["pull"])
				for (f = 1; f <= 2; f++) {
					j = "f" f
					printf "| --format %d | %.1f MB | %.4f× | %.1f s (%.1f–%.1f) | %.0f%% | %.0f%% | %.0f%% | %.0f MB |\n", f, b[j] / 1e6, b[j] / f1, med(t[j]), lo(t[j]), hi(t[j]), 100 * l / med(t[j]), 100 * v / med(t[j]), 100 * p / med(t[j]), r[j] / 1024
				}
				printf "| limit pipeline | | | %.1f s (%.1f–%.1f) | 100%% | | | %.0f MB |\n", l, lo(t["limit"]), hi(t["limit"]), r["limit"] / 1024
				printf "| limit pipeline, digests checked | | | %.1f s (%.1f–%.1f) | | 100%% | | %.0f MB |\n", v, lo(t["verify"]), hi(t["verify"]), r["verify"] / 1024
				printf "| limit pipeline, fetching from the registry | | | %.1f s (%.1f–%.1f) | | | 100%% | %.0f MB |\n", p, lo(t["pull"]), hi(t["pull"]), r["pull"] / 1024
				# This machine speeds up and slows down by several percent
				# over minutes; runs of one round are minutes apart, so the
				# ratio within each round cancels most of that drift.
				printf "\nFormat 2 ÷ each limit within each alternation round (the limit'"'"'s time over format 2'"'"'s), then their median:\n\n"
				printf "| limit | %s | median |\n|---|", "rounds"
				printf "---:|---:|\n"
				split("limit verify pull", L, " ")
				split("limit pipeline;limit pipeline, digests checked;limit pipeline, fetching from the registry", N, ";")
				for (k = 1; k <= 3; k++) {
					s = ""; q = ""
					for (i = 1; i <= reps; i++) if ((L[k], i) in T && ("f2", i) in T) { x = 100 * T[L[k], i] / T["f2", i]; s = s sprintf("%s%.0f%%", s == "" ? "" : ", ", x); q = q " " x }
					printf "| %s | %s | %.0f%% |\n", N[k], s, med(q)
				}
			}' "$RES"
	} >>"$W/shared.md"
}

# shared_import REPS: the two bundles imported into fresh buckets,
# alternated: format 2 assembles the same objects from members.
shared_import() {
	local reps=$1 rep order fmt job
	[[ -n ${MINIO_URL:-} ]] || start_minio
	for rep in $(seq 1 "$reps"); do
		order="1 2"
		((rep % 2 == 0)) && order="2 1"
		for fmt in $order; do
			job=shared-import-f$fmt
			sync # as for the exports: the last import's writeback is not this one's cost
			"$TOOLS/mc" mb -q "local/$job-$rep" >/dev/null
			timed "$job" airlock "$rep" "$AIRLOCK" import "$W/out/shared-f$fmt.tar" --pub "$W/release.pub" \
				--bucket "$job-$rep" --endpoint "$MINIO_URL"
			"$TOOLS/mc" rb -q --force "local/$job-$rep" >/dev/null
		done
	done
	{
		printf '\nImport of each bundle into a fresh MinIO bucket (the same %s of tgz objects land), %d alternated run(s):\n\n' \
			"$(human "$(payload_size "$W/out/shared-f1.tar")")" "$reps"
		printf '| format | import | ÷ format 1 | peak RSS |\n|---|---:|---:|---:|\n'
		awk -F'\t' '
			function median(s, a, n, i, k, t) {
				n = split(s, a, " ")
				for (i = 2; i <= n; i++) for (k = i; k > 1 && a[k - 1] > a[k]; k--) { t = a[k]; a[k] = a[k - 1]; a[k - 1] = t }
				return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
			}
			$1 == "S" && $2 ~ /^shared-import-f/ { f = substr($2, 16); s[f] = s[f] " " $5; r[f] = r[f] " " $6 }
			END { one = median(s[1]); for (f = 1; f <= 2; f++) printf "| %d | %.1f s | %.2f× | %.0f MB |\n", f, median(s[f]), median(s[f]) / one, median(r[f]) / 1024 }' "$RES"
	} >>"$W/shared.md"
}

# shared_refresh N: the weekly refresh after the base was rebuilt. The
# format 2 bundle of the N images is imported and inventoried (a receipt);
# then the base's usr/ layer is rebuilt with the files of some installed
# packages changed, at most 10% of its files (an upgrade of those
# packages: new layer digest, the same order) and the N images pushed again on it; the new list is exported
# with --format 2 in full and with --have against the receipt (cold
# caches), and the delta imported and audited --deep.
shared_refresh() {
	local n=$1 list=$W/tmp/refresh-$n.txt d=$W/tmp/rebuild changed total pkgs
	[[ -n ${MINIO_URL:-} ]] || start_minio
	"$TOOLS/mc" mb -q local/refresh >/dev/null
	"$AIRLOCK" import "$W/out/shared-f2.tar" --pub "$W/release.pub" --bucket refresh --endpoint "$MINIO_URL" \
		>"$W/logs/refresh.log" 2>&1 || die "refresh: import failed; see $W/logs/refresh.log"
	"$AIRLOCK" inventory --bucket refresh --endpoint "$MINIO_URL" --pub "$W/release.pub" -o "$W/out/refresh-receipt.json" \
		>>"$W/logs/refresh.log" 2>&1 || die "refresh: inventory failed; see $W/logs/refresh.log"
	rm -rf "$d" && mkdir -p "$d/x"
	gunzip -c "$CORPUS/layers/base-usr.tar.gz" >"$d/usr.tar"
	tar -tf "$d/usr.tar" >"$d/order"
	tar -xpf "$d/usr.tar" -C "$d/x" --numeric-owner
	total=$(tar -tvf "$d/usr.tar" | awk '$1 ~ /^-/ { n++ } END { print n }')
	# An upgrade of some installed packages: every 5th by name, as long as
	# their files (as dpkg lists them) stay within 10% of the layer's.
	mkdir -p "$d/info"
	tar -xzf "$CORPUS/layers/base-var.tar.gz" -C "$d/info" --wildcards 'var/lib/dpkg/info/*.list'
	tar -tvf "$d/usr.tar" | awk '$1 ~ /^-/ { print $6 }' | sort >"$d/regular"
	: >"$d/changed"
	pkgs=""
	local l k
	for l in $(find "$d/info" -name '*.list' | sort | awk 'NR % 5 == 0'); do
		sed 's,^/,,' "$l" | sort -u | comm -12 - "$d/regular" >"$d/pkg"
		k=$(wc -l <"$d/pkg")
		((k > 0 && $(wc -l <"$d/changed") + k <= total / 10)) || continue
		sort -u -o "$d/changed" "$d/changed" "$d/pkg"
		pkgs+="$(basename "$l" .list) "
	done
	changed=$(wc -l <"$d/changed")
	while read -r f; do printf '\n# rebuilt\n' >>"$d/x/$f"; done <"$d/changed"
	tar -cf "$d/usr2.tar" -C "$d/x" --numeric-owner --no-recursion -T "$d/order"
	pigz -c -6 "$d/usr2.tar" >"$d/base-usr2.tar.gz"
	quiet "$TOOLS/crane" append -f "$d/base-usr2.tar.gz" -f "$CORPUS/layers/base-var.tar.gz" -f "$CORPUS/layers/base-rest.tar.gz" \
		-t "$REG/debian:rebuilt-stage"
	quiet "$TOOLS/crane" mutate "$REG/debian:rebuilt-stage" --set-platform linux/amd64 \
		--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env LANG=C.UTF-8 --cmd bash -t "$REG/debian:rebuilt"
	seq -f %03g 1 "$n" | xargs -P4 -I{} "$TOOLS/crane" append -b "$REG/debian:rebuilt" -f "$CORPUS/layers/tiny-{}.tar.gz" \
		-t "$REG/refresh:v{}" >/dev/null
	rm -rf "$d/x" "$d/usr.tar" "$d/usr2.tar"
	seq -f "$REG/refresh:v%03g" 1 "$n" >"$list"
	rm -rf "$W/cache/refresh-full" "$W/cache/refresh-have"
	timed refresh-full airlock 1 "$AIRLOCK" export -f "$list" "${XF[@]}" --format 2 --key "$W/release.key" \
		-o "$W/out/refresh-full" --cache-dir "$W/cache/refresh-full"
	timed refresh-have airlock 1 "$AIRLOCK" export -f "$list" "${XF[@]}" --format 2 --key "$W/release.key" \
		-o "$W/out/refresh-have" --cache-dir "$W/cache/refresh-have" --have "$W/out/refresh-receipt.json" --have-unsigned
	rm -rf "$W/cache/refresh-full" "$W/cache/refresh-have"
	timed refresh-import airlock 1 "$AIRLOCK" import "$W/out/refresh-have.tar" --pub "$W/release.pub" --bucket refresh --endpoint "$MINIO_URL"
	"$AIRLOCK" audit --bucket refresh --endpoint "$MINIO_URL" --pub "$W/release.pub" --deep >>"$W/logs/refresh.log" 2>&1 ||
		die "refresh: the delta did not import and audit --deep clean; see $W/logs/refresh.log"
	"$TOOLS/mc" rb -q --force local/refresh >/dev/null
	local full have
	full=$(size_of "$W/out/refresh-full.tar")
	have=$(size_of "$W/out/refresh-have.tar")
	info "bundle.refresh-full" "$full"
	info "bundle.refresh-have" "$have"
	{
		printf '\nWeekly refresh: the base'"'"'s usr/ layer rebuilt as if %d packages (%s) were upgraded:\n' "$(wc -w <<<"$pkgs")" "$pkgs"
		printf 'their %d files of the layer'"'"'s %d changed (new digest, the same order), the %d images\n' "$changed" "$total" "$n"
		printf 'pushed again on it; --format 2 export in full and with --have against a receipt of the bucket\n'
		printf 'holding last week'"'"'s bundle (cold caches, one run each). The delta imported and audited --deep clean.\n\n'
		printf '| export | bundle | ÷ full | export time | peak RSS |\n|---|---:|---:|---:|---:|\n'
		awk -F'\t' -v full="$full" -v have="$have" '
			$1 == "S" && $2 == "refresh-full" { t["full"] = $5; r["full"] = $6 }
			$1 == "S" && $2 == "refresh-have" { t["have"] = $5; r["have"] = $6 }
			$1 == "S" && $2 == "refresh-import" { ti = $5; ri = $6 }
			END {
				printf "| full | %.1f MB | 1.00× | %.1f s | %.0f MB |\n", full / 1e6, t["full"], r["full"] / 1024
				printf "| --have | %.1f MB | %.3f× | %.1f s | %.0f MB |\n", have / 1e6, have / full, t["have"], r["have"] / 1024
				printf "\nImport of the delta (assembling %s of objects, most members read from the bucket): %.1f s, %.0f MB peak RSS.\n", "the new images", ti, ri / 1024
			}' "$RES"
	} >>"$W/shared.md"
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
	bench_setup
	grep -q -- '--format' <<<"$EXPORT_HELP" || die "$AIRLOCK has no export --format"
	if [[ $SMALL != 1 ]]; then
		command -v pigz >/dev/null || die "shared: needs pigz (and debootstrap) to build the corpus; or BENCH_SMALL=1"
	fi
	start_registry
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
