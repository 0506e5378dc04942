"""Exports' choices and warning rules: what a line's department is, how repeats count, and how much FOB may go
unplaced before a warning (recorded in meta.parametros, tema exportaciones)."""

from __future__ import annotations

import pandas as pd

from vraem_pipeline.core.references import UNKNOWN_COUNTRY
from vraem_pipeline.sources import aduanas

#: Warning thresholds, in % of the year's FOB. The unknown-destination one is the target of
#: docs/sources.md#aduanas-codigos; the other two are the project's: how much FOB a department or product figure may
#: leave out before it is flagged.
MAX_MISSING_UBIGEO_PCT = 5.0
MAX_UNCLASSIFIED_PCT = 1.0
MAX_UNKNOWN_DESTINATION_PCT = 0.1

PARAMETERS = {
    "departamento_de_la_linea": (
        "ubigeo_declarado",
        "Departamento de una serie: los 2 primeros dígitos de su UBIGEO "
        "declarado (origen de la mercancía), no el domicilio fiscal del exportador "
        "(docs/sources.md#aduanas-departamento); el domicilio fiscal se publica aparte en "
        "marts.exportaciones_por_departamento_domicilio_fiscal",
    ),
    "territorio_exportador": (
        "departamentos_del_territorio",
        "Exportaciones del territorio = series cuyo departamento "
        "es uno de los departamentos de los distritos del territorio; Perú = todas las series",
    ),
    "repeticiones": (
        "(cadu, fano, ndcl, nser) una vez por año",
        "Una serie repetida entre archivos se cuenta una vez: "
        "gana la entrega en texto, luego la semana más reciente; las repeticiones van a cuarentena "
        "(clave_duplicada) y se cuentan en meta.fuentes.filas_duplicadas. Una línea sin fano, ndcl ni "
        "nser (entrega sin clave) nunca es repetición de otra (semántica UNIQUE de SQL)",
    ),
    "entrega_sin_clave": (
        "sola en su año",
        "La entrega en texto con solo las columnas de docs/sources.md#aduanas-entrega-produce (sin "
        "fano, ndcl, nser) se carga con la clave vacía y cada línea cuenta: sus repeticiones no se "
        "pueden detectar (meta.fuentes.nota lo dice). Junto a otro archivo de exportación del mismo "
        "año (semanales u otra entrega) el año se rechaza (entrega_sin_clave_mezclada): no habría "
        "cómo descartar las líneas repetidas entre ellos",
    ),
    "fechas_del_anio": (
        "fnum y femb presentes",
        "Regla fechas_del_anio: la fecha de numeración (fnum) y la de "
        "embarque (femb), cada una si está, caen en el año ± 1. La entrega sin clave no trae fnum: se "
        "revisa femb. freg (regularización) no se lee",
    ),
    "max_fraccion_lineas_otro_anio": (
        aduanas.MAX_OTHER_YEAR_LINES_FRACTION,
        "Se rechaza un archivo si más de esta "
        "fracción de sus líneas con año (FANO; sin FANO, su fecha) son de otro año que "
        "el de la carpeta (lineas_de_otro_anio). Años admitidos: el de la carpeta, los "
        "que toca la semana del nombre x<dd><DD><mm><aa> y, en una semana de enero, el "
        "anterior. Un nombre semanal cuya semana no toca el año de la carpeta se "
        "rechaza (semana_de_otro_anio)",
    ),
    "producto": (
        "hs6_ciiu4",
        "Clase CIIU Rev.4 de la subpartida: referencia.hs6_ciiu4 (excepciones documentadas, "
        "sin 0990 en minerales, clase única, o el menor código marcado 'menor_codigo')",
    ),
    "destino_desconocido": (
        UNKNOWN_COUNTRY[0],
        "Código ISO usado para destinos en blanco o códigos SUNAT sin equivalencia ISO",
    ),
    "dbf_codificacion": (aduanas.DBF_ENCODING_DEFAULT, "Codificación de un DBF que no declara página de códigos"),
    "max_sin_ubigeo_pct": (MAX_MISSING_UBIGEO_PCT, "Umbral de advertencia: % del FOB nacional sin ubigeo utilizable"),
    "max_sin_clasificar_pct": (MAX_UNCLASSIFIED_PCT, "Umbral de advertencia: % del FOB sin clase CIIU"),
    "max_destino_desconocido_pct": (MAX_UNKNOWN_DESTINATION_PCT, "Umbral de advertencia: % del FOB con destino ZZ"),
}


