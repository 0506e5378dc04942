"""Padrón RUC and sales readers on hand-built files in each published variant."""

import re
from pathlib import Path

import pytest

from tests.support.builders import padron_bytes, padron_row, ruc, write_padron, write_ventas
from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.sources import padron, ventas
from vraem_pipeline.sources.textfiles import parse_delimited

ROWS = [
    padron_row(ruc("20", 1), actividad="CULTIVO DE CEREALES (EXCEPTO ARROZ), LEGUMBRES Y SEMILLAS OLEAGINOSAS"),
    padron_row(ruc("10", 2), tipo="PERSONA NATURAL CON NEGOCIO", ubigeo="-"),
]


@pytest.mark.parametrize(
    ("dialect", "zipped", "encoding", "delimiter"),
    [
        ("pipe", True, "latin-1", "|"),
        ("pipe", False, "latin-1", "|"),
        ("comma", True, "utf-8-sig", ","),
        ("comma", False, "utf-8-sig", ","),
    ],
)
def test_each_dialect_reads_the_same_rows(tmp_path, dialect, zipped, encoding, delimiter):
    rows = [r[:] for r in ROWS]
    rows[0][12] = "AÑO ÑUÑOA ÁNCASH"  # a non-ASCII name proves the decoding
    path = write_padron(tmp_path, 2024, 12, rows, dialect=dialect, zipped=zipped)
    parsed = padron.read_cut(padron.Cut(path, "202412"))
    assert parsed.dialect.encoding == encoding and parsed.dialect.delimiter == delimiter
    df = parsed.frame
    assert df["ruc"].tolist() == [ROWS[0][0], ROWS[1][0]]
    # The comma inside the quoted activity text stays in the field.
    assert df.loc[0, "actividad_ciiu4"] == ROWS[0][6]
    assert df["linea"].tolist() == [2, 3]
    assert df["ubigeo"].isna().tolist() == [False, True]  # "-" is SUNAT's empty
    assert df["nro_trab"].isna().all()  # NO DISPONIBLE
    assert parsed.label.endswith("PadronRUC_202412.csv")


def test_utf8_that_turns_out_latin1_later_is_reread_as_latin1(tmp_path, monkeypatch):
    import vraem_pipeline.sources.textfiles as tf

    monkeypatch.setattr(tf, "SAMPLE_BYTES", 200)  # the sample ends before the first non-ASCII byte
    rows = [padron_row(ruc("20", i)) for i in range(1, 5)]
    rows[-1][12] = "ÑUÑOA"
    path = tmp_path / "PadronRUC_202412.csv"
    path.write_bytes(padron_bytes(rows, "pipe"))
    parsed = parse_delimited(path, padron.HEADER)
    assert parsed.dialect.encoding == "latin-1"
    assert len(parsed.frame) == 4


def test_malformed_lines_are_kept_with_their_line_number(tmp_path):
    extra = {1: padron_row(ruc("20", 9)) + ["SOBRA"], 2: padron_row(ruc("20", 8))[:10]}
    path = write_padron(tmp_path, 2024, 12, ROWS + [padron_row(ruc("20", 7))], extra_lines=extra)
    parsed = padron.read_cut(padron.Cut(path, "202412"))
    assert [(line, n) for line, n, _ in parsed.bad_lines] == [(3, 17), (5, 10)]
    assert parsed.frame["linea"].tolist() == [2, 4, 6]
    assert parsed.rows_read == 5


def test_trailing_delimiter_is_dropped_but_a_filled_extra_field_is_malformed(tmp_path):
    header = "|".join(padron.HEADER) + "|"
    good = "|".join(padron_row(ruc("20", 1))) + "|"
    bad = "|".join(padron_row(ruc("20", 2))) + "|X"
    path = tmp_path / "PadronRUC_202412.csv"
    path.write_bytes("\n".join([header, good, bad, ""]).encode("latin-1"))
    parsed = parse_delimited(path, padron.HEADER)
    assert len(parsed.frame) == 1 and [b[0] for b in parsed.bad_lines] == [3]


def test_lost_leading_zero_of_ubigeo_is_restored(tmp_path):
    path = write_padron(tmp_path, 2024, 12, [padron_row(ruc("20", 1), ubigeo="50401")])
    assert padron.read_cut(padron.Cut(path, "202412")).frame.loc[0, "ubigeo"] == "050401"


