"""Hand-made INEI departmental GDP workbooks in the published layout (openpyxl), independent of sample_data.

The layout copies INEI's (`vraem_sample/datos/inei/pbi_peru_17.xlsx`): "Cuadro Nº 1" and title rows, the unit in
parentheses, a `Departamentos` header whose year cells mix integers and `2023P/`-style text, a blank row, the
department rows (accents, Lima followed by indented sub-rows), the national rows, then source and edition lines.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment

#: The 25 departments as INEI writes them in the older per-activity editions: Callao apart, Lima followed by
#: "Lima Metropolitana" and "Lima Provincias" (docs/sources.md#inei-vab-libro).
DEPARTMENTS = [
    ("Amazonas", "01"),
    ("Áncash", "02"),
    ("Apurímac", "03"),
    ("Arequipa", "04"),
    ("Ayacucho", "05"),
    ("Cajamarca", "06"),
    ("Callao", "07"),
    ("Cusco", "08"),
    ("Huancavelica", "09"),
    ("Huánuco", "10"),
    ("Ica", "11"),
    ("Junín", "12"),
    ("La Libertad", "13"),
    ("Lambayeque", "14"),
    ("Lima", "15"),
    ("Loreto", "16"),
    ("Madre de Dios", "17"),
    ("Moquegua", "18"),
    ("Pasco", "19"),
    ("Piura", "20"),
    ("Puno", "21"),
    ("San Martín", "22"),
    ("Tacna", "23"),
    ("Tumbes", "24"),
    ("Ucayali", "25"),
]

ACTIVITIES = [
    ("agricultura", "Agricultura, Ganadería, Caza y Silvicultura"),
    ("pesca", "Pesca y Acuicultura"),
    ("extraccion", "Extracción de Petróleo, Gas y Minerales"),
    ("manufactura", "Manufactura"),
    ("electricidad_gas_agua", "Electricidad, Gas y Agua"),
    ("construccion", "Construcción"),
    ("comercio", "Comercio, Mantenimiento y Reparación de Vehículos Automotores y Motocicletas"),
    ("transporte", "Transporte, Almacenamiento, Correo y Mensajería"),
    ("alojamiento_restaurantes", "Alojamiento y Restaurantes"),
    ("telecomunicaciones", "Telecomunicaciones y Otros Servicios de Información"),
    ("administracion_publica", "Administración Pública y Defensa"),
    ("otros_servicios", "Otros Servicios"),
]


def write_workbook(
    path: Path,
    rows: list,
    years: list,
    *,
    subtitle: str = "Valores a Precios Constantes de 2007",
    unit: str = "(Miles de soles)",
    activity: str | None = None,
    notes=("Fuente: Instituto Nacional de Estadística e Informática", "Con información disponible a junio del 2026"),
    sheet: str = "cuadro1",
    indented=("Lima Metropolitana", "Lima Provincias", "Prov. Const. del Callao", "Región Lima", "Provincia de Lima"),
) -> Path:
    """`rows`: (label, [values…]) or None for a blank row; `years`: header cells as INEI writes them."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    wb.create_sheet("cuadro2")
    title = ["Cuadro Nº 1", "PERÚ: Valor Agregado Bruto" if activity else "PERÚ: Producto Bruto Interno"]
    if activity:
        title.append(f"{activity}")
    title += ["por Años, según Departamentos", subtitle, unit]
    for i, t in enumerate(title, start=1):
        ws.cell(i, 1, t)
    header = len(title) + 2
    ws.cell(header, 1, "Departamentos")
    for j, y in enumerate(years, start=2):
        ws.cell(header, j, y)
    r = header + 2
    for row in rows:
        if row is not None:
            label, values = row
            ws.cell(r, 1, label)
            if label in indented:
                ws.cell(r, 1).alignment = Alignment(indent=1)
            for j, v in enumerate(values, start=2):
                ws.cell(r, j, v)
        r += 1
    r += 2
    for n in notes:
        ws.cell(r, 1, n)
        r += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def department_rows(values: dict[str, list], lima_sub: dict[str, list] | None = None) -> list:
    """Rows of the 25 departments in INEI's order from `{code: [values per year]}`; Lima's sub-rows after Lima."""
    rows = []
    for name, code in DEPARTMENTS:
        rows.append((name, values[code]))
        if code == "15" and lima_sub:
            rows += list(lima_sub.items())
    return rows


