"""Read and verify Waymark checkpoints without Swift.

This module is an independent reader of the checkpoint format in docs/FORMAT.md, format
versions 1 and 2 (packs), with every codec listed there: ``raw``, ``zstd``,
``bytegroup{2,4,8}+zstd`` and ``bytelanes{2,4,8}``.

It depends on numpy, zstandard and xxhash, and was tested with Python 3.11, numpy 2.4,
zstandard 0.25 and xxhash 4.1. Install the packages with::

    python3 -m pip install numpy zstandard xxhash

Use it as a library::

    import waymark_reader
    checkpoint = waymark_reader.load("checkpoints/step-000000001200")
    checkpoint["tensors"]["layer0.weight"]      # a numpy array
    problems = waymark_reader.verify("checkpoints/step-000000001200")

or from the command line, which prints one line per tensor::

    python3 waymark_reader.py checkpoints/step-000000001200

numpy has no bfloat16 type, so ``load`` returns ``bf16`` tensors as ``uint16`` arrays of the
raw bit patterns by default, or widened exactly to ``float32`` with ``bf16_as_float32=True``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import stat
import sys
import unicodedata

import numpy as np
import xxhash
import zstandard

__all__ = ["CheckpointError", "list_checkpoints", "load", "verify"]

MANIFEST_NAME = "manifest.json"
MANIFEST_PREFIX = b'{"checksum":"xxh3-64:'
MANIFEST_MIDDLE = b'","manifest":'
MANIFEST_SUFFIX = b"}\n"
BODY_OFFSET = len(MANIFEST_PREFIX) + 16 + len(MANIFEST_MIDDLE)
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
MAX_CHUNK_RAW_BYTES = 256 * 1024 * 1024
MAX_NAME_BYTES = 1024
KNOWN_FORMAT_VERSIONS = (1, 2)

# Waymark dtype name -> (numpy dtype of the little-endian raw bytes, width in bytes).
DTYPES = {
    "f64": ("<f8", 8),
    "f32": ("<f4", 4),
    "f16": ("<f2", 2),
    "bf16": ("<u2", 2),
    "i64": ("<i8", 8),
    "i32": ("<i4", 4),
    "i16": ("<i2", 2),
    "i8": ("i1", 1),
    "u64": ("<u8", 8),
    "u32": ("<u4", 4),
    "u16": ("<u2", 2),
    "u8": ("u1", 1),
    "bool": ("?", 1),
}

CODECS = {"raw", "zstd"}
CODECS.update(f"bytegroup{width}+zstd" for width in (2, 4, 8))
CODECS.update(f"bytelanes{width}" for width in (2, 4, 8))

NON_FINITE_METRICS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
CHECKSUM_PATTERN = re.compile(r"[0-9a-f]{16}")
DATA_FILE_NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]+")
STEP_DIRECTORY_PATTERN = re.compile(r"step-([0-9]+)")
LANE_HEADER_ENTRY_BYTES = 6


class CheckpointError(Exception):
    """A checkpoint that is invalid, damaged or unreadable.

    ``checkpoint`` is the checkpoint directory and ``problems`` lists every problem found, each
    naming the tensor, chunk or pack it concerns.
    """

    def __init__(self, checkpoint: str, problems: list[str]):
        self.checkpoint = checkpoint
        self.problems = list(problems)
        message = f"invalid Waymark checkpoint {checkpoint!r}: {self.problems[0]}"
        if len(self.problems) > 1:
            message += f" (and {len(self.problems) - 1} more problems)"
        super().__init__(message)


class _InvalidManifest(Exception):
    """A manifest that cannot be parsed, so no further check can run."""


class _InvalidChunk(Exception):
    """Stored bytes that do not decode to the raw bytes the manifest declares."""


def list_checkpoints(store: str) -> list[tuple[int, str]]:
    """List the committed checkpoints of a store as (step, path) pairs, ordered by step.

    Only directories named ``step-`` followed by decimal digits count, so the dot-named
    directories of saves in progress, retention and damaged checkpoints are skipped. A run
    directory stands for its ``checkpoints`` store.
    """
    run_store = os.path.join(store, "checkpoints")
    if os.path.isfile(os.path.join(store, "run.json")) and os.path.isdir(run_store):
        store = run_store
    checkpoints = []
    with os.scandir(store) as entries:
        for entry in entries:
            match = STEP_DIRECTORY_PATTERN.fullmatch(entry.name)
            if match and entry.is_dir(follow_symlinks=False):
                checkpoints.append((int(match.group(1)), entry.path))
    checkpoints.sort()
    return checkpoints


def _directory_hint(directory: str) -> str:
    """Return advice when ``directory`` is a run or a store rather than a checkpoint."""
    if os.path.isfile(os.path.join(directory, "run.json")):
        return "; this is a run directory, so pass one of its checkpoints/step-... directories"
    if os.path.isdir(directory) and list_checkpoints(directory):
        return "; this is a checkpoint store, so pass one of its step-... directories"
    return ""


def load(checkpoint: str, *, bf16_as_float32: bool = False) -> dict:
    """Load a checkpoint directory after every check FORMAT.md requires of a reader.

    Returns a dict with ``step``, ``wall_time``, ``format_version``, ``metrics`` (name ->
    float), ``extra_state`` (parsed JSON) and ``tensors`` (name -> numpy array of the tensor's
    dtype and shape). ``bf16`` tensors are ``uint16`` bit patterns unless ``bf16_as_float32``
    is true. Tensors read from one pack share that pack's memory.

    Raises:
        CheckpointError: the checkpoint is invalid or damaged; the message names the
            checkpoint and the tensor, chunk or pack.
        OSError: a file could not be read for a reason other than its content.
    """
    result, problems = _read_checkpoint(checkpoint, keep_tensors=True)
    if problems:
        raise CheckpointError(checkpoint, problems)
    manifest = result.pop("manifest")
    if bf16_as_float32:
        for tensor in manifest["tensors"]:
            if tensor["dtype"] == "bf16":
                result["tensors"][tensor["name"]] = _widen_bf16(result["tensors"][tensor["name"]])
    return result


def verify(checkpoint: str) -> list[str]:
    """Check a checkpoint like ``load`` and return its problems, an empty list when it is valid.

    Every chunk and pack is read and decoded, so this reads the whole checkpoint, but it keeps
    no tensor in memory after checking it.
    """
    _, problems = _read_checkpoint(checkpoint, keep_tensors=False)
    return problems


def _widen_bf16(bits: np.ndarray) -> np.ndarray:
    """Convert bf16 bit patterns to float32 exactly, NaN payloads included."""
    return (bits.astype("<u4") << 16).view("<f4")


# Manifest


def _read_checkpoint(checkpoint: str, keep_tensors: bool) -> tuple[dict | None, list[str]]:
    """Check and decode a checkpoint, returning its contents and the problems found."""
    try:
        body = _read_manifest(checkpoint)
    except _InvalidManifest as error:
        return None, [str(error)]

    problems: list[str] = []
    manifest = _check_manifest(body, problems)
    if problems:
        return None, problems

    file_sizes = _check_data_files(checkpoint, manifest, problems)
    if problems:
        return None, problems

    tensors = _decode_tensors(checkpoint, manifest, file_sizes, keep_tensors, problems)
    result = {
        "step": manifest["step"],
        "wall_time": manifest["wallTime"],
        "format_version": manifest["formatVersion"],
        "metrics": manifest["metrics"],
        "extra_state": manifest["extraState"],
        "tensors": tensors,
        "manifest": manifest,
    }
    return result, problems


def _read_manifest(checkpoint: str) -> dict:
    """Read manifest.json, check its framing and checksum, and parse its body."""
    path = os.path.join(checkpoint, MANIFEST_NAME)
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        raise _InvalidManifest(f"{MANIFEST_NAME} is missing{_directory_hint(checkpoint)}") from None
    if not stat.S_ISREG(info.st_mode):
        raise _InvalidManifest(
            f"{MANIFEST_NAME} is not a regular file (symbolic links are invalid)"
        )
    if info.st_size > MAX_MANIFEST_BYTES:
        raise _InvalidManifest(
            f"{MANIFEST_NAME} is {info.st_size} bytes, more than the limit of {MAX_MANIFEST_BYTES}"
        )
    with open(path, "rb") as file:
        content = file.read(MAX_MANIFEST_BYTES + 1)
    if len(content) > MAX_MANIFEST_BYTES:
        raise _InvalidManifest(
            f"{MANIFEST_NAME} is larger than the limit of {MAX_MANIFEST_BYTES} bytes"
        )

    if len(content) < BODY_OFFSET + len(MANIFEST_SUFFIX):
        raise _InvalidManifest(
            f"{MANIFEST_NAME} is {len(content)} bytes, too short for the framing"
        )
    if not content.startswith(MANIFEST_PREFIX):
        raise _InvalidManifest(f"{MANIFEST_NAME} does not start with {MANIFEST_PREFIX.decode()!r}")
    digits = content[len(MANIFEST_PREFIX) : len(MANIFEST_PREFIX) + 16]
    if not CHECKSUM_PATTERN.fullmatch(digits.decode("latin-1")):
        raise _InvalidManifest(
            f"{MANIFEST_NAME} checksum {digits!r} is not 16 lowercase hexadecimal digits"
        )
    if content[BODY_OFFSET - len(MANIFEST_MIDDLE) : BODY_OFFSET] != MANIFEST_MIDDLE:
        raise _InvalidManifest(
            f"{MANIFEST_NAME} has no {MANIFEST_MIDDLE.decode()!r} after the checksum"
        )
    if not content.endswith(MANIFEST_SUFFIX):
        raise _InvalidManifest(f"{MANIFEST_NAME} does not end with '}}' and a line feed")

    body_bytes = content[BODY_OFFSET : len(content) - len(MANIFEST_SUFFIX)]
    actual = xxhash.xxh3_64_hexdigest(body_bytes)
    if actual != digits.decode("ascii"):
        raise _InvalidManifest(
            f"{MANIFEST_NAME} checksum mismatch: the file records {digits.decode()}, "
            f"the manifest body hashes to {actual}"
        )

    try:
        text = body_bytes.decode("utf-8")
        body = json.loads(
            text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise _InvalidManifest(f"{MANIFEST_NAME} body is not valid JSON: {error}") from None
    if not isinstance(body, dict):
        raise _InvalidManifest(
            f"{MANIFEST_NAME} body is a {type(body).__name__}, not a JSON object"
        )
    return body


def _reject_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key {_quote(key)} appears more than once in one object")
        result[key] = value
    return result


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def _is_integer(value: object) -> bool:
    # bool is a subclass of int in Python, but JSON true and false are not integers.
    return type(value) is int


def _check_manifest(body: dict, problems: list[str]) -> dict:
    """Check every rule of the manifest body, appending problems, and return it normalized.

    The returned manifest has metrics converted to floats and packs defaulted to an empty
    list. Later steps use it only when ``problems`` stayed empty.
    """
    version = body.get("formatVersion")
    if not _is_integer(version) or version not in KNOWN_FORMAT_VERSIONS:
        problems.append(f"formatVersion {_quote(version)} is not a known version (known: 1 and 2)")
        return body

    step = body.get("step")
    if not _is_integer(step) or step < 0:
        problems.append(f"step {_quote(step)} is not an integer ≥ 0")

    wall_time = body.get("wallTime")
    if not _is_integer(wall_time) and not (
        isinstance(wall_time, float) and math.isfinite(wall_time)
    ):
        problems.append(f"wallTime {_quote(wall_time)} is not a number")

    metrics = _check_metrics(body.get("metrics"), problems)

    if "extraState" not in body:
        problems.append("extraState is missing")

    file_names = _check_writers(body.get("writers"), problems)

    packs = body.get("packs", [])
    if version == 1 and "packs" in body:
        problems.append("packs is present in a version 1 manifest")
    if not isinstance(packs, list):
        problems.append(f"packs is {_quote(packs)}, not an array")
        packs = []
    pack_labels = [f"pack {index}" for index in range(len(packs))]
    for index, pack in enumerate(packs):
        _check_chunk_object(pack, pack_labels[index], file_names, problems)
        if isinstance(pack, dict) and pack.get("rawOffset") != 0:
            problems.append(f"pack {index}: rawOffset {_quote(pack.get('rawOffset'))} is not 0")

    tensors = body.get("tensors")
    if not isinstance(tensors, list):
        problems.append(f"tensors is {_quote(tensors)}, not an array")
        tensors = []
    pack_members: list[list[tuple[int, int, str]]] = [[] for _ in packs]
    previous_name: str | None = None
    previous_bytes: bytes | None = None
    seen_forms: dict[str, str] = {}
    for position, tensor in enumerate(tensors):
        name = _check_tensor(tensor, position, version, packs, file_names, pack_members, problems)
        if name is None:
            continue
        # Names are sorted by their UTF-8 bytes, and unique after NFC normalization.
        form = unicodedata.normalize("NFC", name)
        if form in seen_forms:
            problems.append(
                f"tensor {_quote(name)} repeats the tensor {_quote(seen_forms[form])} "
                "(equal after Unicode normalization)"
            )
        seen_forms.setdefault(form, name)
        encoded = name.encode("utf-8")
        if previous_bytes is not None and not previous_bytes < encoded:
            problems.append(
                f"tensor {_quote(name)} is not sorted after the previous tensor "
                f"{_quote(previous_name)} by UTF-8 bytes"
            )
        previous_name, previous_bytes = name, encoded

    _check_pack_coverage(packs, pack_members, problems)

    normalized = dict(body)
    normalized["metrics"] = metrics
    normalized["packs"] = packs
    normalized["tensors"] = tensors
    return normalized


def _quote(value: object) -> str:
    """Quote a manifest value for a message, shortened so a hostile manifest cannot flood it."""
    if isinstance(value, str) and len(value) > 80:
        return repr(value[:80]) + f"... ({len(value)} characters)"
    if isinstance(value, (list, dict)) and len(value) > 8:
        return f"a JSON {'array' if isinstance(value, list) else 'object'} of {len(value)} elements"
    return repr(value)


def _check_metrics(metrics: object, problems: list[str]) -> dict:
    if not isinstance(metrics, dict):
        problems.append(f"metrics is {_quote(metrics)}, not a JSON object")
        return {}
    values = {}
    for name, value in metrics.items():
        if isinstance(value, str) and value in NON_FINITE_METRICS:
            values[name] = NON_FINITE_METRICS[value]
        elif _is_integer(value) or isinstance(value, float):
            values[name] = float(value)
        else:
            problems.append(f"metric {_quote(name)} is {_quote(value)}, not a number")
    return values


def _check_writers(writers: object, problems: list[str]) -> set[str]:
    """Check the writer objects and return the data file names they list."""
    if not isinstance(writers, list):
        problems.append(f"writers is {_quote(writers)}, not an array")
        return set()
    file_names: set[str] = set()
    ranks: set[int] = set()
    for index, writer in enumerate(writers):
        label = f"writer {index}"
        if not isinstance(writer, dict):
            problems.append(f"{label} is not a JSON object")
            continue
        rank, world_size = writer.get("rank"), writer.get("worldSize")
        if not _is_integer(world_size) or world_size != len(writers):
            problems.append(
                f"{label}: worldSize {_quote(world_size)} "
                f"is not the number of writers, {len(writers)}"
            )
        if not _is_integer(rank) or rank < 0 or (_is_integer(world_size) and rank >= world_size):
            problems.append(
                f"{label}: rank {_quote(rank)} is not in 0 ..< worldSize {_quote(world_size)}"
            )
        elif rank in ranks:
            problems.append(f"{label}: rank {rank} appears under more than one writer")
        else:
            ranks.add(rank)
        if not isinstance(writer.get("host"), str):
            problems.append(f"{label}: host {_quote(writer.get('host'))} is not a string")
        files = writer.get("files")
        if not isinstance(files, list):
            problems.append(f"{label}: files {_quote(files)} is not an array")
            continue
        for file_name in files:
            if not _is_data_file_name(file_name):
                problems.append(
                    f"{label}: data file name {_quote(file_name)} "
                    "is not a plain name of letters, digits, '.', '_' and '-' "
                    "that does not start with '.'"
                )
            elif file_name in file_names:
                problems.append(f"{label}: data file {_quote(file_name)} appears more than once")
            else:
                file_names.add(file_name)
    return file_names


def _is_data_file_name(name: object) -> bool:
    return (
        isinstance(name, str)
        and DATA_FILE_NAME_PATTERN.fullmatch(name) is not None
        and not name.startswith(".")
    )


def _check_tensor_name(name: object) -> str | None:
    """Return why ``name`` is not a valid tensor name, or None when it is valid."""
    if not isinstance(name, str) or not name:
        return "is not a non-empty string"
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (it contains an unpaired surrogate)"
    if len(encoded) > MAX_NAME_BYTES:
        return f"is {len(encoded)} UTF-8 bytes, more than {MAX_NAME_BYTES}"
    if any(ord(character) < 0x20 or ord(character) == 0x7F for character in name):
        return "contains a control character"
    if name.startswith("/"):
        return "starts with '/'"
    if any(component in (".", "..") for component in name.split("/")):
        return "has a '.' or '..' path component"
    return None


def _check_tensor(
    tensor: object,
    position: int,
    version: int,
    packs: list,
    file_names: set[str],
    pack_members: list[list[tuple[int, int, str]]],
    problems: list[str],
) -> str | None:
    """Check one tensor object and return its name, or None when the name itself is invalid."""
    if not isinstance(tensor, dict):
        problems.append(f"tensors[{position}] is not a JSON object")
        return None
    name = tensor.get("name")
    name_problem = _check_tensor_name(name)
    if name_problem is not None:
        problems.append(f"tensors[{position}]: name {_quote(name)} {name_problem}")
        return None
    label = f"tensor {_quote(name)}"

    dtype = tensor.get("dtype")
    if dtype not in DTYPES:
        problems.append(f"{label}: dtype {_quote(dtype)} is not one of {' '.join(DTYPES)}")
        return name
    width = DTYPES[dtype][1]

    shape = tensor.get("shape")
    if not isinstance(shape, list) or not all(
        _is_integer(dimension) and dimension >= 0 for dimension in shape
    ):
        problems.append(f"{label}: shape {_quote(shape)} is not an array of integers ≥ 0")
        return name
    byte_count = tensor.get("byteCount")
    expected_byte_count = math.prod(shape) * width
    if byte_count != expected_byte_count or not _is_integer(byte_count):
        problems.append(
            f"{label}: byteCount {_quote(byte_count)} is not {expected_byte_count}, "
            f"the shape {shape} times the {dtype} width {width}"
        )
        return name

    chunks = tensor.get("chunks")
    if not isinstance(chunks, list):
        problems.append(f"{label}: chunks {_quote(chunks)} is not an array")
        return name

    if "pack" in tensor:
        _check_pack_location(tensor, label, version, packs, width, pack_members, problems)
        return name

    end = 0
    for index, chunk in enumerate(chunks):
        chunk_label = f"{label} chunk {index}"
        if not _check_chunk_object(chunk, chunk_label, file_names, problems):
            return name
        if chunk["rawOffset"] != end:
            problems.append(
                f"{chunk_label}: rawOffset {chunk['rawOffset']} is not {end}, "
                "where the previous chunk ended"
            )
            return name
        end += chunk["rawByteCount"]
    if end != byte_count:
        problems.append(f"{label}: chunks cover {end} raw bytes, not byteCount {byte_count}")
    return name


def _check_pack_location(
    tensor: dict,
    label: str,
    version: int,
    packs: list,
    width: int,
    pack_members: list[list[tuple[int, int, str]]],
    problems: list[str],
) -> None:
    location = tensor["pack"]
    if version == 1:
        problems.append(f"{label}: pack is present in a version 1 manifest")
        return
    if tensor["chunks"]:
        problems.append(
            f"{label}: a packed tensor lists {len(tensor['chunks'])} chunk(s), "
            "but its chunks array must be empty"
        )
    if tensor["byteCount"] == 0:
        problems.append(f"{label}: a packed tensor has byteCount 0")
        return
    if not isinstance(location, dict):
        problems.append(f"{label}: pack {_quote(location)} is not a JSON object")
        return
    index, raw_offset = location.get("index"), location.get("rawOffset")
    if not _is_integer(index) or not 0 <= index < len(packs):
        problems.append(
            f"{label}: pack index {_quote(index)} is not in 0 ..< {len(packs)}, the number of packs"
        )
        return
    if not _is_integer(raw_offset) or raw_offset < 0 or raw_offset % width:
        problems.append(
            f"{label}: pack rawOffset {_quote(raw_offset)} is not a multiple ≥ 0 "
            f"of the dtype width {width}"
        )
        return
    pack_members[index].append((raw_offset, tensor["byteCount"], tensor["name"]))


def _check_pack_coverage(
    packs: list, pack_members: list[list[tuple[int, int, str]]], problems: list[str]
) -> None:
    for index, members in enumerate(pack_members):
        pack = packs[index]
        if not isinstance(pack, dict) or not _is_integer(pack.get("rawByteCount")):
            continue  # _check_chunk_object already reported the invalid pack.
        if not members:
            problems.append(f"pack {index}: no tensor names this pack")
            continue
        end = 0
        for raw_offset, byte_count, name in sorted(members):
            if raw_offset != end:
                problems.append(
                    f"pack {index}: tensor {_quote(name)} starts at raw offset {raw_offset}, "
                    f"not at {end} where the previous tensor ended"
                )
                break
            end += byte_count
        else:
            if end != pack["rawByteCount"]:
                problems.append(
                    f"pack {index}: its tensors cover {end} raw bytes, "
                    f"not rawByteCount {pack['rawByteCount']}"
                )


def _check_chunk_object(
    chunk: object, label: str, file_names: set[str], problems: list[str]
) -> bool:
    """Check the fields of a chunk or pack object, returning whether it is valid."""
    if not isinstance(chunk, dict):
        problems.append(f"{label} is not a JSON object")
        return False
    count = len(problems)

    file_name = chunk.get("file")
    if not _is_data_file_name(file_name):
        problems.append(f"{label}: file {_quote(file_name)} is not a plain data file name")
    elif file_name not in file_names:
        problems.append(f"{label}: file {_quote(file_name)} is not one of the writers' files")

    for field in ("offset", "storedByteCount", "rawOffset"):
        value = chunk.get(field)
        if not _is_integer(value) or value < 0:
            problems.append(f"{label}: {field} {_quote(value)} is not an integer ≥ 0")
    stored_byte_count = chunk.get("storedByteCount")
    if _is_integer(stored_byte_count) and stored_byte_count > 2 * MAX_CHUNK_RAW_BYTES:
        problems.append(
            f"{label}: storedByteCount {stored_byte_count} is more than "
            f"{2 * MAX_CHUNK_RAW_BYTES}, twice the largest rawByteCount"
        )
    raw_byte_count = chunk.get("rawByteCount")
    if not _is_integer(raw_byte_count) or not 1 <= raw_byte_count <= MAX_CHUNK_RAW_BYTES:
        problems.append(
            f"{label}: rawByteCount {_quote(raw_byte_count)} is not in 1 ... {MAX_CHUNK_RAW_BYTES}"
        )

    codec = chunk.get("codec")
    if codec not in CODECS:
        problems.append(f"{label}: codec {_quote(codec)} is not one of {', '.join(sorted(CODECS))}")
    elif codec == "raw" and stored_byte_count != raw_byte_count:
        problems.append(
            f"{label}: a raw chunk has storedByteCount {_quote(stored_byte_count)}, "
            f"not rawByteCount {_quote(raw_byte_count)}"
        )

    checksum = chunk.get("checksum")
    if not isinstance(checksum, str) or not CHECKSUM_PATTERN.fullmatch(checksum):
        problems.append(
            f"{label}: checksum {_quote(checksum)} is not 16 lowercase hexadecimal digits"
        )
    return len(problems) == count


# Data files


def _check_data_files(checkpoint: str, manifest: dict, problems: list[str]) -> dict[str, int]:
    """Check that no entry is a symbolic link and every data file is a regular file.

    Returns the size of each data file.
    """
    with os.scandir(checkpoint) as entries:
        for entry in entries:
            if entry.is_symlink():
                problems.append(f"{_quote(entry.name)} is a symbolic link")

    sizes = {}
    for writer in manifest["writers"]:
        for file_name in writer["files"]:
            try:
                info = os.lstat(os.path.join(checkpoint, file_name))
            except FileNotFoundError:
                problems.append(f"data file {_quote(file_name)} is missing")
                continue
            if not stat.S_ISREG(info.st_mode):
                problems.append(f"data file {_quote(file_name)} is not a regular file")
                continue
            sizes[file_name] = info.st_size
    return sizes


class _DataFiles:
    """The data files of one checkpoint, each opened on its first read and kept open."""

    def __init__(self, checkpoint: str):
        self.checkpoint = checkpoint
        self.files: dict[str, object] = {}

    def read(self, file_name: str, offset: int, count: int) -> bytes:
        file = self.files.get(file_name)
        if file is None:
            file = open(os.path.join(self.checkpoint, file_name), "rb")
            self.files[file_name] = file
        file.seek(offset)
        data = file.read(count)
        if len(data) != count:
            raise _InvalidChunk(
                f"{file_name} ended after {len(data)} of {count} bytes at offset {offset}"
            )
        return data

    def close(self) -> None:
        for file in self.files.values():
            file.close()


# Decoding


def _decode_tensors(
    checkpoint: str,
    manifest: dict,
    file_sizes: dict[str, int],
    keep_tensors: bool,
    problems: list[str],
) -> dict[str, np.ndarray]:
    """Read, check and decode every chunk and pack, returning the tensors in manifest order.

    With ``keep_tensors`` false, each tensor is checked and then dropped.
    """
    tensors: dict[str, np.ndarray] = {}
    data_files = _DataFiles(checkpoint)
    try:
        for tensor in manifest["tensors"]:
            if "pack" not in tensor and tensor["byteCount"] > 0:
                array = _decode_chunked_tensor(tensor, data_files, file_sizes, problems)
                if keep_tensors and array is not None:
                    tensors[tensor["name"]] = array
        for name, array in _decode_packs(manifest, data_files, file_sizes, problems):
            if keep_tensors:
                tensors[name] = array
    finally:
        data_files.close()

    if not keep_tensors:
        return {}
    for tensor in manifest["tensors"]:
        if tensor["byteCount"] == 0:
            tensors[tensor["name"]] = np.empty(tensor["shape"], dtype=DTYPES[tensor["dtype"]][0])
    return {
        tensor["name"]: tensors[tensor["name"]]
        for tensor in manifest["tensors"]
        if tensor["name"] in tensors
    }


def _decode_chunked_tensor(
    tensor: dict, data_files: _DataFiles, file_sizes: dict[str, int], problems: list[str]
) -> np.ndarray | None:
    """Decode each chunk of a tensor into its place in one buffer, or return None on a problem."""
    buffer = bytearray(tensor["byteCount"])
    valid = True
    for index, chunk in enumerate(tensor["chunks"]):
        label = f"tensor {tensor['name']!r} chunk {index}"
        raw = _read_chunk(chunk, label, data_files, file_sizes, problems)
        if raw is None:
            valid = False
            continue
        start = chunk["rawOffset"]
        buffer[start : start + len(raw)] = raw
    return _make_array(tensor, buffer, 0, problems) if valid else None


def _decode_packs(
    manifest: dict, data_files: _DataFiles, file_sizes: dict[str, int], problems: list[str]
) -> list[tuple[str, np.ndarray]]:
    """Decode each pack into one buffer and return its tensors as views of that buffer."""
    members: list[list[dict]] = [[] for _ in manifest["packs"]]
    for tensor in manifest["tensors"]:
        if "pack" in tensor:
            members[tensor["pack"]["index"]].append(tensor)

    arrays = []
    for index, pack in enumerate(manifest["packs"]):
        raw = _read_chunk(
            pack, _pack_label(index, members[index]), data_files, file_sizes, problems
        )
        if raw is None:
            continue
        buffer = bytearray(raw)
        for tensor in members[index]:
            array = _make_array(tensor, buffer, tensor["pack"]["rawOffset"], problems)
            if array is not None:
                arrays.append((tensor["name"], array))
    return arrays


def _pack_label(index: int, members: list[dict]) -> str:
    names = [repr(tensor["name"]) for tensor in members[:3]]
    if len(members) > 3:
        names.append(f"{len(members) - 3} more")
    return f"pack {index} (tensors {', '.join(names)})"


def _make_array(
    tensor: dict, buffer: bytearray, offset: int, problems: list[str]
) -> np.ndarray | None:
    """View a tensor's raw bytes in ``buffer`` as a numpy array without copying."""
    numpy_dtype = DTYPES[tensor["dtype"]][0]
    if tensor["dtype"] == "bool":
        raw = np.frombuffer(buffer, dtype="u1", count=tensor["byteCount"], offset=offset)
        invalid = np.flatnonzero(raw > 1)
        if invalid.size:
            problems.append(
                f"tensor {_quote(tensor['name'])}: bool element {invalid[0]} "
                f"is byte {raw[invalid[0]]}, not 0 or 1"
            )
            return None
    count = tensor["byteCount"] // DTYPES[tensor["dtype"]][1]
    return np.frombuffer(buffer, dtype=numpy_dtype, count=count, offset=offset).reshape(
        tensor["shape"]
    )


