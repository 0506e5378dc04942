"""SUNAT customs, definitive exports (régimen 40), line by line: `raw/aduanas/<año>/` (docs/sources.md#aduanas).

Two deliveries of the same lines, and a year folder may hold both:

* Aduanet's weekly zips `x<dd><DD><mm><yy>.zip`, one dBase III `.DBF` each (docs/sources.md#aduanas-semanales).
  Weeks overlap and a week may be published twice, so a line (customs office, DAM year, DAM number, serie) can
  arrive in several files; the whole year is staged in one pass so that the key is unique across files, not just
  within one.
* PRODUCE's pipe-delimited administrative delivery (docs/sources.md#aduanas-entrega-produce): latin-1,
  lower-case headers, NANDINA with dots, dates as `YYYYMMDD` numbers with `0` for missing, `ubigeo` blank or absent.

The pipe delivery may come without the line key (`fano, ndcl, nser`: the columns PRODUCE's own pipeline reads do
not include it). Its lines are staged with the key empty and each counts: without a key, a repeat cannot be told
from another line of the same goods. Such a delivery must therefore be the year's only export file — beside weekly
files or another delivery nothing could be deduplicated, and dropping the weeks "covered" by its dates would
presume which date both are cut by ([I]) — and a year mixing them is refused (`entrega_sin_clave_mezclada`).

A file must be of its folder's year. A weekly name gives its week: a week that does not overlap the folder's
year is refused (`semana_de_otro_anio`). What the lines say is checked too: a file most of whose lines
(`MAX_OTHER_YEAR_LINES_FRACTION`) are DAMs of another year (`FANO`; the dates for a line without it) is refused
(`lineas_de_otro_anio`). A stray line of another year is left to the schema's date rule.

Both land in one scratch table of raw text with canonical column names, then one normalization (`NORMALIZE`)
makes them comparable: NANDINA without dots and with its lost leading zeros, blank/`999999` ubigeo missing,
dates as ISO text. What is valid is the schema's business (`schemas/exportaciones.py`), not the reader's.

The dBase records are fixed-width bytes after the header; dbfread reads the header (field descriptors, record
count and length, code page), and the record block is cut into fields as a numpy structured array. dbfread's
own record iterator skips deleted records without saying which record number each live one had, and the
record number is the line a quarantined row must point to; it also costs ~5 µs a record in Python, where the
block is a few milliseconds.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from dbfread import DBF
from dbfread.codepages import guess_encoding

from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.core.sqltext import sql_literal
from vraem_pipeline.sources.textfiles import TextLoad, load_delimited, read_header
from vraem_pipeline.sources.zips import copy_member, data_members

#: Code page of a DBF whose header declares none (language driver 0). Aduanet's files declare none. A project
#: that parsed the real weekly files read them as cp850; other code tries cp850, then latin-1
#: (docs/sources.md#aduanas-semanales). The real files win; a parameter, in meta.parametros.
DBF_ENCODING_DEFAULT = "cp850"

#: Raw columns of the scratch table, from each delivery's field names. `None`: the delivery may lack the field.
DBF_FIELDS = {
    "cadu": "CADU",
    "fano": "FANO",
    "ndcl": "NDCL",
    "nser": "NSER",
    "fnum": "FNUM",
    "femb": "FEMB",
    "ndoc": "NDOC",
    "dnombre": "DNOMBRE",
    "ubigeo": "UBIGEO",
    "nandina": "PART_NANDI",
    "cpaides": "CPAIDES",
    "vfobserdol": "VFOBSERDOL",
    "vpesnet": "VPESNET",
    "regimen": None,
}
PIPE_FIELDS = {
    "cadu": "cadu",
    "fano": "fano",
    "ndcl": "ndcl",
    "nser": "nser",
    "fnum": "fnum",
    "femb": "femb",
    "ndoc": "ndoc",
    "dnombre": "dnombre",
    "ubigeo": "ubigeo",
    "nandina": "cnan",
    "cpaides": "cpaides",
    "vfobserdol": "vfobserdol",
    "vpesnet": "vpesnet",
    "regimen": "regimen",
}
RAW_COLUMNS = list(DBF_FIELDS)
#: Fields a file may lack: the line is then missing that value (docs/sources.md#aduanas-entrega-produce: `ubigeo` is
#: sometimes absent).
OPTIONAL = {"ubigeo", "fnum", "femb", "ndoc", "dnombre", "vpesnet", "regimen"}
#: The line key besides the customs office: a pipe delivery has all three columns or none
#: (docs/sources.md#aduanas-entrega-produce lists none).
KEY_FIELDS = ("fano", "ndcl", "nser")

#: A file is refused when more than this fraction of its lines that carry a year (their DAM's `FANO`, else their
#: numbering or shipment date) are of years it cannot hold: the folder's year is the file's when most of its lines
#: say so. A file of its year has nearly all its lines of that year and a misplaced one nearly none, so any cut
#: between them separates the two; half is the one that needs no further assumption. The years a file may hold are
#: the folder's, those its weekly name's week touches, and the year before for a week in January (a DAM numbered
#: in December may be shipped and regularized in January, and which date cuts the weeks is [I]).
MAX_OTHER_YEAR_LINES_FRACTION = 0.5

_DATE = (
    "CASE WHEN {c} IN ('', '0', '00000000') THEN NULL "
    "WHEN regexp_full_match({c}, '\\d{8}') "
    "THEN substr({c}, 1, 4) || '-' || substr({c}, 5, 2) || '-' || substr({c}, 7, 2) "
    "ELSE {c} END"
)


def _pad(width: int) -> str:
    """Give back the leading zeros a numeric field or a spreadsheet took (`19` → `019`), never cut a longer value."""
    return (
        f"CASE WHEN regexp_full_match({{c}}, '\\d{{1,{width - 1}}}') THEN lpad({{c}}, {width}, '0') "
        f"ELSE nullif({{c}}, '') END"
    )


#: staged column → (raw column, SQL over its text `{c}`, spaces already stripped); `{c}` is replaced, not
#: `str.format`ted: the regular expressions have braces of their own.
NORMALIZE = {
    "regimen": ("regimen", "nullif({c}, '')"),
    "cadu": ("cadu", _pad(3)),
    "fano": ("fano", "nullif({c}, '')"),
    "ndcl": ("ndcl", _pad(6)),
    "nser": ("nser", "nullif({c}, '')"),
    "fecha_numeracion": ("fnum", _DATE),
    "fecha_embarque": ("femb", _DATE),
    "ruc_exportador": ("ndoc", "nullif({c}, '')"),
    "exportador": ("dnombre", "nullif({c}, '')"),
    # blank and 999999 are SUNAT's "no ubigeo" (docs/sources.md#aduanas-entrega-produce); a 5-digit value lost its
    # leading zero
    "ubigeo": (
        "ubigeo",
        "CASE WHEN {c} IN ('', '999999') THEN NULL WHEN regexp_full_match({c}, '\\d{5}') THEN '0' || {c} ELSE {c} END",
    ),
    # dots removed (`0804.40.00.00`), the zero a numeric DBF field lost restored (`804400000`)
    "nandina": (
        "nandina",
        "CASE WHEN regexp_full_match(replace({c}, '.', ''), '\\d{1,9}') "
        "THEN lpad(replace({c}, '.', ''), 10, '0') ELSE nullif(replace({c}, '.', ''), '') END",
    ),
    "pais_sunat": ("cpaides", "nullif(upper({c}), '')"),
    "fob_usd": ("vfobserdol", "nullif({c}, '')"),
    "peso_neto_kg": ("vpesnet", "nullif({c}, '')"),
}

#: What `vraem refresh` says it expects in `aduanas/<año>/` when a file there matches nothing (`find_files`).
EXPECTED_NAME = "x<dd><DD><mm><aa>.zip|dbf (semanales de Aduanet) o la entrega en texto *.txt (o su zip)"

_WEEKLY = re.compile(r"^x(\d{2})(\d{2})(\d{2})(\d{2})\.(zip|dbf)$", re.IGNORECASE)


@dataclass(frozen=True)
class ExportFile:
    path: Path
    kind: str  # "dbf" or "pipe"

    @property
    def week(self) -> date | None:
        """First day of the week a weekly file's name encodes (`x01070324` → 2024-03-01), None if it doesn't."""
        m = _WEEKLY.match(self.path.name)
        if not m:
            return None
        try:
            return date(2000 + int(m.group(4)), int(m.group(3)), int(m.group(1)))
        except ValueError:
            return None

    @property
    def week_spans(self) -> list[tuple[date, date]]:
        """The week a weekly file's name gives (`x01070324` → 1–7 March 2024), as (first day, last day); empty
        when the name is not a weekly name or not a date. A week across a month end (`x28030124`: the 28th to the
        3rd) has two readings, since whether the name's month is its first or its last day's is [I]: 28 Jan–3 Feb
        or 28 Dec 2023–3 Jan 2024. Both are kept: such a file belongs to any year either reading touches."""
        m = _WEEKLY.match(self.path.name)
        if not m:
            return []
        first, last, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3)), 2000 + int(m.group(4))
        if first <= last:
            readings = [((year, month), (year, month))]
        else:
            after = (year + month // 12, month % 12 + 1)
            before = (year - 1, 12) if month == 1 else (year, month - 1)
            readings = [((year, month), after), (before, (year, month))]
        out = []
        for (y0, m0), (y1, m1) in readings:
            try:
                out.append((date(y0, m0, first), date(y1, m1, last)))
            except ValueError:
                continue
        return out

    def possible_years(self, anio: int) -> set[int]:
        """DAM years this file may hold in the folder of `anio` (`MAX_OTHER_YEAR_LINES_FRACTION`)."""
        years = {anio}
        for start, end in self.week_spans:
            years |= set(range(start.year, end.year + 1))
            if start <= date(anio, 1, 31) and end >= date(anio, 1, 1):
                years.add(anio - 1)
        return years


def _period_text(week_spans: list[tuple[date, date]]) -> str:
    return " o ".join(f"del {a:%d/%m/%Y} al {b:%d/%m/%Y}" for a, b in week_spans)


def check_week_names(files: list[ExportFile], anio: int) -> None:
    """Refuse a weekly file whose name's week does not overlap the folder's year (a name that is not a date: no
    check, its lines are still checked by `load_year`)."""
    for f in files:
        week_spans = f.week_spans
        if week_spans and not any(a.year <= anio <= b.year for a, b in week_spans):
            raise SourceFileError(
                f.path,
                f"el nombre indica la semana {_period_text(week_spans)}, fuera de {anio}, "
                f"el año de su carpeta: muévalo a la carpeta de su año",
                rule="semana_de_otro_anio",
            )


def has_line_key(header: list[str]) -> bool:
    """Whether a pipe delivery's header names any key column (then it must name all: `_load_pipe`)."""
    upper = {h.upper() for h in header}
    return any(PIPE_FIELDS[k].upper() in upper for k in KEY_FIELDS)


