"""GDP: INEI's departmental value added (raw/inei/vab/) → allocation to the territory → the `pbi_*` marts.

The workbook is not a yearly delivery: one edition carries the whole series (2007 on), and the newest edition
replaces it whole, so the staging asset is not partitioned (a year-by-year replace would mix editions). The
allocation runs after the firm register because its default shares are the territory's part of each
department's declared sales (`vraem_pipeline.pbi.allocation`).
"""

import json
import time
from pathlib import Path

import dagster as dg
import pandas as pd

from vraem_pipeline import pbi as pbi_topic
from vraem_pipeline.core.databases import (
    SourceRead,
    ensure_quarantine_table,
    record_parameters,
    replace_all_rows,
    replace_source_files,
    table_exists,
)
from vraem_pipeline.core.marts import sql_text, topic_marts
from vraem_pipeline.core.quality import empty_quarantine, schema_failures, split_valid
from vraem_pipeline.lib.dagster_support import column_schema, markdown_table
from vraem_pipeline.lib.steps import Check, StepContext, mart_part, single, topic_step
from vraem_pipeline.pbi import allocation as pbi
from vraem_pipeline.pbi.schema import INEI_VAB
from vraem_pipeline.sources import inei_vab, shares

GROUP = "pbi"
VAB_SOURCE = pbi_topic.VAB.name
SHARES_SOURCE = pbi_topic.SHARES.name
TABLE = "staging.inei_vab"


def _staged(con) -> pd.DataFrame:
    if not table_exists(con, TABLE):
        return pd.DataFrame(columns=list(INEI_VAB.columns))
    return con.execute(f"SELECT * FROM {TABLE} ORDER BY archivo, linea, columna").df()


def _note(c: inei_vab.WorkbookTable, ignored: tuple[tuple[Path, str], ...]) -> str:
    figure_statuses = c.cell_frame.drop_duplicates("anio").set_index("anio")["estado_cifra"]
    flags = ", ".join(f"{a} {e}" for a, e in figure_statuses.items() if e != "definitiva")
    parts = [
        f"edición: {c.edicion or 'sin línea de información disponible'}",
        f"actividad: {c.actividad}",
        f"hoja {inei_vab.SHEET}; unidad del título: {c.unidad} (× {c.thousands_factor:g} → miles de soles)",
        f"años {min(c.anios)}–{max(c.anios)}" + (f" ({flags})" if flags else ""),
        "filas leídas = celdas (fila del cuadro × año)",
    ]
    if ignored and c.actividad == inei_vab.TOTAL_ACTIVITY:
        parts.append("ignorados: " + "; ".join(f"{p.name} ({m})" for p, m in ignored))
    return "; ".join(parts)


STAGING = dg.AssetKey(["staging", VAB_SOURCE])
DEPARTMENTS = dg.AssetKey(["intermedio", "pbi_departamentos"])
ALLOCATION = dg.AssetKey(["intermedio", "pbi_asignacion"])


