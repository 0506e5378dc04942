"""Customs exports: Aduanet weekly DBFs and the pipe delivery → export lines → the `exportaciones_*` marts."""

import time
from functools import partial
from pathlib import Path

import dagster as dg
import pandas as pd

from vraem_pipeline.lib.dagster_support import TextSource, markdown_table
from vraem_pipeline.core.marts import growth_rows, sql_text, topic_marts
from vraem_pipeline.core.references import PAIS_DESCONOCIDO
from vraem_pipeline import empresas, exportaciones
from vraem_pipeline.sources import aduanas
from vraem_pipeline.lib.steps import Check, StepContext, mart_part, shares_check, single, text_source_part, topic_step
from vraem_pipeline.core.databases import record_parameters, replace_years_from_sql

GROUP = "exportaciones"
FUENTE = "SUNAT, Aduanas: exportaciones definitivas línea por línea (Aduanet x*.zip y entrega en texto)"

#: Warning thresholds, in % of the year's FOB. The unknown-destination one is the source note's (§5.3); the
#: other two are the project's: how much FOB a department or product figure may leave out before it is flagged.
MAX_SIN_UBIGEO_PCT = 5.0
MAX_SIN_CLASIFICAR_PCT = 1.0
MAX_DESTINO_DESCONOCIDO_PCT = 0.1

PARAMETROS = {
    "departamento_de_la_linea": ("ubigeo_declarado", "Departamento de una serie: los 2 primeros dígitos de su UBIGEO "
                                 "declarado (origen de la mercancía), no el domicilio fiscal del exportador (nota de "
                                 "fuentes §5.4); el domicilio fiscal se publica aparte en "
                                 "marts.exportaciones_por_departamento_domicilio_fiscal"),
    "territorio_exportador": ("departamentos_del_territorio", "Exportaciones del territorio = series cuyo departamento "
                              "es uno de los departamentos de los distritos del territorio; Perú = todas las series"),
    "repeticiones": ("(cadu, fano, ndcl, nser) una vez por año", "Una serie repetida entre archivos se cuenta una vez: "
                     "gana la entrega en texto, luego la semana más reciente; las repeticiones van a cuarentena "
                     "(clave_duplicada) y se cuentan en meta.fuentes.filas_duplicadas. Una línea sin fano, ndcl ni "
                     "nser (entrega sin clave) nunca es repetición de otra (semántica UNIQUE de SQL)"),
    "entrega_sin_clave": ("sola en su año", "La entrega en texto con solo las columnas de la nota de fuentes §5.2 (sin "
                          "fano, ndcl, nser) se carga con la clave vacía y cada línea cuenta: sus repeticiones no se "
                          "pueden detectar (meta.fuentes.nota lo dice). Junto a otro archivo de exportación del mismo "
                          "año (semanales u otra entrega) el año se rechaza (entrega_sin_clave_mezclada): no habría "
                          "cómo descartar las líneas repetidas entre ellos"),
    "fechas_del_anio": ("fnum y femb presentes", "Regla fechas_del_anio: la fecha de numeración (fnum) y la de "
                        "embarque (femb), cada una si está, caen en el año ± 1. La entrega sin clave no trae fnum: se "
                        "revisa femb. freg (regularización) no se lee"),
    "max_fraccion_lineas_otro_anio": (aduanas.MAX_FRACCION_LINEAS_OTRO_ANIO, "Se rechaza un archivo si más de esta "
                                      "fracción de sus líneas con año (FANO; sin FANO, su fecha) son de otro año que "
                                      "el de la carpeta (lineas_de_otro_anio). Años admitidos: el de la carpeta, los "
                                      "que toca la semana del nombre x<dd><DD><mm><aa> y, en una semana de enero, el "
                                      "anterior. Un nombre semanal cuya semana no toca el año de la carpeta se "
                                      "rechaza (semana_de_otro_anio)"),
    "producto": ("hs6_ciiu4", "Clase CIIU Rev.4 de la subpartida: referencia.hs6_ciiu4 (excepciones documentadas, "
                 "sin 0990 en minerales, clase única, o el menor código marcado 'menor_codigo')"),
    "destino_desconocido": (PAIS_DESCONOCIDO[0], "Código ISO usado para destinos en blanco o códigos SUNAT sin "
                            "equivalencia ISO"),
    "dbf_codificacion": (aduanas.DBF_ENCODING_DEFAULT, "Codificación de un DBF que no declara página de códigos"),
    "max_sin_ubigeo_pct": (MAX_SIN_UBIGEO_PCT, "Umbral de advertencia: % del FOB nacional sin ubigeo utilizable"),
    "max_sin_clasificar_pct": (MAX_SIN_CLASIFICAR_PCT, "Umbral de advertencia: % del FOB sin clase CIIU"),
    "max_destino_desconocido_pct": (MAX_DESTINO_DESCONOCIDO_PCT, "Umbral de advertencia: % del FOB con destino ZZ"),
}


