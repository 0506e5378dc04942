"""Delimited text as agencies publish it: zipped or not, latin-1 or UTF-8 (with BOM), `|` or `,`.

SUNAT changed the open-data Padrón RUC from `|`/latin-1 to `,`/UTF-8 with quoted fields between cuts, so the
dialect is sniffed per file instead of configured. Lines are parsed with the csv module in one streaming pass so
that each row keeps its physical line number and lines with the wrong number of fields are kept (not dropped)
for quarantine.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from vraem_pipeline.errors import SourceFileError

SAMPLE_BYTES = 8 << 20
CHUNK_ROWS = 500_000
csv.field_size_limit(1 << 24)


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


def _parse(path, member_pattern, dialect, expected_header, columns) -> ParsedText:
    with open_binary(path, member_pattern) as (fh, member):
        text = io.TextIOWrapper(fh, encoding=dialect.encoding, newline="")
        reader = csv.reader(
            text, delimiter=dialect.delimiter,
            quoting=csv.QUOTE_MINIMAL if dialect.quoted else csv.QUOTE_NONE, strict=False,
        )
        label = f"{path}!{member}" if member else str(path)
        try:
            header = [h.strip().lstrip("\ufeff") for h in next(reader)]
        except StopIteration:
            raise SourceFileError(label, "archivo vacío", line=1, rule="cabecera") from None
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
    return ParsedText(path=path, member=member, dialect=dialect, header=header, frame=frame, bad_lines=bad)


def _frame(rows: list[list[str]], lines: list[int], names: list[str]) -> pd.DataFrame:
    cols = list(zip(*rows)) if rows else [()] * len(names)
    data = {name: pd.array(col, dtype="str") for name, col in zip(names, cols)}
    data["linea"] = pd.array(lines, dtype="int64")
    return pd.DataFrame(data)
