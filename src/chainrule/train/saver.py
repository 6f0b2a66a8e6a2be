"""Checkpoints: ``cr.train.Saver`` saves and restores variables by name, safely.

Checkpoint file format (version 1)
==================================

One checkpoint is one file, written at exactly the path ``Saver.save`` returns
(``save_path`` or ``save_path-<global_step>``). Nothing in it is ever unpickled:
it is a small JSON header followed by raw array buffers, with a checksum over
everything, so a truncated or corrupted file is detected before anything is used.

=========  ==========  ====================================================================
offset     size        content
=========  ==========  ====================================================================
0          8           magic ``b"CRCKPT01"``
8          8           ``H``: byte length of the header, unsigned 64-bit little-endian
16         H           header: a UTF-8 JSON object (below)
16 + H     P           payload: each tensor's bytes, C order, little-endian, concatenated in
                       header order, each starting at a multiple of 8 (zero padding between)
16 + H + P 32          SHA-256 digest of every preceding byte (magic, length, header, payload)
=========  ==========  ====================================================================

The header::

    {"format": "chainrule.checkpoint", "version": 1, "payload_bytes": P,
     "tensors": [{"name": "dense/kernel", "dtype": "float32", "shape": [784, 10],
                  "offset": 0, "nbytes": 31360}, ...]}

``name`` is the variable's op name (``"w"``, ``"w/Adam"``, ``"global_step"``), or the key of
the ``var_list`` dict given to the Saver; ``dtype`` is a chainrule dtype name (``float16/32/64,
int8/16/32/64, uint8, bool``); ``offset`` counts from the start of the payload and
``nbytes == prod(shape) * itemsize``. Readers check, in order: the magic, that the file has
exactly ``16 + H + P + 32`` bytes (else it is truncated or has trailing data), the digest,
then that every header field is well formed and every buffer lies inside the payload.
Any failure raises ``cr.errors.DataLossError`` naming the file; a missing file raises
``cr.errors.NotFoundError``.

The index file ``checkpoint`` (in the checkpoint's directory) is JSON::

    {"model_checkpoint_path": "model-300",
     "all_model_checkpoint_paths": ["model-100", "model-200", "model-300"]}

Paths in the checkpoint's own directory are stored relative to it (so the directory can be
moved); others are absolute. ``latest_checkpoint(dir)`` reads it.

Crash safety: every file (checkpoint, then index) is written to a temporary file in the
same directory, flushed and ``fsync``-ed, renamed onto its final name with ``os.replace``
(atomic on POSIX and Windows), and the directory is ``fsync``-ed. A crash or a full disk
during ``save`` therefore leaves the previous checkpoint and index intact, and the
temporary file is removed when the failure is an exception. The index is updated only
after the new checkpoint is in place, and checkpoints beyond ``max_to_keep`` are deleted
only after the index stops listing them.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import math
import os
import secrets
import struct
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np

from chainrule.framework import dtypes, errors
from chainrule.framework.graph import Operation, Tensor, get_default_graph
from chainrule.framework.tensor_shape import TensorShape
from chainrule.ops import state_ops
from chainrule.ops.constant_op import placeholder
from chainrule.ops.state_ops import Variable

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
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        header = json.loads(header_bytes.decode("utf-8"))
    payload_bytes = header.get("payload_bytes") if isinstance(header, dict) else None
    if isinstance(payload_bytes, int) and not isinstance(payload_bytes, bool):
        expected = _PREFIX.size + header_len + payload_bytes + _DIGEST_BYTES
        if len(data) < expected:
            raise lost(f"the file is truncated: it has {len(data)} bytes, its header says {expected}")
        if len(data) > expected:
            raise lost(f"the file has {len(data) - expected} unexpected bytes after its end")
    if hashlib.sha256(memoryview(data)[:body_end]).digest() != data[body_end:]:
        raise lost("its SHA-256 checksum does not match its content")
    # The checksum matched, so what follows only fails for files not written by this module.
    if not isinstance(header, dict):
        raise lost("its header is not a JSON object")
    if header.get("format") != FORMAT or header.get("version") != VERSION:
        raise lost(f"unsupported format/version {header.get('format')!r}/{header.get('version')!r}")
    if not isinstance(payload_bytes, int):
        raise lost("payload_bytes is missing from the header")
    payload = memoryview(data)[_PREFIX.size + header_len : body_end]
    entries = header.get("tensors")
    if not isinstance(entries, list):
        raise lost("the header has no tensor list")
    out: dict[str, np.ndarray] = {}
    for entry in entries:
        try:
            name, dtype_name, shape = entry["name"], entry["dtype"], entry["shape"]
            offset, nbytes = entry["offset"], entry["nbytes"]
        except (TypeError, KeyError):
            raise lost(f"malformed tensor entry {entry!r}") from None
        if not isinstance(name, str) or name in out:
            raise lost(f"bad or duplicate tensor name {name!r}")
        if dtype_name not in _DTYPES:
            raise lost(f"tensor {name!r} has unsupported dtype {dtype_name!r}")
        if not isinstance(shape, list) or not all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
        ):
            raise lost(f"tensor {name!r} has a bad shape {shape!r}")
        np_dtype = np.dtype(_DTYPES[dtype_name].as_numpy_dtype).newbyteorder("<")
        if not isinstance(offset, int) or not isinstance(nbytes, int) or offset < 0:
            raise lost(f"tensor {name!r} has a bad offset/size")
        if nbytes != math.prod(shape) * np_dtype.itemsize or offset + nbytes > len(payload):
            raise lost(f"tensor {name!r} ({dtype_name} {shape}) does not fit its {nbytes} bytes at offset {offset}")
        arr = np.frombuffer(payload, dtype=np_dtype, count=math.prod(shape), offset=offset).reshape(shape)
        out[name] = arr.astype(arr.dtype.newbyteorder("="), copy=True)  # own, writable, native order
    return out


def read_checkpoint(path: str) -> dict[str, np.ndarray]:
    """Read and verify a checkpoint file; returns its tensors by name.

    Raises
    ------
    cr.errors.NotFoundError
        If ``path`` does not exist (or is a directory).
    cr.errors.DataLossError
        If the file is truncated, corrupted or not a chainrule checkpoint.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise errors.NotFoundError(
            None, None, f"Checkpoint {path!r} is a directory; pass a checkpoint file (cr.train.latest_checkpoint(dir))"
        )
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"Checkpoint {path!r} not found") from None
    return _decode(data, path)


