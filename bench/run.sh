#!/usr/bin/env bash
# Measures nightshift's data plane next to the reference tools, side by side in one run, and prints markdown
# tables: SHA-256, tar.gz, Hub upload and download over loopback, peak RSS at two input sizes, and a second
# upload of unchanged data.
# Usage: bench/run.sh [TICKS_MIB] [SMALL_FILES] [SMALL_TICKS_MIB]   (defaults 2048, 20000 and 256)
# Data goes to a new directory under $BENCH_DIR (default /tmp), removed at exit. Only 127.0.0.1 is contacted.
set -euo pipefail

ticks_mib=${1:-2048}
small_files=${2:-20000}
small_ticks_mib=${3:-256}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
mkdir -p "${BENCH_DIR:-/tmp}"
work=$(mktemp -d "${BENCH_DIR:-/tmp}/nightshift-bench.XXXXXX")
standin_pid=""
cleanup() {
    if [[ -n "$standin_pid" ]]; then
        echo quit >&"${STANDIN[1]}" 2> /dev/null || true
        wait "$standin_pid" 2> /dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

swift build -c release --product nightshift --package-path "$root" >&2
swift build -c release --product nightshift-bench --package-path "$root" >&2
nightshift="$root/.build/release/nightshift"
bench="$root/.build/release/nightshift-bench"
cores=$(nproc)

# Test data: two tick CSVs, a directory of small files, and a workspace whose ticks are hard links to the CSV.
big="$work/ticks_${ticks_mib}MiB.csv"
little="$work/ticks_${small_ticks_mib}MiB.csv"
small="$work/small_${small_files}"
echo "generating data in $work" >&2
python3 "$here/generate-ticks.py" "$ticks_mib" "$big"
python3 "$here/generate-ticks.py" "$small_ticks_mib" "$little"
python3 "$here/generate-small-files.py" "$small_files" "$small"
big_bytes=$(stat -c %s "$big")
little_bytes=$(stat -c %s "$little")
small_bytes=$(find "$small" -type f -printf '%s\n' | awk '{ sum += $1 } END { print sum }')

# make_workspace DIR TICKS_SOURCE: the three feature CSVs plus workspace/raw_data/ticks from TICKS_SOURCE (a file
# is hard-linked, a directory's files are hard-linked into the same layout).
make_workspace() {
    local dir=$1 source=$2
    mkdir -p "$dir/workspace/prepared/features" "$dir/workspace/raw_data"
    for name in gold_train gold_val gold_test; do
        head -c 1048576 "$little" > "$dir/workspace/prepared/features/$name.csv"
    done
    if [[ -d "$source" ]]; then
        cp -al "$source" "$dir/workspace/raw_data/ticks"
    else
        mkdir -p "$dir/workspace/raw_data/ticks"
        ln "$source" "$dir/workspace/raw_data/ticks/$(basename "$source")"
    fi
}
make_workspace "$work/ws-big" "$big"
make_workspace "$work/ws-little" "$little"
make_workspace "$work/ws-small" "$small"
feature_bytes=$((3 * 1048576))

# Runs a command under /usr/bin/time -v and sets $seconds, $cpu_seconds (user + system) and $rss_mib. Its
# stdout is kept in $work/stdout.log.
measure() {
    local log="$work/time.log"
    /usr/bin/time -v "$@" > "$work/stdout.log" 2> "$log" || { cat "$log" >&2; return 1; }
    seconds=$(awk -F': ' '/Elapsed \(wall clock\)/ {
        n = split($2, part, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + part[i]; print s }' "$log")
    rss_mib=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$log")
    cpu_seconds=$(awk -F': ' '/User time|System time/ { sum += $2 } END { printf "%.2f", sum }' "$log")
}

rows=()
rss_rows=()
# Adds a table row. Arguments: label, input bytes, "ref" for the reference row or "-" for the others, output file
# (or -), then the command. The ratio is wall time over the last reference row's wall time.
row() {
    local label=$1 bytes=$2 role=$3 output=$4
    shift 4
    measure "$@"
    local rate ratio size="-"
    rate=$(awk -v b="$bytes" -v s="$seconds" 'BEGIN { printf "%.0f", b / 1e6 / (s > 0 ? s : 0.001) }')
    if [[ "$role" == ref ]]; then ratio="1.00 (ref)"; reference_seconds=$seconds
    else ratio=$(awk -v s="$seconds" -v r="$reference_seconds" 'BEGIN { printf "%.2f", s / r }'); fi
    if [[ "$output" != "-" ]]; then
        size=$(awk -v o="$(stat -c %s "$output")" -v b="$bytes" 'BEGIN { printf "%.1f MB (%.1f%%)", o / 1e6, 100 * o / b }')
        pigz -t "$output"
    fi
    rows+=("| $label | $seconds | $cpu_seconds | $rate | $ratio | $rss_mib | $size |")
    echo "done: $label ${seconds}s" >&2
}

# Records the last measurement in the peak RSS table. Arguments: command, input label.
remember_rss() {
    rss_rows+=("| $1 | $2 | $seconds | $rss_mib |")
}

print_table() {
    echo
    echo "### $1"
    echo
    echo "| tool | seconds | CPU s | MB/s | time vs reference | peak RSS (MiB) | output |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    rows=()
}

cat "$big" "$little" > /dev/null
echo "# nightshift benchmarks"
echo
echo "$cores cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ { print $2 }') GiB RAM."
echo "Load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)."
echo "Ticks: $big_bytes and $little_bytes bytes. Small files: $small_files files, $small_bytes bytes. Level 6."
echo "MB/s is input bytes / wall seconds; CPU s is user + system; the ratio is wall time over the reference row."
cd "$work"
big_name=$(basename "$big")
small_name=$(basename "$small")
big_label="${ticks_mib} MiB CSV"
little_label="${small_ticks_mib} MiB CSV"

mkdir -p out

# 1. SHA-256.
row "sha256sum ($big_label)" "$big_bytes" ref - sha256sum "$big"
row "openssl dgst -sha256 ($big_label)" "$big_bytes" - - openssl dgst -sha256 "$big"
row "nightshift checksum ($big_label)" "$big_bytes" - - "$nightshift" checksum "$big"
remember_rss "checksum" "$big_label"
row "nightshift checksum ($little_label)" "$little_bytes" - - "$nightshift" checksum "$little"
remember_rss "checksum" "$little_label"
print_table "SHA-256"

# 2. tar.gz of the big CSV, level 6 everywhere.
row "tar czf ($big_label)" "$big_bytes" ref out-tar.tgz tar czf out-tar.tgz "$big_name"
row "tar -I pigz, $cores threads ($big_label)" "$big_bytes" - out-pigz.tgz tar -I pigz -cf out-pigz.tgz "$big_name"
row "tar -I 'pigz -p 1' ($big_label)" "$big_bytes" - out-pigz1.tgz tar -I "pigz -p 1" -cf out-pigz1.tgz "$big_name"
row "nightshift-bench targz --workers 1 ($big_label)" "$big_bytes" - out-ns1.tgz \
    "$bench" targz --workers 1 out-ns1.tgz "$big_name"
row "nightshift-bench targz --workers $cores ($big_label)" "$big_bytes" - out-nsn.tgz \
    "$bench" targz --workers "$cores" out-nsn.tgz "$big_name"
row "nightshift archive training --jobs 1 ($big_label + 3 MiB)" "$((big_bytes + feature_bytes))" - \
    out/training-1.tar.gz "$nightshift" archive training --include-ticks --no-ask-ticks --jobs 1 \
    --local-dir ws-big --output-dir out --output training-1.tar.gz
row "nightshift archive training ($big_label + 3 MiB)" "$((big_bytes + feature_bytes))" - out/training.tar.gz \
    "$nightshift" archive training --include-ticks --no-ask-ticks --local-dir ws-big --output-dir out \
    --output training.tar.gz
remember_rss "archive training" "$big_label"
tar -xOzf out/training.tar.gz "workspace/raw_data/ticks/$big_name" | cmp - "$big"
row "nightshift archive training ($little_label + 3 MiB)" "$((little_bytes + feature_bytes))" - \
    out/training-little.tar.gz "$nightshift" archive training --include-ticks --no-ask-ticks \
    --local-dir ws-little --output-dir out --output training-little.tar.gz
remember_rss "archive training" "$little_label"
rm -rf out-*.tgz out/*
print_table "tar.gz of one large CSV"

# 2b. tar.gz of the small files.
cat "$small"/*/* > /dev/null
row "tar czf ($small_files files)" "$small_bytes" ref out-tar.tgz tar czf out-tar.tgz "$small_name"
row "tar -I pigz, $cores threads ($small_files files)" "$small_bytes" - out-pigz.tgz \
    tar -I pigz -cf out-pigz.tgz "$small_name"
row "nightshift-bench targz --workers $cores ($small_files files)" "$small_bytes" - out-nsn.tgz \
    "$bench" targz --workers "$cores" out-nsn.tgz "$small_name"
row "nightshift archive training ($small_files files + 3 MiB)" "$((small_bytes + feature_bytes))" - \
    out/training-small.tar.gz "$nightshift" archive training --include-ticks --no-ask-ticks \
    --local-dir ws-small --output-dir out --output training-small.tar.gz
rm -rf out-*.tgz out/*
print_table "tar.gz of $small_files small files"

# 3. Hub upload and download over loopback, against curl on the same stand-in.
mkdir -p standin-tmp cache
coproc STANDIN { TMPDIR="$work/standin-tmp/" exec "$bench" hub-standin --token hf_bench_token; }
standin_pid=$STANDIN_PID
read -r endpoint_line <&"${STANDIN[0]}"
read -r storage_line <&"${STANDIN[0]}"
endpoint=${endpoint_line#endpoint=}
storage=${storage_line#storage=}
case "$endpoint$storage" in
    http://127.0.0.1:*http://127.0.0.1:*) ;;
    *) echo "the stand-in did not report loopback URLs: $endpoint $storage" >&2; exit 1 ;;
esac
standin() {
    echo "$*" >&"${STANDIN[1]}"
    read -r reply <&"${STANDIN[0]}"
    echo "$reply"
}
stat_field() { tr ' ' '\n' <<< "$1" | awk -F= -v key="$2" '$1 == key { print $2 }'; }
hub_env=(env HF_ENDPOINT="$endpoint" HF_TOKEN=hf_bench_token XDG_CACHE_HOME="$work/cache")

hub_rows=()
# hub_row LABEL BYTES ROLE COMMAND...: like row, for the transfer table. MB/s is file bytes over wall seconds.
hub_row() {
    local label=$1 bytes=$2 role=$3
    shift 3
    measure "$@"
    local rate ratio
    rate=$(awk -v b="$bytes" -v s="$seconds" 'BEGIN { printf "%.0f", b / 1e6 / (s > 0 ? s : 0.001) }')
    if [[ "$role" == ref ]]; then ratio="1.00 (ref)"; reference_seconds=$seconds
    else ratio=$(awk -v s="$seconds" -v r="$reference_seconds" 'BEGIN { printf "%.2f", s / r }'); fi
    hub_rows+=("| $label | $seconds | $cpu_seconds | $rate | $ratio | $rss_mib |")
    echo "done: $label ${seconds}s" >&2
}

for size in little big; do
    file_var="${size}"; file=${!file_var}
    bytes_var="${size}_bytes"; bytes=${!bytes_var}
    label_var="${size}_label"; label=${!label_var}
    name=$(basename "$file")
    oid=$(sha256sum "$file" | cut -d' ' -f1)
    standin "create bench/curl-$size" > /dev/null
    mkdir -p "up-$size" "down-$size"
    ln "$file" "up-$size/$name"
    hub_row "curl -T to LFS storage ($label)" "$bytes" ref \
        curl -sS -f -H 'Expect:' -T "$file" "$storage/upload/datasets/bench/curl-$size/$oid?size=$bytes"
    hub_row "nightshift hub upload ticks ($label)" "$bytes" - \
        "${hub_env[@]}" "$nightshift" hub upload ticks --local-dir "up-$size" --repo-id "bench/ticks-$size"
    remember_rss "hub upload ticks" "$label"
    hub_row "curl -o from resolve ($label)" "$bytes" ref \
        curl -sS -f -L -H "Authorization: Bearer hf_bench_token" -o "down-$size/curl.csv" \
        "$endpoint/datasets/bench/ticks-$size/resolve/main/ticks/$name"
    cmp "down-$size/curl.csv" "$file"
    rm -f "down-$size/curl.csv"
    hub_row "nightshift hub download ticks ($label)" "$bytes" - \
        "${hub_env[@]}" "$nightshift" hub download ticks --local-dir "down-$size" --repo-id "bench/ticks-$size"
    remember_rss "hub download ticks" "$label"
    cmp "down-$size/$name" "$file"
    rm -rf "down-$size"
done

# 5. Second uploads of unchanged data: the big CSV, then the small files (first and second time).
again_rows=()
# upload_twice LABEL DIR REPO: uploads DIR to a new repo twice, with a hash cache of its own that the first
# upload fills. Each row gets the request bytes the stand-in received: those through the relay plus LFS PUT bodies.
upload_twice() {
    local label=$1 dir=$2 repo=$3 pass before after sent requests line
    local run_env=(env HF_ENDPOINT="$endpoint" HF_TOKEN=hf_bench_token XDG_CACHE_HOME="$work/cache-$repo")
    for pass in first second; do
        before=$(standin "stats $repo")
        measure "${run_env[@]}" "$nightshift" hub upload ticks --local-dir "$dir" --repo-id "$repo"
        after=$(standin "stats $repo")
        line=$(tail -n 1 "$work/stdout.log" | sed 's/: http.*$//')
        sent=$(( $(stat_field "$after" hub_bytes_up) - $(stat_field "$before" hub_bytes_up)
            + $(stat_field "$after" storage_put_bytes) - $(stat_field "$before" storage_put_bytes) ))
        requests=$(( $(stat_field "$after" hub_requests) - $(stat_field "$before" hub_requests)
            + $(stat_field "$after" storage_puts) - $(stat_field "$before" storage_puts) ))
        again_rows+=("| $label | $pass | $seconds | $rss_mib | $line | $sent | $requests |")
        echo "done: upload $label $pass ${seconds}s" >&2
    done
}
upload_twice "$big_label" "up-big" "bench/again-big"
upload_twice "$small_files small files" "$small" "bench/again-small"

echo
echo "### Hub upload and download over loopback"
echo
echo "| tool | seconds | CPU s | MB/s | time vs reference | peak RSS (MiB) |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${hub_rows[@]}"
echo
echo "### Upload of unchanged data"
echo
echo "| data | upload | seconds | peak RSS (MiB) | nightshift's summary | bytes received | requests |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${again_rows[@]}"
echo
echo "### Peak RSS of the nightshift commands"
echo
echo "| command | input | seconds | peak RSS (MiB) |"
echo "|---|---|---|---|"
printf '%s\n' "${rss_rows[@]}"
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
