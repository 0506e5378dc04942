"""The synthetic SUNAT firm files (small scale): formats, determinism, planted dirt, and ``allocate``.

The RUC check and the formal-firm rule are re-implemented here on purpose (a few lines each, from
docs/sources.md#ruc-digito and docs/methodology/empresas.md#definitions), so the generator is not checked against
itself.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vraem_sample import write_empresas
from vraem_sample.calibration import allocate, apportion, calibrate, read_published, read_reference
from vraem_sample.padron import (
    DIRT_BY_SCALE,
    build_universe,
    check_digit,
    valid_ruc,
)
from vraem_sample.ventas import VENTAS_DIRT

YEARS = range(2019, 2025)
#: What Python says of bytes that are not UTF-8 (latin-1 Ñ and accents).
NOT_UTF8 = "'utf-8' codec can't decode byte"
SEED = 7
HEADER = (
    "RUC,Estado,Condicion,Tipo,Actividad_Economica_CIIU_revision3_Principal,"
    "Actividad_Economica_CIIU_revision3_Secundaria,Actividad_Economica_CIIU_revision4_Principal,NroTrab,"
    "TipoFacturacion,TipoContabilidad,ComercioExterior,UBIGEO,Departamento,Provincia,Distrito,PERIODO_PUBLICACION"
).split(",")


def ruc_ok(ruc: str) -> bool:
    """docs/sources.md#ruc-digito, written out independently of the generator."""
    if not re.fullmatch(r"\d{11}", ruc):
        return False
    s = sum(w * int(d) for w, d in zip((5, 4, 3, 2, 7, 6, 5, 4, 3, 2), ruc[:10], strict=True))
    return (11 - s % 11) % 10 == int(ruc[10])


def cut_path(raw: Path, year: int, month: int = 12) -> Path:
    folder = raw / "sunat" / "padron" / str(year)
    stem = f"PadronRUC_{year}{month:02d}"
    return folder / (f"{stem}.csv" if year == 2022 else f"{stem}.zip")


def cut_bytes(path: Path) -> bytes:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            assert zf.namelist() == [path.stem + ".csv"]
            return zf.read(path.stem + ".csv")
    return path.read_bytes()


def parse_cut(data: bytes) -> list[list[str]]:
    """Data rows of a cut (header dropped), delimiter/encoding/BOM sniffed from the bytes."""
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    first = text.split("\n", 1)[0]
    delim = "|" if first.count("|") > first.count(",") else ","
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delim, quoting=csv.QUOTE_MINIMAL if delim == "," else csv.QUOTE_NONE
    )
    rows = list(reader)
    assert rows[0] == HEADER, (bom, delim, rows[0])
    return rows[1:]


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("raw_a")
    write_empresas(out, seed=SEED, scale="small", years=YEARS)
    return out


@pytest.fixture(scope="module")
def universe():
    return build_universe(calibrate("small", YEARS), SEED)


def test_deterministic_by_seed(raw, tmp_path):
    write_empresas(tmp_path, seed=SEED, scale="small", years=YEARS)
    a = sorted(p.relative_to(raw) for p in raw.rglob("*") if p.is_file())
    b = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert a == b and len(a) == 13  # 6 December cuts + the June 2024 cut + 6 ventas files
    for rel in a:
        assert (raw / rel).read_bytes() == (tmp_path / rel).read_bytes(), rel


def test_another_seed_gives_other_files(raw, tmp_path):
    write_empresas(tmp_path, seed=SEED + 1, scale="small", years=[2024])
    assert cut_bytes(cut_path(raw, 2024)) != cut_bytes(cut_path(tmp_path, 2024))