def write_checkpoint(path: str, tensors: Mapping[str, Any]) -> str:
    """Write ``tensors`` (name -> array) to ``path`` atomically, in the format above; returns ``path``."""
    path = os.fspath(path)
    _atomic_write(path, _encode(tensors))
    return path


# -- atomic writes -------------------------------------------------------------------------------
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


def _atomic_write(path: str, chunks: Iterable[bytes | memoryview]) -> None:
    """Write ``chunks`` to a temporary file beside ``path``, fsync it, then rename it onto ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp-{secrets.token_hex(6)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_chunks(f, chunks)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


# -- the index file ------------------------------------------------------------------------------
@dataclass
class CheckpointState:
    """What the ``checkpoint`` index file of a directory says (paths resolved against the directory)."""

    model_checkpoint_path: str
    all_model_checkpoint_paths: list[str] = field(default_factory=list)


def _index_path(checkpoint_dir: str, latest_filename: str | None) -> str:
    return os.path.join(checkpoint_dir, latest_filename or INDEX_FILENAME)


def get_checkpoint_state(checkpoint_dir: str, latest_filename: str | None = None) -> CheckpointState | None:
    """The state recorded in ``checkpoint_dir``'s index file, or None when there is none.

    An unreadable index file gives None with a warning (as TensorFlow does).
    """
    checkpoint_dir = os.fspath(checkpoint_dir)
    index = _index_path(checkpoint_dir, latest_filename)
    try:
        with open(index, encoding="utf-8") as f:
            state = json.load(f)
        latest = state["model_checkpoint_path"]
        paths = state.get("all_model_checkpoint_paths", [latest])
        if not isinstance(latest, str) or not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
            raise ValueError("bad field types")
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as e:
        import warnings

        warnings.warn(f"Ignoring unreadable checkpoint index {index!r}: {e}", stacklevel=2)
        return None

    def resolve(p: str) -> str:
        return p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)

    return CheckpointState(resolve(latest), [resolve(p) for p in paths])


def latest_checkpoint(checkpoint_dir: str, latest_filename: str | None = None) -> str | None:
    """The path of the newest checkpoint saved in ``checkpoint_dir``, or None if there is none (or it is gone)."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None or not os.path.isfile(state.model_checkpoint_path):
        return None
    return state.model_checkpoint_path


