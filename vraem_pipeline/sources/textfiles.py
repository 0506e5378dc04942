"""Delimited text as agencies publish it, read by DuckDB: zipped or not, latin-1 or UTF-8 (BOM), `|` or `,`.

SUNAT changed the open-data Padrón RUC from `|`/latin-1 to `,`/UTF-8 with quoted fields between cuts, so the
dialect is sniffed per file instead of configured. A real cut has 12.5 M lines: it never passes through a
pandas frame. DuckDB's CSV reader loads it into a table of the operator database, strict, every column
VARCHAR, malformed lines kept aside with their physical line number and text (`store_rejects`).

DuckDB numbers the lines it rejects, not the rows it accepts. The accepted rows keep the file's order (the
table's rowid), so row r is the r-th physical line after the header that is neither blank nor rejected: the
few excluded lines give every row its line (a sum of comparisons; an ASOF join when there are hundreds). That
holds only if every record is one physical line, which is proven per file: lines = header + rows + rejected
lines + blank lines (blank lines, which DuckDB skips without a trace, are searched for only when the count
does not close without them).

DuckDB reads a plain UTF-8 file with consistent line ends directly (in parallel) while Python counts its line
ends. Anything else — a zip member, latin-1 (DuckDB's latin-1 decoder refuses bytes 0x80–0x9F), lone CR or
mixed line ends — is first copied by `_feed` into the temp folder as UTF-8 in one line-end style, one output
line per input line; a zip is never extracted next to raw/. A file whose records span lines (a quoted value
with a line break) is read by the csv module instead (`_load_with_csv_module`), the reference behaviour:
slow, rare, always right.

A file whose first lines mostly do not have its header's number of fields (a body in another dialect than
its header) is refused whole before DuckDB reads it (`_check_shape`), not quarantined line by line: DuckDB keeps
the errors of every line it rejects in memory, outside `memory_limit`, so a national file of such lines would
exhaust the machine's memory. Only the sniff sample is judged: a file that turns bad after its first
`SAMPLE_BYTES` still goes through DuckDB's rejects.

Encodings are decided from bytes, never line by line in Python: a BOM or UTF-8 text makes the file UTF-8, and
a later line that is not UTF-8 is rejected by DuckDB's reader with its number (quarantined as `codificacion`)
instead of the whole file being re-read as latin-1, which would garble its UTF-8 text; a latin-1 file holding
UTF-8 text fails naming the line (`_feed`). A damaged zip member fails naming the member (`zips.BoundedReader`).
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from vraem_pipeline.core.errors import SourceFileError, raise_storage_error
from vraem_pipeline.core.sqltext import sql_identifier, sql_literal
from vraem_pipeline.sources.zips import gzip_copy, open_member, open_zip

SAMPLE_BYTES = 8 << 20
READ_BYTES = 16 << 20  # bytes read from the file or zip member at a time
CHUNK_ROWS = 500_000  # csv-module path: rows per batch handed to DuckDB
MAX_LINE_BYTES = 1 << 24  # a longer line is rejected (LINE SIZE OVER MAXIMUM), not a failure of the file
MAX_INLINE_THRESHOLDS = 256  # up to this many excluded lines, a row's line is computed inline, else by ASOF join
#: A file is refused whole (`_check_shape`) when more than SHAPE_MAX_BAD_SHARE of its first SHAPE_RECORDS records
#: do not have the header's number of fields. DuckDB's reader keeps what it knows of every line it rejects in
#: memory, outside `memory_limit` and whatever `rejects_limit` says (measured on DuckDB 2.0.0, 16 columns, every
#: line rejected: 30,000 lines 0.98 GB and 3.3 s; 300,000 lines 5.5 GB and 50 s; 2.9 M lines ran a 23 GB machine
#: out of memory), so a national file whose body is not in its header's dialect cannot be quarantined line by line.
#: A file with fewer than SHAPE_MIN_RECORDS records is not judged: its bad lines are quarantined one by one, as
#: always (a publish guard then stops a year that lost its rows).
SHAPE_RECORDS = 2000
SHAPE_MIN_RECORDS = 1000
SHAPE_MAX_BAD_SHARE = 0.5
csv.field_size_limit(1 << 24)

#: The UTF-8 encoding of a Latin letter or sign (Ñ, í, °, ¿…: lead byte C2/C3 and a continuation byte). Read as
#: latin-1 the pair is "Â"/"Ã" followed by a control character or a sign (`CRÃ\x8dA`), which Spanish text never
#: holds: in a file read as latin-1 it marks text written in UTF-8.
UTF8_IN_LATIN1 = re.compile(rb"[\xc2\xc3][\x80-\xbf]")

#: What the quarantine says of a line DuckDB's UTF-8 decoder refused (its own message says the whole file is not UTF-8).
ENCODING_MESSAGE = "la línea no es UTF-8 como el resto del archivo (codificación mixta o byte dañado)"


def require_rows(load: TextLoad, con: duckdb.DuckDBPyConnection | None = None) -> TextLoad:
    """A delivery with a header and not one line after it is a failed export, not a year without data. With `con`,
    the load is dropped first (a load written into its destination rolls its transaction back)."""
    if load.rows_read == 0:
        if con is not None:
            load.drop(con)
        raise SourceFileError(load.label, "el archivo solo trae la cabecera, ninguna fila", line=1, rule="sin_filas")
    return load


@dataclass(frozen=True)
class Dialect:
    encoding: str  # "utf-8-sig", "utf-8" or "latin-1"
    delimiter: str
    quoted: bool


@dataclass
class ParsedText:
    """A source file read into memory (ENAHO's SPSS/Stata/CSV modules, small files, tests).

    `linea` is the physical line (or the record number for binary formats); `bad_lines` are
    (line, fields, raw text) of the lines that could not be rows; `bad_errors` says why, by line, when it is not
    the number of fields (DuckDB's error type and message, e.g. `INVALID ENCODING`).
    """

    path: Path
    member: str | None
    dialect: Dialect | None
    header: list[str]
    frame: pd.DataFrame
    bad_lines: list[tuple[int, int, str]] = field(default_factory=list)
    bad_errors: dict[int, tuple[str, str]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    @property
    def rows_read(self) -> int:
        return len(self.frame) + len(self.bad_lines)


@dataclass(frozen=True)
class Destination:
    """Where a load's rows go instead of a scratch table of their own: appended to an existing table (a staging
    table, `sqlrules.row_verdict`), so that 12.5 M rows are written once, not into a scratch table and again
    into staging (that second write was a fifth of a real-size cut's time).

    The load replaces the rows matching `rows` (rows no reader sees: `sqlrules` gives them a hidden year) in one
    transaction: `DELETE … WHERE rows`, `INSERT`, then — once DuckDB has reported the lines it rejected — each
    row's line from its position among the appended rows (their rowids: contiguous and in file order, checked)
    with one `UPDATE`, which DuckDB applies in place to rows appended in the same transaction; `COMMIT`. Nothing
    is deleted from rows appended in that transaction: DuckDB would rewrite all of them at the commit (5 s and
    0.7 GB more on 3.2 M rows). `sqlrules.stage_text_load` then moves the failing rows out and unhides the rest
    in a transaction of its own; `TextLoad.drop` of a load never staged deletes them.
    """

    table: str
    create: str  # SQL run first: the table if it does not exist yet
    columns: str  # SELECT list over the load's columns (+ `_extra`, `_archivo`) giving the table's, BY NAME
    rows: str  # predicate of this load's rows in `table` (replaced: deleted before the insert)
    text: str  # SELECT list over `table` giving back the load's columns as the scratch table would hold them
    extra: str  # predicate over `table`: rows whose trailing field was filled (bad lines, not rows)
    line: str = "linea"


@dataclass
class TextLoad:
    """A delimited file loaded into DuckDB.

    `view` has the selected columns (already normalized by the caller's SQL) plus `linea`, one row per good
    line; `bad` has (`linea`, `campos`, `error`, `texto`) for every line that could not be a row (wrong number
    of fields, blank, undecodable, too long). rows + bad lines = every line after the header.
    """

    path: Path
    member: str | None
    dialect: Dialect
    header: list[str]
    table: str
    view: str
    bad: str
    rows: int
    n_bad: int
    via: str  # how the bytes reached DuckDB: "directo", "gzip" (a zip member), "copia" (decompressed/transcoded)
    #           or "modulo_csv"
    destination: Destination | None = None  # the rows are in destination.table (`rows`), not staged yet

    @property
    def label(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    @property
    def rows_read(self) -> int:
        return self.rows + self.n_bad

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        """Remove the scratch tables and views of the load once its rows are staged; the rows of a load written
        into its destination and never staged are deleted from it."""
        if self.destination is not None:
            con.execute(f"DELETE FROM {self.destination.table} WHERE {self.destination.rows}")
            self.destination = None
        for view in (self.view, f"{self.view}_todas"):
            con.execute(f"DROP VIEW IF EXISTS {view}")
        for table in (self.table, self.bad, f"{self.table}_umbrales"):
            con.execute(f"DROP TABLE IF EXISTS {table}")


@contextmanager
def open_binary(path: Path, member_pattern: str | None = None) -> Iterator[tuple[io.BufferedIOBase, str | None]]:
    """Open `path`, or the one data member of a zip (a zip exactly as published stands in for its file)."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic[:2] != b"PK":
        with open(path, "rb") as fh:
            yield fh, None
        return
    with open_zip(path) as zf:
        every = [n for n in zf.namelist() if not n.endswith("/")]
        names = [n for n in every if not member_pattern or re.search(member_pattern, n, flags=re.IGNORECASE)]
        if not names:  # e.g. a workbook (a zip of XML parts) saved under a text file's name
            raise SourceFileError(path, f"el zip no contiene ningún archivo de datos; contiene {every[:5]}", rule="zip")
        if len(names) != 1:
            raise SourceFileError(path, f"el zip debe contener un solo archivo de datos; contiene {names}", rule="zip")
        with open_member(zf, path, names[0]) as member:
            yield member, names[0]


def sniff(sample: bytes, candidates: str = "|,;\t") -> Dialect:
    if sample.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    else:
        try:
            # A multi-byte character cut at the sample's end is not an encoding error.
            codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=False)
            encoding = "utf-8"
        except UnicodeDecodeError as err:
            # UTF-8 text before the first byte that is not: a UTF-8 file with bad lines (quarantined by the loader)
            encoding = "utf-8" if UTF8_IN_LATIN1.search(sample, 0, err.start) else "latin-1"
    first_line = sample.split(b"\n", 1)[0].decode(encoding.replace("-sig", ""), errors="replace").lstrip("\ufeff")
    counts = {d: first_line.count(d) for d in candidates}
    delimiter = max(counts, key=counts.get)
    if counts[delimiter] == 0:
        raise ValueError("no se reconoce el separador en la cabecera")
    return Dialect(encoding=encoding, delimiter=delimiter, quoted='"' in first_line or delimiter == ",")


@dataclass
class _Layout:
    header: list[str]  # stripped, without the trailing empty field
    trailing: bool  # every line ends with the delimiter: one extra field that must stay empty
    width: int  # fields of a good line
    keep: list[int]  # source field of each output column
    names: list[str]  # output column names
    derived: dict[str, str] = field(default_factory=dict)  # columns the caller computes from the normalized ones
    strip: bool = False  # spaces stripped from every field before normalizing
    destination: Destination | None = None  # rows appended there (see `Destination`) instead of a scratch table
    in_transaction: bool = False  # the destination's transaction is open
    first_rowid: int = 0  # rowid of the first appended row, while that transaction is open

    @property
    def names_derived(self) -> list[str]:
        return list(self.derived)


def _projection(lay: _Layout, select: str, source: str, *, order: str = "", passthrough: str = "") -> str:
    """SELECT of the normalized columns from `source`, with the caller's derived columns computed on top.

    Layered, not nested: the spaces are stripped once per field in an inner projection (DuckDB would compute a
    `trim` repeated inside a normalization expression once per use)."""
    if lay.strip:
        fields = sorted(set(lay.keep) | ({lay.width - 1} if lay.trailing else set()))
        source = f"(SELECT {', '.join(f'{_trimmed(i)} AS f{i}' for i in fields)}{passthrough} FROM {source}{order})"
        order = ""
    inner = f"SELECT {select} FROM {source}{order}"
    if not lay.derived:
        return inner
    derived = ", ".join(f"{expr} AS {sql_identifier(name)}" for name, expr in lay.derived.items())
    return f"SELECT *, {derived} FROM ({inner})"


def _trimmed(i: int) -> str:
    """`trim(f)` only where the field starts or ends with a space: the test is a third of the cost of a trim that
    copies every field (1.15 s against 0.76 s on nine fields of 3.2 M rows), and most fields have nothing to trim."""
    return f"CASE WHEN prefix(f{i}, ' ') OR suffix(f{i}, ' ') THEN trim(f{i}) ELSE f{i} END"


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


def _csv_reader(lines, dialect: Dialect):
    """The csv module's reader of `lines` (an iterable of text lines, or a text stream) in the file's dialect: the
    reference for how records and fields split, shared by the header, the shape check and the csv-module path."""
    return csv.reader(
        lines,
        delimiter=dialect.delimiter,
        quoting=csv.QUOTE_MINIMAL if dialect.quoted else csv.QUOTE_NONE,
        strict=False,
    )


def _csv_row(text: str, dialect: Dialect) -> list[str]:
    """One line's fields exactly as the csv module splits them (the reference for field counts)."""
    return next(_csv_reader([text], dialect), [])


def _header(path: Path, member_pattern: str | None) -> tuple[Dialect, str, str | None, bytes]:
    """The sniffed dialect, the decoded first line, the zip member and the sample read (the file's first
    `SAMPLE_BYTES`, or all of it when shorter)."""
    with open_binary(path, member_pattern) as (fh, member):
        try:
            sample = fh.read(SAMPLE_BYTES)
            while b"\n" not in sample and b"\r" not in sample and len(sample) < MAX_LINE_BYTES:
                more = fh.read(1 << 16)  # the header line is read whole, whatever the sample size
                if not more:
                    break
                sample += more
        except OSError as err:  # a zip member's damage is already named by zips.BoundedReader
            raise SourceFileError(path, f"no se puede leer ({type(err).__name__}: {err})", rule="zip") from None
    label = f"{path}!{member}" if member else str(path)
    if not sample.strip(b"\r\n"):
        raise SourceFileError(label, "archivo vacío", line=1, rule="cabecera")
    try:
        dialect = sniff(sample)
    except ValueError as err:
        raise SourceFileError(label, str(err), line=1, rule="cabecera") from None
    first = sample.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n", 1)[0]
    text = first.decode(dialect.encoding, errors="replace").lstrip("\ufeff")
    return dialect, text, member, sample


def read_header(path: Path, member_pattern: str | None = None) -> tuple[list[str], str]:
    """The header's fields (spaces, BOM and SUNAT's trailing empty field removed) and the file's label, for a
    reader that selects columns by name when a delivery's layout varies."""
    dialect, first_line, member, _ = _header(Path(path), member_pattern)
    label = f"{path}!{member}" if member else str(path)
    return _layout(label, _csv_row(first_line, dialect), None, None).header, label


def _check_shape(label: str, sample: bytes, dialect: Dialect, lay: _Layout) -> None:
    """Refuse the file, naming its first bad line, when most of its first records (`SHAPE_*`) do not have the
    header's number of fields. A record may have one more, empty, field (a trailing delimiter the header lacks)
    or, under a header that has one, one fewer: DuckDB reads those as rows. The records are split by the csv
    module in the sniffed dialect (a quoted line break stays inside its record); the sample's last record is
    left out when the sample is not the whole file (it may be cut short)."""
    text = sample.decode(dialect.encoding, errors="replace").lstrip("\ufeff")
    reader = _csv_reader(io.StringIO(text, newline=""), dialect)
    next(reader, None)  # the header
    records: list[tuple[int, int]] = []  # (line where the record starts, fields) of each non-blank record
    start = reader.line_num + 1
    for fields in reader:
        if fields:
            records.append((start, len(fields)))
        start = reader.line_num + 1
        if len(records) > SHAPE_RECORDS:
            break
    if len(records) > SHAPE_RECORDS or len(sample) >= SAMPLE_BYTES:
        records = records[: min(len(records) - 1, SHAPE_RECORDS)]
    if len(records) < SHAPE_MIN_RECORDS:
        return
    fits = {lay.width, lay.width + 1} | ({lay.width - 1} if lay.trailing else set())
    bad = [(line, n) for line, n in records if n not in fits]
    if len(bad) > SHAPE_MAX_BAD_SHARE * len(records):
        line, n = bad[0]
        raise SourceFileError(
            label,
            f"{len(bad):,} de los primeros {len(records):,} registros no tienen los {len(lay.header)} campos de la "
            f"cabecera (separador {dialect.delimiter!r}); el primero, en la línea {line}, tiene {n}: el cuerpo del "
            "archivo no está en el formato de su cabecera. Se rechaza entero en lugar de poner en cuarentena cada "
            "línea",
            line=line,
            rule="numero_de_campos",
        )


# --- getting the bytes to DuckDB ------------------------------------------------------------------------------


@dataclass
class _Scan:
    """What one pass over a file's bytes (the file, or a zip member inflated) says while DuckDB reads it."""

    lines: int  # physical lines
    style: str | None  # "lf", "crlf", or None when mixed or a lone `\r` occurs (such a file goes through `_feed`)
    utf8_in_latin1: bool = False  # UTF-8 text in a file read as latin-1 (`_feed` fails naming its line)


def _scan(stream, latin1: bool) -> _Scan:
    """Count line ends block by block at memory speed; in a latin-1 file, also look for UTF-8 text (the `in` tests
    run at memory speed, the regex only when a lead byte is there at all), as `_feed` does."""
    n_lf = n_cr = 0
    last = b""
    mixed = False
    while block := stream.read(READ_BYTES):
        n_lf += block.count(b"\n")
        if b"\r" in block:
            n_cr += block.count(b"\r")
        if latin1 and not mixed and not block.isascii() and (b"\xc3" in block or b"\xc2" in block):
            mixed = UTF8_IN_LATIN1.search(block) is not None
        last = block[-1:]
    style = "lf" if n_cr == 0 else "crlf" if n_cr == n_lf else None
    lines = n_lf + (1 if last not in (b"", b"\n", b"\r") else 0) + (1 if last == b"\r" else 0)
    return _Scan(lines, style, mixed)


def _scan_ends(path: Path) -> tuple[int, str | None]:
    """Physical lines of a plain file and its line ends ("lf", "crlf" or None: see `_Scan`)."""
    with open(path, "rb", buffering=0) as fh:
        found = _scan(fh, latin1=False)
    return found.lines, found.style


@contextmanager
def _open_source(path: Path, member: str | None) -> Iterator[io.BufferedIOBase]:
    """The bytes of the file, or of its zip member named exactly (inflated, bounded, CRC-checked)."""
    if member is None:
        with open(path, "rb", buffering=0) as fh:
            yield fh
    else:
        with open_binary(path, "^" + re.escape(member) + "$") as (fh, _):
            yield fh


def _blank_lines(path: Path, style: str, member: str | None = None) -> list[int]:
    """Line numbers of the blank lines of a file whose line ends are all `style` (DuckDB skips them silently).

    Only run when the line accounting does not close without them, so most files never pay for it."""
    pattern = b"\n" + (b"\n" if style == "lf" else b"\r\n")  # a line end directly followed by another
    keep = len(pattern) - 1
    out: list[int] = []
    ends_before = 0
    carry = b""
    with _open_source(path, member) as fh:
        while block := fh.read(READ_BYTES):
            data = carry + block
            start = 0
            while (i := data.find(pattern, start)) >= 0:
                out.append(ends_before + data.count(b"\n", 0, i + 1) + 1)  # the line after the k-th end
                start = i + 1
            ends_before += data.count(b"\n", 0, len(data) - keep)
            carry = data[len(data) - keep :]
    return out


class _MixedEncoding(Exception):
    """A file read as UTF-8 that also holds bytes that are not UTF-8, after UTF-8 text (or a BOM) proved it UTF-8."""


def _feed(src, dst, encoding: str, normalize: bool = False, mixed: bool = False, label: str = "") -> tuple[int, str]:
    """Copy `src` to `dst` as UTF-8 (latin-1 transcoded), one output line per input line, in one line-end style.

    The style is the file's own (`\n` or `\r\n`, from its first line end); a block with a lone `\r` or the other
    style is rewritten in it, so that DuckDB's strict reader can take the copy. Returns the physical lines and
    the style. Encodings are checked on the way, a block at a time (never a line at a time):
    * read as UTF-8, a byte sequence that is not UTF-8 raises UnicodeDecodeError when no UTF-8 text came before
      (the caller re-reads as latin-1), `_MixedEncoding` when some did (a BOM counts): the caller copies again
      with `mixed`, bytes untouched, and DuckDB's reader rejects each line that is not UTF-8 with its number;
    * read as latin-1, UTF-8 text (`UTF8_IN_LATIN1`) fails naming its line: which lines are which cannot be
      told apart without decoding line by line, and transcoding them would garble them (`CRÃ\x8dA`).
    """
    decoder = None if encoding == "latin-1" or mixed else codecs.getincrementaldecoder("utf-8")("strict")
    utf8_seen = encoding == "utf-8-sig"
    style: str | None = None
    ends = 0
    last = b""
    carry = b""  # a `\r` at the end of a block: its `\n` may open the next one
    while True:
        raw = src.read(READ_BYTES)
        if decoder is not None and raw and (not raw.isascii() or decoder.getstate()[0]):
            try:
                utf8_seen = not decoder.decode(raw).isascii() or utf8_seen
            except UnicodeDecodeError as err:
                if utf8_seen or UTF8_IN_LATIN1.search(raw, 0, max(err.start, 0)):
                    raise _MixedEncoding() from None
                raise
        elif decoder is None and not mixed and not raw.isascii():
            # `in` runs at memory speed; the regex (0.2 s per block) only when a lead byte is there at all
            if (b"\xc3" in raw or b"\xc2" in raw) and (found := UTF8_IN_LATIN1.search(raw)):
                line = ends + raw.count(b"\n", 0, found.start()) + 1
                text = raw[raw.rfind(b"\n", 0, found.start()) + 1 : found.end() + 40].split(b"\n")[0]
                raise SourceFileError(
                    label,
                    "codificación mixta: el archivo es latin-1 y esta línea trae texto en "
                    f"UTF-8 ({text.decode('utf-8', errors='replace')!r}…)",
                    line=line,
                    rule="codificacion",
                )
            raw = raw.decode("latin-1").encode("utf-8")
        block = carry + raw
        carry = b""
        if raw and block.endswith(b"\r"):
            block, carry = block[:-1], b"\r"
        if not block:
            if not raw:
                break
            continue
        n_lf = block.count(b"\n")
        n_cr = block.count(b"\r") if b"\r" in block else 0
        if style is None and (n_lf or n_cr):
            style = "crlf" if n_cr and n_cr == n_lf else "lf"
        # Equal counts of `\r` and `\n` stand for CRLF (counting `\r\n` too would cost 3 s on a real cut): a
        # block that only looks so and is mixed makes DuckDB fail or the line accounting not close, and the
        # file is copied again with every block rewritten (`normalize`).
        consistent = not normalize and ((n_cr == 0) if style == "lf" else (n_cr == n_lf))
        if not consistent:
            block = block.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            n_lf = block.count(b"\n")
            if style == "crlf":
                block = block.replace(b"\n", b"\r\n")
        ends += n_lf
        last = block[-1:]
        dst.write(block)
        if not raw:
            break
    if decoder is not None:
        decoder.decode(b"", final=True)
    return ends + (1 if last not in (b"", b"\n") else 0), style or "lf"


def _duckdb_options(dialect: Dialect, width: int, gzip: bool = False) -> str:
    cols = ", ".join(f"'f{i}': 'VARCHAR'" for i in range(width))
    quote = "quote='\"', escape='\"'" if dialect.quoted else "quote='', escape=''"
    delim = dialect.delimiter.replace("'", "''")
    # DuckDB decodes latin-1 itself (in parallel); a byte 0x80–0x9F makes it refuse the whole file, which then
    # goes through `_feed`.
    encoding = ", encoding='latin-1'" if dialect.encoding == "latin-1" else ""
    return (
        f"columns={{{cols}}}, header=true, delim='{delim}', {quote}, auto_detect=false, strict_mode=true, "
        f"ignore_errors=true, store_rejects=true, max_line_size={MAX_LINE_BYTES}, "
        f"buffer_size={4 * MAX_LINE_BYTES}{encoding}" + (", compression='gzip'" if gzip else "")
    )


def _select_list(lay: _Layout, normalize: dict[str, str]) -> str:
    """The caller's normalization over the raw fields (`{c}` stands for the field); empty fields are ''."""
    parts = []
    for name, i in zip(lay.names, lay.keep, strict=False):
        raw = f"coalesce(f{i}, '')"
        parts.append(f"{normalize.get(name, '{c}').format(c=raw)} AS {sql_identifier(name)}")
    if lay.trailing:
        parts.append(f"coalesce(f{lay.width - 1}, '') AS _extra")
    return ", ".join(parts)


#: Characters DuckDB's `read_csv` expands as a glob: a path holding one could name other files (`x[1].txt` reads
#: `x1.txt`), so such a file is read through the copy, whose name is `tempfile`'s.
_GLOB = re.compile(r"[*?\[\]{}]")


class _NotOneLinePerRecord(Exception):
    """The file's records do not map one-to-one onto physical lines (a quoted value with a line break)."""


def load_delimited(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    table: str,
    expected_header: list[str] | None = None,
    columns: dict[str, str] | None = None,
    normalize: dict[str, str] | None = None,
    member_pattern: str | None = None,
    workdir: Path | None = None,
    derived: dict[str, str] | None = None,
    strip: bool = False,
) -> TextLoad:
    """Load a delimited file into `table` (rows) and `<table>_malas` (bad lines); `<table>_v` adds `linea`.

    `expected_header` (compared after stripping spaces and a trailing empty field, case-insensitively) makes
    a changed layout a file-level error; `columns` renames source headers to output names and selects them;
    `normalize` maps an output name to a SQL expression over `{c}` (the field's text, without surrounding spaces
    when `strip`); `derived` adds columns
    computed from the normalized ones in the same pass (a validator's row verdict: one scan fewer on 12 M rows).
    """
    path = Path(path)
    dialect, first_line, member, sample = _header(path, member_pattern)
    label = f"{path}!{member}" if member else str(path)
    raw_header = _csv_row(first_line, dialect)
    lay = _layout(label, raw_header, expected_header, columns)
    _check_shape(label, sample, dialect, lay)
    select = _select_list(lay, normalize or {})
    lay.derived = dict(derived or {})
    lay.strip = strip
    lay.destination = getattr(derived, "destination", None)
    if lay.destination is not None:  # the columns a destination's SELECT list may use besides the load's own
        select += ("" if lay.trailing else ", ''::VARCHAR AS _extra") + f", {sql_literal(label)} AS _archivo"
        con.execute(lay.destination.create)
    workdir = Path(workdir or tempfile.gettempdir())
    workdir.mkdir(parents=True, exist_ok=True)
    args = (con, path, member_pattern, table, lay, select, label, member, workdir)
    try:
        return _load_any(args, dialect)
    except BaseException:
        _end_transaction(con, lay)
        raise


def _load_any(args, dialect: Dialect) -> TextLoad:
    path = args[1]
    if args[7] is not None or not _GLOB.search(str(path)):  # a zip member is read from a copy named by tempfile
        try:
            load = _load_direct(*args, dialect)
            if load is not None:
                return load
        except duckdb.Error:
            pass  # e.g. "invalid state" on mixed line ends: the copy normalizes them
        except _NotOneLinePerRecord:
            return _load_with_csv_module(*args, dialect)
    try:
        return _load_copy(*args, dialect)
    except UnicodeDecodeError:
        # The sample looked like UTF-8 but a later line is not: the file is latin-1 after all.
        return _load_copy(*args, Dialect("latin-1", dialect.delimiter, dialect.quoted))
    except _NotOneLinePerRecord:
        return _load_with_csv_module(*args, dialect)


def _end_transaction(con, lay: _Layout) -> None:
    """Roll back what an attempt appended to the destination (a failed statement also aborts the transaction)."""
    if lay.in_transaction:
        lay.in_transaction = False
        with suppress(duckdb.Error):
            con.execute("ROLLBACK")


def _begin_destination(con, lay: _Layout) -> None:
    """A fresh transaction for an attempt to append the rows, the destination's old rows of the load removed."""
    _end_transaction(con, lay)
    con.execute("BEGIN TRANSACTION")
    lay.in_transaction = True
    con.execute(f"DELETE FROM {lay.destination.table} WHERE {lay.destination.rows}")


def _read_into(
    con, source: str, table: str, dialect: Dialect, lay: _Layout, select: str, rejects: str, gzip: bool = False
) -> int:
    """DuckDB's strict read of `source` (a parameter, never pasted into the SQL) into `table`, or appended to the
    destination (see `Destination`); the number of rows it accepted."""
    for name in (table, rejects, f"{rejects}_scan"):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    reader = (
        f"read_csv($ruta, {_duckdb_options(dialect, lay.width, gzip)}, "
        f"rejects_table='{rejects}', rejects_scan='{rejects}_scan')"
    )
    dest = lay.destination
    if dest is None:
        con.execute(f"CREATE TABLE {table} AS {_projection(lay, select, reader)}", {"ruta": source})
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    _begin_destination(con, lay)
    con.execute(
        f"INSERT INTO {dest.table} BY NAME SELECT {dest.columns} FROM ({_projection(lay, select, reader)})",
        {"ruta": source},
    )
    rows, first, last = con.execute(
        f"SELECT count(*), min(rowid), max(rowid) FROM {dest.table} WHERE {dest.rows}"
    ).fetchone()
    if rows and last - first + 1 != rows:  # the lines are numbered from the rowids: they must be one run
        raise RuntimeError(f"las filas agregadas a {dest.table} no tienen rowids contiguos ({first}–{last}, {rows})")
    lay.first_rowid = first or 0
    return rows


def _rejected_lines(con, rejects: str) -> pd.DataFrame:
    """One row per rejected line: the first error DuckDB gave it and its text (stray leading line ends removed)."""
    return con.execute(
        f"""SELECT line::BIGINT AS linea, arg_min(error_type::VARCHAR, column_idx) AS error,
                   CASE WHEN arg_min(error_type::VARCHAR, column_idx) = 'INVALID ENCODING'
                        THEN {sql_literal(ENCODING_MESSAGE)} ELSE arg_min(error_message, column_idx) END AS mensaje,
                   regexp_replace(arg_min(csv_line, column_idx), '^[\\r\\n]+|[\\r\\n]+$', '', 'g') AS texto
            FROM {rejects} GROUP BY line ORDER BY line"""
    ).df()


def _load_direct(con, path, member_pattern, table, lay, select, label, member, workdir, dialect) -> TextLoad | None:
    """DuckDB reads the file itself, or a zip member as gzip (`zips.gzip_copy`), in parallel, while a thread
    counts the line ends of the same bytes (inflating the member with ISA-L: that pass is also what checks its
    CRC and bounds it). None when the file needs the copy: latin-1 after all, mixed or lone-CR line ends, UTF-8
    text in a latin-1 file, a member that is not plain deflate."""
    rejects = f"{table.replace('.', '_')}_rechazos"
    gz = None
    if member is not None:
        gz = gzip_copy(path, member, workdir)
        if gz is None:
            return None
    scan: dict[str, object] = {}

    def count() -> None:
        try:
            with _open_source(path, member) as fh:
                scan["found"] = _scan(fh, latin1=dialect.encoding == "latin-1")
        except BaseException as err:  # a damaged or lying member: stop DuckDB's read of it at once
            scan["error"] = err
            con.interrupt()

    thread = threading.Thread(target=count)
    thread.start()  # counting lines overlaps DuckDB's read (which releases the GIL)
    try:
        rows = _read_into(con, str(gz or path), table, dialect, lay, select, rejects, gzip=gz is not None)
    except duckdb.Error:
        thread.join()
        if "error" in scan:
            raise scan["error"] from None
        raise
    finally:
        thread.join()
        if gz is not None:
            gz.unlink(missing_ok=True)
    if "error" in scan:
        raise scan["error"]
    found: _Scan = scan["found"]
    rejected = _rejected_lines(con, rejects)
    # Lines that are not UTF-8 in a file whose BOM says it is: quarantined (`codificacion`), the rest stands.
    # Without a BOM the copy decides whether the file is latin-1 after all or mixed (`_feed`).
    if (
        ((rejected["error"] == "INVALID ENCODING").any() and dialect.encoding != "utf-8-sig")
        or not found.style
        or found.utf8_in_latin1
    ):
        return None
    blank = _account(path, found.lines, found.style, rows, rejected, member)
    return _finish(con, path, member, dialect, lay, table, rows, rejected, blank, "directo" if gz is None else "gzip")


def _account(
    path: Path, lines: int, style: str, rows: int, rejected: pd.DataFrame, member: str | None = None
) -> list[int]:
    """The blank lines, once the line accounting proves every record is one physical line:
    lines = header + rows + rejected lines + blank lines. Otherwise a quoted value holds a line break."""
    if lines == 1 + rows + len(rejected):
        return []
    blank = [b for b in _blank_lines(path, style, member) if b > 1]
    if lines != 1 + rows + len(rejected) + len(blank):
        raise _NotOneLinePerRecord()
    return blank


def _load_copy(
    con,
    path,
    member_pattern,
    table,
    lay,
    select,
    label,
    member,
    workdir,
    dialect,
    normalize: bool = False,
    mixed: bool = False,
) -> TextLoad:
    rejects = f"{table.replace('.', '_')}_rechazos"
    fd, tmp = tempfile.mkstemp(prefix="vraem_", suffix=".csv", dir=workdir)
    try:
        try:
            with open_binary(path, member_pattern) as (src, _), os.fdopen(fd, "wb") as dst:
                redo_mixed = False
                try:
                    lines, style = _feed(src, dst, dialect.encoding, normalize, mixed, label)
                except _MixedEncoding:
                    redo_mixed = True
        except OSError as err:  # as in `_header`: a member's damage is named by zips.BoundedReader
            # A write to the copy that failed (full temp folder, file-size limit) is not the input's fault.
            raise_storage_error(err, tmp, f"copiar {Path(label).name} a la carpeta temporal")
            raise SourceFileError(label, f"no se puede leer ({err})", rule="zip") from None
        if redo_mixed:  # a UTF-8 file with lines that are not: copy the bytes as they are
            Path(tmp).unlink(missing_ok=True)
            return _load_copy(
                con, path, member_pattern, table, lay, select, label, member, workdir, dialect, normalize, mixed=True
            )
        utf8 = dialect if dialect.encoding != "latin-1" else Dialect("utf-8", dialect.delimiter, dialect.quoted)
        try:
            rows = _read_into(con, tmp, table, utf8, lay, select, rejects)
            rejected = _rejected_lines(con, rejects)
            blank = _account(Path(tmp), lines, style, rows, rejected)
        except (duckdb.Error, _NotOneLinePerRecord):
            if normalize:
                raise
            # line ends that only looked consistent (see `_feed`): copy again, every block rewritten
            Path(tmp).unlink(missing_ok=True)
            return _load_copy(
                con, path, member_pattern, table, lay, select, label, member, workdir, dialect, True, mixed
            )
    finally:
        Path(tmp).unlink(missing_ok=True)
    return _finish(con, path, member, dialect, lay, table, rows, rejected, blank, "copia")


def _finish(
    con, path, member, dialect, lay, table, rows, rejected: pd.DataFrame, blank: list[int], via: str
) -> TextLoad:
    """Lines of the accepted rows from the excluded lines; bad lines table; view with `linea`."""
    bad_table, thresholds, view = f"{table}_malas", f"{table}_umbrales", f"{table}_v"
    bad = pd.DataFrame(
        {
            "linea": pd.array(list(blank) + rejected["linea"].tolist(), dtype="int64"),
            "error": ["LINEA VACIA"] * len(blank) + rejected["error"].tolist(),
            "mensaje": [""] * len(blank) + rejected["mensaje"].fillna("").tolist(),
            "texto": [""] * len(blank) + rejected["texto"].fillna("").tolist(),
        }
    ).sort_values("linea", ignore_index=True)
    bad["campos"] = [_field_count(t, e, dialect) for t, e in zip(bad["texto"], bad["error"], strict=False)]
    excluded = bad["linea"].to_numpy()
    # row r (0-based) comes after the j-th excluded line e_j once r >= e_j - 1 - j: keep the largest j per threshold
    thr = (
        pd.DataFrame(
            {"umbral": excluded - 1 - pd.RangeIndex(1, len(excluded) + 1).to_numpy(), "j": range(1, len(excluded) + 1)}
        )
        .groupby("umbral", as_index=False)["j"]
        .max()
    )
    con.register("_vraem_thr", thr)
    con.execute(
        f"CREATE OR REPLACE TABLE {thresholds} AS SELECT umbral::BIGINT AS umbral, j::BIGINT AS j FROM _vraem_thr"
    )
    con.unregister("_vraem_thr")
    if lay.destination is not None:
        return _finish_in_destination(con, path, member, dialect, lay, table, rows, bad, thr, via)
    cols = ", ".join(f"t.{sql_identifier(n)}" for n in lay.names + lay.names_derived)
    if len(thr) <= MAX_INLINE_THRESHOLDS:  # a sum of comparisons: ASOF joining 12 M rows costs 15 s more
        line = _line_sum("t.rowid", thr)
        join = ""
    else:
        line = "t.rowid + 2 + coalesce(u.j, 0)"
        join = f" ASOF LEFT JOIN {thresholds} AS u ON t.rowid >= u.umbral"
    con.execute(
        f"CREATE OR REPLACE VIEW {view}_todas AS SELECT {cols}, {'t._extra, ' if lay.trailing else ''}"
        f"({line})::BIGINT AS linea, t.rowid AS _fila FROM {table} AS t{join}"
    )
    filled = _trailing_filled(con, f"{view}_todas", "linea", lay, path, member, dialect)
    rows_only = " EXCLUDE (_extra) FROM {v} WHERE _extra = ''" if lay.trailing else " FROM {v}"
    con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT *" + rows_only.format(v=f"{view}_todas"))
    bad = pd.concat([bad, filled], ignore_index=True)
    _write_bad(con, bad_table, bad)
    return TextLoad(
        path=path,
        member=member,
        dialect=dialect,
        header=lay.header,
        table=table,
        view=view,
        bad=bad_table,
        rows=rows - len(filled),
        n_bad=len(bad),
        via=via,
    )


def _line_sum(row: str, thr: pd.DataFrame) -> str:
    """The physical line of reader row `row` (0-based) as a sum of comparisons with the thresholds."""
    steps = zip(thr["umbral"].tolist(), thr["j"].diff().fillna(thr["j"]).astype(int).tolist(), strict=False)
    return f"{row} + 2" + "".join(f" + {step} * ({row} >= {u})::BIGINT" for u, step in steps)


def _finish_in_destination(con, path, member, dialect, lay: _Layout, table, rows, bad, thr, via) -> TextLoad:
    """`_finish` for rows appended to a destination: their line set by one UPDATE and committed (`Destination`);
    the view a projection of the destination's rows back to the load's columns, `_fila` their line (the same
    order as the reader's row number, which is all `_fila` is used for)."""
    dest, first = lay.destination, lay.first_rowid
    bad_table, thresholds, view = f"{table}_malas", f"{table}_umbrales", f"{table}_v"
    row = f"(rowid - {first})"
    if len(thr) <= MAX_INLINE_THRESHOLDS:
        con.execute(f"UPDATE {dest.table} SET {dest.line} = ({_line_sum(row, thr)})::BIGINT WHERE {dest.rows}")
    else:
        con.execute(f"""UPDATE {dest.table} SET {dest.line} = m._linea
                        FROM (SELECT s.rowid AS _rid, (s.rowid - {first} + 2 + coalesce(u.j, 0))::BIGINT AS _linea
                              FROM {dest.table} AS s ASOF LEFT JOIN {thresholds} AS u ON s.rowid - {first} >= u.umbral
                              WHERE s.{dest.rows}) AS m
                        WHERE {dest.table}.rowid = m._rid""")
    con.execute("COMMIT")
    lay.in_transaction = False
    load = TextLoad(
        path=path,
        member=member,
        dialect=dialect,
        header=lay.header,
        table=table,
        view=view,
        bad=bad_table,
        rows=rows,
        n_bad=len(bad),
        via=via,
        destination=dest,
    )
    try:
        con.execute(
            f"CREATE OR REPLACE VIEW {view}_todas AS SELECT {dest.text}, ({dest.extra}) AS _lleno, "
            f"{dest.line} AS linea, {dest.line} AS _fila FROM {dest.table} WHERE {dest.rows}"
        )
        filled = _trailing_filled(con, f"{view}_todas", "linea", lay, path, member, dialect, where="_lleno")
        con.execute(f"CREATE OR REPLACE VIEW {view} AS SELECT * EXCLUDE (_lleno) FROM {view}_todas WHERE NOT _lleno")
        bad = pd.concat([bad, filled], ignore_index=True)
        _write_bad(con, bad_table, bad)
    except BaseException:
        load.drop(con)
        raise
    load.rows, load.n_bad = rows - len(filled), len(bad)
    return load


_BAD_COLUMNS = ["linea", "campos", "error", "mensaje", "texto"]


def _trailing_filled(
    con, source: str, line_col: str, lay: _Layout, path, member, dialect, where: str = "_extra <> ''"
) -> pd.DataFrame:
    """Rows of a trailing-delimiter file whose extra field is not empty: malformed lines, not rows (with their
    physical text, read again: there are few)."""
    if not lay.trailing:
        return pd.DataFrame(columns=_BAD_COLUMNS)
    lines = [r[0] for r in con.execute(f"SELECT {line_col} FROM {source} WHERE {where} ORDER BY 1").fetchall()]
    texts = _raw_lines(path, member, dialect, lines)
    return pd.DataFrame(
        {
            "linea": lines,
            "campos": [len(_csv_row(texts.get(n, ""), dialect)) for n in lines],
            "error": "TOO MANY COLUMNS",
            "mensaje": "",
            "texto": [texts.get(n, "") for n in lines],
        },
        columns=_BAD_COLUMNS,
    )


def _write_bad(con, bad_table: str, bad: pd.DataFrame) -> None:
    con.register("_vraem_bad", bad[_BAD_COLUMNS].sort_values("linea", ignore_index=True))
    con.execute(f"""CREATE OR REPLACE TABLE {bad_table} AS SELECT linea::BIGINT AS linea, campos::INTEGER AS campos,
                    error::VARCHAR AS error, mensaje::VARCHAR AS mensaje, texto::VARCHAR AS texto FROM _vraem_bad""")
    con.unregister("_vraem_bad")


def _field_count(text: str, error: str, dialect: Dialect) -> int | None:
    if error == "LINEA VACIA":
        return 0
    if error in ("INVALID ENCODING", "LINE SIZE OVER MAXIMUM"):
        return None
    return len(_csv_row(text, dialect))


def _raw_lines(path: Path, member: str | None, dialect: Dialect, wanted: list[int]) -> dict[int, str]:
    """The text of some physical lines (without terminator), read again: for the rare malformed good-looking row."""
    want = set(wanted)
    found: dict[int, str] = {}
    encoding = "latin-1" if dialect.encoding == "latin-1" else "utf-8"
    pattern = None if member is None else "^" + re.escape(member) + "$"
    with open_binary(path, pattern) as (fh, _):
        text = io.TextIOWrapper(fh, encoding=encoding, errors="replace", newline="")
        for number, line in enumerate(text, 1):
            if number in want:
                found[number] = line.rstrip("\r\n")
                if len(found) == len(want):
                    break
    return found


def _load_with_csv_module(con, path, member_pattern, table, lay, select, label, member, workdir, dialect) -> TextLoad:
    """The reference reader: the csv module in one streaming pass, batches into DuckDB (records may span lines).

    A record is numbered by its first physical line, as a person finds it in an editor (the csv module's
    `line_num` is its last). Its rows always go to a scratch table of their own (a destination is not used: the
    path is rare and slow anyway), so whatever an earlier attempt appended to the destination is rolled back."""
    _end_transaction(con, lay)
    if lay.destination is not None:
        lay.destination = None
        select = select.replace(f", {sql_literal(label)} AS _archivo", "")
        if not lay.trailing:
            select = select.replace(", ''::VARCHAR AS _extra", "")
    encoding = dialect.encoding
    try:
        return _csv_module_pass(con, path, member_pattern, table, lay, select, member, dialect, encoding)
    except UnicodeDecodeError:
        line = _first_line_not_utf8(path, member_pattern, dialect.encoding)
        if line is not None:  # records spanning lines cannot be set aside one by one: the file fails naming it
            raise SourceFileError(
                label, "codificación mixta: el archivo es UTF-8 y esta línea no lo es", line=line, rule="codificacion"
            ) from None
        latin = Dialect("latin-1", dialect.delimiter, dialect.quoted)
        return _csv_module_pass(con, path, member_pattern, table, lay, select, member, latin, "latin-1")


def _first_line_not_utf8(path: Path, member_pattern: str | None, encoding: str) -> int | None:
    """The first line that is not UTF-8 in a file that UTF-8 text (or a BOM) before it proves UTF-8; None when
    nothing before it is UTF-8 (a latin-1 file whose first non-ASCII byte came late)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    seen = encoding == "utf-8-sig"
    lines = 0
    with open_binary(path, member_pattern) as (fh, _):
        while block := fh.read(READ_BYTES):
            try:
                seen = not decoder.decode(block).isascii() or seen
            except UnicodeDecodeError as err:
                start = max(err.start, 0)
                if seen or UTF8_IN_LATIN1.search(block, 0, start):
                    return lines + block.count(b"\n", 0, start) + 1
                return None
            lines += block.count(b"\n")
    return None


def _csv_module_pass(con, path, member_pattern, table, lay, select, member, dialect, encoding) -> TextLoad:
    raw_names = [f"f{i}" for i in range(lay.width)]
    con.execute(f"DROP TABLE IF EXISTS {table}")
    staging_raw = f"{table}_csv"
    con.execute(
        f"CREATE OR REPLACE TABLE {staging_raw} ({', '.join(f'{n} VARCHAR' for n in raw_names)}, _linea BIGINT)"
    )
    bad: list[tuple[int, int, str, str, str]] = []  # _BAD_COLUMNS
    with open_binary(path, member_pattern) as (fh, _):
        text = io.TextIOWrapper(fh, encoding=encoding, newline="")
        reader = _csv_reader(text, dialect)
        next(reader, None)
        buf: list[list[str]] = []
        lines: list[int] = []
        last = reader.line_num  # the physical line the previous record ended on

        def flush() -> None:
            cols = list(zip(*buf, strict=False)) if buf else [()] * lay.width
            batch = pa.table(
                {
                    **{n: pa.array(c, type=pa.string()) for n, c in zip(raw_names, cols, strict=False)},
                    "_linea": pa.array(lines, type=pa.int64()),
                }
            )
            con.register("_vraem_batch", batch)
            con.execute(f"INSERT INTO {staging_raw} SELECT * FROM _vraem_batch")
            con.unregister("_vraem_batch")

        for row in reader:
            line, last = last + 1, reader.line_num
            if len(row) != lay.width:
                if row == [] or row == [""]:
                    bad.append((line, 0, "LINEA VACIA", "", ""))
                else:
                    kind = "MISSING COLUMNS" if len(row) < lay.width else "TOO MANY COLUMNS"
                    bad.append((line, len(row), kind, "", dialect.delimiter.join(row)))
                continue
            buf.append(row)
            lines.append(line)
            if len(buf) >= CHUNK_ROWS:
                flush()
                buf, lines = [], []
        if buf:
            flush()
    con.execute(
        f"CREATE TABLE {table} AS "
        f"{_projection(lay, select + ', _linea', staging_raw, order=' ORDER BY _linea', passthrough=', _linea')}"
    )
    con.execute(f"DROP TABLE {staging_raw}")
    view = f"{table}_v"
    cols = ", ".join(sql_identifier(n) for n in lay.names + lay.names_derived)
    filled = _trailing_filled(con, table, "_linea", lay, path, member, dialect)
    rows_only = " WHERE _extra = ''" if lay.trailing else ""
    con.execute(
        f"CREATE OR REPLACE VIEW {view} AS SELECT {cols}, _linea AS linea, rowid AS _fila FROM {table}{rows_only}"
    )
    frame = pd.concat([pd.DataFrame(bad, columns=_BAD_COLUMNS), filled], ignore_index=True)
    _write_bad(con, f"{table}_malas", frame)
    rows = con.execute(f"SELECT count(*) FROM {view}").fetchone()[0]
    return TextLoad(
        path=path,
        member=member,
        dialect=dialect,
        header=lay.header,
        table=table,
        view=view,
        bad=f"{table}_malas",
        rows=rows,
        n_bad=len(frame),
        via="modulo_csv",
    )


def parse_delimited(
    path: Path,
    expected_header: list[str] | None = None,
    *,
    member_pattern: str | None = None,
    columns: dict[str, str] | None = None,
    normalize: dict[str, str] | None = None,
    strip: bool = False,
) -> ParsedText:
    """`load_delimited` on an in-memory database, returned as a frame: for small files and tests."""
    con = duckdb.connect()
    try:
        load = load_delimited(
            con,
            path,
            table="leido",
            expected_header=expected_header,
            columns=columns,
            normalize=normalize,
            member_pattern=member_pattern,
            strip=strip,
        )
        frame = con.execute(f"SELECT * EXCLUDE (_fila) FROM {load.view} ORDER BY linea").df()
        rows = con.execute(f"SELECT linea, campos, texto, error, mensaje FROM {load.bad} ORDER BY linea").fetchall()
        bad = [(int(line), 0 if n is None or pd.isna(n) else int(n), t or "") for line, n, t, _, _ in rows]
        errors = {int(line): (e, m or "") for line, n, _, e, m in rows if n is None or pd.isna(n)}
    finally:
        con.close()
    for col in frame.columns:
        if col != "linea":
            frame[col] = frame[col].astype("str")
    frame["linea"] = frame["linea"].astype("int64")
    return ParsedText(
        path=load.path,
        member=load.member,
        dialect=load.dialect,
        header=load.header,
        frame=frame,
        bad_lines=bad,
        bad_errors=errors,
    )
