#!/bin/sh
# make bench: the JSB Chorales table (bench/midi/run.sh) when the data is
# present (JSB_JSON or bench/midi/data/), with the Nottingham set from
# ../shared/midi when that folder is beside the checkout. One seed per cell.
here=$(dirname "$0")
if [ -z "${NOTTINGHAM_DIR:-}" ] && [ -d "$here/../../shared/midi/nottingham" ]; then
    NOTTINGHAM_DIR="$here/../../shared/midi/nottingham"
    export NOTTINGHAM_DIR
fi
exec sh "$here/midi/run.sh"
