#!/bin/sh
# run.sh — builds bench_peers against the peer engines whose sources you
# point it at, runs every build pinned to one CPU, and sums up: for each
# model the fastest peer build, rnnfx's figure from the same run, their
# ratio and issue 2's target (at most 0.6x the best peer from 16 units up,
# no slower at 8). `make bench-peers` runs it; see README.md here.
#
#   RTNEURAL=dir  an RTNeural checkout (its modules/Eigen is used for the
#                 Eigen backend; XSIMD=dir, an xsimd checkout or install
#                 prefix with include/, for the xsimd one, default
#                 $RTNEURAL/modules/xsimd)
#   NAM=dir       a NeuralAmpModelerCore checkout (EIGEN=dir: the Eigen it
#                 builds with, default its Dependencies/eigen, else Debian's
#                 /usr/include/eigen3)
#   CXX, CXXFLAGS the peers' compiler and flags (default g++, -O3 -DNDEBUG);
#                 every peer is built for each -march in PEERS_MARCH
#                 (default "native haswell": RTNeural built for AVX2 is the
#                 faster one at 8 units on an AVX-512 machine), each with
#                 and without -ffast-math, and the fastest build counts
#   BUILD         rnnfx's build folder (librnnfx.a), default build
#   PEERS_ARGS    passed to bench_peers (--cell lstm|gru, --hidden N)
#   PEERS_CPU     the CPU the programs are pinned to (default: the first
#                 this shell may run on)
# Exits non-zero if a build's program fails or a peer computes another
# model than rnnfx (see bench_peers.c); the summary leaves those out.
set -eu
BUILD=${BUILD:-build}
CC=${CC:-cc}
CXX=${CXX:-g++}
CXXFLAGS=${CXXFLAGS:--O3 -DNDEBUG}
PEERS_MARCH=${PEERS_MARCH:-native haswell}
OUT=$BUILD/bench/peers
here=$(dirname "$0")
mkdir -p "$OUT"

if [ -z "${RTNEURAL:-}" ] && [ -z "${NAM:-}" ]; then
    echo "bench-peers: no peer sources given. Set RTNEURAL=<RTNeural checkout> and/or" >&2
    echo "  NAM=<NeuralAmpModelerCore checkout>; see bench/peers/README.md." >&2
    exit 2
fi
[ -f "$BUILD/librnnfx.a" ] || { echo "bench-peers: $BUILD/librnnfx.a missing: run make first" >&2; exit 2; }

$CC -std=c11 -D_DEFAULT_SOURCE -O2 -Wall -Wextra -Wpedantic -I"$here/../../engine" -c "$here/bench_peers.c" -o "$OUT/bench_peers.o"
libs="$BUILD/librnnfx.a $(pkg-config --libs json-c samplerate sndfile) -lm -lpthread"

builds=""
# build NAME SOURCES... -- FLAGS...: one program from the adapter and the peer's sources.
build() {
    name=$1; shift
    srcs=""
    while [ "$1" != "--" ]; do srcs="$srcs $1"; shift; done
    shift
    for march in $PEERS_MARCH; do
        for fm in "" "-ffast-math"; do
            tag=$name${fm:+-fastmath}
            [ "$march" = native ] || tag=$tag-$march
            echo "bench-peers: building $tag" >&2
            # shellcheck disable=SC2086
            if $CXX -std=c++17 $CXXFLAGS -march="$march" $fm -I"$here" "-DPEER_BUILD=\"$tag\"" "$@" \
                $srcs "$OUT/bench_peers.o" $libs -o "$OUT/bench_peers-$tag" 2> "$OUT/build-$tag.log"; then
                builds="$builds $tag"
            else
                echo "bench-peers: $tag did not build (see $OUT/build-$tag.log)" >&2
            fi
        done
    done
}

