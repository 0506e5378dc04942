"""The synthetic SUNAT customs export files: formats read back, planted repeats and dirt, calibration.

Everything is read back from the files written (dbfread for the DBFs, a fixed-width numpy reader for the
big ones, plain text for the pipe files) and the export figures are recomputed here with the rules of
docs/sources.md#aduanas written out independently of the generator: skip deleted records, drop dirty lines, dedupe
on (CADU, FANO, NDCL, NSER), department = first two digits of UBIGEO, class 0729 = HS headings 2603–2617
except 2612.
"""

from __future__ import annotations

import csv
import functools
import re
import struct
import sys
import types
import zipfile
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pytest
from dbfread import DBF
from dbfread.field_parser import FieldParser

import vraem_sample as sd
from vraem_sample import aduanas
from vraem_sample.aduanas import DBF_ENCODING
from vraem_sample.calibration import calibrate
from vraem_sample.padron import Universe, build_universe

SEED = 7
#: What Python says of bytes that are not UTF-8 (cp850 / latin-1 accents).
NOT_UTF8 = "'utf-8' codec can't decode byte"
REFERENCE = Path(__file__).parents[2] / "vraem_pipeline" / "reference"
#: The real weekly files' 44 fields, in order (docs/sources.md#aduanas-semanales).
REAL_FIELD_ORDER = (
    "CADU FANO NDCL FNUM FEMB FECH_RECEP NDCLREG FREG FANOREG CAGE TDOC NDOC DNOMBRE CPAIDES CPUEDES "
    "CVIATRA CUNITRA CEMPTRA DMAT NCON CENTFIN CALM DNOMPRO DDIRPRO DK DK2 NSER PART_NANDI DCOM DMER2 "
    "DMER3 DMER4 DMER5 CEST VFOBSERDOL VPESNET VPESBRU QUNIFIS TUNIFIS QUNICOM TUNICOM UBIGEO DNOMCON "
    "DDIRCON"
).split()
FIELDS = list(aduanas.DBF_FIELDS)
PIPE_HEADER = (
    "regimen|cadu|fano|ndcl|nser|fnum|femb|freg|ndoc|dnombre|ubigeo|cnan|cpaides|vfobserdol|vpesnet|tunifis|qunifis"
)
WEEKLY = re.compile(r"^x(\d\d)(\d\d)(\d\d)(\d\d)\.zip$")
#: docs/sources.md#aduanas-codigos: SUNAT codes that are not ISO alpha-2 and what they stand for (ZZ = no country).
NON_ISO = {"FX": "FR", "AN": "NL", "1G": "GB", "1M": "DE", "1K": "CI", "99": "ZZ", "YU": "ZZ", "1C": "ZZ", "": "ZZ"}
DIRT = ("negativo", "no_numerico", "fecha_imposible", "nandina_no_digito", "campos_errados")


# ------------------------------------------------------------------------------------------- reading back


class Line(NamedTuple):
    """One live line as read from a file, with the dirt kind it shows (None when well-formed). A named tuple: a
    national year has ~300 k of them, and a frozen dataclass took as long to build as the reading."""

    key: tuple[str, str, int, int]
    fob_cents: int | None
    nandina: str  # 10 digits (zero restored), or the raw text when it is not digits
    ubigeo: str
    country: str
    fnum: str
    ruc: str
    name: str
    dirt: str | None
    raw: bytes = b""  # the DBF record / pipe line


def classify(fob: str, fnum: str, nandina: str, n_fields_ok: bool = True) -> str | None:
    if not n_fields_ok:
        return "campos_errados"
    if not re.fullmatch(r"-?\d+(\.\d+)?", fob):
        return "no_numerico"
    if fob.startswith("-"):
        return "negativo"
    if not re.fullmatch(r"\d+", nandina.replace(".", "")):
        return "nandina_no_digito"
    return None if _is_date(fnum) else "fecha_imposible"


