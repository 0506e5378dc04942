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
from vraem_pipeline.pbi import allocation as pbi
from vraem_pipeline.lib.dagster_support import column_schema, markdown_table
from vraem_pipeline.core.marts import sql_text, topic_marts
from vraem_pipeline.core.quality import empty_quarantine, schema_failures, split_valid
from vraem_pipeline.pbi.schema import INEI_VAB
from vraem_pipeline.sources import inei_vab, shares
from vraem_pipeline.lib.steps import Check, StepContext, mart_part, single, topic_step
from vraem_pipeline.core.databases import (SourceRead, ensure_quarantine_table, record_parameters, replace_all_rows,
                                      replace_source_files, table_exists)

GROUP = "pbi"
FUENTE_VAB = pbi_topic.VAB.name
FUENTE_PARTICIPACIONES = pbi_topic.PARTICIPACIONES.name
TABLA = "staging.inei_vab"


def _staged(con) -> pd.DataFrame:
    if not table_exists(con, TABLA):
        return pd.DataFrame(columns=list(INEI_VAB.columns))
    return con.execute(f"SELECT * FROM {TABLA} ORDER BY archivo, linea, columna").df()


def _nota(c: inei_vab.Cuadro, ignorados: tuple[tuple[Path, str], ...]) -> str:
    marcas = c.celdas.drop_duplicates("anio").set_index("anio")["estado_cifra"]
    flags = ", ".join(f"{a} {e}" for a, e in marcas.items() if e != "definitiva")
    partes = [f"edición: {c.edicion or 'sin línea de información disponible'}", f"actividad: {c.actividad}",
              f"hoja {inei_vab.HOJA}; unidad del título: {c.unidad} (× {c.factor_miles:g} → miles de soles)",
              f"años {min(c.anios)}–{max(c.anios)}" + (f" ({flags})" if flags else ""),
              "filas leídas = celdas (fila del cuadro × año)"]
    if ignorados and c.actividad == inei_vab.ACTIVIDAD_TOTAL:
        partes.append("ignorados: " + "; ".join(f"{p.name} ({m})" for p, m in ignorados))
    return "; ".join(partes)


STAGING = dg.AssetKey(["staging", FUENTE_VAB])
DEPARTAMENTOS = dg.AssetKey(["intermedio", "pbi_departamentos"])
ASIGNACION = dg.AssetKey(["intermedio", "pbi_asignacion"])


def inei_vab_staging(step: StepContext) -> dict:
    t0 = time.perf_counter()
    seleccion = inei_vab.read_folder(Path(step.vraem.raw_dir) / "inei" / "vab")
    accepted, rejected, reads = [], [], []
    for c in seleccion.usados:
        split = split_valid(c.celdas.copy(), INEI_VAB, anio=0, source=c.label)
        rej = split.rejected
        if len(rej):  # a cell's year is its column's: put it back on the quarantined cells
            anio_de = dict(zip(c.celdas["columna"], c.celdas["anio"], strict=False))
            rej = rej.assign(anio=[anio_de[json.loads(r)["columna"]] for r in rej["registro_crudo"]])
        accepted.append(split.accepted)
        rejected.append(rej)
        reads.append(SourceRead(fuente=FUENTE_VAB, anio=None, path=c.path, leidas=c.filas_leidas,
                                aceptadas=split.n_accepted, rechazadas=len(rej), nota=_nota(c, seleccion.ignorados)))
        step.progress(f"inei_vab: {c.path.name} ({c.actividad}, {c.edicion or 'sin edición'}) "
                      f"leídas={c.filas_leidas:,} aceptadas={split.n_accepted:,} rechazadas={len(rej):,}", t0)
    if not seleccion.usados:
        step.progress("inei_vab: sin cuadros en raw/inei/vab/ (no hay cifras de PBI)", t0)
    staged = pd.concat(accepted, ignore_index=True) if accepted else pd.DataFrame(columns=list(INEI_VAB.columns))
    quarantined = pd.concat(rejected, ignore_index=True) if rejected else empty_quarantine()
    total = seleccion.total
    con = step.con
    replace_all_rows(con, TABLA, staged, INEI_VAB)
    replace_all_rows(con, ensure_quarantine_table(con, FUENTE_VAB), quarantined)
    replace_source_files(con, FUENTE_VAB, reads, Path(step.vraem.raw_dir))
    record_parameters(con, FUENTE_VAB, {
        "hoja": (inei_vab.HOJA, "Hoja leída de cada libro: cuadro1 = valores a precios constantes de 2007 (el "
                                "título debe decirlo; otra hoja o precios corrientes se rechazan)"),
        "unidad": (inei_vab.FACTOR_A_MILES, "Unidad leída del título → factor a miles de soles (la unidad de "
                                            "staging.inei_vab), conversión explícita"),
        "edicion": (total.edicion if total else None, "Edición usada: la más reciente de raw/inei/vab/ por su "
                                                      "línea 'Con información disponible a …'"),
        "actividades": ([c.actividad for c in seleccion.actividades], "Cuadros por actividad usados (vacío: "
                        "solo el cuadro departamental de todas las actividades)"),
        "tolerancia_redondeo_miles": (pbi.TOLERANCIA_REDONDEO_MILES, "Media unidad publicada por cifra: una "
                                      "suma de n cifras impresas puede diferir de su total impreso hasta "
                                      "0,5 × (n + 1) miles de soles (chequeo consistencia)"),
        "lima_y_callao": ("subfilas_fuera; callao_fuera_de_lima_si_lo_incluye", "Las subfilas de Lima (Región "
                          "Lima, Provincia de Lima, Lima Metropolitana…) no se suman; si la fila Lima es Callao + "
                          "sus subfilas (edición 2026), Lima (15) = Lima − Callao y Callao (07) va aparte"),
    })
    return {
        "filas_aceptadas": len(staged), "filas_rechazadas": len(quarantined),
        "archivos": dg.MetadataValue.json([str(c.path) for c in seleccion.usados]),
        "ignorados": dg.MetadataValue.json([f"{p} ({m})" for p, m in seleccion.ignorados]),
        "edicion": (total.edicion or "") if total else "",
    }


