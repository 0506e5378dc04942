"""Reading the verdicts of `vraem_pipeline.core.reconciliation` in tests.

`reconcile` and `reconcile_rankings` leave `coincide` NA for a published figure the pipeline never computed (no
mart row, no key figure). pandas' `.all()` skips NA, so `table["coincide"].all()` passes on a figure that is
missing altogether; a test must count a missing figure as a miss, and say which one it is.
"""

from __future__ import annotations

import pandas as pd

#: Published figure code prefix → report topic (the sections of the publication).
TOPICS = {
    "empresas_": "empresas",
    "ventas_": "empresas",
    "empleo_": "empleo",
    "exportaciones_": "exportaciones",
    "credito_": "credito",
    "pbi_": "pbi",
}


def topic(indicador: str) -> str:
    """The topic of a published figure code; an unknown prefix is an error (a new figure must get a topic)."""
    for prefix, name in TOPICS.items():
        if indicador.startswith(prefix):
            return name
    raise KeyError(
        f"cifra publicada {indicador!r} sin tema: añada su prefijo a tests/support/reconciliation.py::TOPICS"
    )


def misses(table: pd.DataFrame) -> list[str]:
    """One line per row of a `reconcile`/`reconcile_rankings` table not matched at its print precision: a
    figure computed wrong, and a figure not computed at all (`coincide` NA), each named with its year, code,
    category, published and computed value."""
    lines = []
    for row in table.itertuples(index=False):
        verdict = row.coincide
        if verdict is not pd.NA and bool(verdict):
            continue
        category = getattr(row, "categoria", "")
        name = f"{row.anio} {row.indicador}" + (f"[{category}]" if category else "")
        if verdict is pd.NA:
            lines.append(f"{name}: publicado {row.publicado}, sin calcular (el pipeline no produjo la cifra)")
        else:
            detail = f", diferencia {row.diferencia:+.6g} > ±{row.tolerancia:g}" if hasattr(row, "diferencia") else ""
            lines.append(f"{name}: publicado {row.publicado}, calculado {row.calculado}{detail}")
    return lines
