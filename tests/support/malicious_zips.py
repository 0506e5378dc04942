"""Hostile zips built byte by byte for tests: a member whose name climbs out of the folder, and a decompression
bomb (1 GiB of zeros in ~1 MB) whose header may tell the truth or lie — without ever writing 1 GiB anywhere."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

MIB = 1 << 20


def deflated_zeros(mib: int) -> tuple[bytes, int]:
    """A raw deflate stream of `mib` MiB of zeros, and its CRC-32. One MiB is compressed once and its bytes
    repeated: a full flush ends the segment byte-aligned with no reference to what came before, so copies of it
    chain into one valid stream (deflate cannot beat ~1,030:1, hence ~1 KB per MiB)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = c.compress(b"\0" * MIB) + c.flush(zlib.Z_FULL_FLUSH)
    end = c.flush()
    crc = 0
    block = b"\0" * MIB
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    return segment * mib + end, crc


def write_zip(
    path: Path, name: str, data: bytes, *, file_size: int, crc: int, method: int = 8, encrypted: bool = False
) -> Path:
    """A one-member zip whose sizes are exactly what the caller says (true or not); `encrypted` sets the flag of
    a password-protected member (its bytes are not really encrypted: no reader gets that far)."""
    raw_name = name.encode("utf-8")
    flags = 0x800 | (0x1 if encrypted else 0)
    local = (
        struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, flags, method, 0, 0x21, crc, len(data), file_size, len(raw_name), 0)
        + raw_name
    )
    central = (
        struct.pack(
            "<4s6H3I5H2I",
            b"PK\x01\x02",
            20,
            20,
            flags,
            method,
            0,
            0x21,
            crc,
            len(data),
            file_size,
            len(raw_name),
            0,
            0,
            0,
            0,
            0,
            0,
        )
        + raw_name
    )
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(local + data + central + end)
    return path


def write_bomb(path: Path, name: str, *, mib: int = 1024, declared: int | None = None) -> Path:
    """`mib` MiB of zeros deflated into `path`; `declared`: the uncompressed size the header claims (the truth
    by default)."""
    data, crc = deflated_zeros(mib)
    return write_zip(path, name, data, file_size=mib * MIB if declared is None else declared, crc=crc)
