"""Employment: INEI's ENAHO modules 500 and 400 → informality → survey estimates with CVs → the `empleo_*` marts."""

from vraem_pipeline.core.catalog import Source, Topic
from vraem_pipeline.empleo import inputs, schema
from vraem_pipeline.sources import enaho


def _module(module: str):
    return lambda folder, year: [f.path for f in enaho.module_candidates(folder, year, module)]


PERSONS = Source(
    "enaho_personas",
    inputs.FOLDER,
    True,
    enaho.EXPECTED_NAME,
    _module("500"),
    "staging/enaho_personas",
    "INEI, ENAHO módulo 500",
    schema.SCHEMA_PERSONS,
)
HEALTH = Source(
    "enaho_salud",
    inputs.FOLDER,
    True,
    enaho.EXPECTED_NAME,
    _module("400"),
    "staging/enaho_salud",
    "INEI, ENAHO módulo 400",
    schema.SCHEMA_HEALTH,
)

TOPIC = Topic("empleo", "Empleo", (PERSONS, HEALTH), key_codes=("empleo_pea_ocupada",))