def test_wrong_header_fails_naming_file_line_and_rule(tmp_path):
    path = tmp_path / "PadronRUC_202412.csv"
    path.write_bytes(b"RUC|Estado|Tipo\n20512333797|ACTIVO|X\n")
    with pytest.raises(SourceFileError) as err:
        padron.read_cut(padron.Cut(path, "202412"))
    assert str(path) in str(err.value) and "línea 1" in str(err.value) and "[cabecera]" in str(err.value)


def test_zip_with_two_data_files_is_an_error(tmp_path):
    import zipfile

    path = tmp_path / "PadronRUC_202412.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.csv", "x")
        zf.writestr("b.csv", "y")
    with pytest.raises(SourceFileError, match="un solo archivo"):
        padron.read_cut(padron.Cut(path, "202412"))


def test_latest_cut_wins_and_zip_beats_its_own_csv(tmp_path):
    folder = tmp_path / "2024"
    folder.mkdir()
    for name in [
        "PadronRUC_202406.zip",
        "padronruc_202412.CSV",
        "PadronRUC_202412.zip",
        "PadronRUC_202411.zip",
        "notas.txt",
    ]:
        (folder / name).write_bytes(b"")
    cut = padron.latest_cut(folder)
    assert cut.path.name == "PadronRUC_202412.zip" and cut.periodo == "202412"
    assert len(padron.find_cuts(folder)) == 4


@pytest.mark.parametrize(
    ("names", "stray"),
    [
        (["PadronRUC_202401.zip", "PadronRUC_202412.csv"], None),  # January and December of the folder's year
        (["PadronRUC_202312.zip", "PadronRUC_202406.zip"], "PadronRUC_202312.zip"),  # December of the year before
        (["PadronRUC_202406.zip", "PadronRUC_202501.csv"], "PadronRUC_202501.csv"),  # January of the year after
    ],
)
def test_every_cut_in_the_folder_must_be_of_its_year_not_only_the_latest(tmp_path, names, stray):
    cuts = [padron.Cut(tmp_path / n, padron.cut_of_name(n)) for n in names]
    if stray is None:
        assert padron.check_cuts_match_year(cuts, 2024) is None
        return
    with pytest.raises(SourceFileError, match=r"no pertenece al año 2024 de la carpeta") as err:
        padron.check_cuts_match_year(cuts, 2024)
    assert (err.value.path.name, err.value.rule) == (stray, "corte_del_anio")


def test_two_stray_cuts_are_both_named():
    cuts = [padron.Cut(Path(n), padron.cut_of_name(n)) for n in ("PadronRUC_202311.zip", "PadronRUC_202312.zip")]
    with pytest.raises(SourceFileError) as err:
        padron.check_cuts_match_year(cuts, 2024)
    assert str(err.value) == (
        "PadronRUC_202311.zip: el corte 202311 no pertenece al año 2024 de la carpeta (también "
        "PadronRUC_202312.zip): muévalo a la carpeta de su año [corte_del_anio]"
    )


@pytest.mark.parametrize(
    ("name", "periodo", "phrase"),
    [
        ("PadronRUC_202412.zip", "202412", None),  # the close
        (
            "/raw/sunat/padron/2024/padronruc_202406.CSV",
            "202406",
            "cifras del corte de junio de 2024, no del cierre de diciembre",
        ),
        ("PadronRUC_202409.txt", "202409", "cifras del corte de setiembre de 2024, no del cierre de diciembre"),
        ("PadronRUC_202413.zip", None, None),  # no month 13: not a cut's name
        ("padron_2024.zip", None, None),
    ],
)
def test_the_period_of_a_cut_comes_from_its_name(name, periodo, phrase):
    assert padron.cut_of_name(name) == periodo
    assert (padron.close_phrase(periodo) if periodo else None) == phrase


def test_ventas_reader_keeps_amounts_as_text_and_empty_as_missing(tmp_path):
    path = write_ventas(tmp_path, 2024, [(ruc("20", 1), 2024, "1543200.50"), (ruc("20", 2), 2024, None)])
    assert ventas.find_file(path.parent, 2024) == path
    df = ventas.read_file(path).frame
    assert df["ventas_netas"].tolist()[0] == "1543200.50" and df["ventas_netas"].isna().tolist() == [False, True]