def _read_chunk(
    chunk: dict,
    label: str,
    data_files: _DataFiles,
    file_sizes: dict[str, int],
    problems: list[str],
) -> bytes | bytearray | None:
    """Read, check and decode one chunk or pack, returning its raw bytes or None on a problem."""
    file_name, offset, stored_count = chunk["file"], chunk["offset"], chunk["storedByteCount"]
    where = (
        f"{label} ({file_name} bytes {offset} ..< {offset + stored_count}, codec {chunk['codec']})"
    )
    if offset + stored_count > file_sizes[file_name]:
        problems.append(
            f"{where}: the range ends past the end of the file, "
            f"which is {file_sizes[file_name]} bytes"
        )
        return None
    try:
        stored = data_files.read(file_name, offset, stored_count)
        actual = xxhash.xxh3_64_hexdigest(stored)
        if actual != chunk["checksum"]:
            raise _InvalidChunk(
                f"checksum mismatch: the manifest records {chunk['checksum']}, "
                f"the stored bytes hash to {actual}"
            )
        return _decode(stored, chunk["codec"], chunk["rawByteCount"])
    except _InvalidChunk as error:
        problems.append(f"{where}: {error}")
        return None


def _decode(stored: bytes, codec: str, raw_count: int) -> bytes | bytearray:
    if codec == "raw":
        return stored
    if codec == "zstd":
        return _decompress_frame(stored, raw_count, "the frame")
    if codec.startswith("bytegroup"):
        width = int(codec[len("bytegroup") : -len("+zstd")])
        return _ungroup(_decompress_frame(stored, raw_count, "the frame"), width)
    width = int(codec[len("bytelanes") :])
    return _decode_byte_lanes(stored, width, raw_count)


