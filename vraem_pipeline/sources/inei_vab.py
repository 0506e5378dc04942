"""INEI's departmental GDP workbooks (`raw/inei/vab/`), read exactly as INEI publishes them.

The workbook is a printed table, not a data file (docs/sources.md#inei-vab-libro): title rows
above the header, a header whose year cells mix integers and text with flags (`2007`, `2023P/`, `2025E/`),
department rows with accents, Lima followed by sub-rows that repeat part of it, the national rows
(`Valor Agregado Bruto`, `Impuestos a los Productos`, `Derechos de Importación`, `Producto Bruto Interno`),
then a source line and an "información disponible a …" line. Nothing here depends on a row or column number:

* the sheet is `SHEET` (`cuadro1`: constant 2007 prices in INEI's numbering); the title rows must say
  "precios constantes de 2007" and name the unit, so a sheet at current prices or of shares is refused, and
  the unit is converted explicitly to miles de soles (`FACTOR_TO_THOUSANDS`);
* the header is the row whose label cell reads `Departamentos`; the label column is that cell's column;
* every year cell is parsed for its year and its flag, and the flag is kept (`estado_cifra`), because a
  preliminary (P/) or estimated (E/) figure is not a definitive one;
* every labelled row is classified by its label, accent- and case-insensitively: the 25 INEI departments
  (`reference/ubigeo_inei.csv`), plus `reference/inei_vab_filas.csv` (Callao's long names, Lima's
  sub-rows, the national rows); an unknown label is an error, never a silently dropped row;
* a per-activity workbook (INEI publishes one per activity, same layout) names its activity in the title rows
  (`reference/inei_actividades.csv`); a workbook naming none is the all-activity (departmental) table;
* the edition is the "información disponible a <mes> del <año>" line: the newest edition present wins. What
  else the file says about its period must agree with it: a year (or year-month) in the file's name
  (`pbi_departamentos_2026.xlsx`, `…_2025-06.xlsx`; `_periods_of_name`) must be the edition's, and the
  header must print no year after the edition's own (an edition of June 2026 cannot hold 2027).

Cells are returned as published, one row per (row, year); whether Lima includes Callao, and whether the rows
add up, is decided after validation (`vraem_pipeline.pbi.allocation`), where a failing sum is a blocking check.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.core.references import department_names, reference_csv
from vraem_pipeline.sources import zips
from vraem_pipeline.sources.periods import MONTHS

#: The sheet read: INEI numbers the departmental tables cuadro1 (constant 2007 prices, miles de soles),
#: cuadro2 (shares) … cuadro4 (current prices); only constant prices are comparable across years.
SHEET = "cuadro1"
#: What the title rows must say: a table at current prices or of shares is a different figure.
CONSTANT_PRICES = "precios constantes de 2007"
#: Unit printed in the title rows → factor to miles de soles (the staging unit). Longest name first.
FACTOR_TO_THOUSANDS = {"millones de soles": 1000.0, "miles de soles": 1.0, "soles": 0.001}
#: The activity code of the all-activity (departmental) table.
TOTAL_ACTIVITY = "total"
#: Year-header flag → `estado_cifra`.
FIGURE_STATUSES = {"": "definitiva", "P": "preliminar", "E": "estimada"}
ROW_KINDS = ("departamento", "subdivision", "vab", "impuestos_productos", "derechos_importacion", "pbi")
#: Extensions looked at in raw/inei/vab/ (any case); the bytes decide the format, not the name.
EXTENSIONS = (".xlsx", ".xlsm", ".xls")
#: Columns of a table's cells in long form (one row per labelled row and year), the staging layout.
CELL_COLUMNS = [
    "archivo",
    "linea",
    "columna",
    "actividad",
    "etiqueta",
    "tipo_fila",
    "ubigeo_departamento",
    "anio",
    "estado_cifra",
    "valor_miles_soles",
    "edicion",
]

_MONTHS = {m: i for i, m in enumerate(MONTHS, start=1)}
_MONTHS["septiembre"] = 9
_MONTH_NAME = {v: k for k, v in _MONTHS.items() if k != "septiembre"}
#: A year, or a year-month, in a workbook's file name: four digits 19xx/20xx not inside a longer number, then
#: optionally a month 01–12 (`_2026`, `_2025-06`, `_202506`). INEI's own `pbi_peru_17.xlsx` carries none: 17 is
#: its table's number, not a year.
_PERIOD_IN_NAME = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:[-_. ]?(0[1-9]|1[0-2]))?(?!\d)")
#: The base year of the constant prices (and the series' first year): in a name it names the prices, not an
#: edition (`pbi_precios_2007.xlsx`), so it is not compared with the edition line.
BASE_YEAR = 2007
_HEADER_YEAR = re.compile(r"^(\d{4})(?:\.0+)?\s*(?:([PpEe])\s*/?)?$")
_EDITION = re.compile(r"informacion disponible (?:a|al|hasta)\s+(?:(?:el )?\d{1,2} de )?(\w+)\s+(?:de |del )?(\d{4})")
_FOOTNOTE_CALL = re.compile(r"(\s*\d+\s*/)+\s*$|\s*\*+\s*$")  # footnote calls after a label: "Lima 1/", "Lima *"
#: Labels that start the notes under the table (after normalization).
_NOTES = ("fuente", "nota", "elaboracion", "con informacion disponible", "informacion disponible")
_NOTE_CALL = re.compile(r"^(?:\d+|p|e)\s*/")  # "1/ Incluye…", "P/ Preliminar", "E/ Estimado"


def normalize_label(texto: object) -> str:
    """Matching key of a label: lower case, accents removed, punctuation as spaces, spaces collapsed."""
    s = unicodedata.normalize("NFKD", str(texto).lower())
    s = "".join(c for c in s if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", s).strip()


def label_without_footnote(texto: str) -> str:
    """The label without footnote calls (`Lima 1/` → `Lima`)."""
    return _FOOTNOTE_CALL.sub("", str(texto)).strip()


@lru_cache(maxsize=1)
def row_classification() -> dict[str, tuple[str, str | None]]:
    """Normalized label → (tipo_fila, ubigeo_departamento): the 25 INEI department names and the shipped
    `inei_vab_filas.csv` (Callao's long names, Lima's sub-rows, the national rows)."""
    out: dict[str, tuple[str, str | None]] = {
        normalize_label(n): ("departamento", c) for c, n in department_names().items()
    }
    for etiqueta, tipo, dept in reference_csv("inei_vab_filas.csv").itertuples(index=False):
        if tipo not in ROW_KINDS:
            raise ValueError(f"inei_vab_filas.csv: tipo_fila desconocido {tipo!r}")
        out[normalize_label(etiqueta)] = (tipo, dept or None)
    return out


def classify_label(texto: str) -> tuple[str, str | None] | None:
    """(tipo_fila, ubigeo_departamento) of a row label regardless of accents, case and footnote calls;
    None when the label is none of INEI's rows."""
    return row_classification().get(normalize_label(label_without_footnote(texto)))