@functools.cache
def _is_date(fnum: str) -> bool:
    """`AAAAMMDD` is a calendar date (cached: a year of lines holds a few hundred distinct dates)."""
    try:
        pd.Timestamp(f"{fnum[:4]}-{fnum[4:6]}-{fnum[6:8]}")
    except ValueError:
        return False
    return True


def dbf_bytes(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        assert names == [path.stem.upper() + ".DBF"], names
        return zf.read(names[0])


def field_slice(name: str) -> slice:
    """Where a field sits in a record (after the delete flag)."""
    pos = 1
    for field, _, length, _ in FIELDS:
        if field == name:
            return slice(pos, pos + length)
        pos += length
    raise KeyError(name)


def dbf_records(data: bytes) -> tuple[list[bytes], list[bytes]]:
    """(live records, deleted records) of a dBase III file, by its header (no library)."""
    n, header_len, rec_len = struct.unpack("<IHH", data[4:12])
    body = data[header_len : header_len + n * rec_len]
    records = [body[i * rec_len : (i + 1) * rec_len] for i in range(n)]
    return [r for r in records if r[:1] == b" "], [r for r in records if r[:1] == b"*"]


def dbf_lines(data: bytes) -> list[Line]:
    live, _ = dbf_records(data)
    offsets, pos = {}, 1
    for name, _, length, _ in FIELDS:
        offsets[name] = (pos, length)
        pos += length
    out = []
    for r in live:
        text = r.decode(DBF_ENCODING)  # one byte per character (cp850): the fields' byte offsets hold

        def f(name: str, text: str = text) -> str:
            a, w = offsets[name]
            return text[a : a + w].strip()

        fob, fnum, nandina = f("VFOBSERDOL"), f("FNUM"), f("PART_NANDI")
        dirt = classify(fob, fnum, nandina)
        out.append(
            Line(
                key=(f("CADU"), f("FANO"), int(f("NDCL")), int(f("NSER"))),
                fob_cents=None if dirt else int(Decimal(fob) * 100),
                nandina=nandina.zfill(10) if nandina.isdigit() else nandina,
                ubigeo=f("UBIGEO"),
                country=f("CPAIDES"),
                fnum=fnum,
                ruc=f("NDOC"),
                name=f("DNOMBRE"),
                dirt=dirt,
                raw=r,
            )
        )
    return out


def pipe_lines(path: Path) -> list[Line]:
    data = path.read_bytes()
    text = data.decode("latin-1")
    rows = text.split("\n")
    assert rows[0] == PIPE_HEADER and rows[-1] == ""
    out = []
    for row in rows[1:-1]:
        p = row.split("|")
        if len(p) != 17:
            out.append(Line(("", "", 0, 0), None, "", "", "", "", "", "", "campos_errados", row.encode("latin-1")))
            continue
        dirt = classify(p[13], p[5], p[11])
        digits = p[11].replace(".", "")
        out.append(
            Line(
                key=(p[1], p[2], int(p[3]), int(p[4])),
                fob_cents=None if dirt else int(Decimal(p[13]) * 100),
                nandina=digits.zfill(10) if digits.isdigit() else p[11],
                ubigeo=p[10].strip(),
                country=p[12],
                fnum=p[5],
                ruc=p[8],
                name=p[9],
                dirt=dirt,
                raw=row.encode("latin-1"),
            )
        )
    return out


def year_lines(raw: Path, year: int) -> dict[str, list[Line]]:
    folder = raw / "aduanas" / str(year)
    out = {}
    for path in sorted(folder.iterdir()):
        out[path.name] = dbf_lines(dbf_bytes(path)) if path.suffix == ".zip" else pipe_lines(path)
    return out


def accepted(files: dict[str, list[Line]]) -> list[Line]:
    """Well-formed lines, first copy of each key."""
    seen, out = set(), []
    for lines in files.values():
        for line in lines:
            if line.dirt is None and line.key not in seen:
                seen.add(line.key)
                out.append(line)
    return out


def territory_departments() -> set[str]:
    with open(REFERENCE / "vraem_distritos.csv", encoding="utf-8") as f:
        return {row["ubigeo"][:2] for row in csv.DictReader(f)}


def published() -> pd.DataFrame:
    return pd.read_csv(REFERENCE / "publicado_vraem_2024.csv", dtype=str, keep_default_na=False)


def figures(lines: list[Line]) -> dict:
    terr = territory_departments()
    nat = sum(x.fob_cents for x in lines)
    t_lines = [x for x in lines if x.ubigeo[:2] in terr and x.ubigeo not in ("", "999999")]
    t = sum(x.fob_cents for x in t_lines)
    dest, dept = Counter(), Counter()
    ores = 0
    for x in t_lines:
        dest[NON_ISO.get(x.country, x.country)] += x.fob_cents
        dept[x.ubigeo[:2]] += x.fob_cents
        heading = int(x.nandina[:4])
        if 2603 <= heading <= 2617 and heading != 2612:
            ores += x.fob_cents
    return {
        "nacional": nat,
        "territorio": t,
        "destino": dest,
        "departamento": dept,
        "clase_0729": ores,
        "sin_ubigeo": sum(x.fob_cents for x in lines if x.ubigeo in ("", "999999")),
        "desconocido": sum(x.fob_cents for x in lines if NON_ISO.get(x.country, x.country) == "ZZ"),
    }


def rounds_to(value: Fraction, printed: str) -> bool:
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    q = Decimal(1).scaleb(-decimals)
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(q, ROUND_HALF_UP) == Decimal(printed)


def check_published_figures(fig24: dict, fig23: dict) -> None:
    pub = published()

    def value(ind: str, cat: str = "") -> str:
        row = pub[(pub["indicador"] == ind) & (pub["categoria"] == cat)]
        assert len(row) == 1, (ind, cat)
        return row["valor"].iloc[0]

    t = fig24["territorio"]
    assert rounds_to(Fraction(t, 100 * 1_000_000), value("exportaciones_millones_usd"))
    assert rounds_to(Fraction(100 * t, fig24["nacional"]), value("exportaciones_participacion_nacional_pct"))
    assert rounds_to(Fraction(100 * t, fig23["territorio"]) - 100, value("exportaciones_var_anual_pct"))
    for _, row in pub[pub["indicador"] == "exportaciones_por_destino_pct"].iterrows():
        assert rounds_to(Fraction(100 * fig24["destino"][row["categoria"]], t), row["valor"]), row["categoria"]
    ranked = [c for c, _ in fig24["destino"].most_common()]
    expected = pub.loc[pub["indicador"] == "exportaciones_destinos_principales_orden", "categoria"].iloc[0].split(",")
    assert ranked[: len(expected)] == expected
    for _, row in pub[pub["indicador"] == "exportaciones_por_producto_pct"].iterrows():
        assert row["categoria"] == "0729"
        assert rounds_to(Fraction(100 * fig24["clase_0729"], t), row["valor"])
    published_deps = pub[pub["indicador"] == "exportaciones_por_departamento_pct"]
    for _, row in published_deps.iterrows():
        assert rounds_to(Fraction(100 * fig24["departamento"][row["categoria"]], t), row["valor"]), row["categoria"]
    rest = set(territory_departments()) - set(published_deps["categoria"])
    rest_pct = Fraction(100 * sum(fig24["departamento"][d] for d in rest), t)
    assert rounds_to(rest_pct, str(Decimal(100) - sum(Decimal(v) for v in published_deps["valor"])))
    # the blank/999999 ubigeo FOB and the unknown destinations stay within the pipeline's warning thresholds
    assert 0 < fig24["sin_ubigeo"] < fig24["nacional"] * 5 // 100
    assert 0 < fig24["desconocido"] < fig24["nacional"] // 1000


# ------------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def universe() -> Universe:
    return build_universe(calibrate("small"), SEED)


@pytest.fixture(scope="module")
def raw(tmp_path_factory, universe) -> Path:
    """The small sample's export files (how long they take to write: benchmarks/sample_aduanas.py)."""
    out = tmp_path_factory.mktemp("aduanas_small")
    aduanas.write_aduanas(universe, out, range(2019, 2025))
    return out


@pytest.fixture(scope="module")
def counts(universe) -> dict[int, dict]:
    return aduanas.tally_aduanas(universe, range(2019, 2025))


@pytest.fixture(scope="module")
def read(raw) -> dict[int, dict[str, list[Line]]]:
    return {y: year_lines(raw, y) for y in (2021, 2022, 2023, 2024)}


class Tolerant(FieldParser):
    """dbfread's parser, keeping as text the values it cannot parse (planted dirt in N and D fields)."""

    def parse(self, field, data):
        try:
            return super().parse(field, data)
        except ValueError:
            return data.decode(DBF_ENCODING).strip()


def read_with_dbfread(path: Path, tmp: Path) -> DBF:
    member = tmp / (path.stem.upper() + ".DBF")
    member.write_bytes(dbf_bytes(path))
    return DBF(str(member), encoding=DBF_ENCODING, parserclass=Tolerant, load=True)


# --------------------------------------------------------------------------------------------------- layout


def test_only_the_window_and_the_formats_of_each_year(raw, counts):
    assert sorted(p.name for p in (raw / "aduanas").iterdir()) == ["2021", "2022", "2023", "2024"]
    assert sorted(counts) == [2021, 2022, 2023, 2024]
    for year, kind in ((2021, "pipe"), (2022, "dbf"), (2023, "pipe"), (2024, "dbf")):
        names = sorted(p.name for p in (raw / "aduanas" / str(year)).iterdir())
        assert names == sorted(counts[year]["archivos"]), year
        assert counts[year]["formato"] == kind
        if kind == "pipe":
            assert names == [f"exportaciones_{year}.txt"]
            continue
        weekly = [n for n in names if WEEKLY.match(n)]
        extra = sorted(set(names) - set(weekly))
        assert extra == ([f"exportaciones_{year}_12.txt"] if year == 2024 else [])
        covered = set()
        for n in weekly:
            d1, d2, mm, yy = (int(g) for g in WEEKLY.match(n).groups())
            assert yy == year % 100 and 1 <= d1 <= d2 and pd.Timestamp(year, mm, d2)  # a real day of that month
            assert d2 - d1 <= 6
            covered |= {(mm, d) for d in range(d1, d2 + 1)}
        days = pd.date_range(f"{year}-01-01", f"{year}-12-31")
        assert covered == {(d.month, d.day) for d in days}  # every day of the year, weeks split at month ends


# ------------------------------------------------------------------------------------------------------ DBF


def test_dbf_header_is_dbase_iii(raw):
    for path in sorted((raw / "aduanas" / "2024").glob("x*.zip"))[:6]:
        data = dbf_bytes(path)
        assert data[0] == 0x03 and data[29] == 0
        yy, mm, dd = data[1:4]
        assert 2024 <= 1900 + yy <= 2025 and 1 <= mm <= 12 and 1 <= dd <= 31
        n, header_len, rec_len = struct.unpack("<IHH", data[4:12])
        assert header_len == 32 + 32 * len(FIELDS) + 1 and data[header_len - 1] == 0x0D
        assert rec_len == 1 + sum(f[2] for f in FIELDS)
        assert len(data) == header_len + n * rec_len + 1 and data[-1] == 0x1A
        for i, (name, kind, length, decimals) in enumerate(FIELDS):
            d = data[32 + 32 * i : 64 + 32 * i]
            assert d[:11] == name.encode().ljust(11, b"\0")
            assert d[11:12] == kind.encode() and d[16] == length and d[17] == decimals


def test_dbfread_reads_every_file_and_skips_deleted_records(raw, counts, tmp_path):
    for year in (2022, 2024):
        deleted_copies = 0
        for path in sorted((raw / "aduanas" / str(year)).glob("x*.zip")):
            table = read_with_dbfread(path, tmp_path)
            c = counts[year]["archivos"][path.name]
            assert [f.name for f in table.fields] == [f[0] for f in FIELDS] == REAL_FIELD_ORDER
            assert table.header.numrecords == c["registros"] == len(table.records) + len(table.deleted)
            assert len(table.records) == c["vivas"] and len(table.deleted) == c["borrados"]
            live_keys = {(r["CADU"], r["FANO"], r["NDCL"], r["NSER"]) for r in table.records}
            for r in DBF(
                str(tmp_path / (path.stem.upper() + ".DBF")), encoding=DBF_ENCODING, raw=True, load=True
            ).deleted:
                key = tuple(r[k].decode(DBF_ENCODING).strip() for k in ("CADU", "FANO", "NDCL"))
                nser = r["NSER"].strip()
                if nser.isdigit() and (*key, int(nser)) in live_keys:
                    deleted_copies += 1  # an older version of a live line: same key, skipped
        assert counts[year]["borrados"] == sum(v["borrados"] for v in counts[year]["archivos"].values())
        assert deleted_copies == sum(v["borrados_copia"] for v in counts[year]["archivos"].values()) > 0


def test_dbf_types_leading_zero_and_cp850(raw, tmp_path):
    nandinas, names = set(), set()
    for path in sorted((raw / "aduanas" / "2024").glob("x*.zip")):
        table = read_with_dbfread(path, tmp_path)
        for r in table.records:
            if isinstance(r["PART_NANDI"], int):
                nandinas.add(r["PART_NANDI"])
            names.add(r["DNOMBRE"])
            assert isinstance(r["NSER"], int) and r["NSER"] >= 1
            assert re.fullmatch(r"\d{3}", r["CADU"]) and r["FANO"] == "2024" and re.fullmatch(r"\d{6}", r["NDCL"])
            assert re.fullmatch(r"\d{11}", r["NDOC"]) and r["NDOC"].startswith("20")
            assert r["UBIGEO"] == "" or re.fullmatch(r"\d{6}", r["UBIGEO"])
    assert 804400000 in nandinas and 901119000 in nandinas  # avocados, coffee: the leading zero is lost
    assert 2603000000 in nandinas and 7108120000 in nandinas
    assert {str(n).zfill(10) for n in nandinas} <= set(aduanas.NANDINAS)
    assert any(ch in n for n in names for ch in "ÑÁÉÍÓÚ")
    data = dbf_bytes(sorted((raw / "aduanas" / "2024").glob("x*.zip"))[0])
    with pytest.raises(UnicodeDecodeError, match=NOT_UTF8):
        data[data.index(b"\r") + 1 :].decode("utf-8")  # cp850 bytes, no code page declared


def test_repeated_weeks_are_byte_identical(raw, counts):
    for year in (2022, 2024):
        folder = raw / "aduanas" / str(year)
        regular, repeated = {}, {}
        for path in sorted(folder.glob("x*.zip")):
            d1 = int(path.name[1:3])
            (regular if d1 in (1, 8, 15, 22, 29) else repeated)[path.name] = dbf_records(dbf_bytes(path))[0]
        assert len(repeated) == aduanas.ADUANAS_REPETITION["small"]["semanas_repetidas"]
        shared = 0
        for name, records in repeated.items():
            d1, d2, mm = int(name[1:3]), int(name[3:5]), int(name[5:7])
            days = {f"{year}{mm:02d}{d:02d}".encode() for d in range(d1, d2 + 1)}
            fnum = field_slice("FNUM")
            same_days = [r for recs in regular.values() for r in recs if r[fnum] in days]
            assert Counter(records) == Counter(same_days) and records  # both files, byte for byte
            shared += len(records)
        expected = shared + (counts[year]["archivos"].get(f"exportaciones_{year}_12.txt", {}).get("vivas", 0))
        assert counts[year]["duplicadas"] == expected


def test_december_pipe_repeats_the_december_dbf_lines(read):
    files = dict(read[2024])
    december = files.pop("exportaciones_2024_12.txt")
    dbf_dec = {x.key: x for lines in files.values() for x in lines if x.dirt is None and x.fnum[4:6] == "12"}
    assert {x.key for x in december} == set(dbf_dec) and len(december) == len(dbf_dec)
    for x in december:
        y = dbf_dec[x.key]
        assert (x.fob_cents, x.nandina, x.ubigeo, x.country, x.fnum, x.ruc, x.name) == (
            y.fob_cents,
            y.nandina,
            y.ubigeo,
            y.country,
            y.fnum,
            y.ruc,
            y.name,
        )


# ----------------------------------------------------------------------------------------------------- pipe


def test_pipe_delivery_format(raw):
    for year in (2021, 2023):
        data = (raw / "aduanas" / str(year) / f"exportaciones_{year}.txt").read_bytes()
        assert b"\r" not in data
        with pytest.raises(UnicodeDecodeError, match=NOT_UTF8):
            data.decode("utf-8")
        rows = [r.split("|") for r in data.decode("latin-1").split("\n")[1:-1]]
        good = [r for r in rows if len(r) == 17]
        assert all(r[0] == "Exportación Definitiva" for r in good)
        assert all(re.fullmatch(r"\d{4}\.\d{2}\.\d{2}\.\d{2}", r[11]) for r in good if "A" not in r[11])
        assert all(re.fullmatch(r"0|\d{8}", r[6]) and re.fullmatch(r"0|\d{8}", r[7]) for r in good)
        assert any(r[6] == "0" for r in good)  # a few shipping dates missing
        assert any(r[10] == "      " for r in good) and any(r[10] == "999999" for r in good)
        assert all(re.fullmatch(r"\d{6}|\s{6}", r[10]) for r in good)
        assert all(re.fullmatch(r"\d+\.\d{3}", r[14]) for r in good)
        assert sum(re.fullmatch(r"\d+\.\d{2}", r[13]) is not None for r in good) >= len(good) - 5
        assert {"0804.40.00.00", "2603.00.00.00", "0901.11.90.00"} <= {r[11] for r in good}


# ----------------------------------------------------------------------------------------------- the counts


def test_dirt_counts_as_announced(read, counts):
    for year, files in read.items():
        c = counts[year]
        found = Counter(x.dirt for lines in files.values() for x in lines if x.dirt)
        expected = dict(aduanas.ADUANAS_DIRT["small"])
        if c["formato"] == "dbf":
            expected["campos_errados"] = 0
        assert {k: found.get(k, 0) for k in DIRT} == c["suciedad"] == expected, year
        for name, lines in files.items():
            assert {k: sum(x.dirt == k for x in lines) for k in DIRT} == c["archivos"][name]["suciedad"]
        assert all(v > 0 for k, v in expected.items() if k != "campos_errados" or c["formato"] == "pipe")


def test_dirt_is_what_the_source_note_describes(raw, read):
    dbf = [x for lines in read[2024].values() for x in lines if x.dirt]
    assert any(x.raw[field_slice("VFOBSERDOL")] == b"*" * 15 for x in dbf)
    assert any(x.fnum == "20240231" for x in dbf)
    assert any(re.fullmatch(r"\d+A\d+", x.nandina) for x in dbf)
    pipe = [x for x in read[2023]["exportaciones_2023.txt"] if x.dirt]
    assert any(b"|abc|" in x.raw for x in pipe)
    assert any(x.fnum == "20230231" for x in pipe)
    assert any(re.fullmatch(r"\d{4}\.\d[A-Z]\.\d{2}\.\d{2}", x.nandina) for x in pipe)
    assert any(x.fob_cents is None and x.dirt == "negativo" for x in pipe)


def test_rows_read_are_accepted_plus_rejected_plus_repeats(read, counts):
    for year, files in read.items():
        c = counts[year]
        rows = sum(len(v) for v in files.values())
        ok = accepted(files)
        dirty = sum(1 for v in files.values() for x in v if x.dirt)
        repeats = rows - dirty - len(ok)
        assert rows == c["lineas_leidas"] == c["aceptadas"] + c["rechazadas"] + c["duplicadas"]
        assert (len(ok), dirty, repeats) == (c["aceptadas"], c["rechazadas"], c["duplicadas"]), year
        for name, lines in files.items():
            assert len(lines) == c["archivos"][name]["vivas"]
        if c["formato"] == "pipe":
            assert repeats == aduanas.ADUANAS_REPETITION["small"]["repetidas_pipe"]


def test_keys_unique_except_the_planted_repeats(read):
    for files in read.values():
        for name, lines in files.items():
            keys = Counter(x.key for x in lines if x.dirt is None)
            if name.startswith("x"):
                assert max(keys.values()) == 1, name
        same_key = {}
        for lines in files.values():
            for x in lines:
                if x.dirt is None:
                    assert same_key.setdefault(x.key, x.fob_cents) == x.fob_cents  # repeats carry the same line


def test_country_codes_iso_plus_the_known_non_iso(read):
    with open(REFERENCE / "paises_iso.csv", encoding="utf-8") as f:
        iso = {row["iso2"] for row in csv.DictReader(f)}
    terr = territory_departments()
    for year, files in read.items():
        lines = accepted(files)
        codes = Counter(x.country for x in lines)
        assert set(codes) <= iso | set(NON_ISO), set(codes) - iso - set(NON_ISO)
        assert set(NON_ISO) <= set(codes), year  # every non-ISO code planted
        assert not [x for x in lines if x.country in NON_ISO and x.ubigeo[:2] in terr]


def test_exporters_from_the_population(read, universe):
    ruc_index = {int(r): i for i, r in enumerate(universe.ruc)}
    dept = universe.cat.geo_department
    terr = territory_departments()
    lines = accepted(read[2024])
    rucs = Counter(x.ruc for x in lines)
    absent = [r for r in rucs if int(r) not in ruc_index]
    assert 0 < len(absent) <= aduanas.ABSENT_RUCS["small"][1]
    assert all(r.startswith("20") for r in rucs)
    names = {}
    for x in lines:
        assert names.setdefault(x.ruc, x.name) == x.name  # one name per RUC
    fiscal, origin = Counter(), Counter()
    for x in lines:
        if x.ubigeo[:2] in terr and int(x.ruc) in ruc_index:
            i = ruc_index[int(x.ruc)]
            origin[x.ubigeo[:2]] += x.fob_cents
            fiscal[dept[universe.geo[i]]] += x.fob_cents
            if x.nandina.startswith(("2603", "2608", "2607", "2613", "2616", "7108", "7403")):
                assert dept[universe.geo[i]] == "15"  # mining exporters are domiciled in Lima
            assert universe.formal(2024)[i]
    assert sum(fiscal[d] for d in terr) < sum(origin.values()) // 10  # the fiscal view hardly sees them


def test_deterministic_by_seed(raw, universe, tmp_path):
    aduanas.write_aduanas(universe, tmp_path, [2022, 2023])
    for year in (2022, 2023):
        a = sorted(p.name for p in (raw / "aduanas" / str(year)).iterdir())
        assert a == sorted(p.name for p in (tmp_path / "aduanas" / str(year)).iterdir())
        for name in a:
            assert (raw / "aduanas" / str(year) / name).read_bytes() == (
                tmp_path / "aduanas" / str(year) / name
            ).read_bytes(), name
    other = build_universe(calibrate("small"), SEED + 1)
    aduanas.write_aduanas(other, tmp_path / "otra", [2023])
    assert (tmp_path / "otra" / "aduanas" / "2023" / "exportaciones_2023.txt").read_bytes() != (
        raw / "aduanas" / "2023" / "exportaciones_2023.txt"
    ).read_bytes()


# ------------------------------------------------------------------------------------------- calibration


def test_small_scale_reproduces_the_published_figures(read, counts):
    figs = {y: figures(accepted(files)) for y, files in read.items()}
    check_published_figures(figs[2024], figs[2023])
    for year, f in figs.items():
        assert f["nacional"] == counts[year]["fob_centimos"]["nacional"]
        assert f["territorio"] == counts[year]["fob_centimos"]["territorio"]
        assert f["sin_ubigeo"] == counts[year]["fob_centimos"]["sin_ubigeo"]
        origins = {x.ubigeo[:2] for x in accepted(read[year]) if x.ubigeo not in ("", "999999")}
        assert len(origins) == 25  # national in scope: every department exports


def test_the_published_export_figures_are_not_typed_in_code():
    src = (Path(aduanas.__file__)).read_text(encoding="utf-8") + Path(sd.__file__).read_text(encoding="utf-8")
    for literal in ("9580", "9,580", "9_580", "72.7", "31.5", "29.7", "27.2", "12.9", "11.6", "CN,CH,IN"):
        assert literal not in src, literal


def test_write_sample_passes_one_population_to_every_generator(monkeypatch, tmp_path):
    seen = {}

    def empresas(out, seed, scale, years, built_universe=None, **_):
        seen["empresas"] = built_universe
        return []

    def exportaciones(uni, out, years):
        seen["aduanas"] = (uni, list(years))
        return [out / "x.zip"]

    def credito(out, seed, scale, years, built_universe=None, **_):
        seen["credito"] = built_universe
        return [out / "d.txt"]

    monkeypatch.setattr(sd, "write_empresas", empresas)
    monkeypatch.setattr(sd, "write_aduanas", exportaciones)
    monkeypatch.setattr(sd, "write_credito", credito)
    stub = types.SimpleNamespace(write_enaho=lambda *a, **k: [])
    monkeypatch.setattr(sd, "enaho", stub, raising=False)
    monkeypatch.setitem(sys.modules, "vraem_sample.enaho", stub)
    paths = sd.write_sample(tmp_path, seed=SEED, scale="small")
    assert isinstance(seen["empresas"], Universe) and seen["aduanas"][0] is seen["empresas"] is seen["credito"]
    assert seen["empresas"].seed == SEED and seen["aduanas"][1] == list(range(2019, 2025))
    assert paths == [tmp_path / "x.zip", tmp_path / "d.txt", tmp_path / "inei" / "vab" / "pbi_peru_17.xlsx"]


# --------------------------------------------------------------------------------------- national (slow)


@pytest.mark.slow
def test_national_scale_reproduces_the_published_figures(tmp_path):
    uni = build_universe(calibrate("national"), SEED)
    aduanas.write_aduanas(uni, tmp_path, [2023, 2024])  # timed in benchmarks/sample_aduanas.py
    counts = aduanas.tally_aduanas(uni, [2023, 2024])
    files = {y: year_lines(tmp_path, y) for y in (2023, 2024)}
    for year in (2023, 2024):
        c = counts[year]
        assert 250_000 <= c["aceptadas"] <= 350_000
        ok = accepted(files[year])
        assert len(ok) == c["aceptadas"]
        assert sum(len(v) for v in files[year].values()) == c["lineas_leidas"]
    check_published_figures(figures(accepted(files[2024])), figures(accepted(files[2023])))
