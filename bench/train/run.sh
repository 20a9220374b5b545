#!/bin/sh
# bench/train/run.sh — training speed and quality, rnnfx against PyTorch
# (`make bench-train`). Figures, not pass/fail.
#
# Same data, same model, same recipe for both:
#   data    the real guitar/bass DI recordings in ../shared/audio/di (14 files,
#           4:44 in all) rendered through real third-party LV2 effects with
#           lv2file: the guitarix Boss DS-1 (gx_bossds1, defaults) and ZamTube
#           (zam-plugins, tubedrive 6: a tube stage with a tone stack that also
#           inverts polarity). rnnfx-train aligns and normalises the pairs and
#           splits each recording into time regions (8 of every 10 blocks
#           train, 1 validates, 1 tests); it exports exactly those arrays and
#           regions (--export-split) and bench/train/torch_train.py trains on
#           them.
#   model   GRU-32 and LSTM-32, one layer, dense output, skip as rnnfx decides
#           from the data (written into the split for PyTorch too).
#   recipe  rnnfx's defaults: 4096-sample segments, 512 burn-in, an Adam step
#           every 512 samples, batch 32, lr 5e-3 cosine to 1e-4 over the
#           wall-clock budget, clipping at global norm 1, ESR loss.
#   figures training samples per second (segment samples incl. burn-in,
#           scoring excluded) and test ESR of the current weights after 1, 2,
#           5 and 10 minutes of training wall time (scoring time excluded),
#           both on 2 threads; then peak memory (max RSS) of rnnfx-train
#           against the length of the recordings.
#
# Usage: sh bench/train/run.sh [--quick] [--effects ds1,zamtube] [--cells lstm,gru]
#        [--hidden 32] [--no-torch]
#   --quick   budgets of 2 minutes, scored at 0.5, 1 and 2 minutes, DS-1 only
# Environment: BUILD (default build), RNNFX_DI_DIR (default ../shared/audio/di),
# BENCH_DIR (work folder, default $BUILD/bench-train).
set -eu
BUILD=${BUILD:-build}
TRAIN=$BUILD/bin/rnnfx-train
DI=${RNNFX_DI_DIR:-../shared/audio/di}
WORK=${BENCH_DIR:-$BUILD/bench-train}
PY=/usr/bin/python3
HERE=$(dirname "$0")

quick=0 effects="" cells="lstm,gru" hidden=32 torch=1
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --effects) effects=$2; shift ;;
        --cells) cells=$2; shift ;;
        --hidden) hidden=$2; shift ;;
        --no-torch) torch=0 ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "bench-train: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
if [ $quick = 1 ]; then
    minutes=2; test_at=0.5,1,2; : "${effects:=ds1}"
else
    minutes=10; test_at=1,2,5,10; : "${effects:=ds1,zamtube}"
fi
# overrides for smoke-testing this script
minutes=${BENCH_MINUTES:-$minutes}
test_at=${BENCH_TEST_AT:-$test_at}

[ -x "$TRAIN" ] || { echo "bench-train: $TRAIN not built (make)"; exit 1; }
if [ ! -d "$DI" ]; then
    echo "bench-train: skipped: no DI recordings at $DI (set RNNFX_DI_DIR)"
    exit 0
fi
command -v lv2file > /dev/null 2>&1 || { echo "bench-train: skipped: lv2file is not installed (apt-get install lv2file)"; exit 0; }
if [ $torch = 1 ] && ! $PY -c 'import torch' 2> /dev/null; then
    echo "bench-train: PyTorch not found for $PY (apt-get install python3-torch): rnnfx only"
    torch=0
fi
mkdir -p "$WORK"

effect_uri() {
    case "$1" in
        ds1) echo "http://guitarix.sourceforge.net/plugins/gx_bossds1_#_bossds1_" ;;
        zamtube) echo "urn:zamaudio:ZamTube" ;;
        *) echo "" ;;
    esac
}
effect_params() {
    case "$1" in
        zamtube) echo "-p tubedrive:6" ;;
        *) echo "" ;;
    esac
}