def inei_vab_esquema(con, years: list[int] | None) -> dg.AssetCheckResult:
    df = _staged(con)
    failed = schema_failures(df, INEI_VAB) if len(df) else pd.DataFrame()
    return dg.AssetCheckResult(passed=failed.empty, severity=dg.AssetCheckSeverity.ERROR,
                               metadata={"filas_validadas": len(df), "fallas": len(failed),
                                         "muestra_de_fallas": markdown_table(failed)})


def inei_vab_consistencia(con, years: list[int] | None) -> dg.AssetCheckResult:
    df = _staged(con)
    fallas = pbi.consistencia(df)
    # one line for `vraem refresh` (it prints single-line metadata), the table for the UI
    primeras = "; ".join(f"{r.actividad} {r.anio} {r.regla}: {r.detalle}" for r in fallas.head(3).itertuples())
    return dg.AssetCheckResult(passed=fallas.empty, severity=dg.AssetCheckSeverity.ERROR,
                               metadata={"cuadros_anios": int(df.groupby(["actividad", "anio"]).ngroups) if len(df) else 0,
                                         "fallas": len(fallas), "primeras_fallas": primeras,
                                         "detalle": markdown_table(fallas, limit=50)})


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
    nac = pbi.nacional(staged)
    n = _write(step.con, "intermedio.pbi_departamentos", deps)
    _write(step.con, "intermedio.pbi_nacional", nac)
    return {"filas": n, "nacional": markdown_table(nac.tail(8))}


# --------------------------------------------------------------------------------------------------------
# Allocation


class ParametrosPbi(dg.Config):
    """Choices of the GDP allocation, recorded in meta.parametros (tema pbi) and meta.diccionario."""

    denominador: str = pbi.DENOMINADOR_DEFAULT
    metodo: str = pbi.METODO_DEFAULT


