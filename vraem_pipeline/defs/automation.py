"""The refresh job, a yearly schedule and a sensor on raw/: what `dagster dev` shows besides the assets."""

import json

import dagster as dg

from vraem_pipeline.settings import Settings, years_found

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


@dg.sensor(job=refresco, minimum_interval_seconds=300, default_status=dg.DefaultSensorStatus.STOPPED)
def nuevos_archivos(context: dg.SensorEvaluationContext):
    """A file added or changed under raw/<fuente>/…/<año>/ requests a refresh of that year; one under raw/inei/
    (INEI's GDP workbook: one edition carries every year, and the GDP assets are not partitioned) a refresh of
    the latest year, which re-reads the edition and reallocates every year."""
    raw = Settings.from_env().raw_dir
    seen: dict[str, float] = json.loads(context.cursor) if context.cursor else {}
    current: dict[str, float] = {}
    changed_years: set[int] = set()
    for path in raw.rglob("*") if raw.is_dir() else []:
        in_year = path.parent.name.isdigit() and len(path.parent.name) == 4
        if path.is_file() and (in_year or path.relative_to(raw).parts[0] == "inei"):
            key = str(path.relative_to(raw))
            current[key] = path.stat().st_mtime
            if seen.get(key) != current[key]:
                years = years_found(raw)
                if in_year:
                    changed_years.add(int(path.parent.name))
                elif years:
                    changed_years.add(years[-1])
    for year in sorted(changed_years):
        yield dg.RunRequest(run_key=f"archivos-{year}-{max(current.values()):.0f}", partition_key=str(year))
    context.update_cursor(json.dumps(current))