@lru_cache(maxsize=1)
def activities() -> pd.DataFrame:
    """INEI's 12 activities of the departmental accounts: `actividad, orden, nombre, alias`."""
    return reference_csv("inei_actividades.csv")


def title_activity(titulo: str) -> str | None:
    """The activity a per-activity workbook names in its title rows; None for the all-activity table.

    Aliases are matched as whole words, longest first; a shorter alias inside an accepted one is not another
    activity ("Telecomunicaciones y otros servicios de información" contains "otros servicios"). Two
    activities named apart raise ValueError (the caller turns it into the file's error)."""
    texto = f" {normalize_label(titulo)} "
    found = sorted(
        (
            (len(k), k, act)
            for act, alias in zip(activities()["actividad"], activities()["alias"], strict=True)
            for k in {normalize_label(a) for a in alias.split("|")}
            if k and f" {k} " in texto
        ),
        reverse=True,
    )
    accepted: list[tuple[str, str]] = []
    for _, clave, act in found:
        if any(clave in k for k, _ in accepted):
            continue
        accepted.append((clave, act))
    found_activities = sorted({act for _, act in accepted})
    if len(found_activities) > 1:
        raise ValueError(f"el título nombra varias actividades: {found_activities}")
    return found_activities[0] if found_activities else None


