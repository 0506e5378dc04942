"""Firms: SUNAT's Padrón RUC cuts and declared sales → formal firms → the `empresas_*` marts."""

import pandas as pd

from vraem_pipeline.core import references
from vraem_pipeline.core.catalog import Source, Topic
from vraem_pipeline.empresas import inputs, schema
from vraem_pipeline.empresas.rules import SIZE_STRATA
from vraem_pipeline.sources import padron, ventas

PADRON = Source(
    "padron_ruc",
    inputs.PADRON_FOLDER,
    True,
    padron.EXPECTED_NAME,
    lambda folder, year: [c.path for c in padron.find_cuts(folder)],
    "staging/padron_ruc",
    "SUNAT, Padrón RUC (datos abiertos)",
    schema.PADRON,
)
VENTAS = Source(
    "ventas_declaradas",
    inputs.VENTAS_FOLDER,
    True,
    ventas.EXPECTED_NAME,
    ventas.matching_files,
    "staging/ventas_declaradas",
    "SUNAT, ventas netas declaradas",
    schema.VENTAS,
)


def _reference_tables() -> dict[str, tuple[pd.DataFrame, str]]:
    return {
        "uit": (references.uit_table(), "UIT por año (D.S. del MEF)"),
        "tipos_contribuyente": (references.taxpayer_types(), "Tipos de contribuyente SUNAT"),
        "sectores": (pd.DataFrame({"sector": list(references.SECTORS)}), "Sectores PRODUCE"),
        "estratos": (SIZE_STRATA, "Estratos empresariales (Ley 30056)"),
    }


TOPIC = Topic(
    "empresas",
    "Empresas formales",
    (PADRON, VENTAS),
    key_codes=("empresas_formales",),
    reference_tables=_reference_tables,
)