if [ -n "${RTNEURAL:-}" ]; then
    rt=$RTNEURAL/RTNeural
    build rtneural-eigen "$here/peer_rtneural.cpp" "$rt/RTNeural.cpp" -- -I"$rt" \
        -I"$RTNEURAL/modules/Eigen" -DRTNEURAL_USE_EIGEN=1 -DRTNEURAL_DEFAULT_ALIGNMENT=32 \
        -DEIGEN_STACK_ALLOCATION_LIMIT=0
    xs=${XSIMD:-$RTNEURAL/modules/xsimd}
    if [ -f "$xs/include/xsimd/xsimd.hpp" ]; then
        build rtneural-xsimd "$here/peer_rtneural.cpp" "$rt/RTNeural.cpp" -- -I"$rt" \
            -I"$xs/include" -DRTNEURAL_USE_XSIMD=1 -DRTNEURAL_DEFAULT_ALIGNMENT=64
    else
        echo "bench-peers: no xsimd at $xs (set XSIMD=dir): RTNeural's xsimd backend left out" >&2
    fi
fi
if [ -n "${NAM:-}" ]; then
    if [ -n "${EIGEN:-}" ]; then
        eig=$EIGEN
    elif [ -f "$NAM/Dependencies/eigen/Eigen/Dense" ]; then
        eig=$NAM/Dependencies/eigen
    else
        eig=/usr/include/eigen3 # Debian's libeigen3-dev
    fi
    [ -f "$eig/Eigen/Dense" ] || { echo "bench-peers: no Eigen at $eig (set EIGEN=dir, or apt-get install libeigen3-dev)" >&2; exit 2; }
    build nam "$here/peer_nam.cpp" "$NAM/NAM/lstm.cpp" "$NAM/NAM/dsp.cpp" \
        "$NAM/NAM/activations.cpp" "$NAM/NAM/util.cpp" -- -I"$NAM" -I"$NAM/NAM" -I"$eig" \
        -I"$NAM/Dependencies/nlohmann" -I"$NAM/Dependencies" -DNAM_SAMPLE_FLOAT
fi
[ -n "$builds" ] || { echo "bench-peers: nothing built" >&2; exit 1; }

pin=""
if command -v taskset > /dev/null; then
    cpu=${PEERS_CPU:-$(taskset -pc $$ | sed 's/.*: *//; s/[,-].*//')}
    pin="taskset -c $cpu"
fi
: > "$OUT/lines"
failed=""
for b in $builds; do
    echo "== bench_peers-$b"
    # shellcheck disable=SC2086
    if $pin "$OUT/bench_peers-$b" ${PEERS_ARGS:-} > "$OUT/out-$b"; then
        cat "$OUT/out-$b"
        grep '^bench peer engine=' "$OUT/out-$b" >> "$OUT/lines" || true
    else
        cat "$OUT/out-$b"
        echo "bench-peers: bench_peers-$b failed; its figures are left out" >&2
        failed="$failed $b"
    fi
done
[ -s "$OUT/lines" ] || { echo "bench-peers: no figures" >&2; exit 1; }

echo
echo "best peer per model (rnnfx measured in the same run as that peer; target: ratio <= 1.0 at 8 units, <= 0.6 from 16):"
awk '
    { for (i = 3; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
      key = f["cell"] " " f["hidden"]
      if (!(key in best) || f["ns"] + 0 < best[key] + 0) {
          best[key] = f["ns"]; who[key] = f["engine"]; mine[key] = f["rnnfx_ns"]; err[key] = f["max_err"]
      }
      if (!(key in seen)) { seen[key] = 1; order[++n] = key } }
    END {
      printf "%-5s %6s  %-44s %9s %9s %9s %6s %6s  %s\n", "cell", "hidden", "best peer", "peer_ns", "max_err", "rnnfx_ns", "ratio", "target", ""
      for (k = 1; k <= n; k++) {
          key = order[k]; split(key, p, " ")
          r = mine[key] / best[key]; t = p[2] + 0 <= 8 ? 1.0 : 0.6
          printf "%-5s %6d  %-44s %9.1f %9s %9.1f %6.3f %6.1f  %s\n", p[1], p[2], who[key], best[key], err[key], mine[key], r, t, r <= t ? "met" : "missed"
          lines = lines sprintf("bench peer-best cell=%s hidden=%d engine=%s peer_ns=%.1f rnnfx_ns=%.1f ratio=%.3f target=%.1f\n", p[1], p[2], who[key], best[key], mine[key], r, t)
      }
      printf "\n%s", lines }' "$OUT/lines"
if [ -n "$failed" ]; then
    echo "bench-peers: failed:$failed (left out of the summary)" >&2
    exit 1
fi
