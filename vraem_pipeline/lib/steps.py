"""A topic's assets and checks in one Dagster step: the asset graph keeps one asset per table and one check per
rule, the run pays for a handful of steps.

A Dagster step costs bookkeeping whatever it does — its start, output, success and materialization events,
written one by one into the instance's storage (`benchmarks/dagster_steps.py` measures it) — and the refresh had
~50 of them (an asset or a check each), more than most of their SQL statements cost. Here a topic is one step
for its yearly work (staging of its sources and their year-level derived tables, partitioned by year) and one for
the tables computed over every year (marts and key figures); a check runs in the step of the asset it checks,
right after it. Asset keys, check names, partitions and the run/asset records users read do not change.

`topic_step` builds a `multi_asset` that can be subset (the sensor selects only the sources whose files changed
and what depends on them): it materializes the selected parts in order and runs their selected checks; a blocking
check that fails stops the step there, so nothing after it in the step is computed, and Dagster fails the step and
skips everything downstream — what a separate blocking check step did.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
import pandera.pandas as pa

from vraem_pipeline.core.catalog import Source
from vraem_pipeline.core.databases import table_exists
from vraem_pipeline.core.ingest import TextYearFinder, YearLoad, stage_text_year, stage_years, validate_file
from vraem_pipeline.core.marts import build_mart
from vraem_pipeline.core.quality import schema_failures
from vraem_pipeline.core.sqlrules import check_translatable, table_failures
from vraem_pipeline.lib.dagster_support import (
    POOL,
    YEARS,
    OperatorDatabase,
    VraemConfig,
    asset_years,
    markdown_table,
    operator_connection,
    progress,
    years_from_tags,
)
from vraem_pipeline.sources.textfiles import ParsedText


class PartFailed(Exception):
    """A part of a topic's step failed: the assets it was computing, so that `vraem refresh` names them rather than
    the step (the error that says what went wrong is its cause)."""

    def __init__(self, keys: set[dg.AssetKey]):
        super().__init__(", ".join(sorted(k.to_user_string() for k in keys)))


@dataclass
class StepContext:
    """What a part or a check gets: Dagster's context, the run's connection to the operator database, the
    settings, the step's config (if its topic has choices) and the years of the run."""

    context: dg.AssetExecutionContext
    con: duckdb.DuckDBPyConnection
    vraem: VraemConfig
    config: Any
    years: list[int] | None  # the partitions of a yearly step; the run's range (or None: all) otherwise

    def progress(self, message: str, t0: float | None = None) -> None:
        progress(self.context, message, t0)

    def progress_years(self, name: str, lines: list[str], t0: float) -> None:
        """The lines of a part computed for every year at once (one statement): each year's line, then the part's
        elapsed time once — on every year's line it read as that year's cost."""
        for line in lines:
            self.progress(line)
        self.progress(f"{name}: {len(lines)} {'año' if len(lines) == 1 else 'años'} en un solo cálculo", t0)


@dataclass(frozen=True)
class Check:
    """One asset check, run in its asset's step right after the asset. `run(con, years)` reads the operator
    database (the run's years, None for all) and returns the result; the asset key and check name are filled in."""

    name: str
    asset: dg.AssetKey
    description: str
    run: Callable[[duckdb.DuckDBPyConnection, list[int] | None], dg.AssetCheckResult]  # (connection, the run's years)
    blocking: bool = False
    additional_deps: tuple[dg.AssetKey, ...] = ()

    @property
    def key(self) -> dg.AssetCheckKey:
        return dg.AssetCheckKey(self.asset, self.name)

    def spec(self) -> dg.AssetCheckSpec:
        return dg.AssetCheckSpec(
            self.name,
            asset=self.asset,
            description=self.description,
            blocking=self.blocking,
            additional_deps=list(self.additional_deps),
        )


