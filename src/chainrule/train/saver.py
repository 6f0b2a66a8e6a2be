"""Checkpoints: ``cr.train.Saver`` saves and restores variables by name, safely.

Checkpoint file format (version 1)
==================================

One checkpoint is one file, written at exactly the path ``Saver.save`` returns
(``save_path`` or ``save_path-<global_step>``). Nothing in it is ever unpickled:
it is a small JSON header followed by raw array buffers, with a checksum over
everything, so a truncated or corrupted file is detected before anything is used.

==========  ==========  ====================================================================
offset      size        content
==========  ==========  ====================================================================
0           8           magic ``b"CRCKPT01"``
8           8           ``H``: byte length of the header, unsigned 64-bit little-endian
16          H           header: a UTF-8 JSON object (below)
16 + H      P           payload: each tensor's bytes, C order, little-endian, concatenated in
                        header order, each starting at a multiple of 8 (zero padding between)
16 + H + P  32          SHA-256 digest of every preceding byte (magic, length, header, payload)
==========  ==========  ====================================================================

The header::

    {"format": "chainrule.checkpoint", "version": 1, "payload_bytes": P,
     "tensors": [{"name": "dense/kernel", "dtype": "float32", "shape": [784, 10],
                  "offset": 0, "nbytes": 31360}, ...]}

``name`` is the variable's op name (``"w"``, ``"w/Adam"``, ``"global_step"``), or the key of
the ``var_list`` dict given to the Saver; ``dtype`` is a chainrule dtype name (``float16/32/64,
int8/16/32/64, uint8, bool``); ``offset`` counts from the start of the payload and
``nbytes == prod(shape) * itemsize``. Readers check, in order: the magic, that the file has
exactly ``16 + H + P + 32`` bytes (else it is truncated or has trailing data), the digest,
then that the header is strict JSON (UTF-8, no duplicate keys, no NaN) and every field well
formed: integers are JSON integers (not ``true``, not ``8.0``), names non-empty and unique,
dtypes one of the names above, ranks at most NumPy's limit, offsets multiples of 8, tensors in
increasing offset order without overlap, the last one ending at ``P``, bool bytes 0 or 1.
Any failure raises ``cr.errors.DataLossError`` naming the file; a missing file raises
``cr.errors.NotFoundError``. Only regular files are read (a FIFO, a device or a link to one is
a DataLossError, refused before it is opened or read), and never more bytes than the file's
own size. The checksum is not a signature: a forged file with a valid digest still has its
header validated, and nothing is ever unpickled, so a hostile file cannot run code.

The index file ``checkpoint`` (in the checkpoint's directory) is JSON::

    {"model_checkpoint_path": "model-300",
     "all_model_checkpoint_paths": ["model-200", "model-300"],
     "pending": ["model-400"], "obsolete": ["model-100"]}

Every entry is a plain file name in the index's own directory (so the directory can be
moved); an index with an entry that is absolute or holds a separator or ``..`` is refused as
unreadable, as is one that is not a regular file or not strict JSON. ``latest_checkpoint(dir)``
reads it; an unreadable index gives None with a warning, as in TensorFlow. ``pending`` and
``obsolete`` (absent when empty) are the save journal: the checkpoint a save is writing, and
the checkpoints it is deleting because of ``max_to_keep``.

Crash safety: every file (checkpoint, index) is written to a temporary file
``.<name>.tmp-<12 hex digits>`` in the same directory, flushed and ``fsync``-ed, renamed onto
its final name with ``os.replace`` (atomic on POSIX and Windows), and the directory is
``fsync``-ed. A save writes (1) the index with the new checkpoint as ``pending`` (``latest``
unchanged), (2) the checkpoint, (3) the index with the new checkpoint as latest and the ones
beyond ``max_to_keep`` as ``obsolete``, and (4) deletes those. A crash or a full disk at any
point therefore leaves the previous checkpoint restorable and named by the index. The next
save settles what a killed one left: it removes temporary files whose writer is dead (the
writer holds an ``flock`` on its temporary file until the rename, and the lock dies with the
process; on Windows an open file cannot be deleted), adopts a pending checkpoint that reached
the disk into the ``max_to_keep`` count, and deletes obsolete ones. A Saver also adopts the
checkpoints of its prefix that the index lists (those of an earlier run), so ``max_to_keep``
holds for the directory across restarts.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
import re
import secrets
import stat
import struct
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO, TypeGuard

import numpy as np

from chainrule.framework import dtypes, errors
from chainrule.framework.graph import Operation, Tensor, get_default_graph
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops import state_ops
from chainrule.ops.constant_op import placeholder
from chainrule.ops.state_ops import Variable

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "Saver",
    "latest_checkpoint",
    "get_checkpoint_state",
    "CheckpointState",
    "list_variables",
    "load_variable",
    "read_checkpoint",
    "write_checkpoint",
]

MAGIC = b"CRCKPT01"
FORMAT = "chainrule.checkpoint"
VERSION = 1
INDEX_FILENAME = "checkpoint"
_DIGEST_BYTES = 32
_PREFIX = struct.Struct("<8sQ")  # magic, header length
_ALIGN = 8
_MAX_RANK = 64 if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else 32  # NumPy's most dimensions
_MAX_INDEX_BYTES = 64 << 20  # an index listing a million checkpoints is ~30 MB
_DTYPES = {
    d.name: d
    for d in map(dtypes.as_dtype, ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"))
}


# -- the file format ---------------------------------------------------------------------------
def _encode(tensors: Mapping[str, np.ndarray]) -> Iterator[bytes | memoryview]:
    """The checkpoint file's bytes, in chunks (header first, then buffers, then the digest)."""
    entries = []
    arrays = []
    offset = 0
    for name, value in tensors.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"checkpoint tensor names must be non-empty strings, got {name!r}")
        arr = np.asarray(value)
        dtype = dtypes.as_dtype(arr.dtype)
        if dtype.name not in _DTYPES:
            raise TypeError(f"cannot save {name!r}: unsupported dtype {arr.dtype}")
        arr = np.asarray(arr, dtype=arr.dtype.newbyteorder("<"), order="C")  # not ascontiguousarray: it makes 0-d 1-d
        offset += -offset % _ALIGN
        entries.append(
            {"name": name, "dtype": dtype.name, "shape": list(arr.shape), "offset": offset, "nbytes": arr.nbytes}
        )
        arrays.append((offset, arr))
        offset += arr.nbytes
    header = json.dumps(
        {"format": FORMAT, "version": VERSION, "payload_bytes": offset, "tensors": entries}, separators=(",", ":")
    ).encode("utf-8")
    digest = hashlib.sha256()

    def emit(chunk: bytes | memoryview) -> bytes | memoryview:
        digest.update(chunk)
        return chunk

    yield emit(_PREFIX.pack(MAGIC, len(header)))
    yield emit(header)
    position = 0
    for start, arr in arrays:
        if start > position:
            yield emit(b"\0" * (start - position))
        if arr.nbytes:
            yield emit(arr.reshape(-1).data.cast("B"))
        position = start + arr.nbytes
    yield digest.digest()


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _parse_json(data: bytes) -> Any:
    """Parse JSON strictly: UTF-8, no duplicate keys, no NaN/Infinity; ValueError for anything else.

    Nesting too deep for the parser (RecursionError) and integer literals too long to convert
    are ValueErrors too, so a hostile file never escapes as a raw exception.
    """
    try:
        return json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_reject_duplicate_keys,
            parse_constant=lambda c: (_ for _ in ()).throw(ValueError(f"{c} is not allowed")),
        )
    except UnicodeDecodeError as e:
        raise ValueError(f"it is not UTF-8 ({e.reason} at byte {e.start})") from None
    except RecursionError:
        raise ValueError("it is nested too deeply") from None


