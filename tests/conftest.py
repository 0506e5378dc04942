"""Fixtures of the whole suite.

What costs is building: writing the small sample (`vraem sample-data --scale small`) and refreshing. So what several
modules build the same way is built once per session here, and each test that changes something works on its own
copy (`copy_of`):

- `small_sample`: the small sample, written by `vraem sample-data` in a subprocess as a person runs it;
  `sample_2024`: its 2024 folders and INEI's workbook (the tests that refresh several times);
- `small_published`: the whole small sample refreshed by `vraem refresh` in a subprocess (its own DAGSTER_HOME);
  `published_2024`: the same for `sample_2024`;
- `scenario_published`: the hand-worked firm scenario (tests/support/scenario.py, 2023–2024) materialized in-process;
  `enaho_scenario_published`: the same plus two small ENAHO years and a file no source recognises.

Each published fixture keeps what its run said (the check evaluations, the CLI's output) for the tests that assert
on it. Chromium is replaced by `tests/support/chromium_stand_in` everywhere but in the report's own test
(`real_chromium`), which prints with the real browser.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
from pathlib import Path

import pytest

from tests.support.runs import (
    CHROMIUM_STAND_IN,
    Published,
    materialize_once,
    materialized_copy,
    operator,
    read_published,
    refresh_env,
    vraem,
    years_of,
)
from tests.support.scenario import write_scenario

CHROMIUM_FROM_ENV = os.environ.get("VRAEM_CHROMIUM")
TESTS = Path(__file__).parent


#: The session's fixtures that refresh or write the sample: a test that uses one is `slow` (the quick loop,
#: `pytest -m "not slow"`, never builds them).
SLOW_FIXTURES = {
    "small_sample",
    "sample_2024",
    "small_published",
    "published_2024",
    "scenario_published",
    "scenario_copy",
    "enaho_scenario_published",
}


#: The modules that take longest, longest first: they run first (pytest-xdist hands a worker a whole module when
#: it has at most two tests left; `--dist loadfile --no-loadscope-reorder`), so that the longest ones run side by
#: side and the many short ones fill in at the end. The national refresh and the daemon go to the two workers; the
#: third module waits behind the national test, hence a short one. Update it when a module's time changes a lot
#: (`--durations`); modules not listed follow in their usual order.
FIRST_MODULES = (
    "integration/test_national_reconciliation.py",
    "integration/test_daemon.py",
    "core/test_quality.py",
    "integration/test_concurrency.py",
    "core/test_guards.py",
    "integration/test_cli.py",
    "integration/test_determinism.py",
    "sample/test_sample_aduanas.py",
    "integration/test_integration_territory.py",
    "integration/test_integration_credito.py",
    "core/test_storage.py",
    "integration/test_publish.py",
    "integration/test_integration_empresas.py",
    "integration/test_integration_pbi.py",
    "sample/test_sample_padron.py",
    "informe/test_report.py",
    "integration/test_integration_exportaciones.py",
    "sources/test_padron.py",
    "sources/test_corpus_aduanas.py",
    "integration/test_integration_empleo.py",
    "sources/test_corpus_sunat.py",
    "sources/test_corpus_enaho.py",
    "empresas/test_formal_rule.py",
)


def pytest_configure(config):
    """The tests' children get SIGINT and SIGQUIT at their defaults, as a command typed at a terminal or a systemd
    unit has them. pytest started as a background job of a script inherits both ignored, and an ignored signal stays
    ignored across exec (a handled one is reset): the Ctrl-C tests' children would never see their SIGINT, and
    Dagster's servers, which give SIGTERM SIGINT's disposition, would ignore the daemon test's SIGTERM."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGQUIT) is signal.SIG_IGN:
        signal.signal(signal.SIGQUIT, signal.SIG_DFL)


