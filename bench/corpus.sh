# bench/corpus.sh: builds the benchmark corpus's layer tarballs once, cached
# in bench/.corpus/ (git-ignored), and pushes the images to a registry.
# Sourced by bench/run.sh; expects log, die and $CORPUS, $TOOLS.
#
# Layers (all gzip'd GNU tars, numeric owners, sorted names):
#   base-usr, base-var, base-rest  a debootstrap'd Debian bookworm minbase
#                                  split by top-level folder (usr/ | var/ | the rest)
#   slim-wh                        whiteouts (GNU tar of .wh. files): deletes
#                                  docs, man pages, locales, apt lists
#   toolchain                      a copy of /usr/local/go under usr/local/go
#   tiny-NNN                       one distinct small file each (scale variants)

CORPUS_VERSION=1 # bump when the recipe below changes; forces a rebuild

corpus_build() {
	local stamp=$CORPUS/.done-v$CORPUS_VERSION
	if [[ -f $stamp ]]; then
		log "corpus: cached in $CORPUS ($(cat "$CORPUS/description"))"
		return
	fi
	log "corpus: building in $CORPUS (first run only)"
	rm -rf "$CORPUS"
	mkdir -p "$CORPUS/layers"
	local root=$CORPUS/rootfs desc
	if corpus_debootstrap "$root"; then
		desc="Debian bookworm minbase (debootstrap)"
	else
		log "corpus: WARNING: debootstrap failed; falling back to a GENERATED tree (less realistic)"
		rm -rf "$root"
		corpus_generate "$root"
		desc="GENERATED tree (debootstrap unavailable)"
	fi
	local L=$CORPUS/layers
	# The tree split by top-level folder: usr/, var/, and everything else.
	corpus_tar "$root" "$L/base-usr.tar.gz" usr
	corpus_tar "$root" "$L/base-var.tar.gz" var
	local rest=()
	mapfile -t rest < <(cd "$root" && ls -A | grep -vx -e usr -e var)
	corpus_tar "$root" "$L/base-rest.tar.gz" "${rest[@]}"

	# Whiteouts: delete docs, man pages, locales (opaque or per-entry) and apt
	# lists, replace one file, as a "slim" image's upper layer would.
	local wh=$CORPUS/wh
	rm -rf "$wh"
	mkdir -p "$wh/usr/share/doc" "$wh/usr/share" "$wh/var/lib/apt/lists" "$wh/var/cache/apt" "$wh/etc"
	touch "$wh/usr/share/doc/.wh..wh..opq" "$wh/usr/share/.wh.man" "$wh/usr/share/.wh.locale" \
		"$wh/usr/share/.wh.info" "$wh/var/lib/apt/lists/.wh..wh..opq" "$wh/var/cache/apt/.wh.pkgcache.bin" \
		"$wh/var/cache/apt/.wh.srcpkgcache.bin"
	echo "slim variant" >"$wh/usr/share/doc/README.slim"
	echo "slim" >"$wh/etc/hostname"
	corpus_tar "$wh" "$L/slim-wh.tar.gz" usr var etc
	rm -rf "$wh"

	# A big toolchain layer: the Go distribution of this machine.
	local go_root
	go_root=$(go env GOROOT)
	local tc=$CORPUS/tc
	rm -rf "$tc"
	mkdir -p "$tc/usr/local"
	cp -a "$go_root" "$tc/usr/local/go"
	corpus_tar "$tc" "$L/toolchain.tar.gz" usr
	rm -rf "$tc"

	# Distinct tiny layers for the scale and memory variants.
	corpus_tiny 60

	local files size
	files=$(find "$root" -xdev | wc -l)
	size=$(du -sm --apparent-size "$root" | cut -f1)
	echo "$desc: $files entries, ${size} MB apparent, 3 layers (usr/ | var/ | rest); +whiteout layer; +toolchain layer ($(du -sm --apparent-size "$go_root" | cut -f1) MB, Go $(go env GOVERSION))" >"$CORPUS/description"
	rm -rf "$root"
	touch "$stamp"
	log "corpus: $(cat "$CORPUS/description")"
}

# corpus_tiny N: the distinct tiny layers tiny-001 ... tiny-N.
corpus_tiny() {
	local i d=$CORPUS/tiny
	for i in $(seq -f %03g 1 "$1"); do
		rm -rf "$d" && mkdir -p "$d/etc"
		printf 'variant %s\n' "$i" >"$d/etc/variant"
		tar -C "$d" --numeric-owner --sort=name --mtime=@0 -czf "$CORPUS/layers/tiny-$i.tar.gz" etc
	done
	rm -rf "$d"
}

