"""The publish guard: a refresh must not silently take away what analysts already have.

Every blocking check validates rows; none of them notices that a year has *no* rows. A header-only Padrón cut, a
misnamed file, a delimiter change that quarantines every line or a `--years` range beyond the files all end the
same way: the year's figures vanish (or become 0) and the run is green. So before the atomic publish the new
build is compared with the warehouse currently published (`VRAEM_WAREHOUSE`), and the publish stops when

* a source and year of the published `meta.fuentes` keeps fewer than `MIN_ROW_FRACTION` of its accepted
  rows (zero included) — compared per source and year, summed over its files, because exports arrive as dozens
  of weekly files whose set changes legitimately (a year's delivery replacing the weeklies);
* a key figure (`marts.indicadores_clave`, per year and code) that is published and non-zero would vanish or
  become 0;
* a year would vanish from a `marts` table.

The user accepts such a loss explicitly: `vraem refresh --permitir-perdidas`, which tags the run with
`ALLOW_LOSSES_TAG`; the publish then goes ahead and logs every loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from vraem_pipeline.core.catalog import Source
from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.core.raw_scan import folder_label
from vraem_pipeline.core.sqltext import sql_literal

#: A source and year whose accepted rows fall below this fraction of the published count is a loss (10 %: a
#: real year moves by a few per cent between deliveries; losing 90 % of it is a broken or truncated file).
MIN_ROW_FRACTION = 0.10

#: Run tag that accepts the losses (`vraem refresh --permitir-perdidas` sets it; in the Dagster UI add it to
#: the launch).
ALLOW_LOSSES_TAG = "vraem/permitir_perdidas"

HOW_TO_ACCEPT = (
    "si la pérdida es intencional, repita con `vraem refresh --permitir-perdidas` (o lance la ejecución "
    f"con la etiqueta {ALLOW_LOSSES_TAG}=true)"
)

_PREVIOUS = "vraem_publicado_anterior"


@dataclass(frozen=True)
class Loss:
    """One thing the analysts' warehouse would lose: a source's rows, a key figure, or a year of a mart."""

    tipo: str  # "fuente", "indicador" or "mart"
    nombre: str  # source (meta.fuentes.fuente), indicator code, or the marts tables that lose the year
    anio: int | None  # None: a source not split by year (INEI's GDP workbook)
    earlier: float | None = None
    later: float | None = None  # None: vanishes
    folder_path: str = field(default="", compare=False)  # a source's folder under raw/, for the message

    def __str__(self) -> str:
        anio = f"año {self.anio}" if self.anio is not None else "sin año"
        if self.tipo == "fuente":
            share = f" ({100 * self.later / self.earlier:.1f} % < {100 * MIN_ROW_FRACTION:g} %)" if self.later else ""
            folder_path = f" (raw/{self.folder_path})" if self.folder_path else ""
            return (
                f"fuente {self.nombre}{folder_path}, {anio}: filas aceptadas "
                f"{self.earlier:,.0f} en el almacén publicado → {self.later:,.0f}{share}"
            )
        if self.tipo == "indicador":
            after = "desaparece" if self.later is None else "pasa a 0"
            return f"indicador {self.nombre}, {anio}: {self.earlier:,.6g} en el almacén publicado → {after}"
        return f"{anio}: desaparece de {self.nombre}"


class DataLoss(Exception):
    """The publish stopped: one line per loss, then how to accept them."""

    def __init__(self, data_losses: list[Loss]):
        self.data_losses = data_losses
        lines = [f"no se publica: {p}" for p in data_losses]
        super().__init__(
            "\n".join([*lines, f"el almacén publicado y la base de operación no se modificaron; {HOW_TO_ACCEPT}"])
        )


def _tables(con: duckdb.DuckDBPyConnection, database: str, schema: str) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = ?", [database, schema]
        ).fetchall()
    }


def _has_year(con: duckdb.DuckDBPyConnection, database: str, table: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE database_name = ? AND schema_name = 'marts' "
            "AND table_name = ? AND column_name = 'anio'",
            [database, table],
        ).fetchone()[0]
    )


def data_losses(
    con: duckdb.DuckDBPyConnection, publicado: Path, sources: Sequence[Source] = (), fraction: float = MIN_ROW_FRACTION
) -> list[Loss]:
    """What publishing the `meta` and `marts` of `con` (the build about to be published) would lose against the
    warehouse file `publicado`; nothing when no warehouse is published yet. `sources` (the registry's) name each
    lost source's folder under raw/."""
    publicado = Path(publicado)
    if not publicado.exists():
        return []
    new = con.execute("SELECT current_database()").fetchone()[0]
    try:
        con.execute(f"ATTACH {sql_literal(publicado)} AS {_PREVIOUS} (READ_ONLY)")
    except duckdb.Error as err:
        raise SourceFileError(
            publicado,
            f"no se puede abrir el almacén publicado para compararlo con el nuevo "
            f"({err}); muévalo a otra parte si ya no sirve",
            rule="guarda_publicacion",
        ) from None
    try:
        return (
            _source_losses(con, new, fraction, {s.name: s for s in sources})
            + _indicator_losses(con, new)
            + _mart_year_losses(con, new)
        )
    finally:
        con.execute(f"DETACH {_PREVIOUS}")


def _source_losses(con, new: str, fraction: float, sources: dict[str, Source]) -> list[Loss]:
    if "fuentes" not in _tables(con, _PREVIOUS, "meta"):
        return []
    current = (
        f'SELECT fuente, anio, sum(filas_aceptadas) AS filas FROM "{new}".meta.fuentes GROUP BY ALL'
        if "fuentes" in _tables(con, new, "meta")
        else "SELECT NULL::VARCHAR AS fuente, NULL::INTEGER AS anio, NULL::BIGINT AS filas WHERE false"
    )
    rows = con.execute(
        f"""WITH antes AS (SELECT fuente, anio, sum(filas_aceptadas) AS filas
                           FROM {_PREVIOUS}.meta.fuentes GROUP BY ALL),
                 ahora AS ({current})
            SELECT a.fuente, a.anio, a.filas, coalesce(n.filas, 0)
            FROM antes AS a LEFT JOIN ahora AS n ON n.fuente = a.fuente AND n.anio IS NOT DISTINCT FROM a.anio
            WHERE a.filas > 0 AND coalesce(n.filas, 0) < ? * a.filas
            ORDER BY a.anio NULLS FIRST, a.fuente""",
        [fraction],
    ).fetchall()
    return [
        Loss(
            "fuente", f, a, float(before), float(after), folder_path=folder_label(sources[f], a) if f in sources else ""
        )
        for f, a, before, after in rows
    ]


def _indicator_losses(con, new: str) -> list[Loss]:
    if "indicadores_clave" not in _tables(con, _PREVIOUS, "marts"):
        return []
    current = (
        f'"{new}".marts.indicadores_clave'
        if "indicadores_clave" in _tables(con, new, "marts")
        else "(SELECT NULL::INTEGER AS anio, NULL::VARCHAR AS indicador, NULL::DOUBLE AS valor WHERE false)"
    )
    rows = con.execute(
        f"""SELECT a.indicador, a.anio, a.valor, n.valor
            FROM {_PREVIOUS}.marts.indicadores_clave AS a
            LEFT JOIN {current} AS n ON n.anio = a.anio AND n.indicador = a.indicador
            WHERE a.valor <> 0 AND (n.valor IS NULL OR n.valor = 0)
            ORDER BY a.anio, a.indicador"""
    ).fetchall()
    return [Loss("indicador", code, anio, before, after) for code, anio, before, after in rows]


def _mart_year_losses(con, new: str) -> list[Loss]:
    """A year present in a published mart and absent from the new one; `indicadores_clave` is left to the
    per-code comparison, which says more."""
    current = _tables(con, new, "marts")
    lost: dict[int, list[str]] = {}
    for table in sorted(_tables(con, _PREVIOUS, "marts") - {"indicadores_clave"}):
        if not _has_year(con, _PREVIOUS, table):
            continue
        kept = (
            f'SELECT DISTINCT anio FROM "{new}".marts.{table}'
            if table in current and _has_year(con, new, table)
            else "SELECT NULL::INTEGER AS anio WHERE false"
        )
        for (anio,) in con.execute(
            f"SELECT DISTINCT anio FROM {_PREVIOUS}.marts.{table} WHERE anio IS NOT NULL EXCEPT {kept}"
        ).fetchall():
            lost.setdefault(int(anio), []).append(f"marts.{table}")
    return [Loss("mart", ", ".join(tables), anio) for anio, tables in sorted(lost.items())]