def inei_vab_staging(step: StepContext) -> dict:
    t0 = time.perf_counter()
    selection = inei_vab.read_folder(Path(step.vraem.raw_dir) / "inei" / "vab")
    accepted, rejected, reads = [], [], []
    for c in selection.used:
        split = split_valid(c.cell_frame.copy(), INEI_VAB, anio=0, source=c.label)
        rej = split.rejected
        if len(rej):  # a cell's year is its column's: put it back on the quarantined cells
            year_of = dict(zip(c.cell_frame["columna"], c.cell_frame["anio"], strict=False))
            rej = rej.assign(anio=[year_of[json.loads(r)["columna"]] for r in rej["registro_crudo"]])
        accepted.append(split.accepted)
        rejected.append(rej)
        reads.append(
            SourceRead(
                fuente=VAB_SOURCE,
                anio=None,
                path=c.path,
                read_rows=c.filas_leidas,
                accepted_rows=split.n_accepted,
                rejected_rows=len(rej),
                nota=_note(c, selection.ignored),
            )
        )
        step.progress(
            f"inei_vab: {c.path.name} ({c.actividad}, {c.edicion or 'sin edición'}) "
            f"leídas={c.filas_leidas:,} aceptadas={split.n_accepted:,} rechazadas={len(rej):,}",
            t0,
        )
    if not selection.used:
        step.progress("inei_vab: sin cuadros en raw/inei/vab/ (no hay cifras de PBI)", t0)
    staged = pd.concat(accepted, ignore_index=True) if accepted else pd.DataFrame(columns=list(INEI_VAB.columns))
    quarantined = pd.concat(rejected, ignore_index=True) if rejected else empty_quarantine()
    total = selection.total
    con = step.con
    replace_all_rows(con, TABLE, staged, INEI_VAB)
    replace_all_rows(con, ensure_quarantine_table(con, VAB_SOURCE), quarantined)
    replace_source_files(con, VAB_SOURCE, reads, Path(step.vraem.raw_dir))
    record_parameters(
        con,
        VAB_SOURCE,
        {
            "hoja": (
                inei_vab.SHEET,
                "Hoja leída de cada libro: cuadro1 = valores a precios constantes de 2007 (el "
                "título debe decirlo; otra hoja o precios corrientes se rechazan)",
            ),
            "unidad": (
                inei_vab.FACTOR_TO_THOUSANDS,
                "Unidad leída del título → factor a miles de soles (la unidad de "
                "staging.inei_vab), conversión explícita",
            ),
            "edicion": (
                total.edicion if total else None,
                "Edición usada: la más reciente de raw/inei/vab/ por su línea 'Con información disponible a …'",
            ),
            "actividades": (
                [c.actividad for c in selection.activities],
                "Cuadros por actividad usados (vacío: solo el cuadro departamental de todas las actividades)",
            ),
            "tolerancia_redondeo_miles": (
                pbi.ROUNDING_TOLERANCE_THOUSANDS,
                "Media unidad publicada por cifra: una "
                "suma de n cifras impresas puede diferir de su total impreso hasta "
                "0,5 × (n + 1) miles de soles (chequeo consistencia)",
            ),
            "lima_y_callao": (
                "subfilas_fuera; callao_fuera_de_lima_si_lo_incluye",
                "Las subfilas de Lima (Región "
                "Lima, Provincia de Lima, Lima Metropolitana…) no se suman; si la fila Lima es Callao + "
                "sus subfilas (edición 2026), Lima (15) = Lima − Callao y Callao (07) va aparte",
            ),
        },
    )
    return {
        "filas_aceptadas": len(staged),
        "filas_rechazadas": len(quarantined),
        "archivos": dg.MetadataValue.json([str(c.path) for c in selection.used]),
        "ignorados": dg.MetadataValue.json([f"{p} ({m})" for p, m in selection.ignored]),
        "edicion": (total.edicion or "") if total else "",
    }


def inei_vab_schema(con, years: list[int] | None) -> dg.AssetCheckResult:
    df = _staged(con)
    failed = schema_failures(df, INEI_VAB) if len(df) else pd.DataFrame()
    return dg.AssetCheckResult(
        passed=failed.empty,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"filas_validadas": len(df), "fallas": len(failed), "muestra_de_fallas": markdown_table(failed)},
    )


def inei_vab_consistency(con, years: list[int] | None) -> dg.AssetCheckResult:
    df = _staged(con)
    failures = pbi.consistency(df)
    # one line for `vraem refresh` (it prints single-line metadata), the table for the UI
    first_failures = "; ".join(f"{r.actividad} {r.anio} {r.regla}: {r.detalle}" for r in failures.head(3).itertuples())
    return dg.AssetCheckResult(
        passed=failures.empty,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "cuadros_anios": int(df.groupby(["actividad", "anio"]).ngroups) if len(df) else 0,
            "fallas": len(failures),
            "primeras_fallas": first_failures,
            "detalle": markdown_table(failures, limit=50),
        },
    )


# --------------------------------------------------------------------------------------------------------
# Departments and national rows


_DDL = {
    "intermedio.pbi_departamentos": "anio INTEGER, actividad VARCHAR, ubigeo_departamento VARCHAR, "
    "vab_miles_soles DOUBLE, estado_cifra VARCHAR, regla_lima VARCHAR, archivo VARCHAR, "
    "edicion VARCHAR",
    "intermedio.pbi_nacional": "anio INTEGER, vab_miles_soles DOUBLE, impuestos_miles_soles DOUBLE, "
    "derechos_importacion_miles_soles DOUBLE, pbi_miles_soles DOUBLE, estado_cifra VARCHAR, "
    "edicion VARCHAR",
    "intermedio.pbi_participaciones": "anio INTEGER, ubigeo_departamento VARCHAR, actividad VARCHAR, "
    "ventas_territorio_soles DOUBLE, ventas_departamento_soles DOUBLE, "
    "participacion DOUBLE, metodo VARCHAR",
    "intermedio.pbi_asignacion": "anio INTEGER, ubigeo_departamento VARCHAR, actividad VARCHAR, "
    "vab_departamento_miles_soles DOUBLE, participacion DOUBLE, regla_participacion VARCHAR, "
    "vab_territorio_miles_soles DOUBLE, estado_cifra VARCHAR, nivel VARCHAR",
    "intermedio.pbi_territorio": "anio INTEGER, vab_territorio_miles_soles DOUBLE, vab_nacional_miles_soles DOUBLE, "
    "pbi_nacional_miles_soles DOUBLE, denominador VARCHAR, denominador_miles_soles DOUBLE, "
    "participacion_nacional_pct DOUBLE, estado_cifra VARCHAR, nivel VARCHAR, "
    "metodo VARCHAR, metodo_descripcion VARCHAR, denominador_descripcion VARCHAR, "
    "edicion VARCHAR",
    "intermedio.pbi_omitidos": "anio INTEGER, ubigeo_departamento VARCHAR, actividad VARCHAR, motivo VARCHAR",
}


