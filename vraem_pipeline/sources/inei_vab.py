"""INEI's departmental GDP workbooks (`raw/inei/vab/`), read exactly as INEI publishes them.

The workbook is a printed table, not a data file (source note §7, `../shared/realdata/README.md`): title rows
above the header, a header whose year cells mix integers and text with flags (`2007`, `2023P/`, `2025E/`),
department rows with accents, Lima followed by sub-rows that repeat part of it, the national rows
(`Valor Agregado Bruto`, `Impuestos a los Productos`, `Derechos de Importación`, `Producto Bruto Interno`),
then a source line and an "información disponible a …" line. Nothing here depends on a row or column number:

* the sheet is `HOJA` (`cuadro1`: constant 2007 prices in INEI's numbering); the title rows must say
  "precios constantes de 2007" and name the unit, so a sheet at current prices or of shares is refused, and
  the unit is converted explicitly to miles de soles (`FACTOR_A_MILES`);
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
  (`pbi_departamentos_2026.xlsx`, `…_2025-06.xlsx`; `_periodos_del_nombre`) must be the edition's, and the
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

#: The sheet read: INEI numbers the departmental tables cuadro1 (constant 2007 prices, miles de soles),
#: cuadro2 (shares) … cuadro4 (current prices); only constant prices are comparable across years.
HOJA = "cuadro1"
#: What the title rows must say: a table at current prices or of shares is a different figure.
PRECIOS_CONSTANTES = "precios constantes de 2007"
#: Unit printed in the title rows → factor to miles de soles (the staging unit). Longest name first.
FACTOR_A_MILES = {"millones de soles": 1000.0, "miles de soles": 1.0, "soles": 0.001}
#: The activity code of the all-activity (departmental) table.
ACTIVIDAD_TOTAL = "total"
#: Year-header flag → `estado_cifra`.
ESTADOS_CIFRA = {"": "definitiva", "P": "preliminar", "E": "estimada"}
TIPOS_FILA = ("departamento", "subdivision", "vab", "impuestos_productos", "derechos_importacion", "pbi")
#: Extensions looked at in raw/inei/vab/ (any case); the bytes decide the format, not the name.
EXTENSIONES = (".xlsx", ".xlsm", ".xls")
#: Columns of a table's cells in long form (one row per labelled row and year), the staging layout.
COLUMNAS_CELDAS = ["archivo", "linea", "columna", "actividad", "etiqueta", "tipo_fila", "ubigeo_departamento",
                   "anio", "estado_cifra", "valor_miles_soles", "edicion"]

_MESES = {m: i for i, m in enumerate(
    ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "setiembre", "octubre",
     "noviembre", "diciembre"), start=1)}
_MESES["septiembre"] = 9
_NOMBRE_MES = {v: k for k, v in _MESES.items() if k != "septiembre"}
#: A year, or a year-month, in a workbook's file name: four digits 19xx/20xx not inside a longer number, then
#: optionally a month 01–12 (`_2026`, `_2025-06`, `_202506`). INEI's own `pbi_peru_17.xlsx` carries none: 17 is
#: its table's number, not a year.
_PERIODO_NOMBRE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:[-_. ]?(0[1-9]|1[0-2]))?(?!\d)")
#: The base year of the constant prices (and the series' first year): in a name it names the prices, not an
#: edition (`pbi_precios_2007.xlsx`), so it is not compared with the edition line.
ANIO_BASE = 2007
_ANIO_CABECERA = re.compile(r"^(\d{4})(?:\.0+)?\s*(?:([PpEe])\s*/?)?$")
_EDICION = re.compile(r"informacion disponible (?:a|al|hasta)\s+(?:(?:el )?\d{1,2} de )?(\w+)\s+(?:de |del )?(\d{4})")
_LLAMADA = re.compile(r"(\s*\d+\s*/)+\s*$|\s*\*+\s*$")  # footnote calls after a label: "Lima 1/", "Lima *"
#: Labels that start the notes under the table (after normalization).
_NOTAS = ("fuente", "nota", "elaboracion", "con informacion disponible", "informacion disponible")
_NOTA_LLAMADA = re.compile(r"^(?:\d+|p|e)\s*/")  # "1/ Incluye…", "P/ Preliminar", "E/ Estimado"


def normalizar(texto: object) -> str:
    """Matching key of a label: lower case, accents removed, punctuation as spaces, spaces collapsed."""
    s = unicodedata.normalize("NFKD", str(texto).lower())
    s = "".join(c for c in s if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", s).strip()


def etiqueta_sin_llamada(texto: str) -> str:
    """The label without footnote calls (`Lima 1/` → `Lima`)."""
    return _LLAMADA.sub("", str(texto)).strip()


@lru_cache(maxsize=1)
def clasificacion_filas() -> dict[str, tuple[str, str | None]]:
    """Normalized label → (tipo_fila, ubigeo_departamento): the 25 INEI department names and the shipped
    `inei_vab_filas.csv` (Callao's long names, Lima's sub-rows, the national rows)."""
    out: dict[str, tuple[str, str | None]] = {normalizar(n): ("departamento", c) for c, n in department_names().items()}
    for etiqueta, tipo, dep in reference_csv("inei_vab_filas.csv").itertuples(index=False):
        if tipo not in TIPOS_FILA:
            raise ValueError(f"inei_vab_filas.csv: tipo_fila desconocido {tipo!r}")
        out[normalizar(etiqueta)] = (tipo, dep or None)
    return out


def clasificar_etiqueta(texto: str) -> tuple[str, str | None] | None:
    """(tipo_fila, ubigeo_departamento) of a row label regardless of accents, case and footnote calls;
    None when the label is none of INEI's rows."""
    return clasificacion_filas().get(normalizar(etiqueta_sin_llamada(texto)))