def _update_checkpoint_state(
    checkpoint_dir: str, latest: str, all_paths: list[str], latest_filename: str | None
) -> None:
    base = os.path.abspath(checkpoint_dir)

    def relative(p: str) -> str:
        return os.path.basename(p) if os.path.dirname(os.path.abspath(p)) == base else os.path.abspath(p)

    state = {"model_checkpoint_path": relative(latest), "all_model_checkpoint_paths": [relative(p) for p in all_paths]}
    _atomic_write(_index_path(checkpoint_dir, latest_filename), [json.dumps(state, indent=2).encode("utf-8") + b"\n"])


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
    >>> saver = cr.train.Saver(max_to_keep=3)
    >>> path = saver.save(sess, "/tmp/run/model", global_step=step)   # /tmp/run/model-100
    >>> saver.restore(sess, cr.train.latest_checkpoint("/tmp/run"))
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
        write_state : update the index file and apply ``max_to_keep``.
        """
        self._check_session(sess)
        save_path = os.fspath(save_path)
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
        write_checkpoint(save_path, {key: np.asarray(values[key]) for key in self._vars})
        if write_state:
            # The index is updated before the Saver's own record and before any deletion, so a
            # failure here leaves both the index and the files it lists exactly as they were.
            kept = [p for p in self.last_checkpoints if p != save_path] + [save_path]
            excess = max(0, len(kept) - self._max_to_keep) if self._max_to_keep else 0
            doomed, kept = kept[:excess], kept[excess:]
            _update_checkpoint_state(os.path.dirname(save_path) or ".", save_path, kept, latest_filename)
            times = dict(self._last_checkpoints)
            self._last_checkpoints = [(p, times.get(p, time.time())) for p in kept[:-1]] + [(save_path, time.time())]
            for path in doomed:
                # keep_checkpoint_every_n_hours: one checkpoint per period outlives max_to_keep
                # (it leaves the index, as in TensorFlow, but its file stays).
                if times.get(path, 0.0) > self._next_checkpoint_time:
                    self._next_checkpoint_time += self._keep_every_s
                    continue
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
        return save_path

    def restore(self, sess: Any, save_path: str | None, expect_partial: bool = False) -> None:
        """Set the variables to the values saved in ``save_path``; all or nothing.

        Everything is checked before any variable is assigned: every variable must be in
        the file with the same dtype and a compatible shape, and (unless ``expect_partial``)
        every tensor of the file must belong to a variable of this Saver.

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
        missing_in_file, missing_in_graph, mismatched = [], [], []
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
        if not expect_partial:
            for key, value in tensors.items():
                if key not in self._vars:
                    missing_in_graph.append(
                        f"  missing in graph: {key!r} ({_describe(dtypes.as_dtype(value.dtype).name, value.shape)})"
                    )
        problems = missing_in_file + missing_in_graph + mismatched
        if problems:
            cls = errors.NotFoundError if not (missing_in_graph or mismatched) else errors.InvalidArgumentError
            hint = "\n(expect_partial=True ignores checkpoint entries the graph lacks)" if missing_in_graph else ""
            raise cls(
                None,
                None,
                f"Cannot restore checkpoint {save_path!r}: it does not match the Saver's variables "
                f"({len(problems)} problem{'s' * (len(problems) != 1)}); no variable was changed:\n"
                + "\n".join(problems)
                + hint,
            )
        if self._restore_op is not None:
            sess.run(self._restore_op, feed_dict={self._feeds[key]: tensors[key] for key in self._vars})