def _write(con, table: str, df: pd.DataFrame) -> int:
    """Replace an intermediate table with a fixed layout (typed even when empty, so the marts always build)."""
    con.execute(f"CREATE OR REPLACE TABLE {table} ({_DDL[table]})")
    if len(df):
        cols = [c.split()[0] for c in _DDL[table].split(", ")]
        con.register("_pbi", df[cols])
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _pbi")
        con.unregister("_pbi")
    return len(df)


def pbi_departamentos(step: StepContext) -> dict:
    staged = _staged(step.con)
    deps = pbi.departamentos(staged)
    national = pbi.nacional(staged)
    n = _write(step.con, "intermedio.pbi_departamentos", deps)
    _write(step.con, "intermedio.pbi_nacional", national)
    return {"filas": n, "nacional": markdown_table(national.tail(8))}


# --------------------------------------------------------------------------------------------------------
# Allocation


class PbiParameters(dg.Config):
    """Choices of the GDP allocation, recorded in meta.parametros (tema pbi) and meta.diccionario."""

    denominador: str = pbi.DENOMINATOR_DEFAULT
    metodo: str = pbi.METHOD_DEFAULT


def pbi_asignacion(step: StepContext) -> dict:
    t0 = time.perf_counter()
    config, vraem = step.config, step.vraem
    if config.denominador not in pbi.DENOMINATORS:
        raise ValueError(f"denominador {config.denominador!r}: use uno de {sorted(pbi.DENOMINATORS)}")
    tabla = shares.find_share_table(Path(vraem.raw_dir) / pbi_topic.SHARES.folder)
    metodo = pbi.resolve_method(config.metodo, tabla)
    con = step.con
    territorio = [
        r[0]
        for r in con.execute(
            "SELECT ubigeo_departamento FROM referencia.territorio_departamentos ORDER BY 1"
        ).fetchall()
    ]
    vab = con.execute("SELECT * FROM intermedio.pbi_departamentos").df()
    national = con.execute("SELECT * FROM intermedio.pbi_nacional").df()
    if metodo == "tabla":
        part = pbi.read_checked_share_table(tabla, territorio)
        anios = None
        ventas_cols = {"ventas_territorio_soles": None, "ventas_departamento_soles": None}
        replace_source_files(
            con,
            SHARES_SOURCE,
            [
                SourceRead(
                    fuente=SHARES_SOURCE,
                    anio=None,
                    path=tabla,
                    read_rows=len(part),
                    accepted_rows=len(part),
                    rejected_rows=0,
                    nota="participaciones del territorio dadas por el usuario (se usa entera o falla)",
                )
            ],
            Path(vraem.raw_dir),
        )
        share_values = part.assign(**ventas_cols)
    else:
        replace_source_files(con, SHARES_SOURCE, [])
        if table_exists(con, "intermedio.empresas_formales"):
            ventas = con.execute(sql_text("intermedio/pbi_ventas.sql")).df()
            anios = [
                r[0]
                for r in con.execute("SELECT DISTINCT anio FROM intermedio.empresas_formales ORDER BY 1").fetchall()
            ]
        else:
            ventas = pd.DataFrame(
                columns=[
                    "anio",
                    "ubigeo_departamento",
                    "actividad",
                    "ventas_territorio_soles",
                    "ventas_departamento_soles",
                ]
            )
            anios = []
        share_values = pbi.shares_from_sales(ventas)
    detalle = pbi.allocate(vab, share_values, territorio, anios)
    res = pbi.annual_summary(detalle, national, config.denominador)
    edicion = national["edicion"].dropna().iloc[0] if len(national) and national["edicion"].notna().any() else None
    anual = res.anual.assign(
        metodo=metodo,
        metodo_descripcion=pbi.METHODS[metodo] + (f" ({tabla})" if metodo == "tabla" else ""),
        denominador_descripcion=pbi.DENOMINATORS[config.denominador],
        edicion=edicion,
    )
    _write(con, "intermedio.pbi_participaciones", share_values.assign(metodo=metodo))
    _write(con, "intermedio.pbi_asignacion", detalle)
    _write(con, "intermedio.pbi_territorio", anual)
    _write(con, "intermedio.pbi_omitidos", res.omitted)
    levels = {str(a): n for a, n in zip(anual["anio"], anual["nivel"], strict=True)}
    record_parameters(
        con,
        "pbi",
        {
            "metodo_participacion": (
                metodo,
                pbi.METHODS[metodo]
                + (f"; archivo {tabla}" if metodo == "tabla" else "")
                + ". Valor del territorio = Σ departamentos (y actividades) VAB × participación",
            ),
            "denominador": (
                config.denominador,
                "Denominador de pbi_participacion_nacional_pct: "
                + pbi.DENOMINATORS[config.denominador]
                + " (alternativas: "
                + "; ".join(f"{k}: {v}" for k, v in pbi.DENOMINATORS.items())
                + ")",
            ),
            "nivel_asignacion": (
                levels,
                "Por año: departamento (VAB de todas las actividades) o "
                "departamento_y_actividad (los 12 cuadros por actividad del INEI)",
            ),
            "participacion_sin_ventas_en_actividad": (
                pbi.NO_SALES_IN_ACTIVITY,
                "Si un departamento no tiene "
                "ventas declaradas en una actividad, esa celda usa la "
                "participación del departamento en todas las actividades",
            ),
            "correspondencia_ciiu_actividad": (
                "reference/ciiu_division_actividad_inei.csv",
                "División CIIU Rev.4 de la empresa → actividad del INEI (referencia.ciiu_division_actividad_inei)",
            ),
            "departamentos": (
                territorio,
                "Departamentos de los distritos del territorio: fuera de ellos la participación es 0",
            ),
            "anios_omitidos": (
                sorted({int(a) for a in res.omitted["anio"]}),
                "Años sin cifra porque un "
                "departamento del territorio no tiene participación (ver intermedio.pbi_omitidos)",
            ),
        },
    )
    step.progress_years(
        "pbi",
        [
            f"pbi {row.anio}: territorio S/ {row.vab_territorio_miles_soles / 1000:,.1f} millones de "
            f"2007, {row.participacion_nacional_pct:.3f} % del {row.denominador} ({metodo})"
            for row in anual.itertuples()
        ],
        t0,
    )
    return {
        "metodo": metodo,
        "denominador": config.denominador,
        "por_anio": markdown_table(
            anual[["anio", "vab_territorio_miles_soles", "participacion_nacional_pct", "nivel"]]
        ),
        "omitidos": markdown_table(res.omitted),
    }