def _is_int(value: Any) -> TypeGuard[int]:
    """A JSON integer (``True`` is an ``int`` to Python, not to the format)."""
    return type(value) is int


def _decode(data: bytes, path: str) -> dict[str, np.ndarray]:
    """Verify and parse a checkpoint file's bytes; DataLossError on any inconsistency."""

    def lost(why: str) -> errors.OpError:
        return errors.DataLossError(None, None, f"Checkpoint {path!r} is corrupted or truncated: {why}")

    if len(data) < _PREFIX.size + _DIGEST_BYTES:
        raise lost(f"the file has only {len(data)} bytes")
    magic, header_len = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise lost(f"it does not start with the chainrule checkpoint magic {MAGIC!r} (found {magic!r})")
    body_end = len(data) - _DIGEST_BYTES
    if _PREFIX.size + header_len > body_end:
        raise lost(f"the header length ({header_len} bytes) runs past the end of the file ({len(data)} bytes)")
    header_bytes = data[_PREFIX.size : _PREFIX.size + header_len]
    # Size first (when the header still parses): it tells truncation apart from other damage.
    header: Any = None
    header_error = ""
    try:
        header = _parse_json(header_bytes)
    except ValueError as e:
        header_error = str(e)
    payload_bytes = header.get("payload_bytes") if isinstance(header, dict) else None
    if _is_int(payload_bytes) and payload_bytes >= 0:
        expected = _PREFIX.size + header_len + payload_bytes + _DIGEST_BYTES
        if len(data) < expected:
            raise lost(f"the file is truncated: it has {len(data)} bytes, its header says {expected}")
        if len(data) > expected:
            raise lost(f"the file has {len(data) - expected} unexpected bytes after its end")
    if hashlib.sha256(memoryview(data)[:body_end]).digest() != data[body_end:]:
        raise lost("its SHA-256 checksum does not match its content")
    # The checksum matched, so what follows only fails for files not written by this module.
    if header_error:
        raise lost(f"its header is not valid JSON: {header_error}")
    if not isinstance(header, dict):
        raise lost("its header is not a JSON object")
    version = header.get("version")
    if header.get("format") != FORMAT or not _is_int(version) or version != VERSION:
        raise lost(f"unsupported format/version {header.get('format')!r}/{version!r}")
    if not _is_int(payload_bytes) or payload_bytes < 0:
        raise lost(f"payload_bytes is missing from the header or not a size ({payload_bytes!r})")
    payload = memoryview(data)[_PREFIX.size + header_len : body_end]
    entries = header.get("tensors")
    if not isinstance(entries, list):
        raise lost("the header has no tensor list")
    out: dict[str, np.ndarray] = {}
    end = 0  # where the previous tensor's bytes end: tensors come in order and never overlap
    for entry in entries:
        try:
            name, dtype_name, shape = entry["name"], entry["dtype"], entry["shape"]
            offset, nbytes = entry["offset"], entry["nbytes"]
        except (TypeError, KeyError, IndexError):
            raise lost(f"malformed tensor entry {_clip(entry)}") from None
        if not isinstance(name, str) or not name or name in out:
            raise lost(f"bad or duplicate tensor name {_clip(name)}")
        if not isinstance(dtype_name, str) or dtype_name not in _DTYPES:
            raise lost(f"tensor {name!r} has unsupported dtype {_clip(dtype_name)}")
        if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
            raise lost(f"tensor {name!r} has a bad shape {_clip(shape)}")
        if len(shape) > _MAX_RANK:
            raise lost(f"tensor {name!r} has rank {len(shape)}, more than NumPy's limit of {_MAX_RANK}")
        if not _is_int(offset) or offset < 0 or offset % _ALIGN:
            raise lost(f"tensor {name!r} has a bad offset {_clip(offset)} (a multiple of {_ALIGN} is expected)")
        if not _is_int(nbytes) or nbytes < 0:
            raise lost(f"tensor {name!r} has a bad nbytes {_clip(nbytes)}")
        if offset < end:
            raise lost(f"tensor {name!r} at offset {offset} overlaps the tensor before it (which ends at {end})")
        np_dtype = np.dtype(_DTYPES[dtype_name].as_numpy_dtype).newbyteorder("<")
        count = math.prod(shape)
        if nbytes != count * np_dtype.itemsize or offset + nbytes > len(payload):
            raise lost(
                f"tensor {name!r} ({dtype_name} {shape}) does not fit its {nbytes} bytes at offset {offset} "
                f"of a {len(payload)}-byte payload"
            )
        end = offset + nbytes
        raw = payload[offset:end]
        if dtype_name == "bool" and np.frombuffer(raw, np.uint8).max(initial=0) > 1:
            # NumPy would accept any byte as a bool and then compute wrongly with it.
            raise lost(f"tensor {name!r} holds bool bytes other than 0 and 1")
        arr = np.frombuffer(raw, dtype=np_dtype, count=count).reshape(shape)
        out[name] = arr.astype(arr.dtype.newbyteorder("="), copy=True)  # own, writable, native order
    if end != payload_bytes:
        raise lost(f"the payload has {payload_bytes} bytes but its tensors end at byte {end}")
    return out


