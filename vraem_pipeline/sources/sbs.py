"""SBS debtor-level balances of direct credit (docs/sources.md#sbs-deudores): `sbs/deudores/<año>/deudores_<año>12.txt`.

Pipe-delimited latin-1 as delivered, a zip of it standing in for the file. Every debtor of every supervised
entity is there — millions of lines, most of them persons with consumer credit — so the file is read by
DuckDB (`textfiles.load_delimited`), never by pandas. Codes and amounts stay text here: a malformed document,
type or balance is a row to quarantine, decided by the schema, not by the reader.

The report's amount is the balance at December, so only the December file of the year is read. Other months
of the same year are named in `meta.fuentes.nota` as ignored; a folder with no December file, or a file of
another year, fails naming the file. The rows must then agree with the name: a row whose `PERIODO` is not
`<año>12` is quarantined by the schema (`periodo_del_anio`), and a file whose rows are mostly of another period
(November's balances saved as December's) is refused naming both periods (`periods.check_rows_period`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.sources.periods import check_rows_period
from vraem_pipeline.sources.textfiles import ParsedText, TextLoad, load_delimited, parse_delimited

HEADER = ["PERIODO", "TIPO_DOCUMENTO", "NUMERO_DOCUMENTO", "CODIGO_ENTIDAD", "TIPO_CREDITO", "SALDO_SOLES"]
COLUMNS = {
    "PERIODO": "periodo",
    "TIPO_DOCUMENTO": "tipo_documento",
    "NUMERO_DOCUMENTO": "numero_documento",
    "CODIGO_ENTIDAD": "codigo_entidad",
    "TIPO_CREDITO": "tipo_credito",
    "SALDO_SOLES": "saldo_soles",
}

#: Spaces stripped (`strip`); an empty field is missing, never a zero balance or an empty code.
NORMALIZE = {name: "nullif({c}, '')" for name in COLUMNS.values()}

#: Month of the balance the report uses (the file name's MM).
BALANCE_MONTH = 12

_FILE = re.compile(r"^deudores_(\d{4})(\d{2})\.(txt|zip)$", re.IGNORECASE)
#: What `vraem refresh` says it expects in `sbs/deudores/<año>/` when a file there matches nothing (`_FILE`).
EXPECTED_NAME = "deudores_<año><mes>.txt|zip"
_MEMBER = r"\.txt$"


@dataclass(frozen=True)
class DebtorFile:
    path: Path
    nota: str = ""


def matching_files(year_dir: Path) -> list[Path]:
    """Files of the folder named as a debtor file (any case); the raw/ scan (`archivos.py`) uses it too."""
    return [p for p in sorted(year_dir.iterdir()) if p.is_file() and _FILE.match(p.name)] if year_dir.is_dir() else []


def find_file(year_dir: Path, anio: int) -> DebtorFile | None:
    """The year's December file; None when the folder has no debtor file at all."""
    found = []
    for path in matching_files(year_dir):
        m = _FILE.match(path.name)
        if int(m.group(1)) != anio:
            raise SourceFileError(
                path,
                f"el archivo es del periodo {m.group(1)}{m.group(2)}, no del año {anio} de la carpeta",
                rule="periodo_del_archivo",
            )
        found.append((int(m.group(2)), path))
    if not found:
        return None
    december = [p for month_no, p in found if month_no == BALANCE_MONTH]
    others = [p.name for month_no, p in found if month_no != BALANCE_MONTH]
    if not december:
        raise SourceFileError(
            year_dir, f"no hay saldos a diciembre (deudores_{anio}12.txt|zip); hay {others}", rule="saldo_diciembre"
        )
    if len(december) > 1:
        raise SourceFileError(
            year_dir, f"más de un archivo de deudores a diciembre: {[p.name for p in december]}", rule="archivo_unico"
        )
    return DebtorFile(december[0], f"otros meses ignorados: {', '.join(others)}" if others else "")


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    *,
    table: str,
    workdir: Path | None = None,
    derived: dict[str, str] | None = None,
) -> TextLoad:
    """Load the file into DuckDB (`table`, normalized); a changed layout fails naming the file and line 1, and so
    does a file whose rows are mostly of another period than its name's AAAAMM."""
    load = load_delimited(
        con,
        path,
        table=table,
        expected_header=HEADER,
        columns=COLUMNS,
        normalize=NORMALIZE,
        member_pattern=_MEMBER,
        workdir=workdir,
        derived=derived,
        strip=True,
    )
    m = _FILE.match(Path(path).name)
    if m:  # the finder hands only files named as debtor files; any other name gives no period to compare
        check_rows_period(
            con,
            load,
            column="periodo",
            header="PERIODO",
            pattern="[0-9]{6}",
            expected=m.group(1) + m.group(2),
            what="el periodo",
        )
    return load


def read_file(path: Path) -> ParsedText:
    """The file as a frame (small files and tests): the same reading and normalization as `load_file`."""
    parsed = parse_delimited(path, HEADER, member_pattern=_MEMBER, columns=COLUMNS, normalize=NORMALIZE, strip=True)
    parsed.frame["archivo"] = parsed.label
    return parsed