@dataclass(frozen=True)
class Part:
    """Assets computed together (usually one): `run(step, selected)` materializes the selected ones of `specs` and
    returns each one's metadata."""

    specs: tuple[dg.AssetSpec, ...]
    run: Callable[[StepContext, set[dg.AssetKey]], Mapping[dg.AssetKey, Mapping[str, Any]]]
    checks: tuple[Check, ...] = field(default=())

    @property
    def keys(self) -> set[dg.AssetKey]:
        return {s.key for s in self.specs}


def single(
    spec: dg.AssetSpec, run: Callable[[StepContext], Mapping[str, Any] | None], checks: Sequence[Check] = ()
) -> Part:
    """A part of one asset whose `run(step)` returns its metadata."""
    return Part((spec,), lambda step, selected: {spec.key: run(step) or {}}, tuple(checks))


def topic_step(
    name: str, parts: Sequence[Part], *, yearly: bool, config_cls: type[dg.Config] | None = None, description: str = ""
) -> dg.AssetsDefinition:
    """One step for `parts`, in their order (each part after the parts it depends on). `yearly`: the parts are
    partitioned by year (the run's range staged in one step, `BackfillPolicy.single_run`)."""
    specs = [s.replace_attributes(skippable=True) for p in parts for s in p.specs]
    checks = [c for p in parts for c in p.checks]

    def body(context: dg.AssetExecutionContext, duckdb: OperatorDatabase, vraem: VraemConfig, config=None):
        selected = set(context.selected_asset_keys)
        selected_checks = set(context.selected_asset_check_keys)
        years = asset_years(context) if yearly else years_from_tags(context.run.tags)
        with operator_connection(duckdb) as con:
            step = StepContext(context, con, vraem, config, years)
            for part in parts:
                wanted = part.keys & selected
                if wanted:
                    try:
                        computed = part.run(step, wanted)
                    except Exception as exc:
                        raise PartFailed(wanted) from exc
                    for key, metadata in computed.items():
                        if key in wanted:  # a part computing several tables at once reports only those selected
                            yield dg.MaterializeResult(asset_key=key, metadata=dict(metadata))
                for check in part.checks:
                    if check.key not in selected_checks:
                        continue
                    t0 = time.perf_counter()
                    result = check.run(con, years)
                    yield result._replace(asset_key=check.asset, check_name=check.name)
                    if not result.passed:
                        step.progress(f"control {check.asset.to_user_string()}:{check.name} no pasó", t0)
                        if check.blocking:
                            return  # Dagster fails the step and skips what depends on it

    kwargs = dict(
        name=name,
        specs=specs,
        check_specs=[c.spec() for c in checks],
        can_subset=True,
        pool=POOL,
        description=description or None,
    )
    if yearly:
        kwargs.update(partitions_def=YEARS, backfill_policy=dg.BackfillPolicy.single_run())
    if config_cls is None:

        def op(context, duckdb, vraem):
            yield from body(context, duckdb, vraem)
    else:

        def op(context, duckdb, vraem, config):
            yield from body(context, duckdb, vraem, config)

    # Dagster reads the parameters' types to wire the resources and the config (real types: this module's
    # annotations are strings, `from __future__ import annotations`).
    op.__annotations__ = {
        "context": dg.AssetExecutionContext,
        "duckdb": OperatorDatabase,
        "vraem": VraemConfig,
        **({"config": config_cls} if config_cls is not None else {}),
    }
    op.__name__ = name
    return dg.multi_asset(**kwargs)(op)


# --- parts every topic uses ----------------------------------------------------------------------------------


def _column_schema(schema: pa.DataFrameSchema) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, str(col.dtype), description=col.description or "")
            for name, col in schema.columns.items()
        ]
    )


def _staging_spec(fuente: str, schema: pa.DataFrameSchema, group: str, description: str, kinds: set[str]):
    return dg.AssetSpec(
        ["staging", fuente],
        group_name=group,
        kinds=kinds,
        description=description,
        metadata={"dagster/column_schema": _column_schema(schema), "tabla": f"staging.{fuente}"},
    )