def activity_values(a: int, n_years: int) -> dict[str, list[int]]:
    """Per-activity department values, easy to add by hand: department d, activity a (1–12), year k:
    100·d + a + k (miles de soles)."""
    return {code: [100 * int(code) + a + k for k in range(n_years)] for _, code in DEPARTMENTS}


def write_activity_set(folder: Path, years: list, *, notes=None, skip: tuple[str, ...] = ()) -> dict[str, dict]:
    """INEI's 12 per-activity workbooks plus the all-activity one, all consistent; returns the values written.

    Per activity: the values of `activity_values`, Lima split as Lima Metropolitana = Lima − 500 and Lima
    Provincias = 500, and a `Valor Agregado Bruto` row with the 25 departments' sum. The all-activity table:
    each department the sum of its 12 activities, VAB, taxes = 10 % of VAB (rounded), duties = 1,000, PBI.
    """
    notes = notes or ("Fuente: INEI", "Con información disponible a junio del 2026")
    n = len(years)
    written: dict[str, dict] = {}
    totals = {code: [0] * n for _, code in DEPARTMENTS}
    for a, (code_a, name) in enumerate(ACTIVITIES, start=1):
        vals = activity_values(a, n)
        for code, v in vals.items():
            totals[code] = [t + x for t, x in zip(totals[code], v, strict=True)]
        written[code_a] = vals
        if code_a in skip:
            continue
        vab = [sum(vals[c][k] for c in vals) for k in range(n)]
        sub = {"Lima Metropolitana": [x - 500 for x in vals["15"]], "Lima Provincias": [500] * n}
        write_workbook(
            folder / f"A.{25 + a}.xlsx",
            department_rows(vals, sub) + [None, ("Valor Agregado Bruto", vab)],
            years,
            activity=name,
            notes=notes,
        )
    vab = [sum(totals[c][k] for c in totals) for k in range(n)]
    product_taxes = [round(v / 10) for v in vab]
    import_duties = [1000] * n
    pbi = [v + i + d for v, i, d in zip(vab, product_taxes, import_duties, strict=True)]
    sub = {"Lima Metropolitana": [x - 6000 for x in totals["15"]], "Lima Provincias": [6000] * n}
    write_workbook(
        folder / "pbi_departamentos.xlsx",
        department_rows(totals, sub)
        + [
            None,
            ("Valor Agregado Bruto", vab),
            None,
            ("Impuestos a los Productos", product_taxes),
            ("Derechos de Importación", import_duties),
            None,
            ("Producto Bruto Interno", pbi),
        ],
        years,
        notes=notes,
    )
    written["total"] = totals
    written["nacional"] = {"vab": vab, "impuestos": product_taxes, "derechos": import_duties, "pbi": pbi}
    return written


def total_workbook(path: Path, edition: str, bump: int = 0, years=("2023P/", "2024P/")) -> Path:
    """A total (all-activities) workbook of `edition` with two years, every department's value shifted by `bump`."""
    vals = {code: [1000 * int(code) + bump, 1000 * int(code) + 10 + bump] for _, code in DEPARTMENTS}
    vab = [sum(v[k] for v in vals.values()) for k in range(2)]
    rows = department_rows(vals) + [
        None,
        ("Valor Agregado Bruto", vab),
        ("Impuestos a los Productos", [100, 100]),
        ("Derechos de Importación", [10, 10]),
        ("Producto Bruto Interno", [v + 110 for v in vab]),
    ]
    return write_workbook(path, rows, list(years), notes=("Fuente: INEI", edition))