def _decompress_frame(frame: bytes, expected_size: int, label: str) -> bytes:
    """Decompress one zstd frame after checking that it declares ``expected_size`` bytes.

    The frame must also carry a content checksum, which zstd verifies while decompressing.
    """
    try:
        parameters = zstandard.get_frame_parameters(frame)
    except zstandard.ZstdError as error:
        raise _InvalidChunk(f"{label} has no valid zstd frame header: {error}") from None
    if parameters.content_size == zstandard.CONTENTSIZE_UNKNOWN:
        raise _InvalidChunk(f"{label} does not declare its content size")
    if parameters.content_size != expected_size:
        raise _InvalidChunk(
            f"{label} declares {parameters.content_size} content bytes, not {expected_size}"
        )
    if not parameters.has_checksum:
        raise _InvalidChunk(f"{label} carries no zstd content checksum")
    try:
        content = zstandard.ZstdDecompressor().decompress(
            frame, max_output_size=expected_size, allow_extra_data=False
        )
    except zstandard.ZstdError as error:
        raise _InvalidChunk(f"{label} failed to decompress: {error}") from None
    if len(content) != expected_size:
        raise _InvalidChunk(f"{label} decompressed to {len(content)} bytes, not {expected_size}")
    return content


def _ungroup(grouped: bytes, width: int) -> bytearray:
    """Reverse byte grouping, where lane j contains byte j of each element and the tail follows."""
    lane_length = len(grouped) // width
    body = lane_length * width
    raw = bytearray(len(grouped))
    lanes = np.frombuffer(grouped, dtype="u1", count=body).reshape(width, lane_length)
    np.frombuffer(raw, dtype="u1", count=body).reshape(lane_length, width)[:] = lanes.T
    raw[body:] = grouped[body:]
    return raw


