"""The one registry of topics and their sources. Every consumer reads it — the raw/ scan, the sensor, the data
dictionary, the publish guard, publication, the report — and none keeps a list of its own (a test says so).

Adding a source is its topic package (reader in `sources/`, schema, rules, SQL, its `Source` in the topic's
`__init__`) plus, for a new topic, one entry below: docs/development.md has the checklist.
"""

from vraem_pipeline import credito, empleo, empresas, exportaciones, pbi
from vraem_pipeline.core.catalog import Source, Topic, sources_of

#: In the report's order.
TOPICS: tuple[Topic, ...] = (empresas.TOPIC, empleo.TOPIC, exportaciones.TOPIC, credito.TOPIC, pbi.TOPIC)
SOURCES: tuple[Source, ...] = sources_of(TOPICS)


def source(name: str) -> Source:
    return next(s for s in SOURCES if s.name == name)


def topic(name: str) -> Topic:
    return next(t for t in TOPICS if t.name == name)