@pytest.mark.parametrize("year", YEARS)
def test_cut_format_of_each_year(raw, year):
    path = cut_path(raw, year)
    assert path.is_file()
    assert (path.read_bytes()[:2] == b"PK") == (year != 2022)  # zipped, except the plain 2022 .csv
    data = cut_bytes(path)
    header = data.split(b"\n", 1)[0]
    if year <= 2022:
        assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data
        assert header.count(b"|") == 15
        # latin-1 bytes of Ñ / accents are not UTF-8
        with pytest.raises(UnicodeDecodeError, match=NOT_UTF8):
            data.decode("utf-8")
        text = data.decode("latin-1")
        assert re.search(r"\|(APURÍMAC|JUNÍN|HUÁNUCO|SAN MARTÍN)\|", text)
        assert '"' not in text
    else:
        assert data.startswith(b"\xef\xbb\xbf") and header.endswith(b"\r")
        assert header.count(b",") == 15
        text = data.decode("utf-8-sig")
        assert "JUNÍN" in text
        assert re.search(r',"[^"]*,[^"]*",', text)  # quoted fields containing commas
    rows = parse_cut(data)
    ubigeos = Counter(len(r[11]) for r in rows if len(r) == 16 and r[11] != "-")
    if year == 2022:  # leading zero lost for departments 01–09
        assert ubigeos[5] > 0 and ubigeos[6] > 0
        assert not any(r[11].startswith("0") for r in rows if len(r) == 16)
    else:
        assert set(ubigeos) == {6}
    assert all(r[15] == f"{year}12" for r in rows if len(r) == 16)


def test_superseded_june_cut_differs(raw):
    june, dec = cut_path(raw, 2024, 6), cut_path(raw, 2024, 12)
    assert june.is_file() and june.stat().st_mtime > dec.stat().st_mtime  # newest file is the wrong one
    rows_june = {r[0] for r in parse_cut(cut_bytes(june)) if len(r) == 16}
    rows_dec = {r[0] for r in parse_cut(cut_bytes(dec)) if len(r) == 16}
    assert rows_june != rows_dec


@pytest.mark.parametrize("year", YEARS)
def test_check_digit_and_planted_dirt(raw, universe, year):
    """Every RUC of a well-formed line passes the check except the planted ones; lines add up."""
    dirt = universe.planted_dirt(year)
    expected = DIRT_BY_SCALE["small"]
    rows = parse_cut(cut_bytes(cut_path(raw, year)))
    widths = Counter(len(r) for r in rows)
    assert widths[17] == expected["campo_extra"] and widths[15] == expected["campo_faltante"]
    assert set(widths) == {15, 16, 17}
    clean = [r for r in rows if len(r) == 16]
    bad = sorted(r[0] for r in clean if not ruc_ok(r[0]))
    assert bad == sorted(str(x) for x in dirt.invalid_rucs)
    assert len(bad) == expected["ruc_dv_invalido"]
    repeated = {ruc for ruc, n in Counter(r[0] for r in clean).items() if n > 1}
    assert repeated == {str(x) for x in dirt.duplicate_rucs} and len(repeated) == 3
    # rows read = population rows + planted lines (bad check digit, malformed, duplicated)
    planted = sum(dirt.line_counts().values())
    filas, _, _ = universe.padron_cut(year)
    assert len(rows) == len(filas) + planted
    assert all(r[0][:2] in {"10", "15", "17", "20"} for r in clean)


def test_check_digit_vectors():
    valid = ["20512333797", "10054148289", "15484032987", "17155542071", "20100070970", "10452159428", "20512201611"]
    assert all(ruc_ok(x) for x in valid) and not ruc_ok("20512333798")
    arr = np.array([int(x) for x in valid] + [20512333798], dtype=np.int64)
    assert valid_ruc(arr).tolist() == [True] * len(valid) + [False]
    assert check_digit(np.array([2051233379])).tolist() == [7]


