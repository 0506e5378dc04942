"""Delimited text as agencies publish it: zipped or not, latin-1 or UTF-8 (with BOM), `|` or `,`.

SUNAT changed the open-data Padrón RUC from `|`/latin-1 to `,`/UTF-8 with quoted fields between cuts, so the
dialect is sniffed per file instead of configured. Each row keeps its physical line number (the header is line 1)
and lines with the wrong number of fields are kept (not dropped) for quarantine.

A national Padrón cut is ~3 million lines, so the rows are parsed by Arrow's CSV reader, streaming (a zip member
is decompressed block by block, never extracted). Arrow numbers rows, not lines, and skips blank lines, so the
bytes it reads are scanned on their way in: line terminators are counted the way Python splits lines (`\n`,
`\r\n` or a lone `\r`) and blank lines are located. Good row k (0-based) is then the k-th row number that is not
an invalid row, and row number r is the r-th non-blank line after the header. The count of physical lines
must equal header + rows + invalid rows + blank lines: otherwise a record spans several lines (a quoted value
with a line break) and the reconstruction does not hold. That case, and the few others the fast path cannot
prove it reads exactly as the csv module does (see `_Fallback`), re-read the file with the csv module: the
reference behaviour, slow but always right.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from vraem_pipeline.errors import SourceFileError

SAMPLE_BYTES = 8 << 20
CHUNK_ROWS = 500_000  # csv-module path: rows per frame chunk
BLOCK_BYTES = 16 << 20  # Arrow block: a line (a record) longer than this sends the file to the csv-module path
READ_BYTES = 16 << 20  # bytes read from the file or zip member at a time
csv.field_size_limit(1 << 24)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dialect:
    encoding: str  # "utf-8-sig", "utf-8" or "latin-1"
    delimiter: str
    quoted: bool


@dataclass
class ParsedText:
    """A read source file: its rows (a frame with `linea`) and the lines that could not be rows (quarantine).

    Binary formats (SPSS, Stata) use it too, with no dialect and no bad lines, `linea` = record number.
    """

    path: Path
    member: str | None
    dialect: Dialect | None
    header: list[str]
    frame: pd.DataFrame
    bad_lines: list[tuple[int, int, str]] = field(default_factory=list)  # (line, fields, raw text)

    @property
    def label(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.bad_lines)


@contextmanager
def open_binary(path: Path, member_pattern: str | None = None) -> Iterator[tuple[io.BufferedIOBase, str | None]]:
    """Open `path`, or the one data member of a zip (a zip exactly as published stands in for its file)."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic[:2] != b"PK":
        with open(path, "rb") as fh:
            yield fh, None
        return
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise SourceFileError(path, f"zip dañado: {err}", rule="zip") from None
    with zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
        if member_pattern:
            import re

            names = [n for n in names if re.search(member_pattern, n, flags=re.IGNORECASE)]
        if len(names) != 1:
            raise SourceFileError(path, f"el zip debe contener un solo archivo de datos; contiene {names}", rule="zip")
        with zf.open(names[0]) as member:
            yield member, names[0]


def sniff(sample: bytes, candidates: str = "|,;\t") -> Dialect:
    if sample.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        try:
            # A multi-byte character cut at the sample's end is not an encoding error.
            codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=False)
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "latin-1"
    first_line = sample.split(b"\n", 1)[0].decode(encoding.replace("-sig", ""), errors="replace").lstrip("\ufeff")
    counts = {d: first_line.count(d) for d in candidates}
    delimiter = max(counts, key=counts.get)
    if counts[delimiter] == 0:
        raise ValueError("no se reconoce el separador en la cabecera")
    return Dialect(encoding=encoding, delimiter=delimiter, quoted='"' in first_line or delimiter == ",")