def test_realdata_padron_reducido_header_is_rejected_as_another_layout():
    """The real Padrón *Reducido* (another SUNAT product) must not be mistaken for the open-data Padrón RUC."""
    real = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "sunat" / "padron_reducido_ruc.zip"
    if not real.exists():
        pytest.skip("../shared/realdata not present")
    with pytest.raises(SourceFileError, match="cabecera"):
        parse_delimited(real, padron.HEADER)
    parsed = parse_delimited(real)  # but the reader itself handles its real bytes: latin-1, `|`, trailing `|`
    assert parsed.dialect.encoding == "latin-1" and parsed.dialect.delimiter == "|"
    assert parsed.header[0] == "RUC" and len(parsed.header) == 15 and not parsed.bad_lines
    assert len(parsed.frame) == 25


# ------------------------------------------------- the DuckDB reader: physical line numbers exact, nothing lost

HDR = "|".join(padron.HEADER)


def _pipe(*rows: list[str]) -> list[str]:
    return ["|".join(r) for r in rows]


def _reference(path, expected_header=None, *, columns=None):
    """An independent reading with Python's csv module: rows with their (last) physical line, bad lines with
    (line, fields, physical text). Encoding: UTF-8 if the whole file decodes, else latin-1."""
    import csv
    import io
    import zipfile

    data = path.read_bytes()
    if data[:2] == b"PK":
        with zipfile.ZipFile(path) as zf:
            data = zf.read(zf.namelist()[0])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    text = text.lstrip("\ufeff")
    physical = [line.rstrip("\r\n") for line in io.StringIO(text, newline="").readlines()]
    delim = "," if physical[0].count(",") > physical[0].count("|") else "|"
    quoting = csv.QUOTE_MINIMAL if delim == "," or '"' in physical[0] else csv.QUOTE_NONE
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, quoting=quoting, strict=False)
    header = next(reader)
    trailing = header[-1] == ""
    width = len(header)
    names = header[:-1] if trailing else header
    keep = list(range(len(names)))
    if columns:
        keep = [names.index(c) for c in columns]
        names = list(columns.values())
    rows, bad = [], []
    last = reader.line_num
    for row in reader:
        line, last = last + 1, reader.line_num  # a record is numbered by its first physical line
        if len(row) != width or (trailing and row[-1] != ""):
            bad.append((line, 0 if row in ([], [""]) else len(row), physical[line - 1]))
            continue
        rows.append([row[k] for k in keep] + [line])
    import pandas as pd

    frame = pd.DataFrame(rows, columns=[*names, "linea"])
    return frame, bad


def _same_as_reference(parsed, path, *args, **kwargs):
    frame, bad = _reference(path, *args, **kwargs)
    assert parsed.frame.astype(str).values.tolist() == frame.astype(str).values.tolist()
    assert list(parsed.frame.columns) == list(frame.columns)
    assert parsed.bad_lines == bad


def _no_fallback(monkeypatch):
    """Make the csv-module path fail the test: these files must be read by DuckDB."""
    import vraem_pipeline.sources.textfiles as tf

    def refuse(*args, **kwargs):
        raise AssertionError("leído con el módulo csv")

    monkeypatch.setattr(tf, "_load_with_csv_module", refuse)


def _via(path, expected_header=None, **kwargs) -> str:
    import duckdb

    from vraem_pipeline.sources.textfiles import load_delimited

    con = duckdb.connect()
    try:
        return load_delimited(con, path, table="t", expected_header=expected_header, **kwargs).via
    finally:
        con.close()


def test_blank_line_in_the_middle_is_a_bad_line_and_later_lines_keep_their_number(tmp_path, monkeypatch):
    r1, r2, r3 = (padron_row(ruc("20", i)) for i in (1, 2, 3))
    path = tmp_path / "PadronRUC_202412.csv"
    lines = [HDR, *_pipe(r1), "", *_pipe(r2), "", "", *_pipe(r3)]
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    _no_fallback(monkeypatch)
    parsed = parse_delimited(path, padron.HEADER)
    _same_as_reference(parsed, path, padron.HEADER)
    assert parsed.frame["linea"].tolist() == [2, 4, 7]
    assert parsed.frame["RUC"].tolist() == [r1[0], r2[0], r3[0]]
    assert parsed.bad_lines == [(3, 0, ""), (5, 0, ""), (6, 0, "")]
    assert parsed.rows_read == 6
    assert _via(path, padron.HEADER) == "directo"  # DuckDB skips blank lines; a scan of the file finds them