def complete_shares(con, years: list[int] | None) -> dg.AssetCheckResult:
    omitted = con.execute("SELECT * FROM intermedio.pbi_omitidos ORDER BY ALL").df()
    fallback_cells = con.execute(
        "SELECT anio, count(*) AS celdas, sum(vab_territorio_miles_soles) AS vab_territorio_miles_soles "
        "FROM intermedio.pbi_asignacion WHERE regla_participacion = 'total_departamento' GROUP BY anio ORDER BY anio"
    ).df()
    return dg.AssetCheckResult(
        passed=omitted.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "omitidos": markdown_table(omitted, limit=50),
            "celdas_con_participacion_total": markdown_table(fallback_cells),
        },
    )


def coherent_allocation(con, years: list[int] | None) -> dg.AssetCheckResult:
    bad = con.execute(
        """SELECT anio, ubigeo_departamento, actividad, participacion FROM intermedio.pbi_asignacion
           WHERE participacion < 0 OR participacion > 1
              OR vab_territorio_miles_soles > vab_departamento_miles_soles + 1e-6"""
    ).df()
    sums = con.execute(
        """SELECT t.anio, t.vab_territorio_miles_soles, s.suma FROM intermedio.pbi_territorio AS t
           JOIN (SELECT anio, sum(vab_territorio_miles_soles) AS suma FROM intermedio.pbi_asignacion GROUP BY anio)
             AS s USING (anio)
           WHERE abs(t.vab_territorio_miles_soles - s.suma) > 1e-6 * greatest(1, abs(s.suma))"""
    ).df()
    return dg.AssetCheckResult(
        passed=bad.empty and sums.empty,
        metadata={"celdas_fuera_de_rango": markdown_table(bad), "anios_que_no_suman": markdown_table(sums)},
    )