def test_ventas_format_and_dirt(raw):
    path = raw / "sunat" / "ventas" / "2024" / "ventas_2024.txt"
    data = path.read_bytes()
    data.decode("latin-1")
    lines = data.decode("latin-1").split("\n")
    assert lines[0] == "RUC|EJERCICIO|VENTAS_NETAS" and lines[-1] == ""
    fields = [line.split("|") for line in lines[1:-1]]
    expected = VENTAS_DIRT["small"]
    assert sum(len(f) != 3 for f in fields) == expected["campos_errados"]
    amounts = [f[2] for f in fields if len(f) == 3]
    odd = [a for a in amounts if a and not re.fullmatch(r"\d+\.\d\d", a)]
    assert len(odd) == expected["importe_no_numerico"]
    assert "" in amounts and "0.00" in amounts
    assert Counter(f[1] for f in fields if len(f) == 3) == Counter(
        {"2024": len(amounts) - expected["ejercicio_anterior"], "2023": expected["ejercicio_anterior"]}
    )


def formal_counts(raw: Path, year: int) -> tuple[int, int]:
    """The formal-firm rule (docs/methodology/empresas.md#definitions) applied in plain Python to the small files:
    (national, VRAEM) formal firms."""
    tipos = read_reference("tipos_contribuyente.csv")
    business = set(tipos.loc[tipos["es_negocio"] == "si", "tipo"])
    vraem = set(read_reference("vraem_distritos.csv")["ubigeo"])
    sales: dict[str, Decimal] = {}
    for line in (raw / "sunat" / "ventas" / str(year) / f"ventas_{year}.txt").read_text("latin-1").splitlines()[1:]:
        f = line.split("|")
        if len(f) == 3 and f[1] == str(year) and re.fullmatch(r"\d+\.\d+", f[2]):
            sales[f[0]] = sales.get(f[0], Decimal(0)) + Decimal(f[2])
    seen: set[str] = set()
    national = in_vraem = 0
    for r in parse_cut(cut_bytes(cut_path(raw, year))):
        if len(r) != 16 or not ruc_ok(r[0]) or r[0] in seen:
            continue
        seen.add(r[0])
        if r[1] == "ACTIVO" and r[3] in business and sales.get(r[0], 0) > 0:
            national += 1
            in_vraem += r[11].zfill(6) in vraem
    return national, in_vraem


@pytest.mark.parametrize("year", [2019, 2022, 2024])
def test_rule_gives_the_calibrated_counts(raw, year):
    cal = calibrate("small", YEARS)
    assert formal_counts(raw, year) == (cal.national_formals[year], cal.vraem_formal[year])


# ------------------------------------------------------------------------------------------ allocate


def test_allocate_hand_worked_sum_100_1():
    # ideals 1023, 831, 669, 399, 81 (sum 3003); each may move by one; the three cuts go to the
    # categories where one unit matters least relative to their size: 1023, then 831, then 669.
    assert allocate(3000, [34.1, 27.7, 22.3, 13.3, 2.7]) == [1022, 830, 668, 399, 81]


def test_allocate_docstring_example():
    assert allocate(3000, [45.1, 35.0, 20.0]) == [1352, 1049, 599]
    with pytest.raises(ValueError, match=r"no hay conteos que sumen 1000 .*posibles: 1001\.\.1001"):
        allocate(1000, [45.1, 35.0, 20.0])
    assert allocate(3000, {"a": 45.1, "b": 35.0, "c": 20.0}) == {"a": 1352, "b": 1049, "c": 599}


def test_allocate_unique_answer():
    assert allocate(7, [57, 29, 14], decimals=0) == [4, 2, 1]


def test_allocate_raises_when_impossible():
    with pytest.raises(ValueError, match=r"no hay conteos que sumen 1000 .*posibles: 1001\.\.1001"):
        allocate(1000, [34.1, 27.7, 22.3, 13.3, 2.7])  # each share pins one count; they add to 1001
    with pytest.raises(ValueError, match=r"con total=10 ningún entero redondea a 0\.1 %"):
        allocate(10, [0.1, 99.9])  # no count of 10 is 0.1 %


