#!/usr/bin/env bash
# Creates Benchmarks/.venv with the Python peers the benchmarks compare against: numpy (for
# numpy.savez) and safetensors. Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check numpy safetensors
.venv/bin/python -c "import numpy, safetensors; print('peers ready: numpy', numpy.__version__, 'safetensors', safetensors.__version__)"