def test_plain_utf8_file_is_read_by_duckdb_directly(tmp_path, monkeypatch):
    rows = [padron_row(ruc("20", i)) for i in (1, 2, 3)]
    path = tmp_path / "PadronRUC_202412.csv"
    path.write_bytes(("\r\n".join([HDR, *_pipe(*rows[:2]), "x|y", *_pipe(rows[2])]) + "\r\n").encode("utf-8"))
    _no_fallback(monkeypatch)
    parsed = parse_delimited(path, padron.HEADER)
    _same_as_reference(parsed, path, padron.HEADER)
    assert parsed.frame["linea"].tolist() == [2, 3, 5] and parsed.bad_lines == [(4, 2, "x|y")]
    assert _via(path, padron.HEADER) == "directo"


def test_crlf_with_blank_line_short_line_and_no_final_newline(tmp_path, monkeypatch):
    r1, r2, r3 = (padron_row(ruc("20", i)) for i in (1, 2, 3))
    short = r2[:5]
    path = tmp_path / "PadronRUC_202412.csv"
    path.write_bytes("\r\n".join([HDR, *_pipe(r1), "", *_pipe(short), *_pipe(r2), *_pipe(r3)]).encode("latin-1"))
    _no_fallback(monkeypatch)
    parsed = parse_delimited(path, padron.HEADER)
    _same_as_reference(parsed, path, padron.HEADER)
    assert parsed.frame["linea"].tolist() == [2, 5, 6]
    assert parsed.bad_lines == [(3, 0, ""), (4, 5, "|".join(short))]
    assert parsed.frame["PERIODO_PUBLICACION"].tolist() == ["202412"] * 3  # no `\r` left in the last field


def test_lone_cr_line_ends_count_as_lines(tmp_path, monkeypatch):
    r1, r2 = padron_row(ruc("20", 1)), padron_row(ruc("20", 2))
    path = tmp_path / "PadronRUC_202412.csv"
    path.write_bytes("\r".join([HDR, *_pipe(r1), "", "x|y", *_pipe(r2), ""]).encode("latin-1"))
    _no_fallback(monkeypatch)
    parsed = parse_delimited(path, padron.HEADER)
    _same_as_reference(parsed, path, padron.HEADER)
    assert parsed.frame["linea"].tolist() == [2, 5] and parsed.bad_lines == [(3, 0, ""), (4, 2, "x|y")]


def test_bom_quoted_comma_and_malformed_lines_in_the_comma_dialect(tmp_path, monkeypatch):
    rows = [padron_row(ruc("20", i), actividad="CULTIVO DE CEREALES (EXCEPTO ARROZ), LEGUMBRES") for i in (1, 2, 3)]
    rows[1][12] = "ÁNCASH"
    extra = {1: padron_row(ruc("20", 9))[:3], 2: padron_row(ruc("20", 8)) + ["SOBRA, CON COMA"]}
    path = write_padron(tmp_path, 2024, 12, rows, dialect="comma", zipped=True, extra_lines=extra)
    _no_fallback(monkeypatch)
    parsed = parse_delimited(path, padron.HEADER, member_pattern=r"\.(csv|txt)$", columns=padron.COLUMNS)
    _same_as_reference(parsed, path, padron.HEADER, columns=padron.COLUMNS)
    assert parsed.dialect.encoding == "utf-8-sig" and parsed.dialect.delimiter == ","
    assert parsed.header[0] == "RUC"  # the BOM is not part of the first name
    assert parsed.frame["linea"].tolist() == [2, 4, 6]
    assert parsed.frame["actividad_ciiu4"].tolist() == ["CULTIVO DE CEREALES (EXCEPTO ARROZ), LEGUMBRES"] * 3
    # raw text of a bad line: the physical line as published, quotes included
    bad = parsed.bad_lines
    assert [(b[0], b[1]) for b in bad] == [(3, 3), (5, 17)]
    assert bad[1][2].endswith(',202412,"SOBRA, CON COMA"')


