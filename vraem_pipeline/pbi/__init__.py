"""GDP: INEI's departmental value added (raw/inei/vab/) → allocation to the territory → the `pbi_*` marts."""

import pandas as pd

from vraem_pipeline.core import references
from vraem_pipeline.core.catalog import Source, Topic
from vraem_pipeline.pbi import schema
from vraem_pipeline.sources import inei_vab, shares

VAB = Source(
    "inei_vab",
    "inei/vab",
    False,
    inei_vab.EXPECTED_NAME,
    lambda folder, year: inei_vab.find_workbooks(folder)[0],
    "staging/inei_vab",
    "INEI, PBI por departamentos a precios constantes de 2007",
    schema.INEI_VAB,
)
#: The user's own share table: read whole by the allocation, no staging table of its own.
SHARES = Source(
    "inei_participaciones",
    "inei",
    False,
    shares.SHARES_FILE,
    lambda folder, year: [p for p in [shares.find_share_table(folder)] if p],
    "intermedio/pbi_asignacion",
    "Participaciones del territorio dadas por el usuario",
    watch=f"inei/{shares.SHARES_FILE}",
)


def _reference_tables() -> dict[str, tuple[pd.DataFrame, str]]:
    return {
        "actividades_inei": (
            references.reference_csv("inei_actividades.csv"),
            "Las 12 actividades del VAB departamental del INEI (código, orden, nombre, alias en los títulos)",
        ),
        "ciiu_division_actividad_inei": (
            references.reference_csv("ciiu_division_actividad_inei.csv"),
            "División "
            "CIIU Rev.4 → actividad del INEI: asigna las ventas de cada empresa a una "
            "actividad del VAB departamental (participaciones del PBI por actividad)",
        ),
    }


TOPIC = Topic(
    "pbi",
    "Producto bruto interno",
    (VAB, SHARES),
    uses=("padron_ruc", "ventas_declaradas"),
    parameters=("inei_vab",),
    key_codes=("pbi_vraem_millones_soles_2007",),
    reference_tables=_reference_tables,
)