def check_keyless_alone(files: list[ExportFile]) -> None:
    """Refuse a pipe delivery without the line key beside any other export file of the year: across files only the
    key finds repeats (a delivery and the weeks it covers share most of their lines)."""
    keyless = [f for f in files if f.kind == "pipe" and not has_line_key(read_header(f.path, r"\.txt$")[0])]
    if keyless and len(files) > 1:
        k = keyless[0]
        others = [f.path.name for f in files if f is not k]
        shown = ", ".join(others[:3]) + (f" y {len(others) - 3} más" if len(others) > 3 else "")
        raise SourceFileError(
            k.path,
            f"entrega sin clave de línea (no tiene las columnas fano, ndcl, nser) junto a "
            f"otros archivos de exportación del año: {shown}. Sin la clave no se pueden "
            f"descartar las líneas repetidas entre ellos: deje en {k.path.parent} solo los "
            "archivos semanales o solo la entrega",
            rule="entrega_sin_clave_mezclada",
        )


def find_files(year_dir: Path) -> tuple[list[ExportFile], list[Path]]:
    """The year's export files, in the order their lines take precedence, and the files that are neither.

    Precedence decides which copy of a repeated line is kept (the first): the pipe delivery, made after the year
    closed, comes first; then the weekly files, newest week first, so that a week published again replaces
    the earlier edition of its lines.
    """
    files, others = [], []
    for path in sorted(year_dir.iterdir()) if year_dir.is_dir() else []:
        if not path.is_file():
            continue
        suffix = path.suffix.lower()
        if suffix == ".dbf":
            files.append(ExportFile(path, "dbf"))
        elif suffix == ".txt":
            files.append(ExportFile(path, "pipe"))
        elif suffix == ".zip":
            members = data_members(path)
            if any(m.lower().endswith(".dbf") for m in members):
                files.append(ExportFile(path, "dbf"))
            elif any(m.lower().endswith(".txt") for m in members):
                files.append(ExportFile(path, "pipe"))
            else:
                raise SourceFileError(path, f"el zip no contiene un .DBF ni un .txt: {members}", rule="zip")
        else:
            others.append(path)
    pipes = [f for f in files if f.kind == "pipe"]
    weekly = sorted(
        (f for f in files if f.kind == "dbf"), key=lambda f: (f.week or date.min, f.path.name), reverse=True
    )
    return pipes + weekly, others