def test_trailing_delimiter_file_exact_lines_and_raw_text(tmp_path, monkeypatch):
    r = [padron_row(ruc("20", i)) for i in (1, 2, 3, 4)]
    lines = [
        HDR + "|",
        "|".join(r[0]) + "|",
        "|".join(r[1]) + "|X",
        "",
        "|".join(r[2]) + "|",
        "|".join(r[3][:4]) + "|",
        "|".join(r[3]) + "|",
    ]
    path = tmp_path / "PadronRUC_202412.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    _no_fallback(monkeypatch)
    parsed = parse_delimited(path, padron.HEADER)
    _same_as_reference(parsed, path, padron.HEADER)
    assert parsed.header == padron.HEADER
    assert parsed.frame["linea"].tolist() == [2, 5, 7]
    assert parsed.bad_lines == [(3, 17, "|".join(r[1]) + "|X"), (4, 0, ""), (6, 5, "|".join(r[3][:4]) + "|")]
    assert list(parsed.frame.columns) == [*padron.HEADER, "linea"]


def test_latin1_byte_after_the_sniff_sample_rereads_the_whole_file_with_exact_lines(tmp_path, monkeypatch):
    import vraem_pipeline.sources.textfiles as tf

    monkeypatch.setattr(tf, "SAMPLE_BYTES", 400)  # header and first row: plain ASCII, so UTF-8 at first
    rows = [padron_row(ruc("20", i)) for i in range(1, 6)]
    rows[3][14] = "VIÑAC"
    lines = [HDR, *_pipe(*rows[:2]), "", *_pipe(*rows[2:])]
    path = tmp_path / "PadronRUC_202412.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    _no_fallback(monkeypatch)
    parsed = parse_delimited(path, padron.HEADER)
    _same_as_reference(parsed, path, padron.HEADER)
    assert parsed.dialect.encoding == "latin-1"
    assert parsed.frame["linea"].tolist() == [2, 3, 5, 6, 7] and parsed.bad_lines == [(4, 0, "")]
    assert parsed.frame["Distrito"].tolist()[3] == "VIÑAC"


def test_line_numbers_hold_across_read_blocks(tmp_path, monkeypatch):
    """Tiny read blocks put every block boundary inside a line, a CRLF or a blank line: same result."""
    import random

    import vraem_pipeline.sources.textfiles as tf

    rnd = random.Random(7)
    lines = [HDR]
    for i in range(300):
        roll = rnd.random()
        row = padron_row(ruc("20", i + 1))
        lines.append("" if roll < 0.1 else "|".join(row[: rnd.randint(1, 15)]) if roll < 0.2 else "|".join(row))
    data = "".join(line + rnd.choice(["\n", "\r\n", "\r"]) for line in lines).encode("latin-1")
    path = tmp_path / "PadronRUC_202412.csv"
    path.write_bytes(data)
    whole = parse_delimited(path, padron.HEADER)
    _same_as_reference(whole, path, padron.HEADER)
    for size in (1, 2, 3, 5, 64, 1000):
        monkeypatch.setattr(tf, "READ_BYTES", size)
        parsed = parse_delimited(path, padron.HEADER)
        assert parsed.frame.equals(whole.frame) and parsed.bad_lines == whole.bad_lines


def test_records_spanning_lines_are_read_by_the_csv_module(tmp_path):
    """A quoted value with a line break spans two physical lines; an open quote on the last line runs to the end."""
    rows = [padron_row(ruc("20", i)) for i in (1, 2, 3)]
    rows[1][6] = "TEXTO EN\nDOS LINEAS"
    path = write_padron(tmp_path, 2024, 12, rows, dialect="comma", zipped=False)
    parsed = parse_delimited(path, padron.HEADER)
    assert _via(path, padron.HEADER) == "modulo_csv"
    assert parsed.frame["linea"].tolist() == [2, 3, 5]  # a record's first line, where an editor shows it
    assert parsed.frame["Actividad_Economica_CIIU_revision4_Principal"].tolist()[1] == "TEXTO EN\nDOS LINEAS"
    _same_as_reference(parsed, path, padron.HEADER)


