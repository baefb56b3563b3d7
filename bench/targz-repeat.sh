#!/usr/bin/env bash
# Runs tar -I pigz, nightshift-bench targz and nightshift archive training on one generated tick CSV in turn,
# ROUNDS times, so that changes in machine load hit each tool alike. Prints one markdown row per run.
# Usage: bench/targz-repeat.sh [TICKS_MIB] [ROUNDS]   (defaults 1024 and 2). Data goes under $BENCH_DIR (default
# /tmp) and is removed at exit.
set -euo pipefail

ticks_mib=${1:-1024}
rounds=${2:-2}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
mkdir -p "${BENCH_DIR:-/tmp}"
work=$(mktemp -d "${BENCH_DIR:-/tmp}/nightshift-targz.XXXXXX")
trap 'rm -rf "$work"' EXIT

swift build -c release --product nightshift --package-path "$root" >&2
swift build -c release --product nightshift-bench --package-path "$root" >&2
nightshift="$root/.build/release/nightshift"
bench="$root/.build/release/nightshift-bench"
cores=$(nproc)

cd "$work"
python3 "$here/generate-ticks.py" "$ticks_mib" ticks.csv
mkdir -p ws/workspace/prepared/features ws/workspace/raw_data/ticks out
for name in gold_train gold_val gold_test; do head -c 1048576 ticks.csv > "ws/workspace/prepared/features/$name.csv"; done
ln ticks.csv ws/workspace/raw_data/ticks/ticks.csv
cat ticks.csv > /dev/null

run() {
    local label=$1
    shift
    local load
    load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -f '%e %U %S %M' -o time.log "$@" > /dev/null 2>&1
    read -r wall user system rss < time.log
    awk -v l="$label" -v w="$wall" -v u="$user" -v s="$system" -v r="$rss" -v load="$load" \
        'BEGIN { printf "| %s | %.2f | %.2f | %.2f | %.0f | %s |\n", l, w, u + s, (u + s) / w, r / 1024, load }'
}

echo "| tool | seconds | CPU s | cores used | peak RSS (MiB) | load at start |"
echo "|---|---|---|---|---|---|"
for round in $(seq "$rounds"); do
    run "tar -I pigz -cf, $cores threads" tar -I pigz -cf out/pigz.tgz ticks.csv
    run "nightshift-bench targz --workers $cores" "$bench" targz --workers "$cores" out/ns.tgz ticks.csv
    run "nightshift archive training" "$nightshift" archive training --include-ticks --no-ask-ticks \
        --local-dir ws --output-dir out --output training.tar.gz
    rm -f out/*
done