def rounds_to(count: int, total: int, pct: str) -> bool:
    dec = len(pct.split(".")[1]) if "." in pct else 0
    value = (Decimal(count) * 100 / Decimal(total)).quantize(Decimal(1).scaleb(-dec), rounding=ROUND_HALF_UP)
    return value == Decimal(pct)


def test_allocate_published_departments():
    pub = read_published()
    dept = pub[pub["indicador"] == "empresas_por_departamento_pct"]
    pcts = dict(zip(dept["categoria"], dept["valor"], strict=True))
    assert sum(Decimal(v) for v in pcts.values()) == Decimal("100.1")
    total = int(pub.loc[pub["indicador"] == "empresas_formales", "valor"].iloc[0])
    counts = allocate(total, pcts)
    assert set(counts) == set(pcts) and sum(counts.values()) == total
    assert all(rounds_to(counts[k], total, v) for k, v in pcts.items())


def test_apportion_sums_and_stays_near_quota():
    weights = {"a": 34.1, "b": 27.7, "c": 22.3, "d": 13.3, "e": 2.7}
    counts = apportion(172, weights)
    assert sum(counts.values()) == 172
    assert all(abs(counts[k] - 172 * w / 100.1) < 1 for k, w in weights.items())


def test_national_calibration_meets_every_published_firm_figure():
    """Arithmetic only (no files): the national targets round to the published figures."""
    cal = calibrate("national")
    pub = read_published()
    year = cal.published_year

    def published(code: str, cat: str = "") -> str:
        return pub.loc[(pub["indicador"] == code) & (pub["categoria"] == cat), "valor"].iloc[0]

    v = cal.vraem_formal
    assert v[year] == int(published("empresas_formales"))
    assert rounds_to(v[year], cal.national_formals[year], published("empresas_participacion_nacional_pct"))
    changes = [100 * (Decimal(v[a]) / Decimal(v[a - 1]) - 1) for a in range(year - 4, year + 1)]
    assert changes[-1].quantize(Decimal("0.1"), ROUND_HALF_UP) == Decimal(published("empresas_var_anual_pct"))
    mean = sum(changes) / len(changes)
    assert mean.quantize(Decimal("0.1"), ROUND_HALF_UP) == Decimal(published("empresas_var_promedio_anual_pct"))
    assert changes[0] < 0  # the 2020 dip
    for block, counts in (
        ("estrato", cal.vraem_by_stratum),
        ("sector", cal.vraem_by_sector),
        ("departamento", cal.vraem_by_department),
    ):
        assert sum(counts.values()) == v[year]
        rows = pub[pub["indicador"] == f"empresas_por_{block}_pct"]
        for cat, val in zip(rows["categoria"], rows["valor"], strict=True):
            assert rounds_to(counts[cat], v[year], val), (block, cat)
    assert cal.vraem_sales_cents[year] == int(Decimal(published("ventas_millones_soles")) * 100_000_000)
    assert 2_300_000 < cal.national_formals[year] < 2_650_000


def test_small_scale_is_a_hundredth():
    small, national = calibrate("small"), calibrate("national")
    for a in YEARS:
        assert abs(small.national_formals[a] - national.national_formals[a] / 100) <= 0.5
        assert abs(small.vraem_formal[a] - national.vraem_formal[a] / 100) <= 0.5


def test_sales_respect_the_strata(universe):
    from vraem_sample.amounts import cents_bounds
    from vraem_sample.ventas import sales_cents

    for year in (2019, 2024):
        cents = sales_cents(universe, year)
        pos = cents > 0
        lim = cents_bounds(universe.cal.uit[year])
        e = universe.estrato[pos]
        assert np.all(cents[pos] >= lim[e, 0]) and np.all(cents[pos] <= lim[e, 1])
    national = universe.formal(2024)
    share_micro = float(np.mean(universe.estrato[national] == 0))
    assert 0.94 < share_micro < 0.98