def test_generated_file_with_every_kind_of_bad_line_matches_an_independent_reading(tmp_path, monkeypatch):
    """Row for row and line for line against the csv module, on both dialects, plain and zipped."""
    import random
    import zipfile

    rnd = random.Random(11)
    for dialect in ("pipe", "comma"):
        rows = []
        for i in range(2000):
            row = padron_row(ruc("20", i + 1), actividad="ACTIVIDAD, CON COMA" if i % 7 == 0 else "CONSTRUCCION")
            roll = rnd.random()
            if roll < 0.02:
                row = row[: rnd.randint(1, 15)]  # too few fields
            elif roll < 0.04:
                row = row + ["SOBRA"]  # too many
            elif roll < 0.05:
                row[12] = "ÑUÑOA"
            rows.append(row)
        data = padron_bytes(rows, dialect)
        data = data.replace(b"\r\n" if dialect == "pipe" else b"\n", b"\n\n", 3)  # blank lines
        for zipped in (False, True):
            path = tmp_path / f"{dialect}{zipped}" / "PadronRUC_202412.csv"
            path.parent.mkdir()
            if zipped:
                path = path.with_suffix(".zip")
                with zipfile.ZipFile(path, "w") as zf:
                    zf.writestr("PadronRUC_202412.csv", data)
            else:
                path.write_bytes(data)
            with monkeypatch.context() as m:
                _no_fallback(m)
                parsed = parse_delimited(path, padron.HEADER, columns=padron.COLUMNS)
            _same_as_reference(parsed, path, padron.HEADER, columns=padron.COLUMNS)
            assert parsed.rows_read == len(rows) + 3


# ---------------------------- a body that is not in its header's dialect (textfiles._check_shape)


def _mixed_dialect_cut(tmp_path, n_rows: int, bad_every: int | None = None) -> Path:
    """A cut whose header is SUNAT's comma dialect and whose rows are in the pipe dialect (every row, or every
    `bad_every`-th row; the others in the comma dialect, as the header says)."""
    rows = [padron_row(ruc("20", i + 1)) for i in range(n_rows)]
    comma = padron_bytes(rows, "comma").split(b"\n")
    pipe = padron_bytes(rows, "pipe").decode("latin-1").encode("utf-8").split(b"\r\n")
    lines = [comma[0]] + [
        pipe[i + 1] if bad_every is None or i % bad_every == 0 else comma[i + 1] for i in range(n_rows)
    ]
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "PadronRUC_202412.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_a_body_in_another_dialect_than_its_header_is_refused_whole_naming_file_line_and_rule(tmp_path):
    """1,500 rows, each with the 16 fields of the pipe dialect under a comma header: one field apiece as the
    header's dialect splits them. DuckDB would hold every rejected line in memory (a national cut: more than the
    machine has), so the file is refused before it is read, naming its first bad line."""
    path = _mixed_dialect_cut(tmp_path, 1500)
    with pytest.raises(SourceFileError) as err:
        parse_delimited(path, padron.HEADER, columns=padron.COLUMNS)
    assert err.value.path == path and err.value.line == 2 and err.value.rule == "numero_de_campos"
    assert "1,500 de los primeros 1,500 registros no tienen los 16 campos de la cabecera (separador ',')" in str(
        err.value
    )
    assert "el primero, en la línea 2, tiene 1" in str(err.value)


def test_a_minority_of_bad_lines_or_a_short_file_is_quarantined_line_by_line(tmp_path):
    """The refusal needs more than half of at least 1,000 records: 1,500 rows with every third in the pipe
    dialect (500 bad, a third) and a file of 999 rows all bad are read, each bad line kept with its number."""
    path = _mixed_dialect_cut(tmp_path / "tercio", 1500, bad_every=3)
    parsed = parse_delimited(path, padron.HEADER, columns=padron.COLUMNS)
    assert [line for line, _, _ in parsed.bad_lines] == [2 + i for i in range(0, 1500, 3)]
    assert len(parsed.frame) == 1000 and parsed.rows_read == 1500
    path = _mixed_dialect_cut(tmp_path / "corto", 999)
    parsed = parse_delimited(path, padron.HEADER, columns=padron.COLUMNS)
    assert len(parsed.frame) == 0 and len(parsed.bad_lines) == 999 == parsed.rows_read


# ---------------------------- through the refresh (materialize): a misnamed Padrón cut's scenarios end to end