def _staged_metadata(per_year: dict[str, dict]) -> dict[str, Any]:
    return {
        "filas_aceptadas": sum(v["aceptadas"] for v in per_year.values()),
        "filas_rechazadas": sum(v["rechazadas"] for v in per_year.values()),
        "por_anio": dg.MetadataValue.json(per_year),
    }


def text_source_part(
    *, source: Source, find_year: TextYearFinder, group: str, description: str, checks: Sequence[Check] = ()
) -> Part:
    """read → validate → quarantine/stage for a national text source, all inside DuckDB
    (`dagster_support.stage_text_year`), with its blocking check: the schema's SQL run again on the staged table.
    No row passes through Python, so memory is DuckDB's `memory_limit` whatever the file's size."""
    fuente, schema, table = source.name, source.schema, source.table
    check_translatable(schema)
    spec = _staging_spec(fuente, schema, group, description, {"duckdb", "sql"})

    def run(step: StepContext) -> dict[str, Any]:
        return _staged_metadata(
            {
                str(anio): stage_text_year(
                    step.con,
                    fuente=fuente,
                    schema=schema,
                    anio=anio,
                    find_year=find_year,
                    raw_dir=Path(step.vraem.raw_dir),
                    workdir=Path(step.vraem.temp_dir) / "copias",
                    log=step.progress,
                )
                for anio in step.years
            }
        )

    def esquema(con: duckdb.DuckDBPyConnection, years: list[int] | None) -> dg.AssetCheckResult:
        exists = table_exists(con, table)
        failed = table_failures(con, table, schema, years) if exists else pd.DataFrame()
        validated = (
            con.execute(
                f"SELECT count(*) FROM {table}" + (f" WHERE anio IN ({', '.join(map(str, years))})" if years else "")
            ).fetchone()[0]
            if exists
            else 0
        )
        return dg.AssetCheckResult(
            passed=failed.empty,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"filas_validadas": validated, "fallas": len(failed), "muestra_de_fallas": markdown_table(failed)},
        )

    check = Check(
        "esquema",
        spec.key,
        f"Las filas de {table} cumplen el esquema pandera {schema.name}, verificado en "
        "SQL dentro de la base de operación (bloqueante)",
        esquema,
        blocking=True,
    )
    return single(spec, run, [check, *checks])


YearReader = Callable[[Path, int], list[tuple[ParsedText, str]]]


def source_part(
    *,
    source: Source,
    read_year: YearReader,
    group: str,
    description: str,
    year_schema: Callable[[int], pa.DataFrameSchema] | None = None,
) -> Part:
    """read → validate → quarantine/stage for a source small enough for pandas (ENAHO: ~90 k rows a year), one year
    at a time (only one year's frame is ever in memory), with its blocking check: the same schema run again by
    pandera's pandas backend on the staged rows. `read_year(raw_dir, anio)` returns the parsed files of that year
    with a note for meta.fuentes (none: the year's rows are removed, never left stale); `year_schema(anio)`
    tightens the schema for one year's file (a column a given edition must carry)."""
    fuente, schema, table = source.name, source.schema, source.table
    spec = _staging_spec(fuente, schema, group, description, {"duckdb", "pandas"})

    def run(step: StepContext) -> dict[str, Any]:
        per_year: dict[str, dict[str, int]] = {}
        for anio in step.years:
            t0 = time.perf_counter()
            files = read_year(Path(step.vraem.raw_dir), anio)
            loads: list[YearLoad] = []
            if not files:
                step.progress(f"{fuente} {anio}: sin archivos en raw/ (el año queda sin filas)", t0)
            for parsed, nota in files:
                load = validate_file(fuente, parsed, year_schema(anio) if year_schema else schema, anio, nota)
                loads.append(load)
                s = load.summary
                step.progress(
                    f"{fuente} {anio}: {parsed.label} leídas={s['leidas']:,} aceptadas={s['aceptadas']:,} "
                    f"rechazadas={s['rechazadas']:,}",
                    t0,
                )
            stage_years(step.con, fuente, table, schema, [anio], loads, Path(step.vraem.raw_dir))
            per_year.update({str(anio): load.summary for load in loads})
            del loads, files
        return _staged_metadata(per_year)

    def esquema(con: duckdb.DuckDBPyConnection, years: list[int] | None) -> dg.AssetCheckResult:
        failures, validated = [], 0
        if years is None:
            years = [r[0] for r in con.execute(f"SELECT DISTINCT anio FROM {table} ORDER BY anio").fetchall()]
        for anio in years:  # year by year, for the same memory reason as the asset
            df = con.execute(f"SELECT * FROM {table} WHERE anio = ?", [anio]).df()
            validated += len(df)
            # A year without rows (no files delivered) is not a schema failure; the types of an empty result set are
            # DuckDB's defaults, not the schema's, so there is nothing meaningful to check.
            if len(df):
                failures.append(schema_failures(df, schema).assign(anio=anio))
        failed = pd.concat(failures, ignore_index=True) if failures else pd.DataFrame()
        return dg.AssetCheckResult(
            passed=failed.empty,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"filas_validadas": validated, "fallas": len(failed), "muestra_de_fallas": markdown_table(failed)},
        )

    check = Check(
        "esquema",
        spec.key,
        f"Las filas de {table} cumplen el esquema pandera {schema.name} (bloqueante)",
        esquema,
        blocking=True,
    )
    return single(spec, run, [check])