def test_published_csv_is_not_typed_in_code():
    """The calibration follows the CSV: no published firm figure appears as a literal in the generator."""
    src = "".join(
        (Path(__file__).parents[2] / "vraem_sample" / f).read_text()
        for f in ("calibration.py", "padron.py", "ventas.py", "__init__.py")
    )
    for literal in ("17224", "17,224", "2185", "2,185", "97.1", "44.2", "42.4", "34.1", "27.7", "22.3", "13.3"):
        assert literal not in src, literal
    assert isinstance(read_published(), pd.DataFrame)


# ------------------------------------------------------------------------------------- scale="real"
#
# ``real`` is another scale's sample with every December cut padded with filler lines. Padding 6 cuts to
# 10–12.5 M lines takes minutes, so these tests point ``real`` at the small population and ask for a few
# thousand filler lines per cut, joined in blocks of 1,000 lines so that they span several blocks. The
# fillers are read back with ``csv``/``zipfile`` and checked against the rules written out here.

#: Filler lines asked per year on top of the small cut (different per year, so a mix-up of years shows).
REAL_EXTRA = {2019: 1_500, 2020: 1_750, 2021: 2_000, 2022: 2_250, 2023: 2_500, 2024: 3_001}


def physical_lines(data: bytes) -> int:
    return data.count(b"\n")


def small_targets(raw: Path) -> dict[int, int]:
    """Target line counts: the small cut's own lines (read from the file) plus REAL_EXTRA."""
    return {y: physical_lines(cut_bytes(cut_path(raw, y))) + REAL_EXTRA[y] for y in YEARS}


def write_real_on_small(out: Path, targets: dict[int, int], block: int | None, years=YEARS) -> None:
    from vraem_sample import calibration, padron

    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(calibration.CALIBRATION_SCALE, "real", "small")
        for y, n in targets.items():
            mp.setitem(padron.REAL_CUT_LINES, y, n)
        if block is not None:
            mp.setattr(padron, "LINES_PER_BLOCK", block)
        write_empresas(out, seed=SEED, scale="real", years=years)


@pytest.fixture(scope="module")
def raw_real(raw, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("raw_real")
    write_real_on_small(out, small_targets(raw), block=1_000)
    return out


def dialect(year: int) -> tuple[str, str, str]:
    """(encoding, delimiter, line terminator) of a year's cut, as docs/sources.md#padron-ruc-formato describes it."""
    return ("latin-1", "|", "\n") if year <= 2022 else ("utf-8", ",", "\r\n")


def filler_rows(raw_real: Path, raw: Path, year: int) -> list[list[str]]:
    """The lines after the small cut's bytes (the padded cut must start with them), parsed."""
    small, padded = cut_bytes(cut_path(raw, year)), cut_bytes(cut_path(raw_real, year))
    assert padded.startswith(small)
    encoding, delim, _ = dialect(year)
    text = padded[len(small) :].decode(encoding)
    quoting = csv.QUOTE_MINIMAL if delim == "," else csv.QUOTE_NONE
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delim, quoting=quoting))


@pytest.mark.parametrize("year", YEARS)
def test_real_cut_has_exactly_the_target_lines(raw, raw_real, year):
    data = cut_bytes(cut_path(raw_real, year))
    assert physical_lines(data) == small_targets(raw)[year]
    assert data.endswith(dialect(year)[2].encode())
    assert len(filler_rows(raw_real, raw, year)) == REAL_EXTRA[year]