# --- data: each DI file through each effect, a manifest per effect -------------
prepare() { # effect
    e=$1
    uri=$(effect_uri "$e")
    [ -n "$uri" ] || { echo "bench-train: unknown effect $e" >&2; return 1; }
    lv2ls | grep -qxF "$uri" || { echo "bench-train: effect $e ($uri) not installed" >&2; return 1; }
    mkdir -p "$WORK/$e/wet"
    : > "$WORK/$e/pairs.txt"
    for f in "$DI"/*.flac; do
        n=$(basename "$f")
        if [ ! -s "$WORK/$e/wet/$n" ]; then
            # shellcheck disable=SC2046
            lv2file -i "$f" -o "$WORK/$e/wet/$n" $(effect_params "$e") "$uri" > "$WORK/$e/render.log" 2>&1 ||
                { echo "bench-train: rendering $n through $e failed (see $WORK/$e/render.log)" >&2; return 1; }
        fi
        printf '"%s" "%s"\n' "$(cd "$(dirname "$f")" && pwd)/$n" "$(cd "$WORK/$e/wet" && pwd)/$n" >> "$WORK/$e/pairs.txt"
    done
}

field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" | head -1; }

echo "bench train: $(nproc) cores, budget $minutes min per run, scored at $test_at min; load now: $(cut -d' ' -f1-3 /proc/loadavg)"
for e in $(echo "$effects" | tr ',' ' '); do
    prepare "$e" || continue
    for c in $(echo "$cells" | tr ',' ' '); do
        d="$WORK/$e/$c"
        mkdir -p "$d"
        # --force: WORK (BENCH_DIR) is kept between runs, and rnnfx-train
        # keeps an earlier run's model unless told to replace it
        "$TRAIN" --manifest "$WORK/$e/pairs.txt" -o "$d/rnnfx.json" --type "$c" --hidden "$hidden" \
            --minutes "$minutes" --test-at "$test_at" --threads 2 --seed 1 --export-split "$d/split" \
            --no-preset --force > "$d/rnnfx.log" 2>&1 || { echo "bench-train: rnnfx-train failed, see $d/rnnfx.log"; continue; }
        sps=$(grep '^result ' "$d/rnnfx.log" | field samples_per_s)
        line="bench train effect=$e cell=$c hidden=$hidden impl=rnnfx samples_per_s=$sps"
        for m in $(echo "$test_at" | tr ',' ' '); do
            v=$(grep "test_at minutes=$m " "$d/rnnfx.log" | field esr)
            line="$line esr_${m}min=${v:-na}"
        done
        echo "$line load=$(cut -d' ' -f1 /proc/loadavg)"
        if [ $torch = 1 ]; then
            $PY "$HERE/torch_train.py" "$d/split" --minutes "$minutes" --test-at "$test_at" --threads 2 \
                > "$d/torch.log" 2>&1 || { echo "bench-train: torch_train.py failed, see $d/torch.log"; continue; }
            tl=$(grep '^torch samples_per_s' "$d/torch.log")
            tsps=$(echo "$tl" | field samples_per_s)
            line="bench train effect=$e cell=$c hidden=$hidden impl=torch samples_per_s=$tsps"
            for m in $(echo "$test_at" | tr ',' ' '); do
                v=$(echo "$tl" | field "esr_${m}min")
                line="$line esr_${m}min=${v:-na}"
            done
            echo "$line load=$(cut -d' ' -f1 /proc/loadavg)"
            awk -v a="$sps" -v b="$tsps" -v e="$e" -v c="$c" \
                'BEGIN { if (b > 0) printf "bench train effect=%s cell=%s speedup=%.1fx (rnnfx / torch samples per second)\n", e, c, a / b }'
        fi
        rm -rf "$d/split" # large arrays; the logs keep the figures
    done
done

# --- peak memory against recording length (one epoch of GRU-32) ----------------
e=$(echo "$effects" | cut -d, -f1)
if [ -x /usr/bin/time ] && [ -s "$WORK/$e/pairs.txt" ]; then
    for k in 1 4 14; do
        head -n $k "$WORK/$e/pairs.txt" > "$WORK/mem_pairs.txt"
        # (--force: each length trains into the same mem.json)
        /usr/bin/time -v "$TRAIN" --manifest "$WORK/mem_pairs.txt" -o "$WORK/mem.json" --epochs 1 \
            --threads 2 --no-preset --no-report --force > "$WORK/mem.log" 2> "$WORK/mem.time" || continue
        rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/mem.time")
        total=$(grep -c . "$WORK/mem_pairs.txt")
        audio=$(grep -o 'train_seconds_of_audio[^0-9]*[0-9.]*' "$WORK/mem.json" | head -1 | sed 's/.*[^0-9.]//')
        awk -v r="$rss" -v a="$audio" -v n="$total" \
            'BEGIN { printf "bench train memory files=%d train_audio_s=%.0f (80%% of all) peak_rss_mb=%.1f\n", n, a, r / 1024 }'
    done
fi
