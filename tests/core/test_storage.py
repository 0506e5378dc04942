"""Storage failures (a full disk, a file-size limit) during `vraem refresh`: the user reads the cause and the file
being written in one `vraem refresh:` line, the published file and the operator database stay byte for byte, and
nothing of the run is left behind (its copy of the operator database, a half-written analysts' file, a WAL, a zip's
temporary copy).

A full disk is a small tmpfs mounted in a user namespace of the test's own (`unshare -rm`: no root needed, gone
with the namespace), so everything is checked from inside it by a shell script that prints what it finds. A
file-size limit is `RLIMIT_FSIZE` (`ulimit -f`) on the refresh's process.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.runs import operator

TIMEOUT_S = 600


def _unshare_works() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"], capture_output=True, timeout=30
    )
    return probe.returncode == 0


needs_unshare = pytest.mark.skipif(not _unshare_works(), reason="unshare -rm / mount tmpfs no disponible aquí")


@pytest.fixture
def published(scenario_published) -> Path:
    """The firm scenario (2023, 2024) published once for the session (conftest.scenario_published): raw/,
    wh/vraem.duckdb and wh/vraem_operacion.duckdb. Each test copies it before refreshing."""
    return scenario_published.folder_path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VRAEM_", "DAGSTER_"))}
    return {**env, **extra}


def _refresh_cmd(raw: Path, warehouse: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "vraem_pipeline.cli",
        "refresh",
        "--years",
        "2024",
        "--raw",
        str(raw),
        "--warehouse",
        str(warehouse),
    ]


def _last_line(stderr: str) -> str:
    return stderr.rstrip().splitlines()[-1]


# --------------------------------------------------------------------------------------- a file-size limit


def _limited(limit: int):
    return lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.slow
@pytest.mark.parametrize("margin", [0, 1], ids=["al_copiar", "durante_la_ejecucion"])
def test_file_size_limit_names_the_cause_and_leaves_nothing(published, tmp_path, margin):
    """`ulimit -f` below the operator database (the run's copy cannot be made) or just above it (the copy is
    made, the run's writes then exceed the limit): exit 1, the cause in the last line, nothing changed or left."""
    shutil.copytree(published, tmp_path / "b")
    raw, warehouse = tmp_path / "b" / "raw", tmp_path / "b" / "wh" / "vraem.duckdb"
    op = operator(warehouse)
    before = {p.name: _sha(p) for p in warehouse.parent.iterdir() if p.is_file()}
    limit = op.stat().st_size // 2 if margin == 0 else op.stat().st_size + (256 << 10)
    run = subprocess.run(
        _refresh_cmd(raw, warehouse),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        preexec_fn=_limited(limit),
        env=_env(DAGSTER_HOME=str(tmp_path / "dagster")),
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "el archivo supera el tamaño máximo permitido (límite del sistema, ulimit -f)" in run.stderr, run.stderr
    if margin == 0:
        assert f"{op.with_name('.' + op.name)}." in run.stderr and "al copiar la base de operación" in run.stderr
    assert _last_line(run.stderr).startswith("vraem refresh: falló"), run.stderr
    assert "Traceback" not in run.stderr and "cannot rollback" not in run.stderr
    assert {p.name: _sha(p) for p in warehouse.parent.iterdir() if p.is_file()} == before  # nothing new, same bytes


# --------------------------------------------------------------------------------------------- a full disk

_SCRIPT = r"""
set -u
mount -t tmpfs -o size={size} tmpfs {mnt}
{prepare}
(cd {mnt} && find . -type f -exec sha256sum {{}} + | sort) > {out}/antes.txt
{command} > {out}/stdout.txt 2> {out}/stderr.txt
echo $? > {out}/rc.txt
(cd {mnt} && find . -type f -exec sha256sum {{}} + | sort) > {out}/despues.txt
"""


def _in_full_disk(tmp_path: Path, size: str, prepare: str, command: list[str]) -> dict[str, str]:
    """Run `command` with a tmpfs of `size` mounted on tmp_path/mnt (after `prepare`, a shell snippet); returns
    its rc, stdout, stderr and the files of the tmpfs (sha256 and path) before and after."""
    mnt, out = tmp_path / "mnt", tmp_path / "out"
    mnt.mkdir()
    out.mkdir()
    script = _SCRIPT.format(
        size=size, mnt=shlex.quote(str(mnt)), out=shlex.quote(str(out)), prepare=prepare, command=shlex.join(command)
    )
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=TIMEOUT_S, env=os.environ.copy()
    )
    assert done.returncode == 0, done.stderr
    return {name: (out / f"{name}.txt").read_text() for name in ("rc", "stdout", "stderr", "antes", "despues")}


@pytest.mark.slow
@needs_unshare
def test_full_disk_under_the_warehouse_names_the_cause_and_leaves_nothing(published, tmp_path):
    """The warehouse's folder (analysts' file and operator database) on a disk with no room for the run's copy."""
    src = tmp_path / "src"
    shutil.copytree(published, src)
    warehouse = tmp_path / "mnt" / "vraem.duckdb"
    size = sum(p.stat().st_size for p in (src / "wh").iterdir() if p.is_file()) + (1 << 20)
    prepare = f"cp -a {shlex.quote(str(src / 'wh'))}/. {shlex.quote(str(warehouse.parent))}/"
    cmd = ["env", f"DAGSTER_HOME={tmp_path / 'dagster'}", *_refresh_cmd(src / "raw", warehouse)]
    got = _in_full_disk(tmp_path, str(size), prepare, cmd)
    assert got["rc"].strip() == "1", got
    assert "no queda espacio en el disco" in got["stderr"] and "al copiar la base de operación" in got["stderr"]
    assert _last_line(got["stderr"]).startswith("vraem refresh: falló"), got["stderr"]
    assert "Traceback" not in got["stderr"] and "cannot rollback" not in got["stderr"]
    assert got["despues"] == got["antes"]  # the same files with the same bytes: no copy, tmp or WAL left


@pytest.mark.slow
@needs_unshare
def test_full_disk_in_the_temp_folder_blames_the_copy_not_the_zip(published, tmp_path):
    """`VRAEM_TEMP_DIR` full: the zipped Padrón cut cannot be copied there. The message names the temporary copy
    and the cause; it does not say the (good) zip cannot be read."""
    src = tmp_path / "src"
    shutil.copytree(published, src)
    temp = tmp_path / "mnt"
    prepare = f"dd if=/dev/zero of={shlex.quote(str(temp / 'relleno'))} bs=64k count=100000 2>/dev/null || true"
    cmd = [
        "env",
        f"DAGSTER_HOME={tmp_path / 'dagster'}",
        f"VRAEM_TEMP_DIR={temp}",
        *_refresh_cmd(src / "raw", src / "wh" / "vraem.duckdb"),
    ]
    before = {p.name: _sha(p) for p in (src / "wh").iterdir() if p.is_file()}
    got = _in_full_disk(tmp_path, "2m", prepare, cmd)
    assert got["rc"].strip() == "1", got
    zipped = src / "raw" / "sunat" / "padron" / "2024" / "PadronRUC_202412.zip"
    assert f"no queda espacio en el disco al copiar {zipped.name}" in got["stderr"], got["stderr"]
    assert "no se puede leer" not in got["stderr"]
    assert _last_line(got["stderr"]).startswith("vraem refresh: falló"), got["stderr"]
    assert got["despues"] == got["antes"]  # the temp folder: only the filler, no partial copy
    assert {p.name: _sha(p) for p in (src / "wh").iterdir() if p.is_file()} == before


@pytest.mark.slow
@needs_unshare
def test_full_disk_under_dagster_home_ends_with_one_line(published, tmp_path):
    """DAGSTER_HOME on a full disk: Dagster's SQLite storage cannot be written. One `vraem refresh:` line naming the
    folder and the cause, no traceback; the databases are untouched."""
    src = tmp_path / "src"
    shutil.copytree(published, src)
    home = tmp_path / "mnt" / "dagster"
    prepare = (
        f"mkdir -p {shlex.quote(str(home))} && "
        f"dd if=/dev/zero of={shlex.quote(str(tmp_path / 'mnt' / 'relleno'))} bs=64k count=100000 "
        "2>/dev/null || true"
    )
    cmd = ["env", f"DAGSTER_HOME={home}", *_refresh_cmd(src / "raw", src / "wh" / "vraem.duckdb")]
    before = {p.name: _sha(p) for p in (src / "wh").iterdir() if p.is_file()}
    got = _in_full_disk(tmp_path, "2m", prepare, cmd)
    assert got["rc"].strip() == "1", got
    last = _last_line(got["stderr"])
    assert last.startswith(f"vraem refresh: falló: {home}"), got["stderr"]
    assert "no queda espacio en el disco" in last, got["stderr"]
    assert "Traceback" not in got["stderr"] and len(got["stderr"].strip().splitlines()) <= 3, got["stderr"]
    assert {p.name: _sha(p) for p in (src / "wh").iterdir() if p.is_file()} == before


_PUBLISH_UNDER_LIMIT = r"""
import resource, sys
from pathlib import Path
import duckdb
from vraem_pipeline.core.errors import StorageError
from vraem_pipeline.core.databases import ensure_schemas, write_published_file
con = duckdb.connect()
ensure_schemas(con)
con.execute("CREATE TABLE marts.grande AS SELECT range AS x, md5(range::VARCHAR) || md5((-range)::VARCHAR) AS t "
            "FROM range(300000)")
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    write_published_file(con, Path(sys.argv[1]))
except StorageError as err:
    print(err)
    sys.exit(7)
"""


def test_a_publish_that_meets_a_file_size_limit_leaves_no_half_written_file(tmp_path):
    """The analysts' new file cannot be written whole: the error names it and the cause; neither it nor its WAL
    stays beside the published file (it kept the analysts' disk full)."""
    target = tmp_path / "publicado" / "vraem.duckdb"
    target.parent.mkdir()
    target.write_bytes(b"el archivo publicado")
    run = subprocess.run(
        [sys.executable, "-c", _PUBLISH_UNDER_LIMIT, str(target), str(2 << 20)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert run.returncode == 7, run.stdout + run.stderr
    assert (
        run.stdout.startswith(f"{target.parent}/.vraem.duckdb.")
        and ".tmp: el archivo supera el tamaño máximo" in run.stdout
        and "al escribir el almacén nuevo de los analistas" in run.stdout
    ), run.stdout
    assert sorted(p.name for p in target.parent.iterdir()) == ["vraem.duckdb"]
    assert target.read_bytes() == b"el archivo publicado"