def test_real_changes_nothing_but_the_december_cuts(raw, raw_real):
    """Same population part of every cut (a byte prefix), same June cut, same ventas files."""
    a = sorted(p.relative_to(raw) for p in raw.rglob("*") if p.is_file())
    assert a == sorted(p.relative_to(raw_real) for p in raw_real.rglob("*") if p.is_file())
    for rel in a:
        if rel.name.startswith("PadronRUC_") and rel.stem.endswith("12"):
            assert cut_bytes(raw_real / rel).startswith(cut_bytes(raw / rel)), rel
            assert len(cut_bytes(raw_real / rel)) > len(cut_bytes(raw / rel)), rel
        else:
            assert (raw_real / rel).read_bytes() == (raw / rel).read_bytes(), rel


@pytest.mark.parametrize("year", YEARS)
def test_real_fillers_are_well_formed(raw, raw_real, year):
    ubigeo = read_reference("ubigeo_inei.csv")
    names = {
        u: (d.upper(), p.upper(), t.upper())
        for u, d, p, t in zip(
            ubigeo["ubigeo"], ubigeo["departamento"], ubigeo["provincia"], ubigeo["distrito"], strict=True
        )
    }
    for r in filler_rows(raw_real, raw, year):
        assert len(r) == 16, r
        assert ruc_ok(r[0]) and r[0][:2] in {"10", "20"}, r
        assert r[15] == f"{year}12", r
        if r[11] == "-":
            assert r[12:15] == ["-", "-", "-"], r
        else:
            if year == 2022:  # the spreadsheet-saved cut lost the leading zero, fillers too
                assert re.fullmatch(r"[1-9]\d{4,5}", r[11]), r
            else:
                assert re.fullmatch(r"\d{6}", r[11]), r
            assert tuple(r[12:15]) == names[r[11].zfill(6)], r
        assert r[7] in {"NO DISPONIBLE", "0"}, r


def test_real_no_ruc_is_repeated(raw, raw_real, universe):
    """Fillers add no duplicate: the only repeated RUCs of a padded cut are the three planted ones."""
    for year in YEARS:
        rows = parse_cut(cut_bytes(cut_path(raw_real, year)))
        counts = Counter(r[0] for r in rows)
        repeated = {ruc for ruc, n in counts.items() if n > 1}
        assert repeated == {str(x) for x in universe.planted_dirt(year).duplicate_rucs}
        assert all(counts[r[0]] == 1 for r in filler_rows(raw_real, raw, year))


def test_real_fillers_are_not_in_the_ventas_file(raw, raw_real):
    for year in YEARS:
        text = (raw_real / "sunat" / "ventas" / str(year) / f"ventas_{year}.txt").read_text("latin-1")
        ventas = {line.split("|")[0] for line in text.splitlines()[1:]}
        fillers = {r[0] for r in filler_rows(raw_real, raw, year)}
        assert fillers and not fillers & ventas


def test_real_fillers_are_never_formal(raw, raw_real):
    """No ACTIVO filler has a business Tipo; the rule gives the unpadded counts; the mix is as specified."""
    tipos = read_reference("tipos_contribuyente.csv")
    business = set(tipos.loc[tipos["es_negocio"] == "si", "tipo"])
    vraem = set(read_reference("vraem_distritos.csv")["ubigeo"])
    seen = Counter()
    for year in YEARS:
        for r in filler_rows(raw_real, raw, year):
            assert not (r[1] == "ACTIVO" and r[3] in business), r
            if r[0].startswith("20"):
                assert r[1] in {"BAJA DEFINITIVA", "BAJA DE OFICIO"} and r[3] in business, r
            seen[(r[0][:2], r[1], r[3] in business)] += 1
            seen["vraem"] += r[11].zfill(6) in vraem
        assert formal_counts(raw_real, year) == formal_counts(raw, year)
    persons = sum(n for k, n in seen.items() if k[0] == "10")
    assert persons > 0.8 * sum(REAL_EXTRA.values())
    assert seen[("10", "ACTIVO", False)] > seen[("10", "BAJA DEFINITIVA", False)] > 0
    assert seen[("10", "BAJA DE OFICIO", True)] > 0 and seen[("20", "BAJA DEFINITIVA", True)] > 0
    assert seen["vraem"] > 0