def parse_delimited(
    path: Path, expected_header: list[str] | None = None, *, member_pattern: str | None = None,
    columns: dict[str, str] | None = None,
) -> ParsedText:
    """Parse a delimited file into string columns (no interpretation), keeping bad lines apart.

    `expected_header` (compared after stripping spaces and a trailing empty field) makes a changed layout a
    file-level error; `columns` renames source headers to staging names and selects them.
    """
    with open_binary(path, member_pattern) as (fh, member):
        sample = fh.read(SAMPLE_BYTES)
    try:
        dialect = sniff(sample)
    except ValueError as err:
        raise SourceFileError(path, str(err), line=1, rule="cabecera") from None
    try:
        return _parse(path, member_pattern, dialect, expected_header, columns)
    except UnicodeDecodeError:
        if dialect.encoding == "latin-1":
            raise
        # The sample looked like UTF-8 but a later line is not: the file is latin-1 after all.
        return _parse(path, member_pattern, Dialect("latin-1", dialect.delimiter, dialect.quoted), expected_header, columns)


class _Fallback(Exception):
    """The Arrow path cannot prove it reads this file exactly as the csv module does: use the csv module."""


def _parse(path, member_pattern, dialect, expected_header, columns) -> ParsedText:
    try:
        return _parse_arrow(path, member_pattern, dialect, expected_header, columns)
    except _Fallback as why:
        log.info("%s: leído con el módulo csv (%s)", path, why)
        return _parse_csv(path, member_pattern, dialect, expected_header, columns)


@dataclass
class _Layout:
    header: list[str]  # stripped, without the trailing empty field
    trailing: bool  # every line ends with the delimiter: one extra field that must stay empty
    width: int  # fields of a good line
    keep: list[int]  # source field of each output column
    names: list[str]  # output column names


def _layout(label: str, raw_header: list[str], expected_header, columns) -> _Layout:
    header = [h.strip().lstrip("\ufeff") for h in raw_header]
    trailing = len(header) > 1 and header[-1] == ""
    if trailing:  # SUNAT files end every line with the delimiter: one empty extra field
        header = header[:-1]
    if expected_header is not None and [h.upper() for h in header] != [h.upper() for h in expected_header]:
        raise SourceFileError(
            label, f"cabecera inesperada: se esperaba {expected_header}, se encontró {header}", line=1, rule="cabecera"
        )
    width = len(header) + (1 if trailing else 0)
    keep = list(range(len(header)))
    names = header
    if columns is not None:
        index = {h.upper(): i for i, h in enumerate(header)}
        missing = [c for c in columns if c.upper() not in index]
        if missing:
            raise SourceFileError(label, f"faltan columnas {missing}; hay {header}", line=1, rule="cabecera")
        keep = [index[c.upper()] for c in columns]
        names = list(columns.values())
    return _Layout(header, trailing, width, keep, names)


def _csv_row(text: str, dialect: Dialect) -> list[str]:
    """One line's fields exactly as the csv module splits them (the reference for field counts and raw text)."""
    reader = csv.reader(
        [text], delimiter=dialect.delimiter,
        quoting=csv.QUOTE_MINIMAL if dialect.quoted else csv.QUOTE_NONE, strict=False,
    )
    return next(reader, [])


def _ends_inside_quotes(text: str, dialect: Dialect) -> bool:
    """Whether the csv module, reading `text` as a line, would still be inside a quoted value at its end."""
    if not dialect.quoted or '"' not in text:
        return False
    reader = csv.reader(iter([text + "\n", "x\n"]), delimiter=dialect.delimiter, quoting=csv.QUOTE_MINIMAL, strict=False)
    next(reader, None)
    return reader.line_num > 1


def _bad_line(line: int, row: list[str], dialect: Dialect) -> tuple[int, int, str]:
    if row == [] or row == [""]:
        return (line, 0, "")
    return (line, len(row), dialect.delimiter.join(row))


_TERMINATOR = re.compile(rb"[\r\n]")


