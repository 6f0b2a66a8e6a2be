"""TensorFlow's event-file format, written without TensorFlow: TFRecord framing with masked CRC-32C.

Each record is ``length (uint64 LE) | masked crc32c(length) (uint32 LE) | data | masked
crc32c(data) (uint32 LE)``. TensorBoard's own ``EventFileWriter`` reaches its file system layer
through ``tensorboard.compat.tf``, which imports TensorFlow wherever it is installed (seconds
of start-up); plain file writes need none of that.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from typing import Any, BinaryIO


def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum TFRecord files use."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC: rotated right by 15 bits plus a constant."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def encode_record(data: bytes) -> bytes:
    """One TFRecord: the framed, checksummed ``data``."""
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc32c(header)) + data + struct.pack("<I", masked_crc32c(data))


class EventFileWriter:
    """Appends serialized ``Event`` protos to ``events.out.tfevents.<time>.<host><suffix>`` in ``logdir``.

    Events are buffered and written when ``max_queue`` are pending, when ``flush_secs`` have
    passed since the last write, on ``flush()`` and on ``close()`` (no background thread).
    """

    def __init__(
        self, logdir: str, event_pb2: Any, max_queue: int = 10, flush_secs: float = 120, filename_suffix: str = ""
    ) -> None:
        os.makedirs(logdir, exist_ok=True)
        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}{filename_suffix}"
        self.path = os.path.join(logdir, name)
        self._file: BinaryIO | None = open(self.path, "wb")  # noqa: SIM115 - kept open until close()
        self._pending: list[bytes] = []
        self._max_queue = max(int(max_queue), 1)
        self._flush_secs = float(flush_secs)
        self._last_flush = time.time()
        # The first event says the format version, as TensorFlow's writer does.
        first = event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2")
        self.add_serialized(first.SerializeToString())
        self.flush()

    def add_serialized(self, event: bytes) -> None:
        """Queue one serialized ``Event``."""
        if self._file is None:
            raise RuntimeError("The event file is closed.")
        self._pending.append(encode_record(event))
        if len(self._pending) >= self._max_queue or time.time() - self._last_flush >= self._flush_secs:
            self.flush()

    def flush(self) -> None:
        """Write the queued events to disk."""
        if self._file is None:
            return
        if self._pending:
            self._file.write(b"".join(self._pending))
            self._pending.clear()
        self._file.flush()
        self._last_flush = time.time()

    def close(self) -> None:
        """Flush and close the file."""
        if self._file is not None:
            self.flush()
            self._file.close()
            self._file = None
