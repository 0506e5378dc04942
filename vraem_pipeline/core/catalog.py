"""What a source and a topic are, for the one registry of them (`vraem_pipeline/registry.py`).

Every consumer that needs to know the sources — the scan of unrecognised files under raw/, the sensor, the
data dictionary, the publish guard's messages, publication, the report — reads the registry instead of a list of
its own, so adding a source is one topic package plus one registry entry (docs/development.md). The types live
here, in the machinery, so that consumers in `core/` take a registry (or its sources) as an argument without
importing any topic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandera.pandas as pa


@dataclass(frozen=True)
class Source:
    """One kind of delivered file: where it sits under raw/, how its reader finds it, what it is staged as."""

    name: str  # meta.fuentes.fuente; the staging table is staging.<name> when it has a schema
    folder: str  # relative to raw/; year folders right below it when `yearly`
    yearly: bool
    expected: str  # the names the folder expects, for the message about an unrecognised file
    #: find(folder, year) → every file of the folder the source recognises as its own (also those it then leaves
    #: aside, like an older Padrón cut, which meta.fuentes.nota names); year is None for a non-yearly folder.
    find: Callable[[Path, int | None], Iterable[Path]]
    asset: str  # the asset that reads it, e.g. "staging/padron_ruc"
    description: str  # what meta.diccionario says of its staging table ("SUNAT, Padrón RUC (datos abiertos)")
    schema: pa.DataFrameSchema | None = None  # its staging table's pandera schema (None: no table of its own)
    watch: str = ""  # what the sensor watches under raw/ when it is not `folder` (a single file in a shared folder)

    @property
    def table(self) -> str | None:
        return f"staging.{self.name}" if self.schema is not None else None

    @property
    def watched(self) -> str:
        return self.watch or self.folder


@dataclass(frozen=True)
class Topic:
    """A block of the report and of the warehouse: its sources, and what else its figures rest on."""

    name: str  # marts prefix, asset group, meta.parametros tema, report block
    title: str  # the report's heading
    sources: tuple[Source, ...]
    #: sources of other topics its figures also rest on (credit is located through the Padrón RUC)
    uses: tuple[str, ...] = ()
    #: meta.parametros temas whose choices shape its figures (besides its own name)
    parameters: tuple[str, ...] = ()
    #: indicadores_clave codes whose `fuente` text heads the block's source line in the report
    key_codes: tuple[str, ...] = ()
    #: reference tables the topic's SQL joins: name (referencia.<name>) → (table, comment)
    reference_tables: Callable[[], dict[str, tuple[object, str]]] = field(default=lambda: {})

    @property
    def source_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.sources) + self.uses

    @property
    def key_figure_table(self) -> str:
        """intermedio.indicadores_<topic>: the topic's rows of marts.indicadores_clave."""
        return f"intermedio.indicadores_{self.name}"


def sources_of(topics: Sequence[Topic]) -> tuple[Source, ...]:
    return tuple(s for t in topics for s in t.sources)
