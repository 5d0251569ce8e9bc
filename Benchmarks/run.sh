#!/usr/bin/env bash
# Builds the benchmark runner in release mode and runs it from the package root.
#
#   Benchmarks/run.sh            every suite at full size, Python peers installed first
#   Benchmarks/run.sh --quick    every suite shrunk to about a minute, no Python setup
#   Benchmarks/run.sh save       one suite (codecs, save, tensors, stall, training, resume, tracking)
#
# The report goes to standard output and to Benchmarks/results/ (ignored by git). Set
# WAYMARK_BENCH_SCRATCH to choose the build directory; the default is .build.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="${WAYMARK_BENCH_SCRATCH:-.build}"
quick=false
for argument in "$@"; do
  [ "$argument" = "--quick" ] && quick=true
done
if [ "$quick" = false ]; then
  Benchmarks/peers/setup.sh || echo "Python peers could not be installed; they are reported as missing" >&2
fi
swift build -c release --scratch-path "$scratch" --product WaymarkBenchmarks
"$scratch/release/WaymarkBenchmarks" "$@"
