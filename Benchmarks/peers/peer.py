"""Saves and loads one training state with the Python peers and prints the timings as JSON.

The Swift benchmark writes the state's raw bytes to one file and describes the tensors in an
index. This script reads them into numpy arrays (not timed), then times on those same bytes:

- safetensors.numpy.save_file followed by fsync, and load_file with the file in the page
  cache and again after dropping it from the cache;
- numpy.savez followed by fsync, and numpy.load reading every array, warm and cold.

numpy has no bfloat16, so bf16 tensors travel as uint16 arrays: the same bytes, written and
read by the same code paths, with another dtype name in the header.

Each measurement runs REPEATS times (default 1) and the median is printed.

Usage: peer.py INDEX_JSON WORK_DIRECTORY [REPEATS]
"""

import json
import os
import statistics
import sys
import time

import numpy as np

NUMPY_DTYPES = {"f32": np.float32, "f16": np.float16, "bf16": np.uint16}


def fsync_path(path):
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def drop_from_cache(path):
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(descriptor)


def timed(action):
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def load_state(index):
    arrays = {}
    with open(index["rawPath"], "rb") as raw:
        for tensor in index["tensors"]:
            raw.seek(tensor["offset"])
            count = tensor["byteCount"] // np.dtype(NUMPY_DTYPES[tensor["dtype"]]).itemsize
            arrays[tensor["name"]] = np.fromfile(raw, dtype=NUMPY_DTYPES[tensor["dtype"]], count=count)
    return arrays


def measure_repeatedly(save, load, path, repeats):
    """Times save (with fsync), a load from the page cache and a cold load, `repeats` times."""
    saves, loads, cold_loads = [], [], []
    for _ in range(repeats):
        save_seconds, _ = timed(save)
        warm_seconds, loaded = timed(load)
        del loaded
        drop_from_cache(path)
        cold_seconds, loaded = timed(load)
        del loaded
        size = os.path.getsize(path)
        os.remove(path)
        saves.append(save_seconds)
        loads.append(warm_seconds)
        cold_loads.append(cold_seconds)
    return {
        "saveSeconds": statistics.median(saves),
        "loadSeconds": statistics.median(loads),
        "coldLoadSeconds": statistics.median(cold_loads),
        "byteCount": size,
    }


def measure_safetensors(arrays, directory, repeats):
    from safetensors.numpy import load_file, save_file

    path = os.path.join(directory, "state.safetensors")

    def save():
        save_file(arrays, path)
        fsync_path(path)

    def load():
        loaded = load_file(path)
        assert len(loaded) == len(arrays)
        return loaded

    return measure_repeatedly(save, load, path, repeats)


def measure_savez(arrays, directory, repeats):
    path = os.path.join(directory, "state.npz")

    def save():
        np.savez(path, **arrays)
        fsync_path(path)

    def load():
        with np.load(path) as archive:
            loaded = {name: archive[name] for name in archive.files}
        assert len(loaded) == len(arrays)
        return loaded

    return measure_repeatedly(save, load, path, repeats)


def main():
    index_path, directory = sys.argv[1], sys.argv[2]
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    with open(index_path) as handle:
        index = json.load(handle)
    arrays = load_state(index)
    results = {"versions": {"numpy": np.__version__}}
    try:
        import safetensors

        results["versions"]["safetensors"] = safetensors.__version__
        results["safetensors"] = measure_safetensors(arrays, directory, repeats)
    except ImportError as error:
        results["safetensors"] = {"missing": str(error)}
    results["numpy.savez"] = measure_savez(arrays, directory, repeats)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