@dataclass(frozen=True)
class WorkbookTable:
    """One workbook's table, its cells in long form (one row per labelled row and year) and what the
    title and notes say about it."""

    path: Path
    actividad: str
    titulo: str
    unidad: str
    thousands_factor: float
    anios: tuple[int, ...]
    notes: tuple[str, ...]
    edicion: str | None  # the "información disponible a …" line, as printed
    edition_key: tuple[int, int] | None  # (year, month) of that line, to compare editions
    cell_frame: pd.DataFrame = field(repr=False)

    @property
    def label(self) -> str:
        return str(self.path)

    @property
    def filas_leidas(self) -> int:
        return len(self.cell_frame)


def _workbook(path: Path):
    """The workbook, whatever its extension says: INEI (like the SBS) sometimes names an xlsx `.xls`; a real
    BIFF8 `.xls` is refused with what to do, since no reader here can take it."""
    import openpyxl

    data = path.read_bytes()
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise SourceFileError(
            path, "es un libro Excel 97-2003 (BIFF8): ábralo y guárdelo como .xlsx", rule="formato_xlsx"
        )
    if data[:2] != b"PK":
        raise SourceFileError(
            path, "no es un libro Excel .xlsx (no empieza con la firma de un zip)", rule="formato_xlsx"
        )
    try:  # an xlsx is a zip: its members' sizes are bounded before openpyxl decompresses them
        zips.check_declared_sizes(path)
    except SourceFileError as exc:
        if exc.rule != "zip":
            raise
        raise SourceFileError(path, f"no se puede abrir el libro: {exc.problem}", rule="formato_xlsx") from None
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a damaged zip or XML: the file, not a row, is wrong
        raise SourceFileError(path, f"no se puede abrir el libro: {exc}", rule="formato_xlsx") from None


def _header_year(valor: object) -> tuple[int, str] | None:
    """(year, flag) of a header cell: 2007, 2007.0, '2023P/', '2024 P/', '2025E/'; None if it is not a year."""
    if isinstance(valor, bool):
        return None
    if isinstance(valor, int | float):
        return (int(valor), "") if float(valor).is_integer() else None
    m = _HEADER_YEAR.match(str(valor).strip())
    return (int(m.group(1)), (m.group(2) or "").upper()) if m else None


def _is_note(texto: str) -> bool:
    n = normalize_label(texto)
    return n.startswith(_NOTES) or bool(_NOTE_CALL.match(str(texto).strip().lower()))


def _edition(notes: list[str]) -> tuple[str | None, tuple[int, int] | None]:
    for nota in notes:
        m = _EDITION.search(normalize_label(nota))
        if m and m.group(1) in _MONTHS:
            return nota.strip(), (int(m.group(2)), _MONTHS[m.group(1)])
    return None, None


def _periods_of_name(path: Path) -> list[tuple[int, int | None]]:
    """(year, month or None) of every period the file name carries, in order, the price base year left out."""
    return [
        (int(m.group(1)), int(m.group(2)) if m.group(2) else None)
        for m in _PERIOD_IN_NAME.finditer(Path(path).stem)
        if int(m.group(1)) != BASE_YEAR
    ]


def _period_label(anio: int, month_no: int | None) -> str:
    return f"{_MONTH_NAME[month_no]} del {anio}" if month_no else str(anio)


