"""Zips exactly as agencies publish them, opened so that a damaged or hostile one cannot harm the machine.

Every reader that takes a zip goes through here (`textfiles`, `aduanas`, `enaho`), because a zip in `raw/` is
data from outside: a member name may try to climb out of the temp folder (`../../x`, `/etc/x`), and a few KB
may expand to terabytes (a decompression bomb). So:

* a member whose name is absolute or climbs with `..` makes the whole zip fail: no agency publishes one, and
  a copy is never written under a member's name anyway (`copy_member` writes to a fresh temp file);
* each member may expand to at most `member_limit` bytes: `RATIO_FREE_BYTES`, or `MAX_RATIO` times its
  compressed size (never more than the zip's own size on disk), capped at `MAX_MEMBER_BYTES`. The limit is
  checked on the sizes the zip declares before anything is read, and again on the bytes actually produced
  while streaming, so a header that lies about its sizes cannot bypass it.

Failures are `SourceFileError`s naming the zip, the member and the rule (`zip`, `zip_ruta`, `zip_bomba`).

A deflated member is inflated with ISA-L (`isal`, ~2× Python's zlib) straight from its bytes in the zip, its
CRC-32 checked at the end as `zipfile` does; and it can be handed to DuckDB without inflating it at all
(`gzip_copy`): a member's data is a raw deflate stream, so a gzip header and trailer around a copy of its
compressed bytes make a file DuckDB's reader inflates itself while it parses in parallel. DuckDB does not check
that trailer's CRC: whoever uses the copy inflates the member once more through `open_member` (bounded and
CRC-checked) to prove the bytes are what the zip says.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath

from isal import isal_zlib

from vraem_pipeline.core.errors import SourceFileError, raise_storage_error

#: A member may always expand to this many bytes, whatever its ratio (small, very regular files compress well).
RATIO_FREE_BYTES = 64 << 20
#: Beyond that, at most this many uncompressed bytes per compressed byte. Published members measured ~9:1
#: (the Padrón's text, Aduanet's DBFs, ENAHO's Stata files); deflate tops out near 1,030:1 on zeros.
MAX_RATIO = 100
#: Absolute ceiling per member: a real Padrón cut is ~2 GB uncompressed; eight times that is not a delivery.
MAX_MEMBER_BYTES = 16 << 30

COPY_BLOCK = 1 << 20


def _unsafe_name(name: str) -> bool:
    """Absolute (POSIX or Windows, drive letters too) or climbing out with `..`, with either separator."""
    return any(pure.anchor or ".." in pure.parts for pure in (PurePosixPath(name), PureWindowsPath(name)))


def member_limit(info: zipfile.ZipInfo, archive_bytes: int) -> int:
    """Most bytes `info` may expand to: its compressed size cannot exceed the zip's own size on disk."""
    compressed = min(info.compress_size, archive_bytes)
    return min(MAX_MEMBER_BYTES, max(RATIO_FREE_BYTES, MAX_RATIO * compressed))


class BoundedReader(io.RawIOBase):
    """A member's stream that fails once it has produced more than `limit` bytes (the streaming check)."""

    def __init__(self, raw, limit: int, zip_path: Path, member: str):
        self._raw, self.limit, self.produced = raw, limit, 0
        self._zip_path, self._member = zip_path, member

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:  # to the end, block by block: never one unbounded read
            return b"".join(iter(lambda: self.read(COPY_BLOCK), b""))
        try:
            data = self._raw.read(size)
        except (zipfile.BadZipFile, zlib.error, isal_zlib.error, EOFError, OSError, ValueError) as err:
            raise SourceFileError(
                f"{self._zip_path}!{self._member}",
                f"zip dañado, no se puede descomprimir: {type(err).__name__}: {err}",
                rule="zip",
            ) from None
        self.produced += len(data)
        if self.produced > self.limit:
            raise SourceFileError(
                self._zip_path,
                f"miembro {self._member}: se descomprime a más de {self.limit:,} "
                "bytes (posible bomba de descompresión)",
                rule="zip_bomba",
            )
        return data


def _check_declared(info: zipfile.ZipInfo, archive_bytes: int, path: Path) -> int:
    limit = member_limit(info, archive_bytes)
    if info.file_size > limit:
        raise SourceFileError(
            path,
            f"miembro {info.filename}: declara {info.file_size:,} bytes descomprimidos de "
            f"{info.compress_size:,} comprimidos; el máximo es {limit:,} (posible bomba de "
            "descompresión)",
            rule="zip_bomba",
        )
    return limit


def check_declared_sizes(path: Path) -> None:
    """Every member's declared size within its limit, for a reader that opens the zip itself (openpyxl reads an
    xlsx's XML members). Python's zipfile never yields more than a member's declared size (it stops there and
    fails the CRC), so for such readers the declared check is the bound."""
    size = os.path.getsize(path)
    with open_zip(path) as zf:
        for info in zf.infolist():
            _check_declared(info, size, path)


def open_zip(path: Path) -> zipfile.ZipFile:
    """The zip, its member names checked; a damaged zip or an unsafe name fails naming the zip."""
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as err:
        raise SourceFileError(path, f"zip dañado: {err}", rule="zip") from None
    unsafe = [i.filename for i in infos if _unsafe_name(i.filename)]
    if unsafe:
        zf.close()
        raise SourceFileError(
            path,
            f"miembro con ruta absoluta o que sale de la carpeta ({unsafe[0]!r}): no se lee un zip así",
            rule="zip_ruta",
        )
    return zf


def data_members(path: Path) -> list[str]:
    """Names of the zip's files (folders left out)."""
    with open_zip(path) as zf:
        return [i.filename for i in zf.infolist() if not i.is_dir()]