# --- dBase -----------------------------------------------------------------------------------------------------


@dataclass
class DbfBlock:
    """The live records of one DBF: raw text columns, record numbers (1-based, deleted ones counted)."""

    columns: dict[str, pa.Array]  # raw column → text, surrounding spaces removed
    record: np.ndarray  # record number of each live record
    deleted: int
    bad_flags: list[tuple[int, str]]  # (record, text) of records whose flag byte is neither ' ' nor '*'
    encoding: str


def _decode_table(encoding: str) -> np.ndarray:
    """Code point of each byte in `encoding` (undecodable bytes → U+FFFD): single-byte code pages only."""
    return np.array([ord(bytes([b]).decode(encoding, errors="replace")) for b in range(256)], dtype=np.uint32)


def read_dbf(path: Path, label: str | None = None, fields: dict[str, str | None] = DBF_FIELDS) -> DbfBlock:
    """Read a dBase III file's live records, the `fields` wanted (raw name → DBF field) as stripped text.

    A field named in `fields` but absent from the file is an error unless it is `OPTIONAL` (then it is empty).
    A file shorter than its header says is truncated: an error naming the first incomplete record.
    """
    label = label or str(path)
    try:
        table = DBF(str(path), encoding="latin-1", ignorecase=False)
    except Exception as err:  # dbfread raises struct/ValueError/… on a header that is not dBase
        raise SourceFileError(label, f"no es un archivo dBase legible: {err}", rule="dbf") from None
    ldid = table.header.language_driver
    try:
        encoding = DBF_ENCODING_DEFAULT if ldid == 0 else guess_encoding(ldid)
    except LookupError:
        raise SourceFileError(label, f"código de página dBase desconocido: 0x{ldid:02x}", rule="dbf") from None
    present = {f.name.upper(): f for f in table.fields}
    missing = [dbf for raw, dbf in fields.items() if dbf and dbf not in present and raw not in OPTIONAL]
    if missing:
        raise SourceFileError(label, f"faltan campos {missing}; hay {list(present)}", rule="campos_dbf")
    n, reclen, start = table.header.numrecords, table.header.recordlen, table.header.headerlen
    if 1 + sum(f.length for f in table.fields) != reclen:
        raise SourceFileError(label, f"la longitud de registro {reclen} no coincide con sus campos", rule="dbf")
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read(n * reclen)
    complete = len(data) // reclen
    if complete < n:
        raise SourceFileError(
            label,
            f"archivo truncado: la cabecera declara {n:,} registros y hay {complete:,} completos",
            line=complete + 1,
            rule="dbf_truncado",
        )
    raw = np.frombuffer(data, dtype=np.uint8).reshape(n, reclen)
    flags = raw[:, 0]
    live = flags == ord(" ")
    deleted = flags == ord("*")
    record_no = np.arange(1, n + 1, dtype=np.int64)
    bad = [(int(r), bytes(raw[r - 1]).decode(encoding, errors="replace")) for r in record_no[~(live | deleted)]]
    lut = _decode_table(encoding)
    offsets, pos = {}, 1
    for f in table.fields:
        offsets[f.name.upper()] = (pos, f.length)
        pos += f.length
    columns = {}
    for name, dbf_name in fields.items():
        if not dbf_name or dbf_name not in present:
            columns[name] = pa.array([""] * int(live.sum()), pa.string())
            continue
        at, width = offsets[dbf_name]
        cells = np.ascontiguousarray(raw[live, at : at + width])
        if (cells < 128).all():  # codes, numbers, dates: ASCII is the same in every code page, bytes go as they are
            text = pa.array(cells.view(f"S{width}").reshape(-1)).cast(pa.string())
        else:  # bytes → code points through the code page, a fixed-width UTF-32 view of the field
            text = pa.array(np.ascontiguousarray(lut[cells]).view(f"U{width}").reshape(-1))
        columns[name] = pc.utf8_trim_whitespace(text)
    return DbfBlock(columns, record_no[live], int(deleted.sum()), bad, encoding)


