#!/usr/bin/env bash
# Compares nightshift's SHA-256 and tar.gz with sha256sum, openssl, tar czf and pigz on generated data, and
# prints one markdown table. Usage: bench/run.sh [TICKS_MIB] [SMALL_FILES]   (defaults 2048 and 20000)
# The data goes to $BENCH_DIR (default /tmp/nightshift-bench), which is reused when it already has the sizes.
set -euo pipefail

ticks_mib=${1:-2048}
small_files=${2:-20000}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
work=${BENCH_DIR:-/tmp/nightshift-bench}
mkdir -p "$work"

swift build -c release --product nightshift-bench --package-path "$root" >&2
bench="$root/.build/release/nightshift-bench"

ticks="$work/ticks_${ticks_mib}MiB.csv"
small="$work/small_${small_files}"
if [[ ! -f "$ticks" ]]; then
    echo "generating $ticks" >&2
    python3 "$here/generate-ticks.py" "$ticks_mib" "$ticks"
fi
if [[ ! -d "$small" ]]; then
    echo "generating $small" >&2
    python3 "$here/generate-small-files.py" "$small_files" "$small"
fi
ticks_bytes=$(stat -c %s "$ticks")
small_bytes=$(find "$small" -type f -printf '%s\n' | awk '{ sum += $1 } END { print sum }')

# Runs a command under /usr/bin/time -v (or bash's clock and /proc when it is missing) and sets $seconds,
# $cpu_seconds (user + system, "-" without /usr/bin/time) and $rss_mib.
measure() {
    local log="$work/time.log"
    if [[ -x /usr/bin/time ]]; then
        /usr/bin/time -v "$@" > /dev/null 2> "$log"
        seconds=$(awk -F': ' '/Elapsed \(wall clock\)/ {
            n = split($2, part, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + part[i]; print s }' "$log")
        rss_mib=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$log")
        cpu_seconds=$(awk -F': ' '/User time|System time/ { sum += $2 } END { printf "%.2f", sum }' "$log")
    else
        cpu_seconds="-"
        local start end peak=0
        start=$(date +%s.%N)
        "$@" > /dev/null 2> "$log" &
        local pid=$!
        while kill -0 "$pid" 2> /dev/null; do
            local hwm
            hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$pid/status" 2> /dev/null || echo 0)
            (( ${hwm:-0} > peak )) && peak=$hwm
            sleep 0.05
        done
        wait "$pid"
        end=$(date +%s.%N)
        seconds=$(echo "$end - $start" | bc)
        rss_mib=$(( peak / 1024 ))
    fi
}

rows=()
# Adds a table row. Arguments: label, input bytes, reference seconds (empty for the reference itself), output
# file (or -), then the command.
row() {
    local label=$1 bytes=$2 reference=$3 output=$4
    shift 4
    measure "$@"
    local rate ratio size="-"
    rate=$(awk -v b="$bytes" -v s="$seconds" 'BEGIN { printf "%.0f", b / 1e6 / (s > 0 ? s : 0.001) }')
    if [[ -z "$reference" ]]; then ratio="1.00 (ref)"; reference_seconds=$seconds
    else ratio=$(awk -v s="$seconds" -v r="$reference" 'BEGIN { printf "%.2f", s / r }'); fi
    if [[ "$output" != "-" ]]; then
        size=$(awk -v o="$(stat -c %s "$output")" -v b="$bytes" 'BEGIN { printf "%.1f MB (%.1f%%)", o / 1e6, 100 * o / b }')
        pigz -t "$output"
    fi
    rows+=("| $label | $seconds | $cpu_seconds | $rate | $ratio | $rss_mib | $size |")
    echo "done: $label ${seconds}s" >&2
}

cat "$ticks" > /dev/null
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
cd "$work"
ticks_name=$(basename "$ticks")
small_name=$(basename "$small")
cores=$(nproc)

row "sha256sum (ticks)" "$ticks_bytes" "" - sha256sum "$ticks"
ref=$reference_seconds
row "openssl dgst -sha256 (ticks)" "$ticks_bytes" "$ref" - openssl dgst -sha256 "$ticks"
row "nightshift-bench sha256 (ticks)" "$ticks_bytes" "$ref" - "$bench" sha256 "$ticks"

row "tar czf (ticks)" "$ticks_bytes" "" out-tar.tgz tar czf out-tar.tgz "$ticks_name"
ref=$reference_seconds
row "tar -I pigz -cf (ticks, $cores cores)" "$ticks_bytes" "$ref" out-pigz.tgz tar -I pigz -cf out-pigz.tgz "$ticks_name"
row "nightshift targz, 1 worker (ticks)" "$ticks_bytes" "$ref" out-ns1.tgz "$bench" targz --workers 1 out-ns1.tgz "$ticks_name"
row "nightshift targz, $cores workers (ticks)" "$ticks_bytes" "$ref" out-nsn.tgz "$bench" targz out-nsn.tgz "$ticks_name"

cat "$small"/*/* > /dev/null
row "tar czf (${small_files} files)" "$small_bytes" "" out-tar.tgz tar czf out-tar.tgz "$small_name"
ref=$reference_seconds
row "tar -I pigz -cf (${small_files} files)" "$small_bytes" "$ref" out-pigz.tgz tar -I pigz -cf out-pigz.tgz "$small_name"
row "nightshift targz, $cores workers (${small_files} files)" "$small_bytes" "$ref" out-nsn.tgz "$bench" targz out-nsn.tgz "$small_name"
rm -f out-tar.tgz out-pigz.tgz out-ns1.tgz out-nsn.tgz

echo
echo "Ticks: $ticks_bytes bytes. Small files: $small_files files, $small_bytes bytes. $cores cores, level 6."
echo "Load average before the run: $load_before. MB/s is input bytes / wall seconds; CPU s is user + system."
echo
echo "| tool | seconds | CPU s | MB/s | time vs reference | peak RSS (MiB) | output |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
