"""Exports: SUNAT customs lines (Aduanet weekly DBFs, PRODUCE's delivery) → the `exportaciones_*` marts."""

import pandas as pd

from vraem_pipeline.core import references
from vraem_pipeline.core.catalog import Source, Topic
from vraem_pipeline.exportaciones import inputs, schema
from vraem_pipeline.sources import aduanas

EXPORTACIONES = Source(
    "exportaciones",
    inputs.FOLDER,
    True,
    aduanas.EXPECTED_NAME,
    lambda folder, year: [f.path for f in aduanas.find_files(folder)[0]],
    "staging/exportaciones",
    "SUNAT, Aduanas, exportaciones definitivas",
    schema.EXPORTACIONES,
)


def _reference_tables() -> dict[str, tuple[pd.DataFrame, str]]:
    return {
        "paises": (
            references.export_countries(),
            "Códigos de país de destino de SUNAT → ISO 3166-1 alfa-2 y nombre (ZZ: destino no identificado)",
        ),
        "hs6_ciiu4": (
            references.hs_ciiu_resolved(),
            "Subpartida HS de 6 dígitos → una clase CIIU Rev.4, con la regla que la resolvió (reference/README.md)",
        ),
    }


TOPIC = Topic(
    "exportaciones",
    "Exportaciones",
    (EXPORTACIONES,),
    key_codes=("exportaciones_millones_usd",),
    reference_tables=_reference_tables,
)