# --- the year, all files in one scratch table ------------------------------------------------------------------


@dataclass
class FileLoad:
    """One file's part of the year: its meta.fuentes row is made from this once the year is staged."""

    path: Path
    label: str
    rows: int
    n_bad: int
    nota: str = ""
    no_line_key: bool = False  # a pipe delivery without the line key: its repeats cannot be found


@dataclass
class YearLoad:
    """Every export file of a year loaded into one scratch table, in the shape `sqlrules.stage_text_load` takes:
    `view` (a table) has the normalized columns plus `archivo`, `linea` and `_fila` (the file's precedence, then
    its line); `bad` the lines that could not be rows, with their file."""

    label: str
    view: str
    bad: str
    rows: int
    n_bad: int
    header: list[str]
    archivos: list[FileLoad] = field(default_factory=list)
    via: str = "dbf+texto"

    @property
    def rows_read(self) -> int:
        return self.rows + self.n_bad

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        for t in (self.view, self.bad):
            con.execute(f"DROP TABLE IF EXISTS {t}")


def _member(path: Path, workdir: Path) -> tuple[Path, str]:
    """A zip's DBF copied into the temp folder (dbfread reads a file), never extracted next to raw/."""
    members = [n for n in data_members(path) if n.lower().endswith(".dbf")]
    if len(members) != 1:
        raise SourceFileError(path, f"el zip debe contener un solo .DBF; contiene {members}", rule="zip")
    return copy_member(path, members[0], workdir, suffix=".dbf"), members[0]


