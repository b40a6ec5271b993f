"""Length-prefixed JSON messages: how the coordinator, the zygotes and their children talk.

A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON. A frame
over ``MAX_FRAME`` bytes, or one that is not a JSON object, is a protocol error:
the reader treats the other side as broken (or tampered with), never as right.

Text that cannot be written to a notebook never gets through: invalid UTF-8 and
lone surrogates (``"\\ud800"``, which JSON can spell but UTF-8 cannot) are replaced
by U+FFFD when a frame is read.
"""

from __future__ import annotations

import json
import os
import re
import struct
from typing import Any

#: The largest frame anyone accepts (a cell's outputs included).
MAX_FRAME = 32 * 1024 * 1024

_HEADER = struct.Struct(">I")
#: A JSON escape of a UTF-16 surrogate: only then can a decoded string hold a lone one.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class ProtocolError(RuntimeError):
    """The other side sent something that is not a valid frame."""


def encode(message: dict[str, Any]) -> bytes:
    """One frame holding ``message``."""
    body = json.dumps(message, separators=(",", ":")).encode()
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"message of {len(body)} bytes is over the {MAX_FRAME}-byte limit")
    return _HEADER.pack(len(body)) + body


def clean_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (valid text is returned as is)."""
    if text.isascii():
        return text
    return _LONE_SURROGATE.sub("\ufffd", text)


def scrub(value: Any) -> Any:
    """``value`` (JSON data) with every string cleaned by :func:`clean_text`, keys included."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [scrub(item) for item in value]
    if isinstance(value, dict):
        return {clean_text(key): scrub(item) for key, item in value.items()}
    return value


def decode(body: bytes) -> dict[str, Any]:
    """The message of one frame body (invalid UTF-8 and lone surrogates replaced)."""
    try:
        message = json.loads(body.decode("utf-8", "replace"))
    except ValueError as error:
        raise ProtocolError(f"frame is not JSON: {error}") from None
    except RecursionError:
        raise ProtocolError("frame is nested too deeply") from None
    if not isinstance(message, dict):
        raise ProtocolError("frame is not a JSON object")
    if _SURROGATE_ESCAPE.search(body):
        message = scrub(message)
    return message


def write_fd(fd: int, message: dict[str, Any]) -> None:
    """Write one frame to a file descriptor (all of it)."""
    data = memoryview(encode(message))
    while data:
        written = os.write(fd, data)
        data = data[written:]


def read_exact_fd(fd: int, size: int) -> bytes | None:
    """``size`` bytes from ``fd``; None at end of file before the first byte."""
    chunks: list[bytes] = []
    got = 0
    while got < size:
        chunk = os.read(fd, min(size - got, 1 << 20))
        if not chunk:
            if got == 0:
                return None
            raise ProtocolError("stream ended inside a frame")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> tuple[dict[str, Any] | None, int]:
    """The next message on ``fd`` and its size in bytes; (None, 0) at end of file."""
    header = read_exact_fd(fd, _HEADER.size)
    if header is None:
        return None, 0
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ProtocolError(f"frame of {size} bytes is over the {MAX_FRAME}-byte limit")
    body = read_exact_fd(fd, size)
    if body is None:
        raise ProtocolError("stream ended inside a frame")
    return decode(body), size


def read_fd(fd: int) -> dict[str, Any] | None:
    """The next message on ``fd``; None at end of file."""
    return read_frame(fd)[0]
