"""Business credit: SBS debtor balances → debtors located through the Padrón RUC → the `credito_*` marts."""

import pandas as pd

from vraem_pipeline.core.catalog import Source, Topic
from vraem_pipeline.credito import inputs, schema
from vraem_pipeline.credito.rules import credit_types
from vraem_pipeline.sources import sbs

DEUDORES = Source(
    "sbs_deudores",
    inputs.FOLDER,
    True,
    sbs.EXPECTED_NAME,
    lambda folder, year: sbs.matching_files(folder),
    "staging/sbs_deudores",
    "SBS, saldos de créditos directos por deudor a diciembre",
    schema.DEUDORES,
)


def _reference_tables() -> dict[str, tuple[pd.DataFrame, str]]:
    return {
        "tipos_credito": (
            credit_types(),
            "Tipos de crédito SBS 06–13 (Res. SBS N° 11356-2008): clave de los marts y si es crédito empresarial",
        )
    }


TOPIC = Topic(
    "credito",
    "Crédito empresarial",
    (DEUDORES,),
    uses=("padron_ruc",),
    key_codes=("credito_millones_soles",),
    reference_tables=_reference_tables,
)