@pytest.mark.slow
def test_2023_rows_under_a_2024_name_fail_the_refresh_naming_both_periods_and_publish_nothing(
    scenario_published, scenario_copy
):
    """The defect: the 2023 cut saved as `raw/sunat/padron/2024/PadronRUC_202412.zip` refreshed with exit 0 and
    published 2023's firms as 2024's. Now the Padrón step fails naming the file and both periods, nothing
    downstream runs, and the published warehouse keeps its bytes. The first refresh (2023, 2024) is the session's
    (conftest.scenario_published); the bad cut goes into a copy of it."""
    from tests.support.runs import materialize
    from tests.support.scenario import PADRON_2023
    from vraem_pipeline.cli import _report

    scenario_raw, warehouse = scenario_copy
    checks = {key: e.passed for key, e in scenario_published.checks.items()}
    assert checks[("staging/padron_ruc", "corte_de_diciembre")] is True  # December closes both years
    published = warehouse.read_bytes()

    cut = scenario_raw / "sunat" / "padron" / "2024" / "PadronRUC_202412.zip"
    cut.unlink()
    assert write_padron(scenario_raw, 2024, 12, PADRON_2023) == cut  # 2023's rows (PERIODO 202312), 2024's name
    result = materialize((2024, 2024))
    assert not result.success
    errors, _ = _report(result)
    assert errors == [
        f"staging/padron_ruc: {cut}: el nombre dice el corte 202412 pero sus filas dicen 202312: 5 de 5 "
        "filas con PERIODO_PUBLICACION (100.0 %) son de otro periodo (se rechaza el archivo si pasan del "
        "50 %); renómbrelo con su periodo o cambie el archivo [periodo_de_las_filas]"
    ]
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert not materialized & {"staging/padron_ruc", "almacen/publicado"}
    assert warehouse.read_bytes() == published


@pytest.mark.slow
def test_a_june_close_is_published_with_a_warning_and_the_report_names_its_month(tmp_path, env):
    """A year folder whose latest cut is June's: it closes the year ("latest month wins"), and says so — the
    non-blocking check `corte_de_diciembre` names the cut and the year, meta.fuentes.nota and the report's source
    line say the figures are June's."""
    import dagster as dg

    from tests.support.runs import materialize, query
    from tests.support.scenario import EXPECTED_2024, MALFORMED_2024, PADRON_2024, VENTAS_2024
    from vraem_pipeline.cli import _report
    from vraem_pipeline.informe import render
    from vraem_pipeline.informe.data import read_report

    raw = tmp_path / "raw"
    june = [row[:15] + ["202406"] for row in PADRON_2024]
    write_padron(raw, 2024, 6, june, dialect="comma", extra_lines=MALFORMED_2024)
    write_ventas(raw, 2024, VENTAS_2024)
    warehouse = env(raw)
    result = materialize((2024, 2024))
    assert result.success  # a warning, not a failure: the figures are published
    [check] = [e for e in result.get_asset_check_evaluations() if e.check_name == "corte_de_diciembre"]
    assert (check.passed, check.severity) == (False, dg.AssetCheckSeverity.WARN)
    assert check.metadata["cortes_que_no_son_de_diciembre"].value == {
        "2024": "PadronRUC_202406.zip: corte 202406, cifras del corte de junio de 2024, no del cierre de diciembre"
    }
    _, warnings = _report(result)
    assert [w for w in warnings if "corte_de_diciembre" in w] == [
        "control staging/padron_ruc:corte_de_diciembre no pasó {'cortes_que_no_son_de_diciembre': {'2024': "
        "'PadronRUC_202406.zip: corte 202406, cifras del corte de junio de 2024, no del cierre de diciembre'}}"
    ]

    assert query(warehouse, "SELECT n_empresas FROM marts.empresas_evolucion")["n_empresas"].tolist() == [
        EXPECTED_2024["territorio"]
    ]
    nota = query(warehouse, "SELECT nota FROM meta.fuentes WHERE fuente = 'padron_ruc'")["nota"].tolist()
    assert nota == ["corte 202406, no el cierre de diciembre"]
    html = re.sub(r"\s+", " ", render(read_report(warehouse, 2024)))
    block = re.search(r'<section class="tema" id="empresas">.*?</section>', html).group(0)
    assert "Padrón RUC: cifras del corte de junio de 2024, no del cierre de diciembre." in block
    assert "PadronRUC_202406.zip (corte 202406, no el cierre de diciembre)" in block


# --- how the bytes reach DuckDB: zip members as gzip, latin-1 decoded by DuckDB, the copy only when needed ------