def _read_dbf_file(f: ExportFile, order: int, workdir: Path) -> tuple[FileLoad, pa.Table, list[tuple]]:
    """One DBF (or zipped DBF) as an Arrow table of raw text, its accounting and its bad records."""
    path, label, extracted = f.path, str(f.path), None
    if path.suffix.lower() == ".zip":
        extracted, member = _member(path, workdir)
        label = f"{path}!{member}"
    try:
        block = read_dbf(extracted or path, label)
    finally:
        if extracted is not None:
            extracted.unlink(missing_ok=True)
    n = len(block.record)
    arrow = pa.table(
        {
            **{c: block.columns[c] for c in RAW_COLUMNS},
            "archivo": pa.array([label] * n, pa.string()).dictionary_encode(),
            "linea": pa.array(block.record),
            "_fila": pa.array((order << 32) + block.record),
        }
    )
    bad = [
        (label, record, None, "REGISTRO DBF", "marca de borrado inválida (ni ' ' ni '*')", text, None)
        for record, text in block.bad_flags
    ]
    nota = f"{block.deleted:,} registros borrados omitidos" if block.deleted else ""
    return FileLoad(path, label, n, len(bad), nota), arrow, bad


def _load_pipe(con, table: str, bad: str, f: ExportFile, order: int, workdir: Path) -> tuple[FileLoad, TextLoad, str]:
    """A pipe delivery loaded by DuckDB's reader; returns the SELECT of its rows in the year's raw columns."""
    header, label = read_header(f.path, member_pattern=r"\.txt$")
    upper = {h.upper() for h in header}
    keyless = not has_line_key(header)
    wanted = {src: raw for raw, src in PIPE_FIELDS.items() if src.upper() in upper}
    missing = [
        src
        for raw, src in PIPE_FIELDS.items()
        if src.upper() not in upper and raw not in OPTIONAL and not (keyless and raw in KEY_FIELDS)
    ]
    if missing:
        raise SourceFileError(label, f"faltan columnas {missing}; hay {header}", line=1, rule="cabecera")
    load: TextLoad = load_delimited(
        con,
        f.path,
        table=f"{table}_texto{order}",
        columns=wanted,
        member_pattern=r"\.txt$",
        workdir=workdir,
        strip=True,
    )
    con.execute(
        f"INSERT INTO {bad} SELECT ?, linea, campos, error, mensaje, texto, {len(load.header)} FROM {load.bad}",
        [load.label],
    )
    cols = ", ".join(c if c in wanted.values() else f"''::VARCHAR AS {c}" for c in RAW_COLUMNS)
    select = (
        f"SELECT {cols}, {sql_literal(load.label)} AS archivo, linea, ({order}::BIGINT << 32) + linea AS _fila "
        f"FROM {load.view}"
    )
    nota = f"vía {load.via}" + (
        "; sin clave de línea (fano, ndcl, nser): no se pudo detectar si hay líneas repetidas, cada línea cuenta"
        if keyless
        else ""
    )
    return FileLoad(f.path, load.label, load.rows, load.n_bad, nota, no_line_key=keyless), load, select


