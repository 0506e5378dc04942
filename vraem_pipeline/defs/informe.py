"""The report of the run's latest year, written from the warehouse the run has just published."""

import time
from pathlib import Path

import dagster as dg

from vraem_pipeline.informe import write_report
from vraem_pipeline.informe.data import published_years
from vraem_pipeline.lib.dagster_support import POOL, VraemConfig, progress, years_from_tags


@dg.asset(
    key=["informe", "anual"],
    deps=[dg.AssetKey(["almacen", "publicado"])],
    pool=POOL,
    group_name="informe",
    kinds={"html", "xlsx", "pdf"},
    description="Reporte HTML (gráficos SVG en línea), libro .xlsx y PDF del último año refrescado, "
    "leídos del almacén publicado (VRAEM_INFORME_DIR)",
)
def informe_anual(context: dg.AssetExecutionContext, vraem: VraemConfig) -> dg.MaterializeResult:
    published = published_years(vraem.warehouse)
    years = [y for y in (years_from_tags(context.run.tags) or published) if y in published]
    if not years:
        raise dg.Failure(f"{vraem.warehouse}: el almacén publicado no tiene ningún año del refresco para el reporte")
    t0 = time.perf_counter()
    archivos = write_report(vraem.warehouse, max(years), Path(vraem.informe_dir))
    if archivos.pdf_warning:
        context.log.warning(archivos.pdf_warning)
        progress(context, f"informe {max(years)}: aviso: {archivos.pdf_warning}")
    written = ", ".join(p.name for p in (archivos.html, archivos.xlsx, archivos.pdf) if p)
    progress(context, f"informe {max(years)}: {archivos.html.parent}/ {written}", t0)
    return dg.MaterializeResult(
        metadata={
            "anio": max(years),
            "html": str(archivos.html),
            "xlsx": str(archivos.xlsx),
            "pdf": str(archivos.pdf) if archivos.pdf else (archivos.pdf_warning or "no generado"),
        }
    )