def _check_edition(
    path: Path,
    sheet: str,
    edicion: str | None,
    clave: tuple[int, int] | None,
    anios: list[tuple[int, int, str]],
    header_line: int,
) -> None:
    """What the file says about its period agrees with its edition line: every year (year-month) of its name is
    the edition's, and no year column comes after the edition's year. Without an edition line there is nothing
    to compare with (such a workbook is ranked as "sin fecha" by `select_workbooks`)."""
    from openpyxl.utils import get_column_letter

    if clave is None:
        return
    for anio, month_no in _periods_of_name(path):
        if anio != clave[0] or (month_no is not None and month_no != clave[1]):
            raise SourceFileError(
                path,
                f"el nombre del archivo dice {_period_label(anio, month_no)} pero el libro es "
                f"la edición de {_period_label(*clave)} («{edicion}»): renómbrelo con su "
                "edición o ponga el libro de esa edición",
                rule="edicion_del_nombre",
            )
    later_years = [(j, a) for j, a, _ in anios if a > clave[0]]
    if later_years:
        j, a = later_years[0]
        raise SourceFileError(
            path,
            f"hoja {sheet}, columna {get_column_letter(j + 1)}: el año {a} es posterior a la "
            f"edición «{edicion}» ({clave[0]}): una edición no trae años que aún no "
            "ocurrieron",
            line=header_line,
            rule="anio_posterior_a_la_edicion",
        )


def read_workbook(path: Path, sheet: str = SHEET) -> WorkbookTable:
    """Read one INEI departmental GDP workbook (all activities, or one activity) as published.

    Raises `SourceFileError` naming the file, the row and the rule for what makes the table unreadable: no
    such sheet, no `Departamentos` header, a header cell that is not a year, a title without constant 2007
    prices or without a unit, an unknown row label, numbers in a row without a label. Cells that are not
    numbers, or missing, are kept as they are: validation sends them to quarantine with their row.
    """
    from openpyxl.utils import get_column_letter

    path = Path(path)
    workbook = _workbook(path)
    try:
        names = {n.lower(): n for n in workbook.sheetnames}
        if sheet.lower() not in names:
            raise SourceFileError(
                path, f"no tiene la hoja {sheet} (hojas: {', '.join(workbook.sheetnames)})", rule="hoja_cuadro1"
            )
        worksheet = workbook[names[sheet.lower()]]
        worksheet.reset_dimensions()  # a workbook's stored dimension can be stale: read every row and column there is
        filas = [list(r) for r in worksheet.iter_rows(values_only=True)]
    finally:
        workbook.close()

    header_row = label_col = None
    for i, row in enumerate(filas):
        for j, v in enumerate(row):
            if isinstance(v, str) and normalize_label(v) in ("departamentos", "departamento"):
                header_row, label_col = i, j
                break
        if header_row is not None:
            break
    if header_row is None:
        raise SourceFileError(
            path,
            f"hoja {sheet}: no hay una fila de cabecera con la etiqueta 'Departamentos'",
            rule="cabecera_departamentos",
        )
    titulo = " ".join(str(v).strip() for f in filas[:header_row] for v in f if v is not None and str(v).strip())
    normalized_title = normalize_label(titulo)
    if CONSTANT_PRICES not in normalized_title:
        raise SourceFileError(
            path,
            f"hoja {sheet}: el título no dice 'precios constantes de 2007' ({titulo!r})",
            line=header_row + 1,
            rule="precios_constantes_2007",
        )
    unidad = next((u for u in FACTOR_TO_THOUSANDS if re.search(rf"\b{u}\b", normalized_title)), None)
    if unidad is None:
        raise SourceFileError(
            path,
            f"hoja {sheet}: el título no dice la unidad (miles/millones de soles): {titulo!r}",
            line=header_row + 1,
            rule="unidad",
        )
    try:
        actividad = title_activity(titulo) or TOTAL_ACTIVITY
    except ValueError as exc:
        raise SourceFileError(path, f"hoja {sheet}: {exc}", line=header_row + 1, rule="actividad") from None

    anios: list[tuple[int, int, str]] = []  # (column, year, flag)
    for j, v in enumerate(filas[header_row]):
        if j <= label_col or v is None or not str(v).strip():
            continue
        parsed = _header_year(v)
        if parsed is None:
            raise SourceFileError(
                path,
                f"hoja {sheet}, columna {get_column_letter(j + 1)}: la cabecera {v!r} no es "
                "un año (2007, 2023P/, 2025E/)",
                line=header_row + 1,
                rule="anio_cabecera",
            )
        anios.append((j, *parsed))
    seen = [a for _, a, _ in anios]
    if not anios or len(set(seen)) != len(seen):
        raise SourceFileError(
            path,
            f"hoja {sheet}: años de la cabecera vacíos o repetidos {seen}",
            line=header_row + 1,
            rule="anio_cabecera",
        )

    record_list, notes = [], []
    in_notes = False
    factor = FACTOR_TO_THOUSANDS[unidad]
    for i in range(header_row + 1, len(filas)):
        row = filas[i]
        etiqueta = row[label_col] if label_col < len(row) else None
        etiqueta = str(etiqueta).strip() if etiqueta is not None and str(etiqueta).strip() else None
        vals = [row[j] if j < len(row) else None for j, _, _ in anios]
        has_values = any(v is not None and str(v).strip() for v in vals)
        if etiqueta is not None and (in_notes or _is_note(etiqueta)):
            in_notes = True
            notes.append(etiqueta)
            continue
        if in_notes or etiqueta is None:
            if has_values:
                raise SourceFileError(
                    path,
                    f"hoja {sheet}: fila con cifras y sin etiqueta de departamento",
                    line=i + 1,
                    rule="fila_sin_etiqueta",
                )
            continue
        tipo = classify_label(etiqueta)
        if tipo is None:
            raise SourceFileError(
                path,
                f"hoja {sheet}: fila {etiqueta!r} no es un departamento ni una fila del "
                "INEI conocida (reference/inei_vab_filas.csv)",
                line=i + 1,
                rule="fila_desconocida",
            )
        for (j, anio, marca), v in zip(anios, vals, strict=True):
            if isinstance(v, int | float) and not isinstance(v, bool):
                valor: object = float(v) * factor  # explicit unit conversion to miles de soles
            elif v is None or (isinstance(v, str) and not v.strip()):
                valor = None
            else:
                valor = str(v)  # kept as published: validation quarantines it (tipo_de_dato)
            record_list.append(
                {
                    "archivo": str(path),
                    "linea": i + 1,
                    "columna": get_column_letter(j + 1),
                    "actividad": actividad,
                    "etiqueta": etiqueta,
                    "tipo_fila": tipo[0],
                    "ubigeo_departamento": tipo[1],
                    "anio": anio,
                    "estado_cifra": FIGURE_STATUSES[marca],
                    "valor_miles_soles": valor,
                }
            )
    edicion, clave = _edition(notes)
    _check_edition(path, sheet, edicion, clave, anios, header_row + 1)
    cell_frame = pd.DataFrame(record_list, columns=CELL_COLUMNS[:-1])
    cell_frame["valor_miles_soles"] = cell_frame["valor_miles_soles"].astype(object)
    cell_frame["edicion"] = edicion
    return WorkbookTable(
        path=path,
        actividad=actividad,
        titulo=titulo,
        unidad=unidad,
        thousands_factor=factor,
        anios=tuple(seen),
        notes=tuple(notes),
        edicion=edicion,
        edition_key=clave,
        cell_frame=cell_frame,
    )