# corpus_small: the small corpus of BENCH_SMALL=1 (bench/.corpus-small/): one
# generated base layer of about 12 MB (8 MB incompressible, the rest text,
# symlinks, hardlinks) and tiny layers; rebuilt each time (a few seconds).
corpus_small() {
	local root=$CORPUS/rootfs i j
	rm -rf "$CORPUS"
	mkdir -p "$CORPUS/layers" "$root"/{usr/bin,usr/lib,usr/share/doc,etc}
	for i in $(seq 1 8); do
		mkdir -p "$root/usr/lib/pkg$i" "$root/usr/share/doc/pkg$i"
		head -c 1000000 /dev/urandom >"$root/usr/lib/pkg$i/lib$i.so"
		for j in $(seq 1 40); do
			seq 1 $((j * 40)) >"$root/usr/share/doc/pkg$i/file$j.txt"
		done
		ln -s "../lib/pkg$i/lib$i.so" "$root/usr/bin/tool$i"
		ln "$root/usr/lib/pkg$i/lib$i.so" "$root/usr/lib/pkg$i/lib$i.so.1"
	done
	echo small >"$root/etc/hostname"
	corpus_tar "$root" "$CORPUS/layers/base.tar.gz" usr etc
	corpus_tiny 60
	echo "SMALL generated tree: $(find "$root" | wc -l) entries, $(du -sm --apparent-size "$root" | cut -f1) MB apparent, one layer" >"$CORPUS/description"
	rm -rf "$root"
}

# corpus_push_small HOST: HOST/small:base, the small corpus's base image.
corpus_push_small() {
	local crane="quiet $TOOLS/crane"
	$crane append -f "$CORPUS/layers/base.tar.gz" -t "$1/small:stage"
	$crane mutate "$1/small:stage" --set-platform linux/amd64 --env PATH=/usr/bin -t "$1/small:base"
}

corpus_debootstrap() {
	local root=$1 mirror
	command -v debootstrap >/dev/null || return 1
	mirror=$(grep -h -m1 -o 'https\?://[^ ]*/debian/\?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
	if [[ -z $mirror ]]; then
		mirror=$(grep -h -o 'deb https\?://[^ ]*' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -1 | cut -d' ' -f2)
	fi
	[[ -n $mirror ]] || mirror=http://deb.debian.org/debian
	log "corpus: debootstrap --variant=minbase bookworm from $mirror (~35 s)"
	debootstrap --variant=minbase bookworm "$root" "$mirror" >"$CORPUS/debootstrap.log" 2>&1
}

# corpus_generate makes a tree of about 200 MB and 6k entries with
# compressible and incompressible files, symlinks and hardlinks.
corpus_generate() {
	local root=$1 i j
	mkdir -p "$root"/{usr/bin,usr/lib,usr/share/doc,var/lib,etc,tmp}
	for i in $(seq 1 60); do
		mkdir -p "$root/usr/lib/pkg$i" "$root/usr/share/doc/pkg$i"
		head -c 1500000 /dev/urandom >"$root/usr/lib/pkg$i/lib$i.so"
		for j in $(seq 1 80); do
			seq 1 $((j * 40)) >"$root/usr/share/doc/pkg$i/file$j.txt"
		done
		ln -s "../lib/pkg$i/lib$i.so" "$root/usr/bin/tool$i"
		ln "$root/usr/lib/pkg$i/lib$i.so" "$root/usr/lib/pkg$i/lib$i.so.1"
	done
	find /usr/share/common-licenses -maxdepth 1 -type f -exec cp {} "$root/usr/share/doc/" \; 2>/dev/null || true
	echo generated >"$root/etc/hostname"
}

# corpus_tar DIR OUT NAMES...: a gzip'd layer tar of NAMES under DIR.
corpus_tar() {
	local dir=$1 out=$2
	shift 2
	tar -C "$dir" --numeric-owner --sort=name -cf - "$@" | pigz -p2 -6 >"$out"
}

# corpus_push HOST: pushes the corpus images to the registry at HOST.
#   HOST/debian:bookworm          3 layers
#   HOST/debian:bookworm-slim     + whiteout layer
#   HOST/golang:bookworm          + toolchain layer
corpus_push() {
	local host=$1 L=$CORPUS/layers crane="quiet $TOOLS/crane"
	$crane append -f "$L/base-usr.tar.gz" -f "$L/base-var.tar.gz" -f "$L/base-rest.tar.gz" \
		-t "$host/debian:stage"
	$crane mutate "$host/debian:stage" --set-platform linux/amd64 \
		--env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env LANG=C.UTF-8 \
		--cmd bash -t "$host/debian:bookworm"
	$crane append -b "$host/debian:bookworm" -f "$L/slim-wh.tar.gz" -t "$host/debian:bookworm-slim"
	$crane append -b "$host/debian:bookworm" -f "$L/toolchain.tar.gz" -t "$host/golang:stage"
	$crane mutate "$host/golang:stage" --env PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		--env GOPATH=/go --user 1000 -t "$host/golang:bookworm"
}

# corpus_push_variants HOST BASE REPO N: pushes N images HOST/REPO:vNNN, each
# BASE plus the tiny-NNN layer (NNN = 001..N), 4 at a time.
corpus_push_variants() {
	local host=$1 base=$2 repo=$3 n=$4
	seq -f %03g 1 "$n" |
		xargs -P4 -I{} "$TOOLS/crane" append -b "$host/$base" -f "$CORPUS/layers/tiny-{}.tar.gz" -t "$host/$repo:v{}" >/dev/null
}

# quiet CMD...: runs CMD, showing its output only when it fails.
quiet() {
	local out
	out=$("$@" 2>&1) || {
		printf '%s\n' "$out" >&2
		return 1
	}
}
