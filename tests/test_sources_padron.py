"""Padrón RUC and sales readers on hand-built files in each published variant."""

from pathlib import Path

import pytest

from tests.builders import padron_bytes, padron_row, ruc, write_padron, write_ventas
from vraem_pipeline.errors import SourceFileError
from vraem_pipeline.sources import padron, ventas
from vraem_pipeline.sources.textfiles import parse_delimited

ROWS = [
    padron_row(ruc("20", 1), actividad="CULTIVO DE CEREALES (EXCEPTO ARROZ), LEGUMBRES Y SEMILLAS OLEAGINOSAS"),
    padron_row(ruc("10", 2), tipo="PERSONA NATURAL CON NEGOCIO", ubigeo="-"),
]


@pytest.mark.parametrize(
    ("dialect", "zipped", "encoding", "delimiter"),
    [("pipe", True, "latin-1", "|"), ("pipe", False, "latin-1", "|"),
     ("comma", True, "utf-8-sig", ","), ("comma", False, "utf-8-sig", ",")],
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
    for name in ["PadronRUC_202406.zip", "padronruc_202412.CSV", "PadronRUC_202412.zip", "PadronRUC_202411.zip",
                 "notas.txt"]:
        (folder / name).write_bytes(b"")
    cut = padron.latest_cut(folder)
    assert cut.path.name == "PadronRUC_202412.zip" and cut.periodo == "202412"
    assert len(padron.find_cuts(folder)) == 4


def test_cut_of_another_year_is_refused(tmp_path):
    cut = padron.Cut(tmp_path / "PadronRUC_202501.zip", "202501")
    with pytest.raises(SourceFileError, match="corte_del_anio"):
        padron.check_cut_matches_year(cut, 2024)


def test_ventas_reader_keeps_amounts_as_text_and_empty_as_missing(tmp_path):
    path = write_ventas(tmp_path, 2024, [(ruc("20", 1), 2024, "1543200.50"), (ruc("20", 2), 2024, None)])
    assert ventas.find_file(path.parent, 2024) == path
    df = ventas.read_file(path).frame
    assert df["ventas_netas"].tolist()[0] == "1543200.50" and df["ventas_netas"].isna().tolist() == [False, True]


def test_realdata_padron_reducido_header_is_rejected_as_another_layout():
    """The real Padrón *Reducido* (another SUNAT product) must not be mistaken for the open-data Padrón RUC."""
    real = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "sunat" / "padron_reducido_ruc.zip"
    if not real.exists():
        pytest.skip("../shared/realdata not present")
    with pytest.raises(SourceFileError, match="cabecera"):
        parse_delimited(real, padron.HEADER)
    parsed = parse_delimited(real)  # but the reader itself handles its real bytes: latin-1, `|`, trailing `|`
    assert parsed.dialect.encoding == "latin-1" and parsed.dialect.delimiter == "|"
    assert parsed.header[0] == "RUC" and len(parsed.header) == 15 and not parsed.bad_lines
    assert len(parsed.frame) == 25