#: DBF rows held in memory (as Arrow, outside DuckDB's memory limit) before they are written to a scratch table:
#: a national sample year fits in one batch (one write fewer); a real year (26–47 k records a week) does not.
DBF_BATCH_ROWS = 1_000_000

_EMPTY_DBF_SQL = (
    "(SELECT "
    + ", ".join(f"NULL::VARCHAR AS {c}" for c in RAW_COLUMNS)
    + ", NULL::VARCHAR AS archivo, NULL::BIGINT AS linea, NULL::BIGINT AS _fila WHERE false)"
)


def _insert_arrow(con: duckdb.DuckDBPyConnection, table: str, columns: str, arrows: list[pa.Table]) -> None:
    """One INSERT for all the batch's DBFs: 60 weekly inserts cost three times as much."""
    con.register("_vraem_lote", pa.concat_tables(arrows))
    try:
        con.execute(f"INSERT INTO {table} SELECT {columns} FROM _vraem_lote")
    finally:
        con.unregister("_vraem_lote")


def load_year(
    con: duckdb.DuckDBPyConnection,
    files: list[ExportFile],
    *,
    table: str,
    anio: int,
    workdir: Path | None = None,
    label: str = "",
    derived: dict[str, str] | None = None,
) -> YearLoad:
    """Load every file of the year `anio` into `<table>_v` (normalized) and `<table>_malas` (lines and records that
    could not be rows), in one pass over the raw text of all the files. `derived` (the row verdict other readers
    compute while they load) is not computed here: the rules scan the year's normalized table once anyway.

    Refused before a byte is read: a weekly name of another year, a delivery without the line key beside other
    files. Refused once read: a file whose lines are mostly of another year."""
    check_week_names(files, anio)
    check_keyless_alone(files)
    workdir = Path(workdir or tempfile.gettempdir())
    workdir.mkdir(parents=True, exist_ok=True)
    bad, view, spilled = f"{table}_malas", f"{table}_v", f"{table}_dbf"
    con.execute(
        f"CREATE OR REPLACE TABLE {bad} (archivo VARCHAR, linea BIGINT, campos BIGINT, error VARCHAR, "
        "mensaje VARCHAR, texto VARCHAR, esperados BIGINT)"
    )
    dbf_columns = f"{', '.join(RAW_COLUMNS)}, archivo::VARCHAR AS archivo, linea, _fila"
    con.execute(f"CREATE OR REPLACE TABLE {spilled} AS SELECT {dbf_columns} FROM {_EMPTY_DBF_SQL}")
    loads, arrows, parts, scratch = [], [], [f"SELECT * FROM {spilled}"], []
    registered = False
    try:
        for order, f in enumerate(files):
            if f.kind == "dbf":
                load, arrow, bad_records = _read_dbf_file(f, order, workdir)
                arrows.append(arrow)
                if sum(a.num_rows for a in arrows) >= DBF_BATCH_ROWS:  # a real year: ~2 M records in 52 files
                    _insert_arrow(con, spilled, dbf_columns, arrows)
                    arrows = []
                if bad_records:
                    con.executemany(f"INSERT INTO {bad} VALUES (?, ?, ?, ?, ?, ?, ?)", bad_records)
            else:
                load, text_load, select = _load_pipe(con, table, bad, f, order, workdir)
                scratch.append(text_load)
                parts.append(select)
            loads.append(load)
        if arrows:  # the last batch is read where it is, not written first (a sample year is one batch)
            con.register("_vraem_dbf", pa.concat_tables(arrows))
            registered = True
            parts.append(f"SELECT {dbf_columns} FROM _vraem_dbf")
        # normalized once, into a table: the rules, the duplicate search and the writes each scan it
        select = ", ".join(f"{sql.replace('{c}', raw)} AS {name}" for name, (raw, sql) in NORMALIZE.items())
        con.execute(
            f"CREATE OR REPLACE TABLE {view} AS SELECT {select}, archivo, linea, _fila "
            f"FROM ({' UNION ALL '.join(parts)})"
        )
    finally:
        if registered:
            con.unregister("_vraem_dbf")
        con.execute(f"DROP TABLE IF EXISTS {spilled}")
        for text_load in scratch:
            text_load.drop(con)
    year_load = YearLoad(label=label, view=view, bad=bad, rows=0, n_bad=0, header=RAW_COLUMNS, archivos=loads)
    try:
        _check_line_years(con, view, list(zip(files, loads, strict=False)), anio)
        if not any(load.no_line_key for load in loads):
            _move_keyless_lines(con, view, bad, loads)
    except BaseException:
        year_load.drop(con)
        raise
    year_load.rows, year_load.n_bad = sum(x.rows for x in loads), sum(x.n_bad for x in loads)
    return year_load