def _data_offset(fh, info: zipfile.ZipInfo) -> int:
    """Where the member's compressed bytes start: after its local header, whose name and extra field may differ
    in length from the central directory's."""
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) != 30 or local[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"cabecera local dañada del miembro {info.filename!r}")
    name_len, extra_len = struct.unpack("<HH", local[26:30])
    return info.header_offset + 30 + name_len + extra_len


def _plain_deflate(info: zipfile.ZipInfo) -> bool:
    """A member this module inflates itself: deflated and not encrypted (anything else goes through zipfile)."""
    return info.compress_type == zipfile.ZIP_DEFLATED and not info.flag_bits & 0x1


class _IsalMember:
    """A deflated member's bytes, inflated by ISA-L from the zip file, with zipfile's checks: never more than the
    declared size, the CRC-32 compared at the end (a header that lies about the size fails there), a stream that
    ends early fails."""

    def __init__(self, fh, info: zipfile.ZipInfo, start: int):
        self._fh, self._name = fh, info.filename
        self._left_in, self._left_out = info.compress_size, info.file_size
        self._crc, self._expected = 0, info.CRC
        self._inflate = isal_zlib.decompressobj(-15)
        self._pending = b""
        self._done = False
        fh.seek(start)

    def read(self, size: int) -> bytes:
        if self._done or size <= 0:
            return b""
        out = b""
        while not out and not self._done:
            data = self._inflate.unconsumed_tail or self._pending
            self._pending = b""
            if not data and self._left_in:
                data = self._fh.read(min(COPY_BLOCK, self._left_in))
                self._left_in -= len(data)
            if not data:
                raise EOFError("el miembro comprimido termina antes del final del flujo deflate")
            out = self._inflate.decompress(data, min(size, self._left_out))
            self._left_out -= len(out)
            self._crc = isal_zlib.crc32(out, self._crc)
            if self._inflate.eof or self._left_out == 0:
                self._done = True
                if self._crc != self._expected:
                    raise zipfile.BadZipFile(f"Bad CRC-32 for file {self._name!r}")
        return out

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextmanager
def open_member(zf: zipfile.ZipFile, path: Path, member: str) -> Iterator[io.BufferedReader]:
    """A member's bytes, bounded: its declared size is checked first, the bytes produced while reading. A deflated
    member is inflated by ISA-L (`_IsalMember`), any other through zipfile."""
    info = zf.getinfo(member)
    limit = _check_declared(info, os.path.getsize(path), path)
    try:
        if _plain_deflate(info):
            fh = open(path, "rb")
            try:
                raw = _IsalMember(fh, info, _data_offset(fh, info))
            except BaseException:
                fh.close()
                raise
            raw.close = fh.close  # closing the member closes its file
        else:
            raw = zf.open(info)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError, ValueError) as err:
        # RuntimeError: an encrypted member; NotImplementedError: a compression method zipfile lacks
        raise SourceFileError(path, f"miembro {member}: no se puede abrir: {err}", rule="zip") from None
    with raw:
        yield io.BufferedReader(BoundedReader(raw, limit, path, member), COPY_BLOCK)


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no time, unknown OS


def gzip_copy(path: Path, member: str, workdir: Path) -> Path | None:
    """The member's compressed bytes copied (by the kernel, not inflated) into a gzip file in `workdir` named by
    `tempfile`, for DuckDB's reader (`compression='gzip'`); None for a member that is not plain deflate. The
    caller deletes it, and must read the member through `open_member` too: DuckDB neither checks the CRC nor
    bounds what it inflates (a copy that fails is removed here)."""
    workdir.mkdir(parents=True, exist_ok=True)
    size = os.path.getsize(path)
    with open_zip(path) as zf:
        info = zf.getinfo(member)
        _check_declared(info, size, path)
        if not _plain_deflate(info):
            return None
    fd, target = tempfile.mkstemp(prefix="vraem_zip_", suffix=".csv.gz", dir=workdir)
    try:
        with open(path, "rb") as src, os.fdopen(fd, "wb") as dst:
            start = _data_offset(src, info)
            dst.write(_GZIP_HEADER)
            dst.flush()
            left, offset = min(info.compress_size, size - start), start
            while left > 0:
                done = os.copy_file_range(src.fileno(), dst.fileno(), left, offset)
                if done == 0:
                    break
                left, offset = left - done, offset + done
            dst.write(struct.pack("<II", info.CRC, info.file_size & 0xFFFFFFFF))
    except BaseException as err:
        Path(target).unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise_storage_error(err, target, f"copiar {path.name}!{member} a la carpeta temporal")
        if isinstance(err, zipfile.BadZipFile):
            raise SourceFileError(path, f"miembro {member}: no se puede abrir: {err}", rule="zip") from None
        raise
    return Path(target)


def copy_member(path: Path, member: str, workdir: Path, suffix: str = "") -> Path:
    """A member copied to a fresh file in `workdir` (named by `tempfile`, never by the member), bounded; the
    caller deletes it. A partial copy is removed when the copy fails."""
    workdir.mkdir(parents=True, exist_ok=True)
    fd, target = tempfile.mkstemp(prefix="vraem_zip_", suffix=suffix, dir=workdir)
    try:
        with os.fdopen(fd, "wb") as dst, open_zip(path) as zf, open_member(zf, path, member) as src:
            shutil.copyfileobj(src, dst, COPY_BLOCK)
    except BaseException as err:
        Path(target).unlink(missing_ok=True)
        if isinstance(err, OSError):  # a full temp folder is not the zip's fault: name the copy and the cause
            raise_storage_error(err, target, f"copiar {path.name}!{member} a la carpeta temporal")
        raise
    return Path(target)
