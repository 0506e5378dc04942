"""What the report prints, read from the published warehouse only (marts, meta, referencia).

The report never reads `raw/` or the operator database: it is a view of what analysts can query, so every
number on the page is a row they can find, and every "Fuente" line is a `meta.fuentes`/`meta.parametros` row.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import duckdb

from vraem_pipeline.core.catalog import Topic
from vraem_pipeline.core.databases import table_exists
from vraem_pipeline.core.references import department_names, reference_csv, territory_name
from vraem_pipeline.registry import topic
from vraem_pipeline.sources import padron


@dataclass(frozen=True)
class Chart:
    """One chart: one marts table of docs/methodology/README.md#marts-tables, drawn for the report's year (or its
    series)."""

    mart: str
    titulo: str
    tipo: str  # "evolucion": bars over the years; "distribucion": the year's categories
    valor: str
    unidad: str  # how the bars' labels are written: "entero", "millones", "pct"
    category: str | None = None  # column with the category label (distribucion)
    codigo: str | None = None  # column with the category code, looked up in etiquetas_informe.csv
    var: str | None = None  # the annual-change column drawn under each year (evolucion)
    cv: bool = False  # the mart has `cv_pct` and `referencial` (survey estimates)
    max_value: int = 8  # categories drawn; the rest are summed as "Otros"


@dataclass(frozen=True)
class ReportTopic:
    """A block of the report: a topic of the registry (its sources, the parameters that shape it, the key figure
    whose `fuente` heads its source line) and its charts."""

    topic: Topic
    charts: tuple[Chart, ...]

    @property
    def clave(self) -> str:
        return self.topic.name

    @property
    def titulo(self) -> str:
        return self.topic.title

    @property
    def fuentes(self) -> tuple[str, ...]:  # meta.fuentes.fuente
        return self.topic.source_names

    @property
    def parametros(self) -> tuple[str, ...]:  # meta.parametros.tema
        return (self.topic.name, *self.topic.parameters)

    @property
    def codes(self) -> tuple[str, ...]:  # indicadores_clave codes whose `fuente` text heads the source line
        return self.topic.key_codes


REPORT_TOPICS: tuple[ReportTopic, ...] = (
    ReportTopic(
        topic("empresas"),
        (
            Chart(
                "empresas_evolucion", "Número de empresas formales", "evolucion", "n_empresas", "entero", var="var_pct"
            ),
            Chart(
                "empresas_por_sector",
                "Empresas formales por sector económico (%)",
                "distribucion",
                "participacion_pct",
                "pct",
                codigo="sector",
            ),
            Chart(
                "empresas_por_departamento",
                "Empresas formales por departamento (%)",
                "distribucion",
                "participacion_pct",
                "pct",
                category="departamento",
            ),
            Chart(
                "empresas_por_estrato",
                "Empresas formales por estrato empresarial (%)",
                "distribucion",
                "participacion_pct",
                "pct",
                codigo="estrato",
            ),
        ),
    ),
    ReportTopic(
        topic("empleo"),
        (
            Chart(
                "empleo_evolucion",
                "PEA ocupada (trabajadores)",
                "evolucion",
                "pea_ocupada",
                "entero",
                var="var_pct",
                cv=True,
            ),
            Chart(
                "empleo_por_tipo",
                "PEA ocupada por tipo de empleo (%)",
                "distribucion",
                "participacion_pct",
                "pct",
                codigo="tipo_empleo",
                cv=True,
            ),
            Chart(
                "empleo_por_sexo",
                "PEA ocupada por sexo (%)",
                "distribucion",
                "participacion_pct",
                "pct",
                codigo="sexo",
                cv=True,
            ),
        ),
    ),
    ReportTopic(
        topic("exportaciones"),
        (
            Chart(
                "exportaciones_evolucion",
                "Exportaciones (millones de US$ FOB)",
                "evolucion",
                "fob_millones_usd",
                "millones",
                var="var_pct",
            ),
            Chart(
                "exportaciones_por_destino",
                "Exportaciones por país de destino (%)",
                "distribucion",
                "participacion_pct",
                "pct",
                category="pais",
            ),
            Chart(
                "exportaciones_por_producto",
                "Exportaciones por producto (clase CIIU Rev.4, %)",
                "distribucion",
                "participacion_pct",
                "pct",
                category="producto",
                max_value=6,
            ),
            Chart(
                "exportaciones_por_departamento",
                "Exportaciones por departamento de origen (%)",
                "distribucion",
                "participacion_pct",
                "pct",
                category="departamento",
            ),
        ),
    ),
    ReportTopic(
        topic("credito"),
        (
            Chart(
                "credito_evolucion",
                "Crédito empresarial (millones de S/)",
                "evolucion",
                "credito_millones_soles",
                "millones",
                var="var_pct",
            ),
            Chart(
                "credito_por_tipo",
                "Crédito empresarial por tipo de crédito (%)",
                "distribucion",
                "participacion_pct",
                "pct",
                codigo="tipo_credito",
            ),
            Chart(
                "credito_por_departamento",
                "Crédito empresarial por departamento (%)",
                "distribucion",
                "participacion_pct",
                "pct",
                category="departamento",
            ),
        ),
    ),
    ReportTopic(
        topic("pbi"),
        (
            Chart(
                "pbi_evolucion",
                "Valor agregado bruto (millones de S/ de 2007)",
                "evolucion",
                "vab_millones_soles_2007",
                "millones",
            ),
        ),
    ),
)

#: A survey estimate whose CV exceeds this is `referencial` (docs/methodology/README.md#marts-tables); the page's
#: footnote quotes it.
CV_INDICATIVE_PCT = 15.0


@dataclass(frozen=True)
class KeyFigure:
    """A key figure of the year; survey ones carry their CV and whether it makes them referencial."""

    valor: float | None
    cv_pct: float | None = None
    referencial: bool = False


@dataclass
class Provenance:
    """The block's "Fuente: … Elaboración: …" line, every part of it a row of `meta`."""

    fuente: str
    archivos: list[dict] = field(default_factory=list)
    parametros: list[dict] = field(default_factory=list)
    #: what the source line adds when the year's Padrón cut is not December's ("cifras del corte de junio…")
    cortes: list[str] = field(default_factory=list)