#: Year a line speaks for: its DAM's year, else (a delivery without the key) its numbering or shipment date's.
_LINE_YEAR = (
    "coalesce(TRY_CAST(fano AS INTEGER), year(TRY_CAST(fecha_numeracion AS DATE)), "
    "year(TRY_CAST(fecha_embarque AS DATE)))"
)


def _check_line_years(
    con: duckdb.DuckDBPyConnection, view: str, files: list[tuple[ExportFile, FileLoad]], anio: int
) -> None:
    """Refuse a file more than `MAX_OTHER_YEAR_LINES_FRACTION` of whose dated lines are of years it cannot hold."""
    counts: dict[str, dict[int, int]] = {}
    for archivo, year, n in con.execute(
        f"SELECT archivo, y, count(*) FROM (SELECT archivo, {_LINE_YEAR} AS y FROM {view}) "
        "WHERE y BETWEEN 1900 AND 2100 GROUP BY ALL"
    ).fetchall():  # not a year (0, 9999): the rules' business
        counts.setdefault(archivo, {})[int(year)] = int(n)
    for f, load in files:
        by_year = counts.get(load.label, {})
        total = sum(by_year.values())
        allowed = f.possible_years(anio)
        others = sorted(((n, y) for y, n in by_year.items() if y not in allowed), reverse=True)
        share = sum(n for n, _ in others) / total if total else 0.0
        if share > MAX_OTHER_YEAR_LINES_FRACTION:
            basis = "fecha de numeración o de embarque" if load.no_line_key else "FANO"
            raise SourceFileError(
                load.label,
                f"el {int(100 * share)} % de sus líneas son de "
                f"{', '.join(str(y) for _, y in others)} ({basis}) y está en la carpeta "
                f"de {anio}: muévalo a la carpeta de su año",
                rule="lineas_de_otro_anio",
            )


def _move_keyless_lines(con: duckdb.DuckDBPyConnection, view: str, bad: str, loads: list[FileLoad]) -> None:
    """A line without fano, ndcl and nser in a file that has the key is not a keyless line: it could repeat any
    other unseen. It goes to quarantine (`clave_incompleta`, the rule of a line with some key parts missing)."""
    where = " AND ".join(f"{k} IS NULL" for k in KEY_FIELDS)
    moved = dict(con.execute(f"SELECT archivo, count(*) FROM {view} WHERE {where} GROUP BY archivo").fetchall())
    if not moved:
        return
    raw = "to_json(struct_pack(" + ", ".join(f"{c} := {c}" for c in NORMALIZE) + "))::VARCHAR"
    con.execute(
        f"INSERT INTO {bad} SELECT archivo, linea, NULL, 'CLAVE VACIA', 'sin fano, ndcl ni nser en un archivo "
        f"con la clave de línea', {raw}, NULL FROM {view} WHERE {where}"
    )
    con.execute(f"DELETE FROM {view} WHERE {where}")
    for load in loads:
        k = int(moved.get(load.label, 0))
        load.rows, load.n_bad = load.rows - k, load.n_bad + k
