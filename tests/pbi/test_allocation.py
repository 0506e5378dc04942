"""The allocation of departmental GDP to the territory, on hand-worked examples; the user's share table."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.pbi import allocation as pbi

ACTS = pbi.activity_codes()


def vab_frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["anio", "actividad", "ubigeo_departamento", "vab_miles_soles", "estado_cifra"])


def national_frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["anio", "vab_miles_soles", "pbi_miles_soles"])


def test_allocation_by_department_worked_example():
    """Two departments of the territory, one outside it (Lima):
    Ayacucho VAB 1,000, territory firms sold 20 of the department's 100 → share 0.2 → 200;
    Cusco VAB 3,000, territory 30 of 600 → 0.05 → 150; Lima VAB 6,000 has no territory district → 0.
    Zone = 350 miles; PBI 10,000 → 3.5 %; VAB 8,000 (= 1,000 + 3,000 + … the national row) → 4.375 %."""
    vab = vab_frame(
        [
            (2024, "total", "05", 1000.0, "preliminar"),
            (2024, "total", "08", 3000.0, "preliminar"),
            (2024, "total", "15", 6000.0, "preliminar"),
        ]
    )
    ventas = pd.DataFrame(
        [(2024, "05", "total", 20.0, 100.0), (2024, "08", "total", 30.0, 600.0)],
        columns=["anio", "ubigeo_departamento", "actividad", "ventas_territorio_soles", "ventas_departamento_soles"],
    )
    detalle = pbi.allocate(vab, pbi.shares_from_sales(ventas), ["05", "08"])
    assert detalle[
        ["ubigeo_departamento", "participacion", "vab_territorio_miles_soles", "regla_participacion"]
    ].values.tolist() == [["05", 0.2, 200.0, "departamento"], ["08", 0.05, 150.0, "departamento"]]
    national = national_frame([(2024, 8000.0, 10000.0)])
    pbi_res = pbi.annual_summary(detalle, national, "pbi").anual
    assert pbi_res[["anio", "vab_territorio_miles_soles", "participacion_nacional_pct", "nivel"]].values.tolist() == [
        [2024, 350.0, 3.5, "departamento"]
    ]
    assert pbi.annual_summary(detalle, national, "vab").anual["participacion_nacional_pct"].iloc[0] == pytest.approx(
        4.375
    )
    with pytest.raises(ValueError, match=r"denominador 'pib': use uno de"):
        pbi.annual_summary(detalle, national, "pib")


def test_allocation_by_activity_with_fallback_worked_example():
    """A year with the 12 activities: Ayacucho agriculture 600 and commerce 400 (the rest 0).
    Agriculture: territory 5 of 10 sold → 0.5 → 300. Commerce: the department sold nothing in commerce, so the
    department's all-activity share is used: 10 of 100 → 0.1 → 40. Zone = 340."""
    rows = [(2024, a, "05", {"agricultura": 600.0, "comercio": 400.0}.get(a, 0.0), "preliminar") for a in ACTS]
    rows.append((2024, "total", "05", 1000.0, "preliminar"))
    ventas = pd.DataFrame(
        [
            (2024, "05", "total", 10.0, 100.0),
            (2024, "05", "agricultura", 5.0, 10.0),
            (2024, "05", "comercio", 0.0, 0.0),
        ],
        columns=["anio", "ubigeo_departamento", "actividad", "ventas_territorio_soles", "ventas_departamento_soles"],
    )
    detalle = pbi.allocate(vab_frame(rows), pbi.shares_from_sales(ventas), ["05"]).set_index("actividad")
    assert len(detalle) == 12 and set(detalle["nivel"]) == {"departamento_y_actividad"}
    assert detalle.loc["agricultura", ["participacion", "regla_participacion"]].tolist() == [0.5, "actividad"]
    assert detalle.loc["comercio", ["participacion", "regla_participacion"]].tolist() == [0.1, "total_departamento"]
    assert detalle["vab_territorio_miles_soles"].sum() == pytest.approx(340.0)