@lru_cache(maxsize=1)
def actividades() -> pd.DataFrame:
    """INEI's 12 activities of the departmental accounts: `actividad, orden, nombre, alias`."""
    return reference_csv("inei_actividades.csv")


def actividad_del_titulo(titulo: str) -> str | None:
    """The activity a per-activity workbook names in its title rows; None for the all-activity table.

    Aliases are matched as whole words, longest first; a shorter alias inside an accepted one is not another
    activity ("Telecomunicaciones y otros servicios de información" contains "otros servicios"). Two
    activities named apart raise ValueError (the caller turns it into the file's error)."""
    texto = f" {normalizar(titulo)} "
    hallados = sorted(((len(k), k, act) for act, alias in zip(actividades()["actividad"], actividades()["alias"],
                                                                  strict=True)
                       for k in {normalizar(a) for a in alias.split("|")} if k and f" {k} " in texto), reverse=True)
    aceptados: list[tuple[str, str]] = []
    for _, clave, act in hallados:
        if any(clave in k for k, _ in aceptados):
            continue
        aceptados.append((clave, act))
    actividades_halladas = sorted({act for _, act in aceptados})
    if len(actividades_halladas) > 1:
        raise ValueError(f"el título nombra varias actividades: {actividades_halladas}")
    return actividades_halladas[0] if actividades_halladas else None


@dataclass(frozen=True)
class Cuadro:
    """One workbook's table, its cells in long form (one row per labelled row and year) and what the
    title and notes say about it."""

    path: Path
    actividad: str
    titulo: str
    unidad: str
    factor_miles: float
    anios: tuple[int, ...]
    notas: tuple[str, ...]
    edicion: str | None  # the "información disponible a …" line, as printed
    edicion_clave: tuple[int, int] | None  # (year, month) of that line, to compare editions
    celdas: pd.DataFrame = field(repr=False)

    @property
    def label(self) -> str:
        return str(self.path)

    @property
    def filas_leidas(self) -> int:
        return len(self.celdas)


def _libro(path: Path):
    """The workbook, whatever its extension says: INEI (like the SBS) sometimes names an xlsx `.xls`; a real
    BIFF8 `.xls` is refused with what to do, since no reader here can take it."""
    import openpyxl

    data = path.read_bytes()
    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise SourceFileError(path, "es un libro Excel 97-2003 (BIFF8): ábralo y guárdelo como .xlsx",
                              rule="formato_xlsx")
    if data[:2] != b"PK":
        raise SourceFileError(path, "no es un libro Excel .xlsx (no empieza con la firma de un zip)",
                              rule="formato_xlsx")
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


def _anio_cabecera(valor: object) -> tuple[int, str] | None:
    """(year, flag) of a header cell: 2007, 2007.0, '2023P/', '2024 P/', '2025E/'; None if it is not a year."""
    if isinstance(valor, bool):
        return None
    if isinstance(valor, int | float):
        return (int(valor), "") if float(valor).is_integer() else None
    m = _ANIO_CABECERA.match(str(valor).strip())
    return (int(m.group(1)), (m.group(2) or "").upper()) if m else None


