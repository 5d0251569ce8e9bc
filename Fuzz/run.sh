#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer and AddressSanitizer, then runs each one in turn.
#
# Usage: Fuzz/run.sh [seconds] [target ...]
#   seconds  how long each target runs, passed to -max_total_time; default 60
#   target   FuzzManifest, FuzzSafetensors or both (the default)
#
# Environment:
#   FUZZ_SCRATCH  build folder; default Fuzz/.build
#   FUZZ_FLAGS    extra libFuzzer flags, such as "-jobs=2 -workers=2"
#
# New corpus entries go to Fuzz/.work/<target>/corpus and crashes to
# Fuzz/.work/<target>/artifacts; the seeds in Fuzz/Corpus/<target> are only read. The script
# exits with status 1 when any target fails.
set -euo pipefail

seconds="${1:-60}"
if [[ $# -gt 0 ]]; then shift; fi
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(FuzzManifest FuzzSafetensors)
fi
if ! [[ "$seconds" =~ ^[0-9]+$ ]]; then
  echo "error: seconds must be a whole number, got '$seconds'" >&2
  exit 2
fi

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
scratch="${FUZZ_SCRATCH:-$fuzz_dir/.build}"
build_flags=(
  --package-path "$fuzz_dir" --scratch-path "$scratch" -c debug
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
)

swift build "${build_flags[@]}"
bin_dir="$(swift build "${build_flags[@]}" --show-bin-path)"

failed=()
for target in "${targets[@]}"; do
  work="$fuzz_dir/.work/$target"
  mkdir -p "$work/corpus" "$work/artifacts"
  dictionary=()
  if [[ -f "$fuzz_dir/$target.dict" ]]; then
    dictionary=("-dict=$fuzz_dir/$target.dict")
  fi
  echo "== $target for $seconds s"
  # shellcheck disable=SC2086  # FUZZ_FLAGS holds several flags on purpose.
  if ! "$bin_dir/$target" "$work/corpus" "$fuzz_dir/Corpus/$target" \
    -max_total_time="$seconds" -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
    "${dictionary[@]}" ${FUZZ_FLAGS:-}; then
    failed+=("$target")
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzzing failed for: ${failed[*]}; see Fuzz/.work/<target>/artifacts" >&2
  exit 1
fi
echo "no crashes found"
