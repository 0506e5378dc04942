"""Zip safety (`sources/zips.py`), through every reader that opens a zip: member names that climb out of the
temp folder, and decompression bombs with honest or lying headers, each failing with one line that names the
zip, the member and the rule — never writing outside the temp folder, never decompressing past the bound."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from tests.support.corpus_staging import assert_file_error
from tests.support.malicious_zips import MIB, write_bomb
from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.sources import aduanas, enaho, sbs, zips
from vraem_pipeline.sources.textfiles import read_header


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)  # ZipInfo keeps the name as given (writestr(str) would clean it)
    return path


@pytest.mark.parametrize(
    "member",
    ["../x.txt", "datos/../../x.txt", "/tmp/x.txt", "..\\..\\x.txt", "C:\\x.txt", "C:/x.txt", "\\\\servidor\\x.txt"],
)
def test_member_outside_the_folder_fails_the_zip_naming_it(tmp_path, member):
    path = _zip(tmp_path / "raw" / "deudores_202412.zip", {member: b"PERIODO|X\n"})
    err = assert_file_error(
        lambda: read_header(path, r"\.txt$"), name=path.name, rule="zip_ruta", line=None, says=repr(member)
    )
    assert err.path == path
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [path]  # nothing was written anywhere near


def test_harmless_names_with_dots_are_not_refused(tmp_path):
    path = _zip(tmp_path / "a.zip", {"carpeta/": b"", "carpeta/deudores..2024.txt": b"A|B\n1|2\n"})
    assert zips.data_members(path) == ["carpeta/deudores..2024.txt"]
    assert read_header(path, r"\.txt$") == (["A", "B"], f"{path}!carpeta/deudores..2024.txt")


def test_every_zip_reader_refuses_a_climbing_member(tmp_path):
    customs = _zip(tmp_path / "aduanas" / "2024" / "x01070324.zip", {"../X01070324.DBF": b"x"})
    with pytest.raises(SourceFileError, match=r"x01070324\.zip: .*'\.\./X01070324\.DBF'.*\[zip_ruta\]"):
        aduanas.find_files(customs.parent)
    survey = _zip(tmp_path / "enaho" / "2024" / "966-Modulo05.zip", {"../../enaho01a-2024-500.dta": b"x"})
    with pytest.raises(SourceFileError, match=r"966-Modulo05\.zip: .*\[zip_ruta\]"):
        enaho.find_module_file(survey.parent, 2024, "500")


def test_limit_of_a_member():
    info = zipfile.ZipInfo("a")
    info.compress_size = 1 * MIB
    assert zips.member_limit(info, archive_bytes=10 * MIB) == 100 * MIB  # MAX_RATIO × compressed
    assert zips.member_limit(info, archive_bytes=10_000) == zips.RATIO_FREE_BYTES  # a small member: the floor
    info.compress_size = 10 << 30  # a header claiming more compressed bytes than the zip has is not believed
    assert zips.member_limit(info, archive_bytes=10 * MIB) == 1000 * MIB
    assert zips.member_limit(info, archive_bytes=1 << 40) == zips.MAX_MEMBER_BYTES


def test_bomb_with_an_honest_header_fails_before_decompressing(tmp_path):
    """1 GiB of zeros in ~1 MB: refused on its declared sizes (limit 100 × ~1 MB), in every text reader."""
    bomb = write_bomb(tmp_path / "sbs" / "deudores" / "2024" / "deudores_202412.zip", "deudores_202412.txt")
    assert bomb.stat().st_size < 2 * MIB
    assert_file_error(
        lambda: sbs.read_file(bomb),
        name=bomb.name,
        rule="zip_bomba",
        line=None,
        says="miembro deudores_202412.txt: declara 1,073,741,824 bytes",
    )


def test_bomb_in_a_weekly_customs_zip_leaves_no_copy(tmp_path):
    folder = tmp_path / "aduanas" / "2024"
    write_bomb(folder / "x01070324.zip", "X01070324.DBF")
    files, _ = aduanas.find_files(folder)
    work = tmp_path / "tmp"
    with pytest.raises(SourceFileError, match=r"x01070324\.zip: miembro X01070324\.DBF: declara .*\[zip_bomba\]"):
        aduanas._read_dbf_file(files[0], 0, work)
    assert list(work.glob("*")) == []


def test_bomb_with_a_lying_header_stops_at_the_declared_size(tmp_path):
    """The header claims 1,000 bytes: zipfile stops there and the CRC fails; at most ~1 KB was ever produced."""
    folder = tmp_path / "aduanas" / "2024"
    write_bomb(folder / "x01070324.zip", "X01070324.DBF", declared=1000)
    files, _ = aduanas.find_files(folder)
    work = tmp_path / "tmp"
    with pytest.raises(
        SourceFileError,
        match=r"x01070324\.zip!X01070324\.DBF: zip dañado, no se puede descomprimir.*"
        r"CRC.*\[zip\]",
    ):
        aduanas._read_dbf_file(files[0], 0, work)
    assert list(work.glob("*")) == []


def test_streaming_check_alone_stops_a_bomb(tmp_path, monkeypatch):
    """Were the declared sizes believed (the declared check switched off), the bytes counted while streaming
    still stop the copy at the limit: here 8 × the ~33 KB compressed, floor 1 MiB → 1 MiB."""
    monkeypatch.setattr(zips, "_check_declared", lambda info, size, path: zips.member_limit(info, size))
    monkeypatch.setattr(zips, "RATIO_FREE_BYTES", MIB)
    monkeypatch.setattr(zips, "MAX_RATIO", 8)
    bomb = write_bomb(tmp_path / "b.zip", "X.DBF", mib=32)
    work = tmp_path / "tmp"
    with pytest.raises(
        SourceFileError,
        match=r"b\.zip: miembro X\.DBF: se descomprime a más de 1,048,576 bytes "
        r".*\[zip_bomba\]",
    ):
        zips.copy_member(bomb, "X.DBF", work)
    assert list(work.glob("*")) == []  # the partial copy is removed


def test_bounded_reader_counts_what_it_produces():
    reader = zips.BoundedReader(io.BytesIO(b"x" * 11), 10, Path("z.zip"), "m")
    assert reader.read(10) == b"x" * 10
    with pytest.raises(SourceFileError, match=r"z\.zip: miembro m: se descomprime a más de 10 bytes"):
        reader.read(5)
    assert zips.BoundedReader(io.BytesIO(b"x" * 10), 10, Path("z.zip"), "m").read() == b"x" * 10


def test_bomb_inside_a_survey_zip(tmp_path):
    year_dir = tmp_path / "enaho" / "2024"
    write_bomb(year_dir / "966-Modulo05.zip", "966-Modulo05/enaho01a-2024-500.dta")
    source = enaho.find_module_file(year_dir, 2024, "500")
    with pytest.raises(
        SourceFileError,
        match=r"966-Modulo05\.zip: miembro .*enaho01a-2024-500\.dta: declara.*"
        r"\[zip_bomba\]",
    ):
        enaho.read_module(source, 2024, "500", ["conglome"])