def _decode_byte_lanes(stored: bytes, width: int, raw_count: int) -> bytearray:
    lane_length = raw_count // width
    tail_length = raw_count - lane_length * width
    header_length = LANE_HEADER_ENTRY_BYTES * width
    if len(stored) < header_length:
        raise _InvalidChunk(
            f"{len(stored)} stored bytes are too few for the {header_length}-byte lane header"
        )

    entries = []
    seen_lanes = set()
    for position in range(width):
        entry = stored[
            position * LANE_HEADER_ENTRY_BYTES : (position + 1) * LANE_HEADER_ENTRY_BYTES
        ]
        lane, kind = entry[0], entry[1]
        length = int.from_bytes(entry[2:6], "little")
        if lane >= width:
            raise _InvalidChunk(
                f"header entry {position} names lane {lane}, out of range for width {width}"
            )
        if lane in seen_lanes:
            raise _InvalidChunk(f"header entry {position} names lane {lane} a second time")
        if kind not in (0, 1):
            raise _InvalidChunk(
                f"header entry {position} has kind {kind}, neither 0 (raw) nor 1 (zstd)"
            )
        if kind == 0 and length != lane_length:
            raise _InvalidChunk(
                f"header entry {position}: raw lane {lane} is {length} bytes, not {lane_length}"
            )
        seen_lanes.add(lane)
        entries.append((lane, kind, length))

    expected_stored = header_length + sum(length for _, _, length in entries) + tail_length
    if expected_stored != len(stored):
        raise _InvalidChunk(
            f"the lane header and tail add up to {expected_stored} stored bytes, "
            f"not storedByteCount {len(stored)}"
        )

    raw = bytearray(raw_count)
    elements = np.frombuffer(raw, dtype="u1", count=lane_length * width).reshape(lane_length, width)
    position = header_length
    for lane, kind, length in entries:
        section = stored[position : position + length]
        position += length
        if kind == 1:
            section = _decompress_frame(section, lane_length, f"the zstd frame of lane {lane}")
        elements[:, lane] = np.frombuffer(section, dtype="u1")
    raw[lane_length * width :] = stored[position:]
    return raw