def find_exportaciones_year(raw_dir: Path, anio: int) -> list[TextSource]:
    """The year's files as one load: a line repeated across weekly files must be seen in one pass."""
    year_dir = raw_dir / "aduanas" / str(anio)
    files, others = aduanas.find_files(year_dir)
    if not files:
        return []
    nota = f"{len(files)} archivos" + (f"; ignorados (no son .DBF, .txt ni .zip): {[p.name for p in others]}" if others else "")
    return [TextSource(year_dir, partial(aduanas.load_year, files=files, anio=anio, label=str(year_dir)), nota)]


STAGING = dg.AssetKey.from_user_string(exportaciones.EXPORTACIONES.asset)
LINEAS = dg.AssetKey(["intermedio", "exportaciones"])
PADRON = dg.AssetKey.from_user_string(empresas.PADRON.asset)
REFERENCIA = dg.AssetKey(["referencia", "tablas"])


def exportaciones_lineas(step: StepContext) -> dict:
    t0 = time.perf_counter()
    years, con = step.years, step.con
    replace_years_from_sql(con, "intermedio.exportaciones", sql_text("intermedio/exportaciones.sql"), {"anios": years},
                           years)
    record_parameters(con, "exportaciones", PARAMETROS)
    counts = con.execute(
        f"""SELECT anio, count(*) AS series, round(sum(fob_usd)::DOUBLE / 1e6, 1) AS fob_millones_usd
            FROM intermedio.exportaciones WHERE anio IN ({','.join(map(str, years))}) GROUP BY anio ORDER BY anio"""
    ).df()
    for row in counts.itertuples():
        step.progress(f"exportaciones {row.anio}: {row.series:,} series, US$ {row.fob_millones_usd:,} millones "
                      "(nacional)", t0)
    return {"por_anio": markdown_table(counts)}


def _shares(con, years: list[int] | None, where: str, scope: str) -> pd.DataFrame:
    """% of each year's FOB (of Peru, or of the territory) on the lines matching `where`."""
    territory = ("JOIN (SELECT DISTINCT substr(ubigeo, 1, 2) AS ubigeo_departamento FROM referencia.territorio) "
                 "USING (ubigeo_departamento)") if scope == "territorio" else ""
    filt = f"WHERE anio IN ({','.join(map(str, years))})" if years else ""
    return con.execute(
        f"""SELECT anio, '{scope}' AS ambito, round(sum(fob_usd)::DOUBLE / 1e6, 3) AS fob_millones_usd,
                   round(coalesce(sum(fob_usd) FILTER (WHERE {where}), 0)::DOUBLE / 1e6, 3) AS fob_afectado,
                   round(100.0 * coalesce(sum(fob_usd) FILTER (WHERE {where}), 0)::DOUBLE / nullif(sum(fob_usd), 0)::DOUBLE, 3) AS pct
            FROM intermedio.exportaciones {territory} {filt} GROUP BY anio ORDER BY anio"""
    ).df()


#: name → (description, lines that count, scopes, threshold %, detail query)
WARNINGS = {
    "fob_sin_ubigeo": (
        f"Advierte si más de {MAX_SIN_UBIGEO_PCT} % del FOB nacional de un año no tiene ubigeo utilizable (vacío, "
        "999999 o sin departamento INEI): ese valor cuenta para el Perú pero para ningún departamento",
        "ubigeo_departamento IS NULL", ("nacional",), MAX_SIN_UBIGEO_PCT,
        "SELECT anio, coalesce(ubigeo, '(vacío)') AS ubigeo, count(*) AS series, round(sum(fob_usd)::DOUBLE / 1e6, 3) "
        "AS fob_millones_usd FROM intermedio.exportaciones WHERE ubigeo_departamento IS NULL GROUP BY ALL "
        "ORDER BY fob_millones_usd DESC LIMIT 15"),
    "fob_sin_clasificar": (
        f"Advierte si más de {MAX_SIN_CLASIFICAR_PCT} % del FOB (nacional o del territorio) es de subpartidas sin "
        "clase CIIU; muestra también cuánto FOB se clasificó por la regla de menor código",
        "ciiu_clase = 'sin_clasificar'", ("nacional", "territorio"), MAX_SIN_CLASIFICAR_PCT,
        "SELECT anio, coalesce(regla_ciiu, 'sin_clasificar') AS regla, count(*) AS series, "
        "round(sum(fob_usd)::DOUBLE / 1e6, 3) AS fob_millones_usd FROM intermedio.exportaciones "
        "GROUP BY ALL ORDER BY anio, fob_millones_usd DESC"),
    "fob_destino_desconocido": (
        f"Advierte si más de {MAX_DESTINO_DESCONOCIDO_PCT} % del FOB nacional va a un destino no identificado "
        f"({PAIS_DESCONOCIDO[0]}: en blanco o código SUNAT sin equivalencia ISO)",
        f"pais_iso2 = '{PAIS_DESCONOCIDO[0]}'", ("nacional",), MAX_DESTINO_DESCONOCIDO_PCT,
        "SELECT anio, coalesce(pais_sunat, '(vacío)') AS codigo_sunat, pais_iso2, count(*) AS series, "
        "round(sum(fob_usd)::DOUBLE / 1e6, 3) AS fob_millones_usd FROM intermedio.exportaciones "
        "WHERE pais_sunat IS NULL OR pais_sunat <> pais_iso2 GROUP BY ALL ORDER BY anio, fob_millones_usd DESC"),
}