@pytest.mark.parametrize(
    ("dialect", "zipped", "via"), [("pipe", True, "gzip"), ("pipe", False, "directo"), ("comma", True, "gzip")]
)
def test_latin1_and_zipped_files_are_read_by_duckdb_line_for_line_as_the_reference(
    tmp_path, monkeypatch, dialect, zipped, via
):
    """A latin-1 file is decoded by DuckDB itself and a zip member read as gzip (both in parallel), with the same
    rows, lines and bad lines as the csv module's reading; no copy of the file is made."""
    rows = [padron_row(ruc("20", i)) for i in range(1, 6)]
    rows[1][12], rows[3][14] = "ÁNCASH", "ÑUÑOA"
    extra = {2: padron_row(ruc("20", 9))[:4], 4: padron_row(ruc("20", 8)) + ["SOBRA"]}
    path = write_padron(tmp_path, 2024, 12, rows, dialect=dialect, zipped=zipped, extra_lines=extra)
    _no_fallback(monkeypatch)
    import vraem_pipeline.sources.textfiles as tf

    def no_copy(*args, **kwargs):
        raise AssertionError("copiado a la carpeta temporal")

    monkeypatch.setattr(tf, "_load_copy", no_copy)
    parsed = parse_delimited(path, padron.HEADER, member_pattern=r"\.(csv|txt)$")
    _same_as_reference(parsed, path, padron.HEADER)
    assert parsed.frame["linea"].tolist() == [2, 3, 5, 6, 8]
    assert parsed.frame.loc[1, "Departamento"] == "ÁNCASH" and parsed.frame.loc[3, "Distrito"] == "ÑUÑOA"
    assert _via(path, padron.HEADER, member_pattern=r"\.(csv|txt)$") == via
    assert not list((tmp_path / "sunat").rglob("*.gz"))


def test_latin1_bytes_duckdb_refuses_go_through_the_copy_and_read_the_same(tmp_path, monkeypatch):
    """DuckDB's latin-1 decoder refuses bytes 0x80–0x9F (Windows-1252's curly quotes saved as latin-1): such a
    file is transcoded by the copy, each byte the code point latin-1 gives it, as before."""
    _no_fallback(monkeypatch)
    rows = [padron_row(ruc("20", i)) for i in range(1, 4)]
    path = tmp_path / "PadronRUC_202412.csv"
    data = padron_bytes(rows, "pipe").replace(b"HUANTA|202412", b"HU\x93ANTA\x94|202412", 1)
    path.write_bytes(data)
    parsed = parse_delimited(path, padron.HEADER)
    assert parsed.frame.loc[0, "Distrito"] == "HU\x93ANTA\x94" and parsed.frame["linea"].tolist() == [2, 3, 4]
    assert _via(path, padron.HEADER) == "copia"


def test_a_member_whose_bytes_are_not_what_the_zip_says_fails_although_duckdb_read_it(tmp_path, monkeypatch):
    """DuckDB does not check the CRC of the gzip copy it reads: the pass that counts the member's lines does, and
    the file fails naming the zip, the member and the rule (the sample for the header is made shorter than the
    member, so that only that pass reaches the end of it)."""
    import zipfile

    import vraem_pipeline.sources.textfiles as tf
    from tests.support.malicious_zips import write_zip

    monkeypatch.setattr(tf, "SAMPLE_BYTES", 300)
    copies = []
    real_copy = tf.gzip_copy
    monkeypatch.setattr(tf, "gzip_copy", lambda *a: copies.append(real_copy(*a)) or copies[-1])
    data = padron_bytes([padron_row(ruc("20", i)) for i in range(1, 20_000)], "pipe")  # beyond a 1 MiB block
    good = write_padron(tmp_path / "a", 2024, 12, [padron_row(ruc("20", 1))])
    with zipfile.ZipFile(good) as zf:
        info = zf.infolist()[0]
    import zlib

    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    deflated = c.compress(data) + c.flush()
    path = write_zip(
        tmp_path / "PadronRUC_202412.zip", info.filename, deflated, file_size=len(data), crc=zlib.crc32(data) ^ 1
    )
    with pytest.raises(SourceFileError, match=r"PadronRUC_202412\.zip!PadronRUC_202412\.csv: zip dañado.*CRC.*\[zip\]"):
        parse_delimited(path, padron.HEADER, member_pattern=r"\.(csv|txt)$")
    assert len(copies) == 1 and not copies[0].exists()  # DuckDB had the copy; it is gone
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["PadronRUC_202412.zip"]