# Command line


def _describe_storage(tensor: dict, packs: list) -> str:
    if "pack" in tensor:
        index = tensor["pack"]["index"]
        return f"pack {index} at raw offset {tensor['pack']['rawOffset']} ({packs[index]['codec']})"
    if not tensor["chunks"]:
        return "no chunks"
    codecs = sorted({chunk["codec"] for chunk in tensor["chunks"]})
    count = len(tensor["chunks"])
    return f"{count} chunk{'s' if count != 1 else ''} ({', '.join(codecs)})"


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Verify a Waymark checkpoint directory and print one line per tensor: "
        "name, dtype, shape, byte count, "
        "where its bytes are stored and the XXH3-64 of its raw bytes."
    )
    parser.add_argument(
        "checkpoint", help="checkpoint directory, such as checkpoints/step-000000001200"
    )
    options = parser.parse_args(arguments)

    checkpoint, problems = _read_checkpoint(options.checkpoint, keep_tensors=True)
    if problems:
        print(f"error: {CheckpointError(options.checkpoint, problems)}", file=sys.stderr)
        for problem in problems[1:]:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    manifest = checkpoint["manifest"]

    print(
        f"{options.checkpoint}: step {checkpoint['step']}, "
        f"format version {checkpoint['format_version']}, "
        f"{len(checkpoint['tensors'])} tensors, {len(manifest['packs'])} pack(s)"
    )
    for tensor in manifest["tensors"]:
        array = checkpoint["tensors"][tensor["name"]]
        digest = xxhash.xxh3_64_hexdigest(array.tobytes())
        shape = "[" + ", ".join(str(dimension) for dimension in tensor["shape"]) + "]"
        print(
            f"{tensor['name']}\t{tensor['dtype']}\t{shape}\t{tensor['byteCount']} bytes\t"
            f"{_describe_storage(tensor, manifest['packs'])}\txxh3-64:{digest}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