def _warning(name: str):
    """The warning check `name` of `WARNINGS`: a share of the year's FOB from intermedio.exportaciones."""
    _, where, scopes, limit, detail_sql = WARNINGS[name]

    def run(con, years: list[int] | None) -> dg.AssetCheckResult:
        shares = pd.concat([_shares(con, years, where, s) for s in scopes], ignore_index=True)
        worst = float(shares["pct"].max()) if len(shares) and shares["pct"].notna().any() else 0.0
        return dg.AssetCheckResult(
            passed=worst <= limit, severity=dg.AssetCheckSeverity.WARN,
            metadata={"max_pct": worst, "umbral_pct": limit, "por_anio": markdown_table(shares),
                      "detalle": markdown_table(con.execute(detail_sql).df())})

    return Check(name, LINEAS, WARNINGS[name][0], run)


yearly = topic_step("exportaciones_anual", [
    text_source_part(
        source=exportaciones.EXPORTACIONES, find_year=find_exportaciones_year, group=GROUP,
        description="Exportaciones definitivas de SUNAT (aduanas/<año>/: x*.zip semanales con un DBF y/o la entrega "
                    "en texto), todo el año en una pasada; series repetidas entre archivos y filas inválidas a "
                    "quarantine.exportaciones"),
    single(dg.AssetSpec(LINEAS, deps=[STAGING, PADRON, REFERENCIA], group_name=GROUP, kinds={"duckdb", "sql"},
                        description="Cada serie exportada con su departamento de origen, país ISO, clase CIIU y "
                                    "departamento del domicilio fiscal del exportador (nacional; solo en la base de "
                                    "operación)"),
           exportaciones_lineas, [_warning(name) for name in WARNINGS]),
], yearly=True, description="Líneas de exportación de cada año y las series listas para los marts")


EXPORTACIONES_MARTS = topic_marts("exportaciones")


def indicadores_exportaciones(step: StepContext) -> dict:
    con = step.con
    con.execute("CREATE OR REPLACE TABLE intermedio.indicadores_exportaciones AS "
                f"{sql_text('indicadores/exportaciones.sql')}", {"fuente": FUENTE})
    growth = growth_rows(con, "SELECT anio, fob_millones_usd AS valor FROM marts.exportaciones_evolucion",
                         "exportaciones", FUENTE)
    # contract §4.2 lists only the annual change for exports (the edition's window is 2021–2024)
    growth = growth[growth["indicador"] == "exportaciones_var_anual_pct"]
    con.register("_g", growth)
    con.execute("INSERT INTO intermedio.indicadores_exportaciones SELECT * FROM _g")
    con.unregister("_g")
    return {"filas": con.execute("SELECT count(*) FROM intermedio.indicadores_exportaciones").fetchone()[0]}


all_years = topic_step("exportaciones", [
    mart_part(EXPORTACIONES_MARTS, [LINEAS], GROUP, checks=[shares_check(
        on="exportaciones_por_departamento", evolution="exportaciones_evolucion", total="fob_millones_usd",
        blocks={"destino": "exportaciones_por_destino", "producto": "exportaciones_por_producto",
                "departamento": "exportaciones_por_departamento"},
        description="Destinos, productos y departamentos suman 100 % cada año y su FOB coincide con "
                    "exportaciones_evolucion")]),
    single(dg.AssetSpec(["intermedio", "indicadores_exportaciones"],
                        deps=[["marts", m] for m in EXPORTACIONES_MARTS], group_name=GROUP, kinds={"duckdb", "sql"},
                        description="Cifras clave de exportaciones (códigos exportaciones_*)"),
           indicadores_exportaciones),
], yearly=False, description="Marts y cifras clave de exportaciones, de todos los años")