def _clip(value: Any, limit: int = 80) -> str:
    """``repr`` of a hostile header value, cut short (it may be huge)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_FILE_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(mode: int) -> str:
    kind = next((what for test, what in _FILE_KINDS if test(mode)), "not a regular file")
    return f"it is not a regular file ({kind})" if kind != "not a regular file" else "it is not a regular file"


def _read_regular_file(path: str, what: str, limit: int | None = None) -> bytes:
    """The bytes of the regular file ``path``, at most its own size (and ``limit``).

    FIFOs, devices and sockets are refused without reading them, and before opening them where
    possible (``os.stat`` follows symlinks, so a link to ``/dev/zero`` is refused too); the open
    is non-blocking, so a FIFO swapped in after the check cannot hang it, and ``fstat`` of the
    open file is checked again. Raises NotFoundError (missing, or a directory) or DataLossError.
    """

    def refused(why: str) -> errors.OpError:
        return errors.DataLossError(None, None, f"{what} {path!r} cannot be read: {why}")

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"{what} {path!r} not found") from None
    except OSError as e:
        raise refused(e.strerror or str(e)) from None
    if stat.S_ISDIR(mode):
        raise errors.NotFoundError(
            None, None, f"{what} {path!r} is a directory; pass a checkpoint file (cr.train.latest_checkpoint(dir))"
        )
    if not stat.S_ISREG(mode):
        raise refused(_not_regular(mode))
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"{what} {path!r} not found") from None
    except OSError as e:
        raise refused(e.strerror or str(e)) from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise refused(_not_regular(info.st_mode))
        if limit is not None and info.st_size > limit:
            raise refused(f"it has {info.st_size} bytes, more than the {limit} such a file can have")
        # Never more than the size it had when opened: a file that grows meanwhile is read as it was
        # (and fails its checksum), one that shrinks reads short (and is reported truncated).
        return f.read(info.st_size)


def read_checkpoint(path: str) -> dict[str, np.ndarray]:
    """Read and verify a checkpoint file; returns its tensors by name.

    Raises
    ------
    cr.errors.NotFoundError
        If ``path`` does not exist (or is a directory).
    cr.errors.DataLossError
        If the file is truncated, corrupted, not a chainrule checkpoint, or not a regular
        file (a FIFO, a device, a link to one).
    """
    path = os.fspath(path)
    return _decode(_read_regular_file(path, "Checkpoint"), path)


def write_checkpoint(path: str, tensors: Mapping[str, Any]) -> str:
    """Write ``tensors`` (name -> array) to ``path`` atomically, in the format above; returns ``path``."""
    path = os.fspath(path)
    _atomic_write(path, _encode(tensors))
    return path


# -- atomic writes -------------------------------------------------------------------------------
# A temporary file is ``.<final name>.tmp-<12 hex digits>`` beside its final name. Where the
# platform has ``flock``, its writer holds an exclusive lock on it until it is renamed into place:
# the lock dies with the process (SIGKILL included), so a temporary file that can be locked is
# one whose writer is gone, and the next save removes it (see _remove_stale_temp_files).
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.tmp-[0-9a-f]{12}$")


def _write_chunks(f: BinaryIO, chunks: Iterable[bytes | memoryview]) -> None:
    for chunk in chunks:
        f.write(chunk)


def _fsync_directory(directory: str) -> None:
    """Make a rename in ``directory`` durable (POSIX); a no-op where directories cannot be opened."""
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as e:
        # Some file systems (e.g. certain network mounts) cannot sync a directory.
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _create_temp_file(path: str) -> tuple[int, str]:
    """Create (and lock, where possible) a new temporary file beside ``path``; returns (fd, its path)."""
    directory, base = os.path.split(os.path.abspath(path))
    while True:
        tmp = os.path.join(directory, f".{base}.tmp-{secrets.token_hex(6)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        if fcntl is None:
            return fd, tmp
        fcntl.flock(fd, fcntl.LOCK_EX)
        # Another save may have taken the file for a dead writer's between its creation and our
        # lock, and removed it: then start again with a new name.
        try:
            if os.path.samestat(os.fstat(fd), os.lstat(tmp)):
                return fd, tmp
        except FileNotFoundError:
            pass
        os.close(fd)


def _atomic_write(path: str, chunks: Iterable[bytes | memoryview]) -> None:
    """Write ``chunks`` to a temporary file beside ``path``, fsync it, then rename it onto ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = _create_temp_file(path)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_chunks(f, chunks)
            f.flush()
            os.fsync(f.fileno())
            if fcntl is not None:  # rename while still locked (POSIX renames open files)
                os.replace(tmp, path)
        if fcntl is None:  # Windows cannot rename an open file
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _remove_stale_temp_files(directory: str, targets: Callable[[str], bool]) -> None:
    """Remove the temporary files that killed saves left in ``directory`` for names ``targets`` accepts.

    A file is removed only if nobody holds its lock (its writer is dead); with no ``flock``
    (Windows), only if it can be deleted, which Windows refuses while a writer has it open.
    """
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        match = _TEMP_NAME.match(name)
        if match is None or not targets(match["target"]):
            continue
        tmp = os.path.join(directory, name)
        if fcntl is None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            continue
        try:
            fd = os.open(tmp, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a live writer holds it
            with contextlib.suppress(OSError):
                if os.path.samestat(info, os.lstat(tmp)):
                    os.unlink(tmp)
        finally:
            os.close(fd)


# -- the index file ------------------------------------------------------------------------------
@dataclass
class CheckpointState:
    """What the ``checkpoint`` index file of a directory says (paths resolved against the directory)."""

    model_checkpoint_path: str
    all_model_checkpoint_paths: list[str] = field(default_factory=list)


@dataclass
class _IndexRecord:
    """The index file as written: plain file names in its directory.

    ``pending`` and ``obsolete`` are the save journal: a checkpoint being written (listed before
    its file appears) and checkpoints being deleted (listed once the index stops keeping them).
    A save killed midway leaves them for the next save to settle (adopt or delete), so a crash
    never leaves a checkpoint that ``max_to_keep`` forgets.
    """

    latest: str | None
    listed: list[str]
    pending: list[str] = field(default_factory=list)
    obsolete: list[str] = field(default_factory=list)


def _index_path(checkpoint_dir: str, latest_filename: str | None) -> str:
    return os.path.join(checkpoint_dir, latest_filename or INDEX_FILENAME)


def _plain_name(entry: Any) -> str:
    """``entry`` if it names a file of the index's own directory; ValueError otherwise."""
    if (
        not isinstance(entry, str)
        or entry in ("", ".", "..")
        or "\0" in entry
        or os.path.isabs(entry)
        or os.path.splitdrive(entry)[0]
        or os.path.basename(entry) != entry
        or (os.altsep is not None and os.altsep in entry)
        or "/" in entry
    ):
        raise ValueError(
            f"entry {_clip(entry)} is not a plain file name: it points outside the index's directory, which is refused"
        )
    return entry


def _read_index(index: str) -> _IndexRecord | None:
    """The index file's record; None if there is none; ValueError (with the reason) if it is unreadable."""
    try:
        data = _read_regular_file(index, "Checkpoint index", limit=_MAX_INDEX_BYTES)
    except errors.NotFoundError:
        return None
    except errors.DataLossError as e:
        raise ValueError(e.message) from None
    state = _parse_json(data)
    if not isinstance(state, dict):
        raise ValueError("it is not a JSON object")
    latest = state.get("model_checkpoint_path")
    lists = {}
    for key in ("all_model_checkpoint_paths", "pending", "obsolete"):
        value = state.get(key, [latest] if key == "all_model_checkpoint_paths" and latest is not None else [])
        if not isinstance(value, list):
            raise ValueError(f"{key} is not a list")
        lists[key] = [_plain_name(p) for p in value]
    if latest is not None:
        latest = _plain_name(latest)
    elif "model_checkpoint_path" not in state or lists["all_model_checkpoint_paths"]:
        raise ValueError("model_checkpoint_path is missing")
    return _IndexRecord(latest, lists["all_model_checkpoint_paths"], lists["pending"], lists["obsolete"])


def _warn_unreadable(index: str, why: Any) -> None:
    import warnings

    warnings.warn(f"Ignoring unreadable checkpoint index {index!r}: {why}", stacklevel=3)


def get_checkpoint_state(checkpoint_dir: str, latest_filename: str | None = None) -> CheckpointState | None:
    """The state recorded in ``checkpoint_dir``'s index file, or None when there is none.

    An unreadable index file gives None with a warning (as TensorFlow does): one that is not a
    regular file (a FIFO, a device), is not well-formed JSON, or lists an entry that is not a
    plain file name of the directory (absolute, with ``..`` or a separator).
    """
    checkpoint_dir = os.fspath(checkpoint_dir)
    index = _index_path(checkpoint_dir, latest_filename)
    try:
        record = _read_index(index)
    except ValueError as e:
        _warn_unreadable(index, e)
        return None
    if record is None or record.latest is None:
        return None
    return CheckpointState(
        os.path.join(checkpoint_dir, record.latest), [os.path.join(checkpoint_dir, p) for p in record.listed]
    )


def latest_checkpoint(checkpoint_dir: str, latest_filename: str | None = None) -> str | None:
    """The path of the newest checkpoint saved in ``checkpoint_dir``, or None if there is none (or it is gone)."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None or not os.path.isfile(state.model_checkpoint_path):
        return None
    return state.model_checkpoint_path


def _write_index(index: str, record: _IndexRecord) -> None:
    state: dict[str, Any] = {"model_checkpoint_path": record.latest, "all_model_checkpoint_paths": record.listed}
    if record.pending:
        state["pending"] = record.pending
    if record.obsolete:
        state["obsolete"] = record.obsolete
    _atomic_write(index, [json.dumps(state, indent=2).encode("utf-8") + b"\n"])


def _is_checkpoint_file(path: str) -> bool:
    """A regular file (not a link) that starts with the checkpoint magic: safe to adopt or delete."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        with open(path, "rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def _resolve_checkpoint(ckpt_dir_or_file: str) -> str:
    if os.path.isdir(ckpt_dir_or_file):
        found = latest_checkpoint(ckpt_dir_or_file)
        if found is None:
            raise errors.NotFoundError(None, None, f"No checkpoint found in directory {ckpt_dir_or_file!r}")
        return found
    return ckpt_dir_or_file


def list_variables(ckpt_dir_or_file: str) -> list[tuple[str, list[int]]]:
    """``(name, shape)`` of every tensor of a checkpoint (a file, or a directory's latest), sorted by name."""
    tensors = read_checkpoint(_resolve_checkpoint(ckpt_dir_or_file))
    return sorted((name, list(value.shape)) for name, value in tensors.items())


def load_variable(ckpt_dir_or_file: str, name: str) -> np.ndarray:
    """The value saved under ``name`` in a checkpoint (a file, or a directory's latest)."""
    path = _resolve_checkpoint(ckpt_dir_or_file)
    tensors = read_checkpoint(path)
    if name.endswith(":0"):
        name = name[:-2]
    if name not in tensors:
        raise errors.NotFoundError(None, None, f"Key {name!r} not found in checkpoint {path!r}")
    return tensors[name]


# -- the Saver -----------------------------------------------------------------------------------
def _shape_str(shape: Any) -> str:
    if isinstance(shape, TensorShape):
        return "<unknown rank>" if shape.ndims is None else str(shape.as_list())
    return str(list(shape))


def _describe(dtype_name: str, shape: Any) -> str:
    return f"{dtype_name} {_shape_str(shape)}"


class Saver:
    """Saves and restores variables (by name) to and from checkpoint files.

    The variables are fixed when the Saver is made (as in TensorFlow): make it after the
    optimizer, so that slots (``w/Adam``...) and the global step are saved too.

    Parameters
    ----------
    var_list : None for every global variable of the default graph (slots and the global
        step included); a list of Variables (saved under their op names); or a dict
        ``{name: Variable}``.
    reshape : must be False (restoring into another shape is not supported).
    sharded : accepted for TensorFlow compatibility; a checkpoint is always one file.
    max_to_keep : how many recent checkpoints to keep; older files are deleted. None or 0 keeps all.
    keep_checkpoint_every_n_hours : additionally keep (not delete) one checkpoint per this many
        hours, as TensorFlow: a checkpoint saved more than that after the last one kept survives.
    name : name scope of the restore ops this Saver adds to the graph.
    restore_sequentially, defer_build, write_version, save_relative_paths, filename : accepted for
        TensorFlow compatibility and ignored (one format, one run, relative paths always).
    saver_def, builder : must be None (TensorFlow's protocol buffers are not supported).
    allow_empty : allow a Saver with no variables (its save and restore then do nothing).
    pad_step_number : write ``save_path-00000100`` (8 digits) instead of ``save_path-100``.

    Examples
    --------
    >>> import os, tempfile
    >>> run = tempfile.mkdtemp()
    >>> w = cr.Variable([1.0, 2.0], name="w")
    >>> saver = cr.train.Saver(max_to_keep=3)
    >>> with cr.Session() as sess:
    ...     sess.run(w.initializer)
    ...     path = saver.save(sess, os.path.join(run, "model"), global_step=100)
    >>> os.path.basename(path)
    'model-100'
    >>> with cr.Session() as sess:  # a new session: restore instead of initializing
    ...     saver.restore(sess, cr.train.latest_checkpoint(run))
    ...     print(sess.run(w))
    [1. 2.]
    """

    def __init__(
        self,
        var_list: Mapping[str, Variable] | Iterable[Variable] | None = None,
        reshape: bool = False,
        sharded: bool = False,
        max_to_keep: int | None = 5,
        keep_checkpoint_every_n_hours: float = 10000.0,
        name: str | None = None,
        restore_sequentially: bool = False,
        saver_def: Any = None,
        builder: Any = None,
        defer_build: bool = False,
        allow_empty: bool = False,
        write_version: int = 2,
        pad_step_number: bool = False,
        save_relative_paths: bool = False,
        filename: str | None = None,
    ) -> None:
        if reshape:
            raise ValueError("Saver: reshape=True (restoring into variables of another shape) is not supported")
        if saver_def is not None or builder is not None:
            raise ValueError("Saver: saver_def and builder (TensorFlow's SaverDef protocol buffers) are not supported")
        # Accepted and meaningless here: sharded (one device, one file), restore_sequentially (restore is
        # one run), defer_build (building is cheap; build() is a no-op), write_version (one format),
        # save_relative_paths (the index already stores paths relative to its directory), filename.
        del sharded, restore_sequentially, defer_build, write_version, save_relative_paths, filename
        if var_list is None:
            var_list = state_ops.global_variables()
        if isinstance(var_list, Mapping):
            named = list(var_list.items())
        else:
            named = [(v.op.name if isinstance(v, Variable) else None, v) for v in var_list]
        self._vars: dict[str, Variable] = {}
        for key, v in named:
            if not isinstance(v, Variable):
                raise TypeError(f"Saver: var_list must hold cr.Variable objects, got {v!r}")
            if not isinstance(key, str) or not key:
                raise TypeError(f"Saver: names of saved variables must be non-empty strings, got {key!r}")
            if key in self._vars:
                raise ValueError(f"Saver: {self._vars[key].name} and {v.name} would both be saved as {key!r}")
            self._vars[key] = v
        if not self._vars and not allow_empty:
            raise ValueError("No variables to save")
        graphs = {v.graph for v in self._vars.values()}
        if len(graphs) > 1:
            raise ValueError("Saver: the variables belong to different graphs")
        self._graph = graphs.pop() if graphs else get_default_graph()
        self._max_to_keep = max_to_keep
        self._keep_every_s = float(keep_checkpoint_every_n_hours) * 3600
        self._next_checkpoint_time = time.time() + self._keep_every_s
        self._pad_step_number = pad_step_number
        self._last_checkpoints: list[tuple[str, float]] = []
        self._build_restore_ops(name or "save")

    def _build_restore_ops(self, name: str) -> None:
        """One placeholder + Assign per variable, grouped: restore is a single ``sess.run``."""
        graph = self._graph
        self._feeds: dict[str, Tensor] = {}
        self._restore_op: Operation | None = None
        if not self._vars:
            return
        with graph.as_default(), graph.name_scope(None), graph.control_dependencies(None), graph.name_scope(name):
            assigns = []
            for key, v in self._vars.items():
                ph = placeholder(v.dtype, shape=v.shape, name="value")
                self._feeds[key] = ph
                assigns.append(v.assign(ph, name="restore"))
            self._restore_op = state_ops.group(*assigns, name="restore_all")

    def build(self) -> None:
        """TensorFlow's deferred build; the restore ops are built with the Saver, so there is nothing to do."""

    @property
    def last_checkpoints(self) -> list[str]:
        """The checkpoints this Saver still keeps, oldest first."""
        return [p for p, _ in self._last_checkpoints]

    def recover_last_checkpoints(self, checkpoint_paths: Iterable[str]) -> None:
        """Adopt existing checkpoints (e.g. after a restart) so ``max_to_keep`` counts and deletes them too."""
        self._last_checkpoints = [(os.fspath(p), time.time()) for p in checkpoint_paths if os.path.isfile(p)]

    def _check_session(self, sess: Any) -> None:
        if sess is None or not hasattr(sess, "run"):
            raise TypeError(f"Saver needs a cr.Session, got {sess!r}")
        if getattr(sess, "graph", self._graph) is not self._graph:
            raise ValueError("The session's graph is not the graph of the Saver's variables.")

    def save(
        self,
        sess: Any,
        save_path: str,
        global_step: int | Variable | Tensor | None = None,
        latest_filename: str | None = None,
        write_state: bool = True,
    ) -> str | None:
        """Save the variables' current values; returns the path written.

        Parameters
        ----------
        sess : the session holding the values.
        save_path : file path (prefix when ``global_step`` is given); its directory must exist.
        global_step : if given (int or integer tensor/variable), the path is ``save_path-<step>``.
        latest_filename : name of the index file (``"checkpoint"`` by default).
        write_state : update the index file and apply ``max_to_keep`` (settling first what a killed save
            left: its temporary files, the checkpoint it was writing, the files it was deleting).
        """
        self._check_session(sess)
        save_path = os.fspath(save_path)
        prefix = os.path.basename(save_path)
        if global_step is not None:
            if not isinstance(global_step, (int, np.integer)):
                global_step = int(sess.run(global_step))
            step = int(global_step)
            save_path = f"{save_path}-{step:08d}" if self._pad_step_number else f"{save_path}-{step}"
        directory = os.path.dirname(os.path.abspath(save_path))
        if not os.path.isdir(directory):
            raise ValueError(f"Parent directory of {save_path} doesn't exist, can't save.")
        if not self._vars:
            return None
        values = sess.run({key: v.value() for key, v in self._vars.items()})
        tensors = {key: np.asarray(values[key]) for key in self._vars}
        if not write_state:
            write_checkpoint(save_path, tensors)
            return save_path
        self._save_and_keep(save_path, prefix, tensors, latest_filename)
        return save_path

    def _save_and_keep(
        self, save_path: str, prefix: str, tensors: Mapping[str, np.ndarray], latest_filename: str | None
    ) -> None:
        """Write the checkpoint, then the index, then apply ``max_to_keep``, journaling each step.

        Order (each write atomic): (1) settle what a killed save left: its temporary files, the
        checkpoint it was writing (adopted if it made it to disk) and the files it was deleting;
        (2) write the index with the new checkpoint as ``pending``; (3) the checkpoint; (4) the
        index with the new checkpoint as latest and the checkpoints beyond ``max_to_keep`` as
        ``obsolete``; (5) delete those. The index always names a complete checkpoint as latest.
        """
        directory = os.path.dirname(os.path.abspath(save_path))
        index = _index_path(directory, latest_filename)
        base = os.path.basename(save_path)
        try:
            record = _read_index(index)
        except ValueError as e:
            _warn_unreadable(index, e)
            record = None
        record = record or _IndexRecord(None, [])
        family = self._family(prefix)
        index_name = os.path.basename(index)
        _remove_stale_temp_files(
            directory, lambda target: target == index_name or family(target) or target in record.pending
        )
        for name in record.obsolete:
            path = os.path.join(directory, name)
            if name not in record.listed and _is_checkpoint_file(path):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)

        # What this Saver keeps: its own record, plus the checkpoints of the same prefix that the
        # index lists or was writing (those of an earlier process, or of a killed save), oldest first.
        # Paths are compared absolute and shown as the caller gave them (as TensorFlow does).
        times = {os.path.abspath(p): t for p, t in self._last_checkpoints}
        shown = {os.path.abspath(p): p for p, _ in self._last_checkpoints}
        for name in [*record.listed, *record.pending]:
            path = os.path.join(directory, name)
            if family(name) and path not in times and _is_checkpoint_file(path):
                times[path] = os.lstat(path).st_mtime
                shown[path] = os.path.join(os.path.dirname(save_path), name)
        save_abs = os.path.abspath(save_path)
        shown[save_abs] = save_path
        times.pop(save_abs, None)
        kept = sorted(times, key=times.__getitem__) + [save_abs]

        listed = [name for name in record.listed if os.path.exists(os.path.join(directory, name))]
        _write_index(index, _IndexRecord(record.latest, listed, pending=[base]))
        write_checkpoint(save_path, tensors)
        now = time.time()
        times[save_abs] = now

        excess = max(0, len(kept) - self._max_to_keep) if self._max_to_keep else 0
        doomed, kept = kept[:excess], kept[excess:]
        delete = []
        for path in doomed:
            # keep_checkpoint_every_n_hours: one checkpoint per period outlives max_to_keep
            # (it leaves the index, as in TensorFlow, but its file stays).
            if times[path] > self._next_checkpoint_time:
                self._next_checkpoint_time += self._keep_every_s
            else:
                delete.append(path)
        in_directory = [os.path.basename(p) for p in kept if os.path.dirname(p) == directory]
        obsolete = [os.path.basename(p) for p in delete if os.path.dirname(p) == directory]
        _write_index(index, _IndexRecord(base, in_directory, obsolete=obsolete))
        self._last_checkpoints = [(shown[p], times[p]) for p in kept]
        for path in delete:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)

    @staticmethod
    def _family(prefix: str) -> Callable[[str], bool]:
        """Whether a file name is ``prefix`` (the ``save_path`` given to ``save``) or ``<prefix>-<step>``."""
        pattern = re.compile(re.escape(prefix) + r"(-\d+)?")
        return lambda name: pattern.fullmatch(name) is not None

    def restore(self, sess: Any, save_path: str | None) -> None:
        """Set the Saver's variables to the values saved in ``save_path``; all or nothing.

        As in TensorFlow 1.x, only the Saver's variables are read: entries of the file that
        belong to no variable of the Saver are ignored (a training checkpoint, with optimizer
        slots and the global step, restores into an inference graph that has only the model).
        Everything is checked before any variable is assigned: every variable must be in the
        file with the same dtype and a compatible shape.

        Raises
        ------
        cr.errors.NotFoundError
            If the file is missing, or the only problem is variables missing from the file.
        cr.errors.DataLossError
            If the file is truncated or corrupted.
        cr.errors.InvalidArgumentError
            If names, shapes or dtypes do not match (the message lists every mismatch).
        ValueError
            If ``save_path`` is None (as ``latest_checkpoint`` returns when there is no checkpoint).
        """
        if save_path is None:
            raise ValueError("Can't load save_path when it is None.")
        self._check_session(sess)
        save_path = os.fspath(save_path)
        tensors = read_checkpoint(save_path)
        missing_in_file, mismatched = [], []
        for key, v in self._vars.items():
            if key not in tensors:
                missing_in_file.append(f"  missing in checkpoint: {key!r} ({_describe(v.dtype.name, v.shape)})")
                continue
            value = tensors[key]
            file_dtype = dtypes.as_dtype(value.dtype).name
            if file_dtype != v.dtype.name:
                mismatched.append(f"  dtype mismatch: {key!r}: graph has {v.dtype.name}, checkpoint has {file_dtype}")
            if not v.shape.is_compatible_with(value.shape):
                mismatched.append(
                    f"  shape mismatch: {key!r}: graph has {_shape_str(v.shape)}, checkpoint has {list(value.shape)}"
                )
        problems = missing_in_file + mismatched
        if problems:
            cls = errors.InvalidArgumentError if mismatched else errors.NotFoundError
            raise cls(
                None,
                None,
                f"Cannot restore checkpoint {save_path!r}: it does not match the Saver's variables "
                f"({len(problems)} problem{'s' * (len(problems) != 1)}); no variable was changed:\n"
                + "\n".join(problems),
            )
        if self._restore_op is not None:
            sess.run(self._restore_op, feed_dict={self._feeds[key]: tensors[key] for key in self._vars})