def mart_part(names: Sequence[str], deps: Sequence[dg.AssetKey], group: str, checks: Sequence[Check] = ()) -> Part:
    """A topic's `marts.<name>` tables, each from `sql/marts/<name>.sql` (described by the YAML beside it)."""
    specs = tuple(
        dg.AssetSpec(
            ["marts", name],
            deps=[*deps, dg.AssetKey(["referencia", "tablas"])],
            group_name=group,
            kinds={"duckdb", "sql"},
            description=f"marts.{name} (sql/marts/{name}.sql)",
        )
        for name in names
    )

    def run(step: StepContext, selected: set[dg.AssetKey]) -> dict[dg.AssetKey, dict]:
        return {s.key: {"filas": build_mart(step.con, s.key.path[-1])} for s in specs if s.key in selected}

    return Part(specs, run, tuple(checks))


def shares_check(*, on: str, blocks: dict[str, str], evolution: str, total: str, description: str) -> Check:
    """Blocking check of a topic's marts: every block of shares (`blocks`: label → mart) sums to 100 % in each year
    with a total, and its total (column `total`) is the `evolution` mart's, year by year, neither side missing."""
    union = " UNION ALL ".join(
        f"SELECT '{label}' AS bloque, anio, sum(participacion_pct) AS pct, sum({total}) AS total "
        f"FROM marts.{mart} GROUP BY anio"
        for label, mart in blocks.items()
    )
    sql = f"""WITH b AS ({union})
              SELECT b.bloque, coalesce(b.anio, e.anio) AS anio, b.pct, b.total, e.{total} AS total_{evolution}
              FROM b FULL JOIN marts.{evolution} AS e ON e.anio = b.anio
              WHERE (b.total > 0 AND (e.anio IS NULL OR abs(b.pct - 100) > 1e-6 OR abs(b.total - e.{total}) > 1e-6))
                 OR (b.anio IS NULL AND e.{total} > 0)"""
    others = sorted({*blocks.values(), evolution} - {on})

    def run(con: duckdb.DuckDBPyConnection, years: list[int] | None) -> dg.AssetCheckResult:
        bad = con.execute(sql).df()
        return dg.AssetCheckResult(passed=bad.empty, metadata={"bloques_con_error": markdown_table(bad)})

    return Check(
        "participaciones_suman_100",
        dg.AssetKey(["marts", on]),
        description,
        run,
        blocking=True,
        additional_deps=tuple(dg.AssetKey(["marts", m]) for m in others),
    )
