"""The report's charts: matplotlib figures written as SVG text to put inline in the page.

Glyphs are drawn as paths (`svg.fonttype = "path"`), so the page looks the same on a machine without the
font and needs no network; ids are prefixed per chart so that several SVGs in one page never share one.
Labels use the edition's number formats (`formato`), never matplotlib's defaults ("1e6", "1,000.0").
"""

from __future__ import annotations

import io
import re
import textwrap

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from vraem_pipeline.informe import formatting  # noqa: E402
from vraem_pipeline.informe.data import Chart, etiqueta  # noqa: E402

COLOR = "#1f4e79"  # the report's year
SERIES_COLOR = "#9dbbd9"  # earlier years, "Otros"
WIDTH_INCHES = 7.0

_RC = {
    "svg.fonttype": "path",
    "svg.hashsalt": "vraem",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
}


def _svg(fig: Figure, prefix: str) -> str:
    buffer = io.StringIO()
    with matplotlib.rc_context(_RC):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    # Every id, and every reference to one, gets the chart's prefix (matplotlib numbers them per figure).
    text = re.sub(r'(\bid="|href="#|url\(#)', lambda m: f"{m.group(1)}{prefix}-", text)
    return text


def _formatter(unidad: str):
    return {"entero": formatting.entero, "millones": formatting.millones, "pct": formatting.pct}[unidad]


def evolucion(g: Chart, series: list[dict], anio: int) -> str:
    """Bars over the years, the report's year dark, each bar's value on it and its annual change below the year."""
    rows = [r for r in series if r.get(g.valor) is not None]
    years = [r["anio"] for r in rows]
    values = [r[g.valor] for r in rows]
    fmt = _formatter(g.unidad)
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(WIDTH_INCHES, 2.9))
        ax = fig.add_subplot()
        colors = [COLOR if y == anio else SERIES_COLOR for y in years]
        errors = None
        if g.cv:  # 95 % confidence interval from the CV: ±1.96 × CV × estimate
            errors = [1.96 * (r.get("cv_pct") or 0) / 100 * r[g.valor] for r in rows]
        ax.bar(
            [str(y) for y in years],
            values,
            color=colors,
            width=0.6,
            yerr=errors,
            error_kw={"ecolor": "#555555", "capsize": 3, "linewidth": 0.8},
        )
        # Each value is written above its bar, or above its confidence interval where there is one.
        tops = [v + (e if errors else 0) for v, e in zip(values, errors or [0] * len(values), strict=True)]
        for x, (top, value) in enumerate(zip(tops, values, strict=True)):
            ax.annotate(fmt(value), (x, top), xytext=(0, 3), textcoords="offset points", ha="center", fontsize=8)
        ax.set_ylim(0, max(tops) * 1.18 if tops and max(tops) > 0 else 1)
        ax.yaxis.set_major_formatter(
            FuncFormatter(lambda v, _: formatting.pct(v, 0) if g.unidad == "pct" else formatting.entero(v))
        )
        if g.var:
            labels = [f"{r['anio']}\n{formatting.signo(r.get(g.var))}" for r in rows]
            ax.set_xticks(range(len(years)), labels)
        ax.set_title(g.titulo, loc="left")
        ax.tick_params(axis="y", labelsize=8)
    return _svg(fig, g.mart)


def distribution(g: Chart, rows: list[dict]) -> str:
    """Horizontal bars of the year's shares, largest on top; beyond `g.maximo` categories the rest is "Otros"."""
    shown = rows[: g.max_value]
    labels = [etiqueta(g, r) for r in shown]
    values = [r[g.valor] or 0 for r in shown]
    marks = [r for r in shown]
    if len(rows) > g.max_value:
        labels.append(f"Otros ({len(rows) - g.max_value})")
        values.append(sum(r[g.valor] or 0 for r in rows[g.max_value :]))
        marks.append({})
    texts = []
    for value, row in zip(values, marks, strict=True):
        text = formatting.pct(value)
        if g.cv and row.get("cv_pct") is not None:
            text += f"  (CV {formatting.decimal(row['cv_pct'])}%)" + (" *" if row.get("referencial") else "")
        texts.append(text)
    labels = [textwrap.fill(label, 38) for label in labels]
    with matplotlib.rc_context(_RC):
        height = 0.9 + 0.32 * len(labels) + 0.12 * sum(label.count("\n") for label in labels)
        fig = Figure(figsize=(WIDTH_INCHES, height))
        ax = fig.add_subplot()
        y = list(range(len(labels)))[::-1]
        colors = [COLOR if row else SERIES_COLOR for row in marks]
        bars = ax.barh(y, values, color=colors, height=0.62)
        ax.bar_label(bars, labels=texts, padding=3, fontsize=8)
        ax.set_yticks(y, labels)
        ax.set_xlim(0, max([*values, 1]) * 1.35)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: formatting.pct(v, 0)))
        ax.set_title(g.titulo, loc="left")
        ax.tick_params(axis="x", labelsize=8)
    return _svg(fig, g.mart)


def draw(g: Chart, year_rows: list[dict], series: list[dict], anio: int) -> str | None:
    """The chart's SVG, or None when its marts table has nothing for the year (the page says "sin dato")."""
    if not year_rows:
        return None
    return evolucion(g, series, anio) if g.tipo == "evolucion" else distribution(g, year_rows)