def fob_shares(con, years: list[int] | None, where: str, scope: str) -> pd.DataFrame:
    """% of each year's FOB (of Peru, or of the territory) on the lines matching `where`."""
    territory = "JOIN referencia.territorio_departamentos USING (ubigeo_departamento)" if scope == "territorio" else ""
    filt = f"WHERE anio IN ({','.join(map(str, years))})" if years else ""
    return con.execute(
        f"""SELECT anio, '{scope}' AS ambito, round(sum(fob_usd)::DOUBLE / 1e6, 3) AS fob_millones_usd,
                   round(coalesce(sum(fob_usd) FILTER (WHERE {where}), 0)::DOUBLE / 1e6, 3) AS fob_afectado,
                   round(100.0 * coalesce(sum(fob_usd) FILTER (WHERE {where}), 0)::DOUBLE
                         / nullif(sum(fob_usd), 0)::DOUBLE, 3) AS pct
            FROM intermedio.exportaciones {territory} {filt} GROUP BY anio ORDER BY anio"""
    ).df()


#: name → (description, lines that count, scopes, threshold %, detail query)
WARNINGS = {
    "fob_sin_ubigeo": (
        f"Advierte si más de {MAX_MISSING_UBIGEO_PCT} % del FOB nacional de un año no tiene ubigeo utilizable (vacío, "
        "999999 o sin departamento INEI): ese valor cuenta para el Perú pero para ningún departamento",
        "ubigeo_departamento IS NULL",
        ("nacional",),
        MAX_MISSING_UBIGEO_PCT,
        "SELECT anio, coalesce(ubigeo, '(vacío)') AS ubigeo, count(*) AS series, round(sum(fob_usd)::DOUBLE / 1e6, 3) "
        "AS fob_millones_usd FROM intermedio.exportaciones WHERE ubigeo_departamento IS NULL GROUP BY ALL "
        "ORDER BY fob_millones_usd DESC LIMIT 15",
    ),
    "fob_sin_clasificar": (
        f"Advierte si más de {MAX_UNCLASSIFIED_PCT} % del FOB (nacional o del territorio) es de subpartidas sin "
        "clase CIIU; muestra también cuánto FOB se clasificó por la regla de menor código",
        "ciiu_clase = 'sin_clasificar'",
        ("nacional", "territorio"),
        MAX_UNCLASSIFIED_PCT,
        "SELECT anio, coalesce(regla_ciiu, 'sin_clasificar') AS regla, count(*) AS series, "
        "round(sum(fob_usd)::DOUBLE / 1e6, 3) AS fob_millones_usd FROM intermedio.exportaciones "
        "GROUP BY ALL ORDER BY anio, fob_millones_usd DESC",
    ),
    "fob_destino_desconocido": (
        f"Advierte si más de {MAX_UNKNOWN_DESTINATION_PCT} % del FOB nacional va a un destino no identificado "
        f"({UNKNOWN_COUNTRY[0]}: en blanco o código SUNAT sin equivalencia ISO)",
        f"pais_iso2 = '{UNKNOWN_COUNTRY[0]}'",
        ("nacional",),
        MAX_UNKNOWN_DESTINATION_PCT,
        "SELECT anio, coalesce(pais_sunat, '(vacío)') AS codigo_sunat, pais_iso2, count(*) AS series, "
        "round(sum(fob_usd)::DOUBLE / 1e6, 3) AS fob_millones_usd FROM intermedio.exportaciones "
        "WHERE pais_sunat IS NULL OR pais_sunat <> pais_iso2 GROUP BY ALL ORDER BY anio, fob_millones_usd DESC",
    ),
}
