"""Warning checks across sources on the key figures and every marts table (`vraem_pipeline/coherencia.py`), run
in the key figures' step (`defs/indicadores.py`).

Non-blocking: the warehouse is published and `vraem refresh` prints each failing figure as an ADVERTENCIA.
"""

import dagster as dg

from vraem_pipeline.core import coherence as coherencia
from vraem_pipeline.lib.dagster_support import markdown_table
from vraem_pipeline.defs.publicacion import PUBLISHED_MARTS
from vraem_pipeline.lib.steps import Check

KEY_FIGURES = dg.AssetKey(["marts", "indicadores_clave"])
#: The share check reads every marts table: it runs after all of them.
OTHER_MARTS = tuple(k for k in PUBLISHED_MARTS if k != KEY_FIGURES)
#: How many offending figures the check names in its metadata (and so in `vraem refresh`'s warning line).
MAX_NOMBRADAS = 20


def _result(bad, lines: list[str], **metadata) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=bad.empty, severity=dg.AssetCheckSeverity.WARN,
        metadata={"fallas": len(bad), "cifras": dg.MetadataValue.json(lines[:MAX_NOMBRADAS]),
                  "detalle": markdown_table(bad, limit=100), **metadata})


def territorio_no_supera_nacional(con, years=None) -> dg.AssetCheckResult:
    bad = coherencia.territorio_sobre_nacional(con)
    return _result(bad, [f"{r.indicador} {r.anio}: territorio {r.territorio:,.2f} > nacional {r.nacional:,.2f}"
                         for r in bad.itertuples(index=False)])


def participaciones_suman_100(con, years=None) -> dg.AssetCheckResult:
    bad = coherencia.participaciones_que_no_suman_100(con)
    return _result(bad, [f"{r.tabla} {r.anio}: suma {r.suma_pct:.4f} %" for r in bad.itertuples(index=False)],
                   tolerancia_pp=coherencia.TOLERANCIA_SUMA_PP)


def saltos_interanuales(con, years=None) -> dg.AssetCheckResult:
    bad = coherencia.saltos_interanuales(con)
    return _result(bad, coherencia.describir_saltos(bad),
                   limites=dg.MetadataValue.json({lim.familia: f"{lim.limite:g} {lim.medida}"
                                                  for lim in coherencia.LIMITES_SALTO}))


CHECKS = (
    Check("coherencia_territorio_no_supera_nacional", KEY_FIGURES,
          "Cada cifra clave del territorio con total nacional (empresas, ventas, exportaciones, crédito, PBI) no supera "
          "la del Perú, y toda participación nacional (también la del empleo) es ≤ 100 % (aviso)",
          territorio_no_supera_nacional),
    Check("coherencia_participaciones_suman_100", KEY_FIGURES,
          "Cada bloque de participaciones (columna participacion_pct) de cada tabla de marts suma 100 % en cada año "
          "(aviso)", participaciones_suman_100, additional_deps=OTHER_MARTS),
    Check("coherencia_saltos_interanuales", KEY_FIGURES,
          "Ninguna cifra clave varía de un año al siguiente más que el límite de su familia (meta.parametros, tema "
          "coherencia); si lo hace, nombra la cifra y los años (aviso)", saltos_interanuales),
)
