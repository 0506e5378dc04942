"""The refresh job, a yearly schedule and a sensor on raw/: what `dg dev` and the Dagster daemon run besides the
assets."""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import dagster as dg
import duckdb

from vraem_pipeline.core import lock
from vraem_pipeline.core.databases import sha256_of
from vraem_pipeline.core.settings import Settings, is_year_folder, sensor_interval_s
from vraem_pipeline.lib.dagster_support import YEARS
from vraem_pipeline.registry import SOURCES

#: Everything, in one process: DuckDB has a single writer, so steps run one after another.
refresco = dg.define_asset_job(
    "refresco",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Refresca todas las fuentes de los años pedidos, recalcula los marts y publica el almacén",
)


@dg.schedule(
    job=refresco,
    cron_schedule="0 6 1 4 *",
    execution_timezone="America/Lima",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def refresco_anual(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """1 April: the previous year's deliveries (SUNAT, INEI) are usually in raw/ by then."""
    year = context.scheduled_execution_time.year - 1
    return dg.RunRequest(run_key=f"anual-{year}", partition_key=str(year))


def _watched_by(yearly: bool) -> tuple[dict[tuple[str, ...], tuple[str, ...]], dict[tuple[str, ...], tuple[str, ...]]]:
    """Folder (or file) under raw/ → the assets that read it, and → the sources' names in `meta.fuentes`, from the
    registry (also what the unrecognised-file scan reads): ENAHO's modules 500 and 400 share one folder."""
    assets: dict[tuple[str, ...], tuple[str, ...]] = {}
    names: dict[tuple[str, ...], tuple[str, ...]] = {}
    for source in SOURCES:
        if source.yearly == yearly:
            prefix = tuple(source.watched.split("/"))
            assets[prefix] = (*assets.get(prefix, ()), source.asset)
            names[prefix] = (*names.get(prefix, ()), source.name)
    return assets, names


#: Folder under raw/ → the assets that read it; the year folder comes right below it (any depth under that).
YEARLY_SOURCES, _YEARLY_NAMES = _watched_by(yearly=True)
#: INEI's GDP files have no year folder: one edition carries every year and their assets are not partitioned.
EDITION_SOURCES, _EDITION_NAMES = _watched_by(yearly=False)
#: The same folders → the sources' names in `meta.fuentes` (what the published warehouse says it read).
_SOURCES_OF: dict[tuple[str, ...], tuple[str, ...]] = {**_YEARLY_NAMES, **_EDITION_NAMES}
#: Always part of a requested run: cheap, and the marts join it (a first run on an empty operator database).
ALWAYS_SELECTED = ("referencia/tablas",)


@dataclass(frozen=True)
class Watched:
    """A file the sensor watches: the assets that read it, their names in `meta.fuentes`, its year (None for an
    INEI edition) and the folder that holds the year (`sunat/padron/2024`)."""

    assets: tuple[str, ...]
    fuentes: tuple[str, ...]
    year: int | None
    folder: str


def watched(relative: Path) -> Watched | None:
    """What reads a file under raw/ (given relative to raw/), or None for a file no source reads."""
    parts = tuple(p.lower() for p in relative.parts)
    for prefix, assets in YEARLY_SOURCES.items():
        n = len(prefix)
        if parts[:n] == prefix and len(parts) > n + 1 and is_year_folder(parts[n]):
            folder = PurePosixPath(*relative.parts[: n + 1]).as_posix()
            return Watched(assets, _SOURCES_OF[prefix], int(parts[n]), folder)
    for prefix, assets in EDITION_SOURCES.items():
        if parts[: len(prefix)] == prefix:
            return Watched(assets, _SOURCES_OF[prefix], None, PurePosixPath(*relative.parts[: len(prefix)]).as_posix())
    return None


def source_of(relative: Path) -> tuple[tuple[str, ...], int | None] | None:
    """(assets that read the file, its year or None for an INEI edition), or None for a file no source reads."""
    found = watched(relative)
    return (found.assets, found.year) if found else None


def partition_years() -> frozenset[int]:
    """The staging assets' partitions (2015 to the last complete year): a run requested for any other year
    would fail the sensor's tick. Computed once per tick (Dagster walks the cron for each question)."""
    return frozenset(int(k) for k in YEARS.get_partition_keys())


@dataclass
class Published:
    """What the published analysts' warehouse says it was built from (`meta.fuentes`): each read file's SHA-256
    by its path relative to raw/ (`archivo` holds it relative, or absolute as older refreshes wrote it — then
    every tail of the path counts, so a raw/ folder moved elsewhere still matches), and per source and year
    (None for an edition) when the run that read it started (epoch seconds)."""

    sha256: dict[str, set[str]] = field(default_factory=dict)
    under_raw: set[str] = field(default_factory=set)  # published paths known to lie in this raw/ folder
    read_since: dict[tuple[str, int | None], float] = field(default_factory=dict)

    @classmethod
    def read(cls, warehouse: Path, raw: Path) -> "Published":
        """From the published warehouse (none yet: nothing published). Opened read-only, like an analyst."""
        found = cls()
        if not warehouse.is_file():
            return found
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            tables = {
                r[0]
                for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'meta'").fetchall()
            }
            if "fuentes" not in tables:
                return found
            # A row's reading started with its run: the latest run start not after the row was written.
            started = (
                "(SELECT max(e.inicio) FROM meta.ejecuciones e WHERE e.inicio <= f.leido_en)"
                if "ejecuciones" in tables
                else "NULL"
            )
            rows = con.execute(f"""
                SELECT fuente, anio, archivo, sha256, epoch(coalesce({started}, leido_en))
                FROM meta.fuentes f WHERE archivo IS NOT NULL""").fetchall()
        finally:
            con.close()
        raw_text = raw.resolve().as_posix().rstrip("/") + "/"
        for fuente, anio, archivo, sha, since in rows:
            path = PurePosixPath(archivo)
            if path.is_absolute():
                keys = {PurePosixPath(*path.parts[i:]).as_posix() for i in range(1, len(path.parts))}
                if archivo.startswith(raw_text):
                    found.under_raw.add(archivo[len(raw_text) :])
            else:
                keys = {path.as_posix()}
                found.under_raw.add(path.as_posix())
            for key in keys:
                found.sha256.setdefault(key, set()).add(sha)
            if since is not None:
                source = (fuente, anio)
                found.read_since[source] = min(since, found.read_since.get(source, since))
        return found

    def holds(self, key: str, sha: str, where: Watched, ctime: float) -> bool:
        """Whether the published warehouse already reflects this file: it read these very bytes at this path, or
        the file was already in place (its inode unchanged since: `ctime`, which copying, moving, extracting or
        `touch` all move, unlike the time stamp `cp -p` keeps) when the run that published its source and year
        started, and that run left it aside (an older Padrón cut, another month of the SBS)."""
        if key in self.sha256:
            return sha in self.sha256[key]
        since = [self.read_since[(f, where.year)] for f in where.fuentes if (f, where.year) in self.read_since]
        return bool(since) and ctime <= min(since)


@dataclass
class Scan:
    """One look at raw/: every watched file's [size, mtime_ns, sha256] (the sensor's next cursor), the files
    whose content changed, and the year folders outside the partitions (reported, not watched)."""

    current: dict[str, list]
    changed: set[str]
    outside: set[str]


def scan(raw: Path, seen: dict, published: Callable[[], Published] | None = None) -> Scan:
    """Every source file's [size, mtime_ns, sha256] and the relative paths whose content changed (new, different
    bytes, or gone). Only a file whose size or time stamp moved since `seen` is read and hashed, so a national
    folder of several GB costs a stat per file on a quiet tick; a touched file with the same bytes is not a
    change. A file that is new or different to `seen` is not a change either if `published()` (read once, only
    then) already holds it. Given `published`, a file the published warehouse read that is gone from raw/ is a
    change too (`seen` does not know it: the sensor's first tick). An entry of the former cursor (its mtime
    alone, a float) counts as unchanged while the time stamp is the same."""
    current: dict[str, list] = {}
    changed: set[str] = set()
    outside: set[str] = set()
    holder: list[Published] = []
    years = partition_years()

    def in_partitions(year: int | None) -> bool:
        return year is None or year in years

    def publicado() -> Published:
        if not holder:
            holder.append(published())
        return holder[0]

    for path in sorted(raw.rglob("*")) if raw.is_dir() else []:
        key = path.relative_to(raw).as_posix()
        where = watched(Path(key))
        if where is None or not path.is_file():
            continue
        if not in_partitions(where.year):
            outside.add(where.folder)
            continue
        stat = path.stat()
        before = seen.get(key)
        if isinstance(before, list) and before[:2] == [stat.st_size, stat.st_mtime_ns]:
            current[key] = before
            continue
        current[key] = [stat.st_size, stat.st_mtime_ns, sha256_of(path)]
        same = before == stat.st_mtime if isinstance(before, float) else bool(before) and before[2] == current[key][2]
        if not same and published is not None:
            same = publicado().holds(key, current[key][2], where, stat.st_ctime)
        if not same:
            changed.add(key)
    gone = set(seen) | (publicado().under_raw if published is not None else set())
    for key in gone - set(current):
        where = watched(Path(key))
        if where is not None and in_partitions(where.year) and not (raw / key).is_file():
            changed.add(key)
    return Scan(current, changed, outside)


def _request(roots: set[str], year: int | None, files: list[str], cursor: dict, graph) -> dg.RunRequest:
    """One run: the changed sources, everything downstream of them, and the year's partition (none when only
    INEI's unpartitioned GDP files changed)."""
    keys = dg.AssetSelection.assets(*(dg.AssetKey.from_user_string(r) for r in roots)).downstream().resolve(graph)
    keys |= {dg.AssetKey.from_user_string(k) for k in ALWAYS_SELECTED}
    digest = hashlib.sha256(json.dumps([[f, cursor.get(f)] for f in files]).encode()).hexdigest()[:12]
    return dg.RunRequest(
        run_key=f"archivos-{year or 'inei'}-{digest}",
        partition_key=str(year) if year else None,
        asset_selection=sorted(keys, key=lambda k: k.to_user_string()),
    )


@dg.sensor(job=refresco, minimum_interval_seconds=sensor_interval_s(), default_status=dg.DefaultSensorStatus.STOPPED)
def nuevos_archivos(context: dg.SensorEvaluationContext):
    """A file whose content changed under raw/<fuente>/…/<año>/ (new, different bytes, or removed) requests a
    run of that year with only its sources and what depends on them; a file under raw/inei/ (INEI's GDP
    workbook or the user's share table, not partitioned: one edition carries every year) adds the GDP assets
    to the latest year's run, or requests them alone. On its first tick (no cursor: just started, or reset)
    files whose content the published warehouse already holds request nothing, so turning the sensor on after
    a `vraem refresh` asks only for what that refresh did not publish. A year folder outside the partitions is
    reported in the tick's log and left alone. Each tick first marks failed the runs a dead process left
    unfinished, when no refresh holds the lock (`lock.recover_if_free`): the daemon's queue runs one at a
    time and would otherwise wait behind them for good. Every `VRAEM_SENSOR_INTERVALO_S` seconds (default 300)."""
    settings = Settings.from_env()
    lock.recover_if_free(
        settings,
        context.instance,
        notify=lambda line: (context.log.info if line.lstrip().startswith("aviso:") else context.log.warning)(
            line.strip()
        ),
    )
    first = context.cursor is None
    seen = json.loads(context.cursor) if context.cursor else {}
    found = scan(
        settings.raw_dir, seen, (lambda: Published.read(settings.warehouse, settings.raw_dir)) if first else None
    )
    outside = ""
    if found.outside:
        first_year, last_year = YEARS.get_first_partition_window(), YEARS.get_last_partition_window()
        span = f"{first_year.start.year}–{last_year.start.year}" if first_year and last_year else "ninguno"
        outside = (
            f"carpetas de año fuera de los años que se pueden refrescar ({span}), no vigiladas: "
            f"{', '.join(f'raw/{f}/' for f in sorted(found.outside))}; muévalas a la carpeta del año que "
            "corresponda (un año aún en curso se podrá refrescar cuando termine)"
        )
        context.log.warning(outside)
    by_year: dict[int | None, tuple[set[str], list[str]]] = {}
    for key in sorted(found.changed):
        assets, year = source_of(Path(key))
        roots, files = by_year.setdefault(year, (set(), []))
        roots.update(assets)
        files.append(key)
    years = sorted(y for y in by_year if y is not None)
    if None in by_year and years:  # the GDP assets join the latest year's run rather than publish twice
        roots, files = by_year.pop(None)
        by_year[years[-1]][0].update(roots)
        by_year[years[-1]][1].extend(files)
    if by_year:
        if context.repository_def is None:
            raise dg.DagsterInvariantViolationError(
                "el sensor necesita las definiciones del proyecto (build_sensor_context(definitions=…) en una prueba)"
            )
        graph = context.repository_def.asset_graph
        for year, (roots, files) in sorted(by_year.items(), key=lambda kv: kv[0] or 0):
            context.log.info(f"{year or 'PBI (INEI)'}: {len(files)} archivo(s) cambiaron: {', '.join(files[:5])}")
            yield _request(roots, year, files, found.current, graph)
    elif outside:
        yield dg.SkipReason(outside)
    context.update_cursor(json.dumps(found.current))
