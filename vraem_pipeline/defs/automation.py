"""The refresh job, a yearly schedule and a sensor on raw/: what `dagster dev` shows besides the assets."""

import hashlib
import json
from pathlib import Path

import dagster as dg

from vraem_pipeline.archivos import FUENTES
from vraem_pipeline.pbi import ARCHIVO_PARTICIPACIONES
from vraem_pipeline.settings import Settings, is_year_folder
from vraem_pipeline.warehouse import sha256_of

#: Everything, in one process: DuckDB has a single writer, so steps run one after another.
refresco = dg.define_asset_job(
    "refresco", selection=dg.AssetSelection.all(), executor_def=dg.in_process_executor,
    description="Refresca todas las fuentes de los años pedidos, recalcula los marts y publica el almacén",
)


@dg.schedule(job=refresco, cron_schedule="0 6 1 4 *", execution_timezone="America/Lima",
             default_status=dg.DefaultScheduleStatus.STOPPED)
def refresco_anual(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """1 April: the previous year's deliveries (SUNAT, INEI) are usually in raw/ by then."""
    year = context.scheduled_execution_time.year - 1
    return dg.RunRequest(run_key=f"anual-{year}", partition_key=str(year))


def _yearly_sources() -> dict[tuple[str, ...], tuple[str, ...]]:
    """Folder under raw/ → the staging assets that read its year folders, from the sources' own list of where
    their files are (`archivos.FUENTES`, also what the unrecognised-file scan uses): ENAHO's modules 500 and 400
    share one folder."""
    out: dict[tuple[str, ...], tuple[str, ...]] = {}
    for spec in FUENTES:
        if spec.por_anio:
            folder = tuple(spec.carpeta.split("/"))
            out[folder] = (*out.get(folder, ()), f"staging/{spec.fuente}")
    return out


#: Folder under raw/ → the assets that read it; the year folder comes right below it (any depth under that).
YEARLY_SOURCES = _yearly_sources()
#: INEI's GDP files have no year folder: one edition carries every year and their assets are not partitioned.
EDITION_SOURCES: dict[tuple[str, ...], tuple[str, ...]] = {
    ("inei", "vab"): ("staging/inei_vab",),
    ("inei", ARCHIVO_PARTICIPACIONES): ("intermedio/pbi_asignacion",),
}
#: Always part of a requested run: cheap, and the marts join it (a first run on an empty operator database).
ALWAYS_SELECTED = ("referencia/tablas",)


def source_of(relative: Path) -> tuple[tuple[str, ...], int | None] | None:
    """(assets that read the file, its year or None for an INEI edition), or None for a file no source reads."""
    parts = tuple(p.lower() for p in relative.parts)
    for prefix, assets in YEARLY_SOURCES.items():
        n = len(prefix)
        if parts[:n] == prefix and len(parts) > n + 1 and is_year_folder(parts[n]):
            return assets, int(parts[n])
    for prefix, assets in EDITION_SOURCES.items():
        if parts[:len(prefix)] == prefix:
            return assets, None
    return None


def scan(raw: Path, seen: dict) -> tuple[dict[str, list], set[str]]:
    """Every source file's [size, mtime_ns, sha256] and the relative paths whose content changed since `seen`
    (new, different bytes, or gone). Only a file whose size or time stamp moved is read and hashed, so a
    national folder of several GB costs a stat per file on a quiet tick; a touched file with the same bytes
    is not a change. An entry of the former cursor (its mtime alone, a float) counts as unchanged while the
    time stamp is the same."""
    current: dict[str, list] = {}
    changed: set[str] = set()
    for path in sorted(raw.rglob("*")) if raw.is_dir() else []:
        key = path.relative_to(raw).as_posix()
        if not path.is_file() or source_of(Path(key)) is None:
            continue
        stat = path.stat()
        before = seen.get(key)
        if isinstance(before, list) and before[:2] == [stat.st_size, stat.st_mtime_ns]:
            current[key] = before
            continue
        current[key] = [stat.st_size, stat.st_mtime_ns, sha256_of(path)]
        same = before == stat.st_mtime if isinstance(before, float) else bool(before) and before[2] == current[key][2]
        if not same:
            changed.add(key)
    changed |= {key for key in seen if key not in current and source_of(Path(key)) is not None}
    return current, changed


def _request(roots: set[str], year: int | None, files: list[str], cursor: dict, graph) -> dg.RunRequest:
    """One run: the changed sources, everything downstream of them, and the year's partition (none when only
    INEI's unpartitioned GDP files changed)."""
    keys = dg.AssetSelection.assets(*(dg.AssetKey.from_user_string(r) for r in roots)).downstream().resolve(graph)
    keys |= {dg.AssetKey.from_user_string(k) for k in ALWAYS_SELECTED}
    digest = hashlib.sha256(json.dumps([[f, cursor.get(f)] for f in files]).encode()).hexdigest()[:12]
    return dg.RunRequest(run_key=f"archivos-{year or 'inei'}-{digest}", partition_key=str(year) if year else None,
                         asset_selection=sorted(keys, key=lambda k: k.to_user_string()))


@dg.sensor(job=refresco, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.STOPPED)
def nuevos_archivos(context: dg.SensorEvaluationContext):
    """A file whose content changed under raw/<fuente>/…/<año>/ (new, different bytes, or removed) requests a
    run of that year with only its sources and what depends on them; a file under raw/inei/ (INEI's GDP
    workbook or the user's share table, not partitioned: one edition carries every year) adds the GDP assets
    to the latest year's run, or requests them alone."""
    seen = json.loads(context.cursor) if context.cursor else {}
    current, changed = scan(Settings.from_env().raw_dir, seen)
    by_year: dict[int | None, tuple[set[str], list[str]]] = {}
    for key in sorted(changed):
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
        if context.repository_def is not None:
            graph = context.repository_def.asset_graph
        else:  # a test's bare context: the project's own graph
            from vraem_pipeline.definitions import defs
            graph = defs().resolve_asset_graph()
        for year, (roots, files) in sorted(by_year.items(), key=lambda kv: kv[0] or 0):
            context.log.info(f"{year or 'PBI (INEI)'}: {len(files)} archivo(s) cambiaron: {', '.join(files[:5])}")
            yield _request(roots, year, files, current, graph)
    context.update_cursor(json.dumps(current))