def _es_nota(texto: str) -> bool:
    n = normalizar(texto)
    return n.startswith(_NOTAS) or bool(_NOTA_LLAMADA.match(str(texto).strip().lower()))


def _edicion(notas: list[str]) -> tuple[str | None, tuple[int, int] | None]:
    for nota in notas:
        m = _EDICION.search(normalizar(nota))
        if m and m.group(1) in _MESES:
            return nota.strip(), (int(m.group(2)), _MESES[m.group(1)])
    return None, None


def _periodos_del_nombre(path: Path) -> list[tuple[int, int | None]]:
    """(year, month or None) of every period the file name carries, in order, the price base year left out."""
    return [(int(m.group(1)), int(m.group(2)) if m.group(2) else None)
            for m in _PERIODO_NOMBRE.finditer(Path(path).stem) if int(m.group(1)) != ANIO_BASE]


def _texto_periodo(anio: int, mes: int | None) -> str:
    return f"{_NOMBRE_MES[mes]} del {anio}" if mes else str(anio)


def _check_edicion(path: Path, hoja: str, edicion: str | None, clave: tuple[int, int] | None,
                   anios: list[tuple[int, int, str]], linea_cabecera: int) -> None:
    """What the file says about its period agrees with its edition line: every year (year-month) of its name is
    the edition's, and no year column comes after the edition's year. Without an edition line there is nothing
    to compare with (such a workbook is ranked as "sin fecha" by `select_workbooks`)."""
    from openpyxl.utils import get_column_letter

    if clave is None:
        return
    for anio, mes in _periodos_del_nombre(path):
        if anio != clave[0] or (mes is not None and mes != clave[1]):
            raise SourceFileError(path, f"el nombre del archivo dice {_texto_periodo(anio, mes)} pero el libro es "
                                        f"la edición de {_texto_periodo(*clave)} («{edicion}»): renómbrelo con su "
                                        "edición o ponga el libro de esa edición", rule="edicion_del_nombre")
    posteriores = [(j, a) for j, a, _ in anios if a > clave[0]]
    if posteriores:
        j, a = posteriores[0]
        raise SourceFileError(path, f"hoja {hoja}, columna {get_column_letter(j + 1)}: el año {a} es posterior a la "
                                    f"edición «{edicion}» ({clave[0]}): una edición no trae años que aún no "
                                    "ocurrieron", line=linea_cabecera, rule="anio_posterior_a_la_edicion")