@pytest.mark.parametrize("year", YEARS)
def test_real_fillers_use_the_dialect_of_the_year(raw, raw_real, year):
    """Encoding, delimiter, quoting, line terminator and container: each filler line is exactly what a
    CSV writer in the national cut's dialect writes for its fields."""
    small_path, real_path = cut_path(raw, year), cut_path(raw_real, year)
    assert real_path.name == small_path.name
    if small_path.suffix == ".zip":
        with zipfile.ZipFile(small_path) as a, zipfile.ZipFile(real_path) as b:
            assert [(i.filename, i.compress_type) for i in a.infolist()] == [
                (i.filename, i.compress_type) for i in b.infolist()
            ]
            assert b.infolist()[0].compress_type == zipfile.ZIP_DEFLATED
    else:
        assert real_path.read_bytes()[:2] != b"PK"
    small = cut_bytes(small_path)
    tail = cut_bytes(real_path)[len(small) :]
    encoding, delim, end = dialect(year)
    assert small.split(b"\n", 1)[0].endswith(b"\r") == (end == "\r\n")  # the national cut's terminator
    lines = tail.split(end.encode())
    assert lines[-1] == b"" and b"\n" not in b"".join(lines) and b"\r" not in b"".join(lines)
    if year <= 2022:
        # latin-1 Ñ / accents somewhere in the fillers
        with pytest.raises(UnicodeDecodeError, match=NOT_UTF8):
            tail.decode("utf-8")
    quoted = 0
    for raw_line, row in zip(lines[:-1], filler_rows(raw_real, raw, year), strict=True):
        buf = io.StringIO()
        if delim == ",":
            csv.writer(buf, delimiter=",", quoting=csv.QUOTE_MINIMAL, lineterminator="").writerow(row)
            quoted += b'"' in raw_line
        else:
            assert all("|" not in f and '"' not in f for f in row)
            buf.write("|".join(row))
        assert buf.getvalue().encode(encoding) == raw_line
    assert (quoted > 0) == (delim == ",")


def test_real_same_seed_same_bytes_whatever_the_block_size(raw, raw_real, tmp_path):
    targets = small_targets(raw)
    write_real_on_small(tmp_path, {y: targets[y] for y in (2022, 2024)}, block=None, years=[2022, 2024])
    for year in (2022, 2024):
        assert cut_path(tmp_path, year).read_bytes() == cut_path(raw_real, year).read_bytes()


def test_real_fillers_reach_every_district():
    from vraem_sample.padron import _filler_distribution, load_catalog

    cat = load_catalog()
    assert set(np.unique(_filler_distribution(cat).geo)) == set(range(-1, len(cat.ubigeo)))


def test_real_target_below_the_population_is_an_error(universe, tmp_path):
    from vraem_sample.padron import rows_written, write_padron

    lines = rows_written(universe, 2024)["lineas_datos"] + 1
    write_padron(universe, tmp_path, 2024, total_lines=lines)  # no filler needed: fine
    assert physical_lines(cut_bytes(cut_path(tmp_path, 2024))) == lines
    with pytest.raises(ValueError, match=f"{lines - 1:,} líneas pedidas, menos que las {lines:,} del corte sin"):
        write_padron(universe, tmp_path, 2024, total_lines=lines - 1)


def test_real_scale_is_national_with_sunat_sized_cuts():
    from vraem_sample.padron import REAL_CUT_LINES

    assert calibrate("real") == calibrate("national")
    assert REAL_CUT_LINES[2024] == 12_515_483
    assert list(REAL_CUT_LINES) == list(YEARS)
    assert all(a < b for a, b in zip(list(REAL_CUT_LINES.values()), list(REAL_CUT_LINES.values())[1:], strict=False))
    with pytest.raises(ValueError, match="escala desconocida 'huge'"):
        calibrate("huge")
