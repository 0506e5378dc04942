"""The annual report and the analysts' workbook, generated from the published warehouse.

`vraem report --year N` and the Dagster asset `informe/anual` both call `write_report`: the HTML page
(self-contained: charts as inline SVG, no network needed to open it), the `.xlsx` workbook beside it and,
where a Chromium is installed, the PDF of the same page.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import jinja2

from vraem_pipeline.informe import browser, formatting, workbook
from vraem_pipeline.informe.data import CV_INDICATIVE_PCT, REPORT_TOPICS, Report, read_report

TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    xlsx: Path
    pdf: Path | None  # None when no Chromium was found (the reason is in `aviso`)
    pdf_warning: str | None = None


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(formatting.FILTERS)
    return env


def render(informe: Report) -> str:
    """The report's HTML for one year, charts included."""
    # matplotlib is imported here, not with the module: every process that loads the definitions (the code server,
    # the daemon, the webserver, a refresh that stops before its report) would otherwise pay its import.
    from vraem_pipeline.informe import charts

    temas = []
    for tema in REPORT_TOPICS:
        topic_charts = [
            {
                "mart": g.mart,
                "titulo": g.titulo,
                "cv": g.cv,
                "tipo": g.tipo,
                "svg": charts.draw(g, informe.tablas[g.mart], informe.series[g.mart], informe.anio),
            }
            for g in tema.charts
        ]
        has_data = all(code in informe.clave for code in tema.codes)
        temas.append({"clave": tema.clave, "titulo": tema.titulo, "graficos": topic_charts, "tiene_datos": has_data})
    fin = informe.run_info.get("fin")
    run = informe.run_info.get("run_id")
    elaboracion = "PRODUCE, con vraem-pipeline a partir del almacén publicado" + (
        f" (ejecución {run[:8]}, {fin:%Y-%m-%d %H:%M} UTC)." if run and fin else "."
    )
    return (
        _environment()
        .get_template("informe.html.j2")
        .render(i=informe, temas=temas, elaboracion=elaboracion, cv_referencial=CV_INDICATIVE_PCT)
    )


def base_name(informe: Report) -> str:
    """`informe_vraem_2024`: the territory's name as a file name."""
    slug = formatting.slug(informe.territorio)
    return f"informe_{slug}_{informe.anio}"


def write_report(warehouse: Path | str, anio: int, out: Path | str, *, pdf: bool = True) -> ReportFiles:
    """Writes `<out>/informe_<territorio>_<año>.html`, `.xlsx` and (with Chromium) `.pdf`."""
    informe = read_report(warehouse, anio)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    base = out / base_name(informe)
    html = base.with_suffix(".html")
    html.write_text(render(informe), encoding="utf-8")
    xlsx = base.with_suffix(".xlsx")
    workbook.write_workbook(warehouse, anio, xlsx, informe.territorio)
    pdf_path, pdf_warning = None, None
    if pdf:
        try:
            pdf_path = browser.print_pdf(html, base.with_suffix(".pdf"))
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:  # the page and tables stand without it
            pdf_warning = str(exc) if isinstance(exc, browser.BrowserNotFound) else f"PDF no generado: {exc}"
    return ReportFiles(html, xlsx, pdf_path, pdf_warning)