def _first_line(fh) -> tuple[bytes, bool, bytes]:
    """Line 1 of the stream (without its terminator), whether it had one, and the bytes already read after it."""
    buf = b""
    while True:
        chunk = fh.read(1 << 16)
        buf += chunk
        m = _TERMINATOR.search(buf)
        if m is not None:
            i = m.start()
            if buf[i:i + 1] == b"\n" or i + 1 < len(buf) or not chunk:  # a `\r` needs the next byte known
                end = i + (2 if buf[i:i + 2] == b"\r\n" else 1)
                return buf[:i], True, buf[end:]
        if not chunk:
            return buf, False, b""


_LONE_CR = re.compile(rb"\r[^\n]")  # (these literal-first patterns are searched at memchr speed)
_BLANK_AFTER_LF = re.compile(rb"\n[\r\n]")


class _LineScan:
    """Physical lines of a byte stream as Python splits them (`\\n`, `\\r\\n` or a lone `\\r` ends one), and the blanks.

    The stream starts right after the end of line `first - 1`. Byte p is judged as a line end once the byte after
    it is known (a `\\r` followed by `\\n` is not an end; its `\\n` is), so the last byte of each block waits for the
    next block. The line after an end is blank when the byte after the end is itself a terminator.
    """

    def __init__(self, first: int = 2):
        self.first = first
        self.prev = b"\n"  # stands for the end of the line before the stream
        self.ends = -1  # ... which is counted here, so that the line after it is `first`
        self.blank: list[int] = []

    def feed(self, b: bytes) -> None:
        if not b:
            return
        x = self.prev + b
        self.prev = b[-1:]
        if _LONE_CR.search(x) is None and _BLANK_AFTER_LF.search(x) is None:
            # every end is a `\n` (alone or after `\r`) and no line is blank: only count them
            self.ends += x.count(b"\n", 0, len(x) - 1)
            return
        a = np.frombuffer(x, dtype=np.uint8)
        cur, nxt = a[:-1], a[1:]
        pos = np.flatnonzero((cur == 10) | ((cur == 13) & (nxt != 10)))
        after = nxt[pos]
        blank = np.flatnonzero((after == 10) | (after == 13))
        self.blank.extend((self.first + self.ends + 1 + blank).tolist())
        self.ends += len(pos)

    @property
    def lines(self) -> int:
        """Physical lines in the stream (a last line without terminator counts; an empty stream has none)."""
        return self.ends + 1


class _Feed:
    """The bytes after the header as Arrow reads them: checked as UTF-8 (or latin-1 transcoded to it), and scanned.

    A byte that is not UTF-8 stops the stream (`error` is set): the caller then re-reads the file as latin-1.
    An error reading the file (a damaged zip member) also stops it and is kept in `io_error`, to be raised as is.
    """

    def __init__(self, fh, pending: bytes, encoding: str):
        self.fh = fh
        self.pending = pending
        self.latin1 = encoding == "latin-1"
        self.decoder = None if self.latin1 else codecs.getincrementaldecoder("utf-8")("strict")
        self.error: UnicodeDecodeError | None = None
        self.io_error: BaseException | None = None
        self.scan = _LineScan()
        self.last = (b"", b"")  # the last two pieces handed to Arrow: where the last line is
        self.done = False
        self.closed = False

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.closed = True

    def read(self, n: int = -1) -> bytes:
        out: list[bytes] = []
        size = 0
        while not self.done and (n is None or n < 0 or size < n):
            try:
                block = self.pending or self.fh.read(READ_BYTES)
            except Exception as err:
                self.io_error, self.done = err, True
                return b""
            self.pending = b""
            try:
                if not block:
                    self.done = True
                    if self.decoder is not None:
                        self.decoder.decode(b"", final=True)
                    break
                if self.latin1:
                    if not block.isascii():
                        block = block.decode("latin-1").encode("utf-8")
                elif not block.isascii() or self.decoder.getstate()[0]:
                    self.decoder.decode(block)
            except UnicodeDecodeError as err:
                self.error, self.done = err, True
                return b""
            self.scan.feed(block)
            out.append(block)
            size += len(block)
        data = out[0] if len(out) == 1 else b"".join(out)
        if data:
            self.last = (self.last[1], data)
        return data

    def last_line(self) -> str:
        """The last non-blank line of the stream ("" if there is none)."""
        tail = (self.last[0] + self.last[1]).rstrip(b"\r\n")
        m = max(tail.rfind(b"\n"), tail.rfind(b"\r"))
        return tail[m + 1:].decode("utf-8", errors="replace")