def pbi_asignacion(step: StepContext) -> dict:
    t0 = time.perf_counter()
    config, vraem = step.config, step.vraem
    if config.denominador not in pbi.DENOMINADORES:
        raise ValueError(f"denominador {config.denominador!r}: use uno de {sorted(pbi.DENOMINADORES)}")
    tabla = shares.find_share_table(Path(vraem.raw_dir) / pbi_topic.PARTICIPACIONES.folder)
    metodo = pbi.resolve_method(config.metodo, tabla)
    con = step.con
    territorio = [r[0] for r in con.execute("SELECT ubigeo_departamento FROM referencia.territorio_departamentos "
                                            "ORDER BY 1").fetchall()]
    vab = con.execute("SELECT * FROM intermedio.pbi_departamentos").df()
    nac = con.execute("SELECT * FROM intermedio.pbi_nacional").df()
    if metodo == "tabla":
        part = pbi.leer_tabla_participaciones(tabla, territorio)
        anios = None
        ventas_cols = {"ventas_territorio_soles": None, "ventas_departamento_soles": None}
        replace_source_files(con, FUENTE_PARTICIPACIONES, [SourceRead(
            fuente=FUENTE_PARTICIPACIONES, anio=None, path=tabla, leidas=len(part), aceptadas=len(part),
            rechazadas=0, nota="participaciones del territorio dadas por el usuario (se usa entera o falla)")],
            Path(vraem.raw_dir))
        participaciones = part.assign(**ventas_cols)
    else:
        replace_source_files(con, FUENTE_PARTICIPACIONES, [])
        if table_exists(con, "intermedio.empresas_formales"):
            ventas = con.execute(sql_text("intermedio/pbi_ventas.sql")).df()
            anios = [r[0] for r in con.execute("SELECT DISTINCT anio FROM intermedio.empresas_formales ORDER BY 1").fetchall()]
        else:
            ventas = pd.DataFrame(columns=["anio", "ubigeo_departamento", "actividad", "ventas_territorio_soles",
                                           "ventas_departamento_soles"])
            anios = []
        participaciones = pbi.participaciones_de_ventas(ventas)
    detalle = pbi.asignar(vab, participaciones, territorio, anios)
    res = pbi.resumen_anual(detalle, nac, config.denominador)
    edicion = nac["edicion"].dropna().iloc[0] if len(nac) and nac["edicion"].notna().any() else None
    anual = res.anual.assign(metodo=metodo, metodo_descripcion=pbi.METODOS[metodo] + (
        f" ({tabla})" if metodo == "tabla" else ""), denominador_descripcion=pbi.DENOMINADORES[config.denominador],
        edicion=edicion)
    _write(con, "intermedio.pbi_participaciones", participaciones.assign(metodo=metodo))
    _write(con, "intermedio.pbi_asignacion", detalle)
    _write(con, "intermedio.pbi_territorio", anual)
    _write(con, "intermedio.pbi_omitidos", res.omitidos)
    niveles = {str(a): n for a, n in zip(anual["anio"], anual["nivel"], strict=True)}
    record_parameters(con, "pbi", {
        "metodo_participacion": (metodo, pbi.METODOS[metodo] + (f"; archivo {tabla}" if metodo == "tabla" else "")
                                 + ". Valor del territorio = Σ departamentos (y actividades) VAB × participación"),
        "denominador": (config.denominador, "Denominador de pbi_participacion_nacional_pct: "
                        + pbi.DENOMINADORES[config.denominador] + " (alternativas: "
                        + "; ".join(f"{k}: {v}" for k, v in pbi.DENOMINADORES.items()) + ")"),
        "nivel_asignacion": (niveles, "Por año: departamento (VAB de todas las actividades) o "
                             "departamento_y_actividad (los 12 cuadros por actividad del INEI)"),
        "participacion_sin_ventas_en_actividad": (pbi.SIN_VENTAS_EN_ACTIVIDAD, "Si un departamento no tiene "
                                                  "ventas declaradas en una actividad, esa celda usa la "
                                                  "participación del departamento en todas las actividades"),
        "correspondencia_ciiu_actividad": ("reference/ciiu_division_actividad_inei.csv", "División CIIU Rev.4 de "
                                           "la empresa → actividad del INEI (referencia.ciiu_division_actividad_inei)"),
        "departamentos": (territorio, "Departamentos de los distritos del territorio: fuera de ellos la "
                          "participación es 0"),
        "anios_omitidos": (sorted({int(a) for a in res.omitidos["anio"]}), "Años sin cifra porque un "
                           "departamento del territorio no tiene participación (ver intermedio.pbi_omitidos)"),
    })
    for row in anual.itertuples():
        step.progress(f"pbi {row.anio}: territorio S/ {row.vab_territorio_miles_soles / 1000:,.1f} millones de "
                      f"2007, {row.participacion_nacional_pct:.3f} % del {row.denominador} ({metodo})", t0)
    return {"metodo": metodo, "denominador": config.denominador,
            "por_anio": markdown_table(anual[["anio", "vab_territorio_miles_soles", "participacion_nacional_pct",
                                              "nivel"]]),
            "omitidos": markdown_table(res.omitidos)}


def participaciones_completas(con, years: list[int] | None) -> dg.AssetCheckResult:
    omitidos = con.execute("SELECT * FROM intermedio.pbi_omitidos ORDER BY ALL").df()
    respaldo = con.execute(
        "SELECT anio, count(*) AS celdas, sum(vab_territorio_miles_soles) AS vab_territorio_miles_soles "
        "FROM intermedio.pbi_asignacion WHERE regla_participacion = 'total_departamento' GROUP BY anio ORDER BY anio").df()
    return dg.AssetCheckResult(passed=omitidos.empty, severity=dg.AssetCheckSeverity.WARN,
                               metadata={"omitidos": markdown_table(omitidos, limit=50),
                                         "celdas_con_participacion_total": markdown_table(respaldo)})