# --------------------------------------------------------------------------------------------------------
# The folder: which workbooks, which edition


#: What `vraem refresh` says it expects in `inei/vab/` when a file there matches nothing (`find_workbooks`).
EXPECTED_NAME = "libros del INEI .xlsx|.xlsm|.xls"


def find_workbooks(folder: Path) -> tuple[list[Path], list[Path]]:
    """(workbooks, ignored files) of `raw/inei/vab/`; Excel's lock files (`~$…`) and hidden files are ignored, a
    workbook in a subfolder (a year folder, as the other sources have) is an error rather than silently unused."""
    if not folder.is_dir():
        return [], []
    workbooks, other_ones = [], []
    for p in sorted(folder.iterdir()):
        if p.is_dir() and any(q.suffix.lower() in EXTENSIONS for q in p.rglob("*")):
            # one edition carries the whole series: a workbook in a year folder would be silently unused
            raise SourceFileError(
                p,
                "hay libros en una subcarpeta: el cuadro del INEI va directamente en "
                "raw/inei/vab/ (una edición trae toda la serie, no va por año)",
                rule="carpeta_vab",
            )
        if not p.is_file():
            continue
        if p.suffix.lower() in EXTENSIONS and not p.name.startswith(("~$", ".")):
            workbooks.append(p)
        else:
            other_ones.append(p)
    return workbooks, other_ones