@dataclass
class Report:
    anio: int
    territorio: str
    n_distritos: int
    departamentos: list[str]
    clave: dict[str, KeyFigure]
    tablas: dict[str, list[dict]]  # mart → the year's rows (distributions sorted by share, largest first)
    series: dict[str, list[dict]]  # mart → every year up to `anio`, oldest first
    procedencia: dict[str, Provenance]
    run_info: dict

    @property
    def _article(self) -> str:
        """ "el VRAEM", "el CORREDOR MINERO SUR", but "Ayacucho": a department's name takes no article."""
        return "" if self.territorio in department_names().values() else "el "

    @property
    def de_territorio(self) -> str:
        return f"del {self.territorio}" if self._article else f"de {self.territorio}"

    @property
    def en_territorio(self) -> str:
        return f"en {self._article}{self.territorio}"


@lru_cache(maxsize=1)
def labels() -> dict[tuple[str, str], str]:
    """(variable, code) → the label the report prints ("pequena" → "Pequeña")."""
    table = reference_csv("etiquetas_informe.csv")
    return {(v, c): e for v, c, e in table[["variable", "codigo", "etiqueta"]].itertuples(index=False)}


def etiqueta(chart: Chart, row: dict) -> str:
    if chart.codigo:
        code = row[chart.codigo]
        return labels().get((chart.codigo, code), code)
    return str(row[chart.category])


def _label_row(chart: Chart, row: dict) -> dict:
    """Adds what sentences need besides the mart's columns: the label, its phrase form and the code's order."""
    row["etiqueta"] = etiqueta(chart, row) if (chart.codigo or chart.category) else None
    if chart.codigo:
        keys = [k for k in labels() if k[0] == chart.codigo]
        code = row[chart.codigo]
        row["orden"] = keys.index((chart.codigo, code)) if (chart.codigo, code) in keys else len(keys)
        row["etiqueta_frase"] = labels().get((f"{chart.codigo}_frase", code), row["etiqueta"].lower())
    return row


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [{k: _clean(v) for k, v in zip(names, r, strict=True)} for r in cur.fetchall()]


def _clean(value):
    return None if isinstance(value, float) and math.isnan(value) else value


def _mart(con, chart: Chart, anio: int) -> tuple[list[dict], list[dict]]:
    if not table_exists(con, f"marts.{chart.mart}"):
        return [], []
    # Table and column names come from TEMAS (code), never from a file.
    series = _rows(con, f'SELECT * FROM marts."{chart.mart}" WHERE anio <= ? ORDER BY ALL', [anio])
    series = [_label_row(chart, r) for r in series]
    year = [r for r in series if r["anio"] == anio]
    if chart.tipo == "distribucion":
        year.sort(key=lambda r: (-(r[chart.valor] or 0), etiqueta(chart, r)))
    return year, series