def pytest_collection_modifyitems(config, items):
    unmarked = [
        item.nodeid
        for item in items
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("slow")
    ]
    if unmarked:
        raise pytest.UsageError(
            "pruebas que usan una fixture que refresca o escribe la muestra sin la marca slow "
            "(el ciclo rápido -m 'not slow' las correría): " + ", ".join(unmarked)
        )
    rank = {name: i for i, name in enumerate(FIRST_MODULES)}
    items.sort(
        key=lambda item: rank.get(item.path.relative_to(TESTS).as_posix(), len(FIRST_MODULES))
    )  # stable: each module keeps its order


@pytest.fixture(scope="session", autouse=True)
def _chromium_stand_in():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VRAEM_CHROMIUM", str(CHROMIUM_STAND_IN))
        yield


@pytest.fixture
def real_chromium(monkeypatch):
    """The browser the report would use outside the tests (VRAEM_CHROMIUM as the environment had it, else the PATH)."""
    if CHROMIUM_FROM_ENV:
        monkeypatch.setenv("VRAEM_CHROMIUM", CHROMIUM_FROM_ENV)
    else:
        monkeypatch.delenv("VRAEM_CHROMIUM", raising=False)


@pytest.fixture
def scenario_raw(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    write_scenario(raw)
    return raw


@pytest.fixture
def env(monkeypatch, tmp_path: Path):
    """Point the settings at a temporary raw folder and warehouse; returns a function to (re)configure."""

    def configure(raw: Path, warehouse: Path | None = None, territory: Path | None = None) -> Path:
        warehouse = warehouse or tmp_path / "wh" / "vraem.duckdb"
        monkeypatch.setenv("VRAEM_RAW_DIR", str(raw))
        monkeypatch.setenv("VRAEM_WAREHOUSE", str(warehouse))
        monkeypatch.delenv("VRAEM_OPERACION", raising=False)
        if territory is not None:
            monkeypatch.setenv("VRAEM_TERRITORY", str(territory))
        return warehouse

    return configure


# --- the small sample, written once --------------------------------------------------------------------------------


def _fingerprint(folder_path: Path) -> dict[str, tuple[int, int]]:
    """Every file under `carpeta` with its size and mtime: what a shared folder must still have at the end."""
    return {
        str(p.relative_to(folder_path)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder_path.rglob("*"))
        if p.is_file()
    }


def _shared(valor, *folders: Path):
    """Yield a shared fixture's value; at the session's end fail if any test added, removed or changed a file in
    `carpetas` (a test that changes files must work on a copy, or the tests after it would see its changes)."""
    earlier = {c: _fingerprint(c) for c in folders}
    yield valor
    for c, fingerprint in earlier.items():
        assert _fingerprint(c) == fingerprint, f"una prueba cambió la carpeta compartida {c}"


def _once(tmp_path_factory, nombre: str, build) -> Path:
    """`construir(carpeta)` once for the whole test run, in the run's temporary folder, and the folder.

    Under pytest-xdist every worker is a session of its own: the workers share the run's folder (the parent of
    each one's), the first that asks builds while the others wait on a file lock, and all of them use the result.
    A build that fails leaves no mark of being done: the next worker to ask tries again (and says why it fails)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    folder_path, done = root / nombre, root / f"{nombre}.hecho"
    with open(root / f"{nombre}.lock", "w") as file_lock:
        fcntl.flock(file_lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            shutil.rmtree(folder_path, ignore_errors=True)
            folder_path.mkdir()
            build(folder_path)
            done.touch()
    return folder_path


# --- the small sample, written once --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory):
    """`vraem sample-data --scale small` (seed 2024, 2019–2024) in a subprocess. Shared: never change its files
    (copy them: `shutil.copytree`)."""

    def write_sample(folder_path: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k != "VRAEM_RAW_DIR"}
        gen = vraem("sample-data", "--out", str(folder_path / "raw"), "--scale", "small", env=env)
        assert gen.returncode == 0, gen.stdout + gen.stderr

    raw = _once(tmp_path_factory, "muestra_pequena", write_sample) / "raw"
    yield from _shared(raw, raw)


@pytest.fixture(scope="session")
def sample_2024(small_sample, tmp_path_factory):
    """The small sample's 2024 folders (weekly customs files and a pipe delivery among them) and GDP workbook:
    for the tests that refresh several times, one year keeps them short. Shared: never change its files."""
    raw = _once(tmp_path_factory, "muestra_2024", lambda c: years_of(small_sample, ("2024",), c / "raw")) / "raw"
    yield from _shared(raw, raw)


def _refreshed(tmp_path_factory, nombre: str, raw: Path, op: bool) -> Published:
    """`vraem refresh --raw RAW` once for the run, in the folder `nombre` (`refresh_env`)."""

    def refresh_folder(folder_path: Path) -> None:
        run = vraem("refresh", "--raw", str(raw), env=refresh_env(folder_path, op=op))
        assert run.returncode == 0, run.stdout + run.stderr
        (folder_path / "refresh.stdout").write_text(run.stdout, encoding="utf-8")

    folder_path = _once(tmp_path_factory, nombre, refresh_folder)
    env = refresh_env(folder_path, op=op)
    almacen = Path(env["VRAEM_WAREHOUSE"])
    return read_published(
        folder_path, raw, almacen, Path(env.get("VRAEM_OPERACION") or operator(almacen)), Path(env["DAGSTER_HOME"])
    )


@pytest.fixture(scope="session")
def small_published(small_sample, tmp_path_factory):
    """The whole small sample refreshed once by `vraem refresh` (a subprocess, `refresh_env` with the
    operator database where the settings put it by default). Shared: read it, never refresh it again."""
    publicado = _refreshed(tmp_path_factory, "publicado_pequena", small_sample, op=False)
    yield from _shared(publicado, publicado.almacen.parent)


@pytest.fixture(scope="session")
def published_2024(sample_2024, tmp_path_factory):
    """`sample_2024` refreshed once by `vraem refresh`. Shared: read it, or refresh a copy (`copy_of`)."""
    publicado = _refreshed(tmp_path_factory, "publicado_2024", sample_2024, op=True)
    yield from _shared(publicado, publicado.almacen.parent, publicado.operator.parent)


# --- the hand-worked firm scenario, materialized once --------------------------------------------------------------


def _scenario(base: Path, enaho: bool) -> None:
    write_scenario(base / "raw")
    if enaho:
        from vraem_sample.enaho import write_enaho

        write_enaho(base / "raw", years=[2023, 2024], scale="small")
        (base / "raw" / "aduanas" / "2024").mkdir(parents=True)
        (base / "raw" / "aduanas" / "2024" / "exportaciones_2024.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    materialize_once(base, (2023, 2024))


@pytest.fixture(scope="session")
def scenario_published(tmp_path_factory):
    """tests/support/scenario.py (2023, 2024) materialized and published once: `raw/`, `wh/vraem.duckdb` and the
    operator database beside it, and the run's check evaluations. Shared: read it, or work on `scenario_copy`."""
    base = _once(tmp_path_factory, "escenario", lambda b: _scenario(b, enaho=False))
    warehouse = base / "wh" / "vraem.duckdb"
    publicado = read_published(base, base / "raw", warehouse, operator(warehouse), base / "dagster_home")
    yield from _shared(publicado, base / "raw", base / "wh")


@pytest.fixture
def scenario_copy(scenario_published, tmp_path, env) -> tuple[Path, Path]:
    """A copy of `scenario_published` in tmp_path, the settings pointing at it: (raw, warehouse)."""
    raw, warehouse = materialized_copy(scenario_published, tmp_path)
    return raw, env(raw, warehouse)


@pytest.fixture(scope="session")
def enaho_scenario_published(tmp_path_factory):
    """tests/support/scenario.py, ENAHO (small, 2023, 2024) and a stray file no source recognises, materialized and
    published once; `mensajes` holds the run's log messages. Shared: read it, or work on a copy."""
    base = _once(tmp_path_factory, "escenario_enaho", lambda b: _scenario(b, enaho=True))
    warehouse = base / "wh" / "vraem.duckdb"
    publicado = read_published(base, base / "raw", warehouse, operator(warehouse), base / "dagster_home")
    yield from _shared(publicado, base / "raw", base / "wh")