def _parse_arrow(path, member_pattern, dialect, expected_header, columns) -> ParsedText:
    with open_binary(path, member_pattern) as (fh, member):
        label = f"{path}!{member}" if member else str(path)
        first, terminated, rest = _first_line(fh)
        text = first.decode(dialect.encoding)  # a UnicodeDecodeError re-reads the file as latin-1
        if not text and not terminated and not rest:
            raise SourceFileError(label, "archivo vacío", line=1, rule="cabecera")
        if _ends_inside_quotes(text, dialect):
            raise _Fallback("la cabecera abre comillas que no cierra")
        raw_header = _csv_row(text, dialect)
        if not raw_header:
            raise _Fallback("cabecera vacía")
        lay = _layout(label, raw_header, expected_header, columns)

        fields = [f"f{i}" for i in range(lay.width)]
        wanted = list(dict.fromkeys([fields[i] for i in lay.keep] + ([fields[-1]] if lay.trailing else [])))
        invalid: list[tuple[int | None, str]] = []

        def on_invalid(row) -> str:
            invalid.append((row.number, row.text))
            return "skip"

        feed = _Feed(fh, rest, dialect.encoding)
        try:
            table = pacsv.read_csv(
                pa.PythonFile(feed, mode="r"),
                read_options=pacsv.ReadOptions(use_threads=False, block_size=BLOCK_BYTES, column_names=fields),
                parse_options=pacsv.ParseOptions(
                    delimiter=dialect.delimiter, quote_char='"' if dialect.quoted else False, double_quote=True,
                    escape_char=False, newlines_in_values=dialect.quoted, ignore_empty_lines=True,
                    invalid_row_handler=on_invalid,
                ),
                convert_options=pacsv.ConvertOptions(
                    include_columns=wanted, column_types={f: pa.large_string() for f in wanted},
                    strings_can_be_null=False, quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid as err:
            if feed.io_error is not None or feed.error is not None:
                table = None
            elif str(err).startswith("Empty CSV file") and feed.done:
                # nothing but blank lines (or nothing) after the header
                table = pa.table({f: pa.array([], type=pa.large_string()) for f in wanted})
            else:
                raise _Fallback(f"Arrow: {err}") from None
        if feed.io_error is not None:
            raise feed.io_error
        if feed.error is not None:
            raise feed.error
        if not feed.done:  # Arrow stopped early (it should not): the counts below would not cover the file
            raise _Fallback("lectura incompleta")

    scan = feed.scan
    n_rows, n_invalid = table.num_rows, len(invalid)
    if scan.lines != n_rows + n_invalid + len(scan.blank):
        raise _Fallback("un registro ocupa varias líneas")
    if _ends_inside_quotes(feed.last_line(), dialect):
        raise _Fallback("la última línea abre comillas que no cierra")
    # Row number r (1-based, as Arrow counts) → physical line: the r-th non-blank line after the header.
    line_of_row = np.arange(2, scan.lines + 2, dtype=np.int64)
    if scan.blank:
        line_of_row = np.delete(line_of_row, np.asarray(scan.blank, dtype=np.int64) - 2)
    numbers = np.asarray([-1 if n is None else n for n, _ in invalid], dtype=np.int64) - 1
    if len(numbers) and (numbers.min() < 0 or numbers.max() >= len(line_of_row) or len(np.unique(numbers)) != len(numbers)):
        raise _Fallback("números de fila de Arrow incoherentes")
    good = np.ones(len(line_of_row), dtype=bool)
    good[numbers] = False
    lines = line_of_row[good]

    bad: list[tuple[int, int, str]] = [(line, 0, "") for line in scan.blank]
    for r, (_, row_text) in zip(numbers.tolist(), invalid):
        row = _csv_row(row_text, dialect)
        if len(row) == lay.width and not (lay.trailing and row[-1] != ""):
            raise _Fallback("Arrow y el módulo csv no separan igual una línea")
        bad.append(_bad_line(int(line_of_row[r]), row, dialect))
    if lay.trailing and n_rows:
        filled = pc.not_equal(pc.binary_length(table.column(fields[-1])), 0).to_numpy(zero_copy_only=False)
        if filled.any():  # the extra field of a trailing-delimiter file is not empty: a malformed line
            raw = _raw_lines(path, member_pattern, dialect, lines[filled].tolist())
            bad.extend(_bad_line(line, _csv_row(raw[line], dialect), dialect) for line in lines[filled].tolist())
            table = table.filter(pa.array(~filled))
            lines = lines[~filled]
    bad.sort()

    data = {name: pd.array(table.column(fields[i]), dtype="str") for name, i in zip(lay.names, lay.keep)}
    data["linea"] = lines
    frame = pd.DataFrame(data)
    return ParsedText(path=path, member=member, dialect=dialect, header=lay.header, frame=frame, bad_lines=bad)


def _raw_lines(path, member_pattern, dialect, wanted: list[int]) -> dict[int, str]:
    """The text of some physical lines (with their terminator), read again: for the rare malformed good-looking row."""
    want = set(wanted)
    found: dict[int, str] = {}
    encoding = "latin-1" if dialect.encoding == "latin-1" else "utf-8"
    with open_binary(path, member_pattern) as (fh, _):
        text = io.TextIOWrapper(fh, encoding=encoding, newline="")
        for number, line in enumerate(text, 1):
            if number in want:
                found[number] = line
                if len(found) == len(want):
                    break
    return found


def _parse_csv(path, member_pattern, dialect, expected_header, columns) -> ParsedText:
    """The reference reader: the csv module in one streaming pass (slow; used when the Arrow path cannot be proven)."""
    with open_binary(path, member_pattern) as (fh, member):
        text = io.TextIOWrapper(fh, encoding=dialect.encoding, newline="")
        reader = csv.reader(
            text, delimiter=dialect.delimiter,
            quoting=csv.QUOTE_MINIMAL if dialect.quoted else csv.QUOTE_NONE, strict=False,
        )
        label = f"{path}!{member}" if member else str(path)
        try:
            raw_header = next(reader)
        except StopIteration:
            raise SourceFileError(label, "archivo vacío", line=1, rule="cabecera") from None
        lay = _layout(label, raw_header, expected_header, columns)
        trailing, width, keep, names = lay.trailing, lay.width, lay.keep, lay.names

        chunks: list[pd.DataFrame] = []
        bad: list[tuple[int, int, str]] = []
        buf: list[list[str]] = []
        lines: list[int] = []
        delim = dialect.delimiter
        for row in reader:
            line = reader.line_num
            if len(row) != width or (trailing and row[-1] != ""):
                if row == [] or row == [""]:
                    bad.append((line, 0, ""))
                else:
                    bad.append((line, len(row), delim.join(row)))
                continue
            buf.append([row[i] for i in keep])
            lines.append(line)
            if len(buf) >= CHUNK_ROWS:
                chunks.append(_frame(buf, lines, names))
                buf, lines = [], []
        if buf or not chunks:
            chunks.append(_frame(buf, lines, names))
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    return ParsedText(path=path, member=member, dialect=dialect, header=lay.header, frame=frame, bad_lines=bad)


def _frame(rows: list[list[str]], lines: list[int], names: list[str]) -> pd.DataFrame:
    cols = list(zip(*rows)) if rows else [()] * len(names)
    data = {name: pd.array(col, dtype="str") for name, col in zip(names, cols)}
    data["linea"] = pd.array(lines, dtype="int64")
    return pd.DataFrame(data)