def _key(con, anio: int) -> dict[str, KeyFigure]:
    values = {
        r["indicador"]: r["valor"]
        for r in _rows(con, "SELECT indicador, valor FROM marts.indicadores_clave WHERE anio = ?", [anio])
    }
    precision = {}
    if table_exists(con, "marts.empleo_precision"):
        precision = {
            r["indicador"]: r
            for r in _rows(
                con, "SELECT indicador, cv_pct, referencial FROM marts.empleo_precision WHERE anio = ?", [anio]
            )
        }
    return {
        code: KeyFigure(value, precision.get(code, {}).get("cv_pct"), bool(precision.get(code, {}).get("referencial")))
        for code, value in values.items()
    }


def _parameter_for_year(valor: str, anio: int) -> str:
    """A parameter stored per year (`{"2024": "reconstruido", …}`) shows that year's value only."""
    try:
        parsed = json.loads(valor)
    except (TypeError, ValueError):
        return str(valor)
    if isinstance(parsed, dict) and str(anio) in parsed:
        parsed = parsed[str(anio)]
    if isinstance(parsed, list):
        return ", ".join(map(str, parsed)) if parsed else "ninguno"
    if isinstance(parsed, dict):
        return "; ".join(f"{k}: {v}" for k, v in parsed.items())
    return "sí" if parsed is True else "no" if parsed is False else str(parsed)


def _provenance(con, tema: ReportTopic, anio: int) -> Provenance:
    fuente = con.execute(
        "SELECT any_value(fuente) FROM marts.indicadores_clave WHERE indicador IN (SELECT unnest(?))",
        [list(tema.codes)],
    ).fetchone()[0]
    archivos = _rows(
        con,
        """
        SELECT fuente, archivo, nota, filas_leidas, filas_aceptadas, filas_rechazadas, sha256
        FROM meta.fuentes
        WHERE fuente IN (SELECT unnest(?)) AND (anio = ? OR fuente = 'inei_vab')
        ORDER BY list_position(?, fuente), archivo""",
        [list(tema.fuentes), anio, list(tema.fuentes)],
    )
    cortes = []
    for a in archivos:
        a["nombre"] = Path(a["archivo"]).name
        padron_cut = padron.cut_of_name(a["nombre"]) if a["fuente"] == "padron_ruc" else None
        if padron_cut and padron.close_phrase(padron_cut):
            cortes.append(padron.close_phrase(padron_cut))
    parametros = _rows(
        con,
        """
        SELECT tema, nombre, valor, descripcion FROM meta.parametros
        WHERE tema IN (SELECT unnest(?)) ORDER BY list_position(?, tema), nombre""",
        [list(tema.parametros), list(tema.parametros)],
    )
    for p in parametros:
        p["valor"] = _parameter_for_year(p["valor"], anio)
    return Provenance(fuente or "sin dato", archivos, parametros, cortes)


def read_report(warehouse: Path | str, anio: int) -> Report:
    """Everything the page prints for `anio`, from the published warehouse, opened read-only."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tablas, series = {}, {}
        for tema in REPORT_TOPICS:
            for g in tema.charts:
                tablas[g.mart], series[g.mart] = _mart(con, g, anio)
        run_info = (
            _rows(
                con,
                "SELECT run_id, fin, territorio FROM meta.ejecuciones "
                "WHERE estado = 'publicado' ORDER BY fin DESC LIMIT 1",
            )
            or [{}]
        )[0]
        departamentos = [
            r["departamento"]
            for r in _rows(
                con,
                """
            SELECT DISTINCT d.departamento, d.ubigeo_departamento FROM referencia.territorio t
            JOIN referencia.departamentos d ON d.ubigeo_departamento = left(t.ubigeo, 2) ORDER BY 2""",
            )
        ]
        return Report(
            anio=anio,
            territorio=territory_name(run_info.get("territorio") or "vraem_distritos.csv"),
            n_distritos=con.execute("SELECT count(*) FROM referencia.territorio").fetchone()[0],
            departamentos=departamentos,
            clave=_key(con, anio),
            tablas=tablas,
            series=series,
            procedencia={t.clave: _provenance(con, t, anio) for t in REPORT_TOPICS},
            run_info=run_info,
        )


def published_years(warehouse: Path | str) -> list[int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [r[0] for r in con.execute("SELECT DISTINCT anio FROM marts.indicadores_clave ORDER BY 1").fetchall()]
