#!/usr/bin/env bash
# Builds the libFuzzer targets of Tests/Fuzz (release, libFuzzer + AddressSanitizer over the whole
# package graph) and runs each for SECONDS over its committed corpus (Tests/Fuzz/Corpus/<name>)
# plus a working corpus in $SCRATCH/fuzz-corpus/<name> where new inputs go (never into git).
# Fails when any target finds something; the input is left in $SCRATCH/fuzz-artifacts/<name>/.
#
#   Tests/Fuzz/fuzz.sh SECONDS [TARGET...]     e.g. Tests/Fuzz/fuzz.sh 60 FuzzJSON
#
# `make fuzz` runs it with FUZZ_SECONDS (60) per target, `make test` with 5 (the smoke).
# Knobs (environment): SCRATCH (.build), FUZZ_ARGS (extra libFuzzer flags, e.g. -jobs=2).
set -euo pipefail

cd "$(dirname "$0")/../.."
SECONDS_EACH=${1:?usage: Tests/Fuzz/fuzz.sh SECONDS [TARGET...]}
shift
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(FuzzSession FuzzJSON FuzzCSV FuzzConfig FuzzHTTP)
SCRATCH=${SCRATCH:-.build}
BUILD="$SCRATCH/fuzz"
FUZZ_ARGS=${FUZZ_ARGS:-}

echo "==> building the fuzz targets (release, -sanitize=fuzzer,address) in $BUILD"
start=$(date +%s)
swift build -c release --package-path Tests/Fuzz --scratch-path "$BUILD" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing 2>&1 |
    grep -vE "Cannot export local symbol|^warning: '[^']*': Source files for target|prohibited flag" || true
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "fuzz build failed" >&2; exit 1; }
echo "==> fuzz build: $(($(date +%s) - start)) s"

# Speed: no allocation stack traces (rerun a crash input without this to get them); Swift's
# runtime backtracer off so that libFuzzer and ASan report crashes at once.
export ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=0}
export SWIFT_BACKTRACE=enable=no

failed=()
for target in "${TARGETS[@]}"; do
    corpus="Tests/Fuzz/Corpus/$(echo "${target#Fuzz}" | tr '[:upper:]' '[:lower:]')"
    work="$SCRATCH/fuzz-corpus/$target"
    artifacts="$SCRATCH/fuzz-artifacts/$target"
    log="$SCRATCH/fuzz-logs/$target.log"
    mkdir -p "$work" "$artifacts" "$(dirname "$log")"
    dict=()
    [ -f "$corpus.dict" ] && dict=("-dict=$corpus.dict")
    # A session is a handful of frames: longer inputs only slow the search down.
    maxlen=()
    [ "$target" = FuzzSession ] && maxlen=(-max_len=256)
    set +e
    # The CPU time it got, as well as the wall time: on a shared machine exec/s per CPU second
    # is the figure that compares across runs.
    TIMEFORMAT='%U %S'
    # shellcheck disable=SC2086
    { time "$BUILD/release/$target" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -timeout=10 \
        -rss_limit_mb=4096 -artifact_prefix="$artifacts/" "${dict[@]}" "${maxlen[@]}" $FUZZ_ARGS "$work" "$corpus" \
        >"$log" 2>&1; } 2>"$log.cpu"
    rc=$?
    set -e
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
    cpu_rate=$(awk -v runs="${runs:-0}" '{ cpu = $1 + $2; if (cpu > 0) printf "%d", runs / cpu }' "$log.cpu")
    if [ "$rc" -ne 0 ]; then
        echo "$target: FOUND SOMETHING (exit $rc) — see $log; input in $artifacts/" >&2
        grep -E "Fatal error|ERROR: |SUMMARY" "$log" | head -5 >&2 || true
        failed+=("$target")
    else
        printf '%-12s %9s runs  %6s exec/s  %6s exec/CPU-s  %s\n' "$target" "${runs:-?}" "${rate:-?}" "${cpu_rate:-?}" "$cov"
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzzing found crashes in: ${failed[*]} (reproduce: $BUILD/release/<target> <input>)" >&2
    exit 1
fi