def read_workbook(path: Path, hoja: str = HOJA) -> Cuadro:
    """Read one INEI departmental GDP workbook (all activities, or one activity) as published.

    Raises `SourceFileError` naming the file, the row and the rule for what makes the table unreadable: no
    such sheet, no `Departamentos` header, a header cell that is not a year, a title without constant 2007
    prices or without a unit, an unknown row label, numbers in a row without a label. Cells that are not
    numbers, or missing, are kept as they are: validation sends them to quarantine with their row.
    """
    from openpyxl.utils import get_column_letter

    path = Path(path)
    libro = _libro(path)
    try:
        nombres = {n.lower(): n for n in libro.sheetnames}
        if hoja.lower() not in nombres:
            raise SourceFileError(path, f"no tiene la hoja {hoja} (hojas: {', '.join(libro.sheetnames)})",
                                  rule="hoja_cuadro1")
        hoja_ = libro[nombres[hoja.lower()]]
        hoja_.reset_dimensions()  # a workbook's stored dimension can be stale: read every row and column there is
        filas = [list(r) for r in hoja_.iter_rows(values_only=True)]
    finally:
        libro.close()

    cabecera = col_etiqueta = None
    for i, fila in enumerate(filas):
        for j, v in enumerate(fila):
            if isinstance(v, str) and normalizar(v) in ("departamentos", "departamento"):
                cabecera, col_etiqueta = i, j
                break
        if cabecera is not None:
            break
    if cabecera is None:
        raise SourceFileError(path, f"hoja {hoja}: no hay una fila de cabecera con la etiqueta 'Departamentos'",
                              rule="cabecera_departamentos")
    titulo = " ".join(str(v).strip() for f in filas[:cabecera] for v in f if v is not None and str(v).strip())
    titulo_n = normalizar(titulo)
    if PRECIOS_CONSTANTES not in titulo_n:
        raise SourceFileError(path, f"hoja {hoja}: el título no dice 'precios constantes de 2007' ({titulo!r})",
                              line=cabecera + 1, rule="precios_constantes_2007")
    unidad = next((u for u in FACTOR_A_MILES if re.search(rf"\b{u}\b", titulo_n)), None)
    if unidad is None:
        raise SourceFileError(path, f"hoja {hoja}: el título no dice la unidad (miles/millones de soles): {titulo!r}",
                              line=cabecera + 1, rule="unidad")
    try:
        actividad = actividad_del_titulo(titulo) or ACTIVIDAD_TOTAL
    except ValueError as exc:
        raise SourceFileError(path, f"hoja {hoja}: {exc}", line=cabecera + 1, rule="actividad") from None

    anios: list[tuple[int, int, str]] = []  # (column, year, flag)
    for j, v in enumerate(filas[cabecera]):
        if j <= col_etiqueta or v is None or not str(v).strip():
            continue
        parsed = _anio_cabecera(v)
        if parsed is None:
            raise SourceFileError(path, f"hoja {hoja}, columna {get_column_letter(j + 1)}: la cabecera {v!r} no es "
                                        "un año (2007, 2023P/, 2025E/)", line=cabecera + 1, rule="anio_cabecera")
        anios.append((j, *parsed))
    vistos = [a for _, a, _ in anios]
    if not anios or len(set(vistos)) != len(vistos):
        raise SourceFileError(path, f"hoja {hoja}: años de la cabecera vacíos o repetidos {vistos}",
                              line=cabecera + 1, rule="anio_cabecera")

    registros, notas = [], []
    en_notas = False
    factor = FACTOR_A_MILES[unidad]
    for i in range(cabecera + 1, len(filas)):
        fila = filas[i]
        etiqueta = fila[col_etiqueta] if col_etiqueta < len(fila) else None
        etiqueta = str(etiqueta).strip() if etiqueta is not None and str(etiqueta).strip() else None
        valores = [fila[j] if j < len(fila) else None for j, _, _ in anios]
        hay_valores = any(v is not None and str(v).strip() for v in valores)
        if etiqueta is not None and (en_notas or _es_nota(etiqueta)):
            en_notas = True
            notas.append(etiqueta)
            continue
        if en_notas or etiqueta is None:
            if hay_valores:
                raise SourceFileError(path, f"hoja {hoja}: fila con cifras y sin etiqueta de departamento",
                                      line=i + 1, rule="fila_sin_etiqueta")
            continue
        tipo = clasificar_etiqueta(etiqueta)
        if tipo is None:
            raise SourceFileError(path, f"hoja {hoja}: fila {etiqueta!r} no es un departamento ni una fila del "
                                        "INEI conocida (reference/inei_vab_filas.csv)", line=i + 1,
                                  rule="fila_desconocida")
        for (j, anio, marca), v in zip(anios, valores, strict=True):
            if isinstance(v, int | float) and not isinstance(v, bool):
                valor: object = float(v) * factor  # explicit unit conversion to miles de soles
            elif v is None or (isinstance(v, str) and not v.strip()):
                valor = None
            else:
                valor = str(v)  # kept as published: validation quarantines it (tipo_de_dato)
            registros.append({
                "archivo": str(path), "linea": i + 1, "columna": get_column_letter(j + 1), "actividad": actividad,
                "etiqueta": etiqueta, "tipo_fila": tipo[0], "ubigeo_departamento": tipo[1], "anio": anio,
                "estado_cifra": ESTADOS_CIFRA[marca], "valor_miles_soles": valor,
            })
    edicion, clave = _edicion(notas)
    _check_edicion(path, hoja, edicion, clave, anios, cabecera + 1)
    celdas = pd.DataFrame(registros, columns=COLUMNAS_CELDAS[:-1])
    celdas["valor_miles_soles"] = celdas["valor_miles_soles"].astype(object)
    celdas["edicion"] = edicion
    return Cuadro(path=path, actividad=actividad, titulo=titulo, unidad=unidad, factor_miles=factor,
                  anios=tuple(vistos), notas=tuple(notas), edicion=edicion, edicion_clave=clave, celdas=celdas)



# --------------------------------------------------------------------------------------------------------
# The folder: which workbooks, which edition


#: What `vraem refresh` says it expects in `inei/vab/` when a file there matches nothing (`find_workbooks`).
NOMBRE_ESPERADO = "libros del INEI .xlsx|.xlsm|.xls"


