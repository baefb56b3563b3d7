#!/bin/sh
# Runs the randomized leak campaign: bench/leak-campaign.sh [RUNS] [SEED] [WORKERS] (defaults 1000, random, 4).
# CONFIGURATION=debug reuses the debug build that `swift build` makes; the default builds a release binary.
set -eu
cd "$(dirname "$0")/.."
runs=${1:-1000}
seed=${2:-}
workers=${3:-4}
configuration=${CONFIGURATION:-release}
swift build -c "$configuration" --product nightshift-campaign >&2
set -- --runs "$runs" --workers "$workers"
if [ -n "$seed" ]; then
    set -- "$@" --seed "$seed"
fi
exec ".build/$configuration/nightshift-campaign" "$@"