def test_a_department_without_sales_leaves_its_year_out():
    vab = vab_frame(
        [
            (2023, "total", "05", 1000.0, "definitiva"),
            (2023, "total", "08", 3000.0, "definitiva"),
            (2024, "total", "05", 1000.0, "preliminar"),
            (2024, "total", "08", 3000.0, "preliminar"),
        ]
    )
    ventas = pd.DataFrame(
        [(2023, "05", "total", 1.0, 10.0), (2024, "05", "total", 1.0, 10.0), (2024, "08", "total", 3.0, 30.0)],
        columns=["anio", "ubigeo_departamento", "actividad", "ventas_territorio_soles", "ventas_departamento_soles"],
    )
    detalle = pbi.allocate(vab, pbi.shares_from_sales(ventas), ["05", "08"], anios=[2023, 2024])
    res = pbi.annual_summary(detalle, national_frame([(2023, 9e3, 1e4), (2024, 9e3, 1e4)]), "pbi")
    assert res.anual["anio"].tolist() == [2024] and res.anual["vab_territorio_miles_soles"].iloc[0] == 400.0
    assert res.omitted[["anio", "ubigeo_departamento"]].values.tolist() == [[2023, "08"]]


def test_share_lookup_order():
    """(dept, activity, year) > (dept, activity, every year) > (dept, total, year) > (dept, total, every year)."""
    rows = [(2024, a, "05", 100.0, "preliminar") for a in ACTS] + [(2023, a, "05", 100.0, "definitiva") for a in ACTS]
    part = pd.DataFrame(
        [
            ("05", "agricultura", 2024, 0.9),
            ("05", "agricultura", pd.NA, 0.8),
            ("05", "total", 2024, 0.3),
            ("05", "total", pd.NA, 0.2),
        ],
        columns=["ubigeo_departamento", "actividad", "anio", "participacion"],
    )
    d = pbi.allocate(vab_frame(rows), part, ["05"]).set_index(["anio", "actividad"])["participacion"]
    assert (d[(2024, "agricultura")], d[(2023, "agricultura")], d[(2024, "pesca")], d[(2023, "pesca")]) == (
        0.9,
        0.8,
        0.3,
        0.2,
    )


def _table(tmp_path, text: str):
    path = tmp_path / "participaciones_territorio.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_share_table_is_read_whole(tmp_path):
    path = _table(
        tmp_path,
        "ubigeo_departamento,actividad,anio,participacion_pct\n05,total,,12.5\n8,agricultura,2024,3\n08,total,,1\n",
    )
    t = pbi.read_checked_share_table(path, ["05", "08"])
    assert t[["ubigeo_departamento", "actividad", "participacion"]].values.tolist() == [
        ["05", "total", 0.125],
        ["08", "agricultura", 0.03],
        ["08", "total", 0.01],
    ]
    assert t["anio"].tolist()[:2] == [pd.NA, 2024]
    # Excel in a Spanish locale: ';' and a decimal comma; no anio column at all
    path = _table(tmp_path, "ubigeo_departamento;actividad;participacion_pct\n05;total;12,5\n08;total;1\n")
    assert pbi.read_checked_share_table(path, ["05", "08"])["participacion"].tolist() == [0.125, 0.01]


@pytest.mark.parametrize(
    "text,rule,line",
    [
        ("departamento,actividad,participacion_pct\n05,total,1\n", "participaciones.cabecera", 1),
        (
            "ubigeo_departamento,actividad,participacion_pct\n05,total,1\n08,total,120\n",
            "participaciones.participacion_entre_0_y_100",
            3,
        ),
        (
            "ubigeo_departamento,actividad,participacion_pct\n05,mineria,1\n08,total,1\n",
            "participaciones.actividad_inei",
            2,
        ),
        (
            "ubigeo_departamento,actividad,participacion_pct\n05,total,1\n",
            "participaciones.departamento_sin_participacion",
            None,
        ),
        (
            "ubigeo_departamento,actividad,participacion_pct\n05,total,1\n08,total,1\n15,total,1\n",
            "participaciones.departamento_fuera_del_territorio",
            4,
        ),
        ("ubigeo_departamento,actividad,participacion_pct\n05,total,1\n08,total,1\n05,total,2\n", None, 4),
    ],
)
def test_share_table_errors_name_line_and_rule(tmp_path, text, rule, line):
    path = _table(tmp_path, text)
    # the message starts with the file (and its line where there is one)
    with pytest.raises(SourceFileError, match=rf"^{re.escape(str(path))}(, línea \d+)?: ") as err:
        pbi.read_checked_share_table(path, ["05", "08"])
    assert err.value.rule.startswith("participaciones.")
    if rule:
        assert err.value.rule == rule
    assert err.value.line == line
