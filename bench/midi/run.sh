#!/bin/sh
# bench/midi/run.sh — polyphonic music modelling on the JSB Chorales
# (quarter-note frames, the train/valid/test split of Boulanger-Lewandowski
# et al. 2012), trained with rnnfx-train --jsb on the CPU.
#
# Prints one line per model:
#   bench midi dataset=jsb cell=gru params=... test_nll=... minutes=...
# test_nll is the negative log-likelihood per frame in nats (binary
# cross-entropy summed over the 88 keys, averaged over all test frames),
# each test chorale heard from its first frame with the first frame
# predicted from silence, the model chosen by validation NLL. Published
# figures at about 20k parameters (Chung et al. 2014): GRU 8.54, LSTM 8.67,
# tanh RNN 9.19.
#
# Data (not in the repository): jsb-chorales-quarter.json from the public
# repository czhuang/JSB-Chorales-dataset. Give its path in JSB_JSON, or put
# it in bench/midi/data/. Without it the benchmark prints why and exits 0.
#
# Second, optional: the Nottingham folk tunes as MIDI files (the public
# repository jukedeck/nottingham-dataset, folder MIDI/, GPL-3) when
# NOTTINGHAM_DIR points at them: a GRU on the eighth-note grid with the
# trainer's own hash split of the files. This is not the preprocessed
# split the papers use (their tunes are transposed and sampled differently),
# so its figure is for tracking rnnfx over time, not for the paper's table.
#
# Environment: BUILD (default build), JSB_JSON, NOTTINGHAM_DIR, THREADS
# (default 2), SEEDS (default "1": one run per cell and seed), CELLS
# (default "gru lstm rnn").
set -u
BUILD=${BUILD:-build}
THREADS=${THREADS:-2}
SEEDS=${SEEDS:-1}
CELLS=${CELLS:-"gru lstm rnn"}
TRAIN="$BUILD/bin/rnnfx-train"
here=$(dirname "$0")

if [ -z "${JSB_JSON:-}" ]; then
    for c in "$here/data/jsb-chorales-quarter.json" "$HOME/JSB-Chorales-dataset/jsb-chorales-quarter.json"; do
        [ -f "$c" ] && JSB_JSON=$c && break
    done
fi
if [ ! -x "$TRAIN" ]; then
    echo "bench midi: $TRAIN not built (run make BUILD=$BUILD tools)" >&2
    exit 1
fi
out=$(mktemp -d /tmp/rnnfx-bench-midi-XXXXXX)
trap 'rm -rf "$out"' EXIT

if [ -n "${NOTTINGHAM_DIR:-}" ] && [ -d "$NOTTINGHAM_DIR" ]; then
    log="$out/nottingham.log"
    if "$TRAIN" --midi "$NOTTINGHAM_DIR" -o "$out/nottingham.json" --grid eighth \
        --beat-features off --cell gru --hidden 40 --lr 3e-3 --segment 32 --batch 8 --epochs 60 \
        --patience 10 --minutes 30 --threads "$THREADS" --quiet >"$log" 2>&1; then
        line=$(grep '^result:' "$log" | tail -1)
        get() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
        echo "bench midi dataset=nottingham-midi split=hash grid=eighth cell=gru" \
             "params=$(get params) valid_nll=$(get valid_nll) test_nll=$(get test_nll)" \
             "minutes=$(get minutes)"
    else
        echo "bench midi: Nottingham training failed:" >&2
        cat "$log" >&2
        exit 1
    fi
fi

if [ -z "${JSB_JSON:-}" ] || [ ! -f "$JSB_JSON" ]; then
    echo "bench midi: JSB skipped: data not found (set JSB_JSON to jsb-chorales-quarter.json"
    echo "  from github.com/czhuang/JSB-Chorales-dataset, or copy it to $here/data/)"
    exit 0
fi

echo "bench midi: JSB Chorales from $JSB_JSON, $THREADS thread(s), seeds: $SEEDS"
echo "bench midi: reference (Chung et al. 2014, ~20k params): gru 8.54, lstm 8.67, rnn 9.19"
for cell in $CELLS; do
    # About 20k parameters each; per-cell learning rates chosen on validation.
    case $cell in
        gru)  args="--cell gru --hidden 40 --lr 3e-3" ;;
        lstm) args="--cell lstm --hidden 34 --lr 5e-3" ;;
        rnn)  args="--cell rnn --hidden 80 --lr 3e-3" ;;
        *) echo "bench midi: unknown cell $cell" >&2; exit 1 ;;
    esac
    for seed in $SEEDS; do
        log="$out/$cell-$seed.log"
        # shellcheck disable=SC2086
        if ! "$TRAIN" --jsb "$JSB_JSON" -o "$out/$cell-$seed.json" $args --segment 32 --batch 8 \
            --epochs 80 --patience 80 --minutes 30 --threads "$THREADS" --seed "$seed" --quiet \
            >"$log" 2>&1; then
            echo "bench midi: training $cell (seed $seed) failed:" >&2
            cat "$log" >&2
            exit 1
        fi
        line=$(grep '^result:' "$log" | tail -1)
        get() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
        echo "bench midi dataset=jsb cell=$cell params=$(get params) seed=$seed" \
             "valid_nll=$(get valid_nll) test_nll=$(get test_nll) minutes=$(get minutes)"
    done
done