PBI_MARTS = topic_marts("pbi")


def indicadores_pbi(step: StepContext) -> dict:
    con = step.con
    edicion = con.execute("SELECT any_value(edicion) FROM intermedio.pbi_territorio").fetchone()[0]
    fuente = (
        "INEI, Producto Bruto Interno por departamentos a precios constantes de 2007"
        + (f" ({edicion})" if edicion else "")
        + "; asignación al territorio: ver meta.parametros, tema pbi"
    )
    con.execute(
        f"CREATE OR REPLACE TABLE intermedio.indicadores_pbi AS {sql_text('indicadores/pbi.sql')}", {"fuente": fuente}
    )
    return {"filas": con.execute("SELECT count(*) FROM intermedio.indicadores_pbi").fetchone()[0]}


#: Not partitioned: one edition of INEI's workbook carries every year, and a newer one replaces the series whole.
all_years = topic_step(
    "pbi",
    [
        single(
            dg.AssetSpec(
                STAGING,
                group_name=GROUP,
                kinds={"duckdb", "pandas"},
                metadata={"dagster/column_schema": column_schema(INEI_VAB), "tabla": TABLE},
                description="INEI, PBI por departamentos a precios constantes de 2007 (raw/inei/vab/, la "
                "edición más reciente y, si están completos, sus 12 cuadros por actividad): cada "
                "fila × año validada; cifras inválidas a quarantine.inei_vab",
            ),
            inei_vab_staging,
            [
                Check(
                    "esquema",
                    STAGING,
                    f"Las filas de {TABLE} cumplen el esquema pandera {INEI_VAB.name} (bloqueante)",
                    inei_vab_schema,
                    blocking=True,
                ),
                Check(
                    "consistencia",
                    STAGING,
                    "Cada cuadro y año: los 25 departamentos una vez; Lima = sus subfilas (con "
                    "o sin Callao); Σ departamentos = VAB; VAB + impuestos + derechos = PBI; 12 actividades = "
                    f"total del departamento; todo dentro de {pbi.ROUNDING_TOLERANCE_THOUSANDS} miles × (n + 1) "
                    "para n cifras sumadas (redondeo de lo impreso). Bloqueante",
                    inei_vab_consistency,
                    blocking=True,
                ),
            ],
        ),
        single(
            dg.AssetSpec(
                DEPARTMENTS,
                deps=[STAGING],
                group_name=GROUP,
                kinds={"duckdb", "pandas"},
                description="VAB de los 25 departamentos por año (y actividad), sin las subfilas de Lima y con "
                "el Callao fuera de Lima; y las filas nacionales (VAB, impuestos, derechos, PBI)",
            ),
            pbi_departamentos,
        ),
        single(
            dg.AssetSpec(
                ALLOCATION,
                deps=[
                    DEPARTMENTS,
                    dg.AssetKey(["intermedio", "empresas_formales"]),
                    dg.AssetKey(["referencia", "tablas"]),
                ],
                group_name=GROUP,
                kinds={"duckdb", "pandas"},
                description="Valor agregado del territorio: VAB departamental (por actividad si hay cuadros "
                "por actividad) × participación del territorio (ventas declaradas de las empresas "
                "formales, o la tabla del usuario); participación nacional sobre el denominador "
                "elegido",
            ),
            pbi_asignacion,
            [
                Check(
                    "participaciones_completas",
                    ALLOCATION,
                    "Advierte si un año con ventas declaradas (o con la tabla "
                    "del usuario) queda sin cifra porque un departamento del territorio no tiene participación, y "
                    "cuántas celdas por actividad usaron la participación total del departamento",
                    complete_shares,
                ),
                Check(
                    "asignacion_coherente",
                    ALLOCATION,
                    "Participaciones entre 0 y 1, el territorio nunca más que su "
                    "departamento, y el valor anual igual a la suma de sus celdas (bloqueante)",
                    coherent_allocation,
                    blocking=True,
                ),
            ],
        ),
        mart_part(PBI_MARTS, [ALLOCATION], GROUP),
        single(
            dg.AssetSpec(
                ["intermedio", "indicadores_pbi"],
                deps=[["marts", m] for m in PBI_MARTS],
                group_name=GROUP,
                kinds={"duckdb", "sql"},
                description="Cifras clave del PBI (pbi_vraem_millones_soles_2007, pbi_participacion_nacional_pct)",
            ),
            indicadores_pbi,
        ),
    ],
    yearly=False,
    config_cls=PbiParameters,
    description="PBI departamental del INEI, su asignación al territorio, marts y cifras clave",
)