def find_workbooks(folder: Path) -> tuple[list[Path], list[Path]]:
    """(workbooks, ignored files) of `raw/inei/vab/`; Excel's lock files (`~$…`) and hidden files are ignored, a
    workbook in a subfolder (a year folder, as the other sources have) is an error rather than silently unused."""
    if not folder.is_dir():
        return [], []
    libros, otros = [], []
    for p in sorted(folder.iterdir()):
        if p.is_dir() and any(q.suffix.lower() in EXTENSIONES for q in p.rglob("*")):
            # one edition carries the whole series: a workbook in a year folder would be silently unused
            raise SourceFileError(p, "hay libros en una subcarpeta: el cuadro del INEI va directamente en "
                                     "raw/inei/vab/ (una edición trae toda la serie, no va por año)",
                                  rule="carpeta_vab")
        if not p.is_file():
            continue
        if p.suffix.lower() in EXTENSIONES and not p.name.startswith(("~$", ".")):
            libros.append(p)
        else:
            otros.append(p)
    return libros, otros


@dataclass(frozen=True)
class Seleccion:
    """The workbooks a refresh uses: one all-activity table and, when complete, the 12 per-activity tables
    of the same edition; the rest with the reason they were left out (for meta.fuentes)."""

    total: Cuadro | None
    actividades: tuple[Cuadro, ...]
    ignorados: tuple[tuple[Path, str], ...]

    @property
    def usados(self) -> tuple[Cuadro, ...]:
        return ((self.total,) if self.total else ()) + self.actividades


def _edicion_texto(c: Cuadro) -> str:
    return c.edicion or "edición sin fecha"


def select_workbooks(cuadros: list[Cuadro], otros: list[Path] = ()) -> Seleccion:
    """The newest edition wins (by its "información disponible a <mes> del <año>" line).

    Several all-activity tables: the newest is used, the others are named as ignored; two of the same edition,
    or one without that line among several, cannot be ranked and raise. Per-activity tables are used only
    when they are of the chosen edition and the 12 activities are all there, once each: a partial set would
    allocate part of the economy by activity and part not, so it raises naming what is missing. Per-activity
    tables without an all-activity table raise too: national PBI, taxes and import duties are only there.
    """
    ignorados = [(p, "no es un libro .xlsx") for p in otros]
    totales = [c for c in cuadros if c.actividad == ACTIVIDAD_TOTAL]
    por_actividad = [c for c in cuadros if c.actividad != ACTIVIDAD_TOTAL]
    if not totales:
        if por_actividad:
            raise SourceFileError(por_actividad[0].path.parent, "hay cuadros por actividad pero no el cuadro "
                                  "departamental de todas las actividades (con PBI, impuestos y derechos)",
                                  rule="falta_cuadro_departamental")
        return Seleccion(None, (), tuple(ignorados))
    if len(totales) > 1:
        sin_fecha = [c for c in totales if c.edicion_clave is None]
        claves = [c.edicion_clave for c in totales if c.edicion_clave is not None]
        if sin_fecha or len(set(claves)) != len(claves):
            raise SourceFileError(totales[0].path.parent, "no se puede decidir la edición más reciente entre "
                                  + ", ".join(f"{c.path.name} ({_edicion_texto(c)})" for c in totales)
                                  + ": deje uno solo o los de ediciones con fecha distinta", rule="edicion")
    total = max(totales, key=lambda c: c.edicion_clave or (0, 0))
    ignorados += [(c.path, f"edición anterior ({_edicion_texto(c)})") for c in totales if c is not total]
    misma = [c for c in por_actividad if c.edicion_clave == total.edicion_clave]
    ignorados += [(c.path, f"cuadro por actividad de otra edición ({_edicion_texto(c)})")
                  for c in por_actividad if c.edicion_clave != total.edicion_clave]
    if misma:
        codigos = list(actividades()["actividad"])
        vistas = [c.actividad for c in misma]
        faltan = [a for a in codigos if a not in vistas]
        repetidas = sorted({a for a in vistas if vistas.count(a) > 1})
        if faltan or repetidas:
            raise SourceFileError(misma[0].path.parent, f"cuadros por actividad de la edición {_edicion_texto(total)} "
                                  f"incompletos: faltan {faltan or '—'}, repetidas {repetidas or '—'} (use las 12 "
                                  "actividades o ninguna)", rule="actividades_incompletas")
        misma.sort(key=lambda c: codigos.index(c.actividad))
    return Seleccion(total, tuple(misma), tuple(ignorados))


def read_folder(folder: Path, hoja: str = HOJA) -> Seleccion:
    """Every workbook of `raw/inei/vab/` read, then the edition chosen (`select_workbooks`)."""
    libros, otros = find_workbooks(folder)
    return select_workbooks([read_workbook(p, hoja) for p in libros], otros)