@dataclass(frozen=True)
class Selection:
    """The workbooks a refresh uses: one all-activity table and, when complete, the 12 per-activity tables
    of the same edition; the rest with the reason they were left out (for meta.fuentes)."""

    total: WorkbookTable | None
    activities: tuple[WorkbookTable, ...]
    ignored: tuple[tuple[Path, str], ...]

    @property
    def used(self) -> tuple[WorkbookTable, ...]:
        return ((self.total,) if self.total else ()) + self.activities


def _edition_text(c: WorkbookTable) -> str:
    return c.edicion or "edición sin fecha"


def select_workbooks(tables: list[WorkbookTable], other_ones: list[Path] = ()) -> Selection:
    """The newest edition wins (by its "información disponible a <mes> del <año>" line).

    Several all-activity tables: the newest is used, the others are named as ignored; two of the same edition,
    or one without that line among several, cannot be ranked and raise. Per-activity tables are used only
    when they are of the chosen edition and the 12 activities are all there, once each: a partial set would
    allocate part of the economy by activity and part not, so it raises naming what is missing. Per-activity
    tables without an all-activity table raise too: national PBI, taxes and import duties are only there.
    """
    ignored = [(p, "no es un libro .xlsx") for p in other_ones]
    totals = [c for c in tables if c.actividad == TOTAL_ACTIVITY]
    by_activity = [c for c in tables if c.actividad != TOTAL_ACTIVITY]
    if not totals:
        if by_activity:
            raise SourceFileError(
                by_activity[0].path.parent,
                "hay cuadros por actividad pero no el cuadro "
                "departamental de todas las actividades (con PBI, impuestos y derechos)",
                rule="falta_cuadro_departamental",
            )
        return Selection(None, (), tuple(ignored))
    if len(totals) > 1:
        undated = [c for c in totals if c.edition_key is None]
        key_list = [c.edition_key for c in totals if c.edition_key is not None]
        if undated or len(set(key_list)) != len(key_list):
            raise SourceFileError(
                totals[0].path.parent,
                "no se puede decidir la edición más reciente entre "
                + ", ".join(f"{c.path.name} ({_edition_text(c)})" for c in totals)
                + ": deje uno solo o los de ediciones con fecha distinta",
                rule="edicion",
            )
    total = max(totals, key=lambda c: c.edition_key or (0, 0))
    ignored += [(c.path, f"edición anterior ({_edition_text(c)})") for c in totals if c is not total]
    same_edition = [c for c in by_activity if c.edition_key == total.edition_key]
    ignored += [
        (c.path, f"cuadro por actividad de otra edición ({_edition_text(c)})")
        for c in by_activity
        if c.edition_key != total.edition_key
    ]
    if same_edition:
        codes = list(activities()["actividad"])
        seen_activities = [c.actividad for c in same_edition]
        missing = [a for a in codes if a not in seen_activities]
        repeated = sorted({a for a in seen_activities if seen_activities.count(a) > 1})
        if missing or repeated:
            raise SourceFileError(
                same_edition[0].path.parent,
                f"cuadros por actividad de la edición {_edition_text(total)} "
                f"incompletos: faltan {missing or '—'}, repetidas {repeated or '—'} (use las 12 "
                "actividades o ninguna)",
                rule="actividades_incompletas",
            )
        same_edition.sort(key=lambda c: codes.index(c.actividad))
    return Selection(total, tuple(same_edition), tuple(ignored))


def read_folder(folder: Path, sheet: str = SHEET) -> Selection:
    """Every workbook of `raw/inei/vab/` read, then the edition chosen (`select_workbooks`)."""
    workbooks, other_ones = find_workbooks(folder)
    return select_workbooks([read_workbook(p, sheet) for p in workbooks], other_ones)