def asignacion_coherente(con, years: list[int] | None) -> dg.AssetCheckResult:
    malas = con.execute(
        """SELECT anio, ubigeo_departamento, actividad, participacion FROM intermedio.pbi_asignacion
           WHERE participacion < 0 OR participacion > 1
              OR vab_territorio_miles_soles > vab_departamento_miles_soles + 1e-6""").df()
    sumas = con.execute(
        """SELECT t.anio, t.vab_territorio_miles_soles, s.suma FROM intermedio.pbi_territorio AS t
           JOIN (SELECT anio, sum(vab_territorio_miles_soles) AS suma FROM intermedio.pbi_asignacion GROUP BY anio)
             AS s USING (anio)
           WHERE abs(t.vab_territorio_miles_soles - s.suma) > 1e-6 * greatest(1, abs(s.suma))""").df()
    return dg.AssetCheckResult(passed=malas.empty and sumas.empty,
                               metadata={"celdas_fuera_de_rango": markdown_table(malas),
                                         "anios_que_no_suman": markdown_table(sumas)})


PBI_MARTS = topic_marts("pbi")


def indicadores_pbi(step: StepContext) -> dict:
    con = step.con
    edicion = con.execute("SELECT any_value(edicion) FROM intermedio.pbi_territorio").fetchone()[0]
    fuente = ("INEI, Producto Bruto Interno por departamentos a precios constantes de 2007"
              + (f" ({edicion})" if edicion else "") + "; asignación al territorio: ver meta.parametros, tema pbi")
    con.execute(f"CREATE OR REPLACE TABLE intermedio.indicadores_pbi AS {sql_text('indicadores/pbi.sql')}",
                {"fuente": fuente})
    return {"filas": con.execute("SELECT count(*) FROM intermedio.indicadores_pbi").fetchone()[0]}


#: Not partitioned: one edition of INEI's workbook carries every year, and a newer one replaces the series whole.
all_years = topic_step("pbi", [
    single(dg.AssetSpec(STAGING, group_name=GROUP, kinds={"duckdb", "pandas"},
                        metadata={"dagster/column_schema": column_schema(INEI_VAB), "tabla": TABLA},
                        description="INEI, PBI por departamentos a precios constantes de 2007 (raw/inei/vab/, la "
                                    "edición más reciente y, si están completos, sus 12 cuadros por actividad): cada "
                                    "fila × año validada; cifras inválidas a quarantine.inei_vab"),
           inei_vab_staging,
           [Check("esquema", STAGING, f"Las filas de {TABLA} cumplen el esquema pandera {INEI_VAB.name} "
                  "(bloqueante)", inei_vab_esquema, blocking=True),
            Check("consistencia", STAGING, "Cada cuadro y año: los 25 departamentos una vez; Lima = sus subfilas (con "
                  "o sin Callao); Σ departamentos = VAB; VAB + impuestos + derechos = PBI; 12 actividades = total del "
                  f"departamento; todo dentro de {pbi.TOLERANCIA_REDONDEO_MILES} miles × (n + 1) para n cifras "
                  "sumadas (redondeo de lo impreso). Bloqueante", inei_vab_consistencia, blocking=True)]),
    single(dg.AssetSpec(DEPARTAMENTOS, deps=[STAGING], group_name=GROUP, kinds={"duckdb", "pandas"},
                        description="VAB de los 25 departamentos por año (y actividad), sin las subfilas de Lima y con "
                                    "el Callao fuera de Lima; y las filas nacionales (VAB, impuestos, derechos, PBI)"),
           pbi_departamentos),
    single(dg.AssetSpec(ASIGNACION, deps=[DEPARTAMENTOS, dg.AssetKey(["intermedio", "empresas_formales"]),
                                          dg.AssetKey(["referencia", "tablas"])],
                        group_name=GROUP, kinds={"duckdb", "pandas"},
                        description="Valor agregado del territorio: VAB departamental (por actividad si hay cuadros "
                                    "por actividad) × participación del territorio (ventas declaradas de las empresas "
                                    "formales, o la tabla del usuario); participación nacional sobre el denominador "
                                    "elegido"),
           pbi_asignacion,
           [Check("participaciones_completas", ASIGNACION, "Advierte si un año con ventas declaradas (o con la tabla "
                  "del usuario) queda sin cifra porque un departamento del territorio no tiene participación, y "
                  "cuántas celdas por actividad usaron la participación total del departamento",
                  participaciones_completas),
            Check("asignacion_coherente", ASIGNACION, "Participaciones entre 0 y 1, el territorio nunca más que su "
                  "departamento, y el valor anual igual a la suma de sus celdas (bloqueante)", asignacion_coherente,
                  blocking=True)]),
    mart_part(PBI_MARTS, [ASIGNACION], GROUP),
    single(dg.AssetSpec(["intermedio", "indicadores_pbi"], deps=[["marts", m] for m in PBI_MARTS], group_name=GROUP,
                        kinds={"duckdb", "sql"},
                        description="Cifras clave del PBI (pbi_vraem_millones_soles_2007, pbi_participacion_nacional_pct)"),
           indicadores_pbi),
], yearly=False, config_cls=ParametrosPbi,
   description="PBI departamental del INEI, su asignación al territorio, marts y cifras clave")
