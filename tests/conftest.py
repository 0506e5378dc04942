"""Fixtures of the whole suite.

What costs is building: writing the small sample (`vraem sample-data --scale small`) and refreshing. So what several
modules build the same way is built once per session here, and each test that changes something works on its own
copy (`copy_of`):

- `muestra_pequena`: the small sample, written by `vraem sample-data` in a subprocess as a person runs it;
  `muestra_2024`: its 2024 folders and INEI's workbook (the tests that refresh several times);
- `publicado_pequena`: the whole small sample refreshed by `vraem refresh` in a subprocess (its own DAGSTER_HOME);
  `publicado_2024`: the same for `muestra_2024`;
- `escenario_publicado`: the hand-worked firm scenario (tests/scenario.py, 2023–2024) materialized in-process;
  `escenario_enaho_publicado`: the same plus two small ENAHO years and a file no source recognises.

Each published fixture keeps what its run said (the check evaluations, the CLI's output) for the tests that assert
on it. Chromium is replaced by `tests/chromium_de_prueba` everywhere but in the report's own test
(`real_chromium`), which prints with the real browser.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.instance.ref import InstanceRef

from tests.scenario import write_scenario
from vraem_pipeline.core.settings import PAUSE_FOR_TEST

#: Every wait on a CLI command of a fixture is bounded.
CLI_MAX_S = 900
#: The browser the tests that do not test the report print with: it writes a minimal PDF at once (Chromium takes
#: seconds per refresh). The value the environment had is what `real_chromium` restores.
CHROMIUM_STAND_IN = Path(__file__).with_name("chromium_de_prueba")
CHROMIUM_FROM_ENV = os.environ.get("VRAEM_CHROMIUM")


#: The session's fixtures that refresh or write the sample: a test that uses one is `slow` (the quick loop,
#: `pytest -m "not slow"`, never builds them).
SLOW_FIXTURES = {"small_sample", "sample_2024", "small_published", "published_2024", "scenario_published",
                 "scenario_copy", "enaho_scenario_published"}


#: The modules that take longest, longest first: they run first (pytest-xdist hands a worker a whole module when
#: it has at most two tests left; `--dist loadfile --no-loadscope-reorder`), so that the longest ones run side by
#: side and the many short ones fill in at the end. The national refresh and the daemon go to the two workers; the
#: third module waits behind the national test, hence a short one. Update it when a module's time changes a lot
#: (`--durations`); modules not listed follow in their usual order.
FIRST_MODULES = ("test_reconciliacion_nacional.py", "test_daemon.py", "test_quality.py", "test_concurrencia.py",
           "test_guardas.py", "test_cli.py", "test_determinismo.py", "test_sample_aduanas.py",
           "test_integration_territorio.py", "test_integration_credito.py", "test_almacenamiento.py",
           "test_publish.py", "test_integration_empresas.py", "test_integration_pbi.py", "test_sample_padron.py",
           "test_informe.py", "test_integration_exportaciones.py", "test_sources_padron.py", "test_corpus_aduanas.py",
           "test_integration_empleo.py", "test_corpus_sunat.py", "test_corpus_enaho.py", "test_formal_rule.py")


def pytest_collection_modifyitems(config, items):
    unmarked = [item.nodeid for item in items
                 if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("slow")]
    if unmarked:
        raise pytest.UsageError("pruebas que usan una fixture que refresca o escribe la muestra sin la marca slow "
                                "(el ciclo rápido -m 'not slow' las correría): " + ", ".join(unmarked))
    rank = {name: i for i, name in enumerate(FIRST_MODULES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(FIRST_MODULES)))  # stable: each module keeps its order


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


def materialize(years: tuple[int, int], selection: str | None = None, extra=(), instance=None,
                tags: dict[str, str] | None = None) -> dg.ExecuteInProcessResult:
    """Materialize the project's assets in-process for a year range (the test's env must be configured); `tags`
    are added to the run's (e.g. the publish guard's override)."""
    from vraem_pipeline.definitions import defs

    d = defs()
    return dg.materialize(
        [*d.assets, *d.asset_checks, *extra],
        resources=d.resources,
        selection=selection,
        instance=instance or dg.DagsterInstance.ephemeral(),
        tags={"dagster/asset_partition_range_start": str(years[0]), "dagster/asset_partition_range_end": str(years[1]),
              **(tags or {})},
        raise_on_error=False,
    )


def operator(warehouse: Path) -> Path:
    """The operator database the tests' settings put beside the analysts' file (VRAEM_OPERACION unset)."""
    return warehouse.with_name("vraem_operacion.duckdb")


def query(path: Path, sql: str):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


def evaluations(events) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    """A run's check evaluations by (asset, check name)."""
    return {(e.asset_key.to_user_string(), e.check_name): e for e in events}


# --- the small sample, written once --------------------------------------------------------------------------------


def vraem(*args: str, env: dict, timeout: float = CLI_MAX_S) -> subprocess.CompletedProcess:
    """`vraem ARGS` in a subprocess, as a person runs it."""
    return subprocess.run([sys.executable, "-m", "vraem_pipeline.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def refresh_env(folder_path: Path, home: Path | None = None, op: bool = True) -> dict[str, str]:
    """The environment of a `vraem refresh` that keeps everything in `carpeta`: `dagster_home/`, the analysts' file
    `w/v.duckdb` and the operator database `op/o.duckdb` (with `op=False`, where the settings put it by default:
    `w/vraem_operacion.duckdb`); the shipped territory, no raw folder, temp folder or pause set."""
    env = {**os.environ, "DAGSTER_HOME": str(home or folder_path / "dagster_home"),
           "VRAEM_WAREHOUSE": str(folder_path / "w" / "v.duckdb"), "VRAEM_OPERACION": str(folder_path / "op" / "o.duckdb")}
    drop = ["VRAEM_RAW_DIR", "VRAEM_TEMP_DIR", "VRAEM_TERRITORY", "VRAEM_INFORME_DIR", PAUSE_FOR_TEST]
    for var in drop + ([] if op else ["VRAEM_OPERACION"]):
        env.pop(var, None)
    return env


def years_of(sample: Path, anios: tuple[str, ...], destination: Path) -> Path:
    """A raw folder with only the year folders `anios` of `muestra` (every source's) and INEI's workbook."""
    for folder_path in [p for p in sample.rglob("*") if p.is_dir() and p.name in anios] + [sample / "inei"]:
        shutil.copytree(folder_path, destination / folder_path.relative_to(sample))
    return destination


def _fingerprint(folder_path: Path) -> dict[str, tuple[int, int]]:
    """Every file under `carpeta` with its size and mtime: what a shared folder must still have at the end."""
    return {str(p.relative_to(folder_path)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder_path.rglob("*")) if p.is_file()}


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


@dataclass
class Published:
    """A published refresh: its folder, raw files, analysts' file, operator database, and what the run said (its
    check evaluations and log messages from its Dagster instance, and the CLI's output)."""

    folder_path: Path
    raw: Path
    almacen: Path
    operator: Path
    dagster_home: Path
    checks: dict[tuple[str, str], dg.AssetCheckEvaluation] = field(default_factory=dict)
    messages: set[str] = field(default_factory=set)
    stdout: str = ""


def _read_published(folder_path: Path, raw: Path, almacen: Path, op: Path, home: Path) -> Published:
    """What a published folder's run said, read back from its Dagster instance (any worker can)."""
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    try:
        runs = instance.get_runs()
        checks = evaluations(e.dagster_event.event_specific_data for r in runs
                              for e in instance.all_logs(r.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION))
        messages = {e.user_message for r in runs for e in instance.all_logs(r.run_id)}
    finally:
        instance.dispose()
    exit_year = folder_path / "refresh.stdout"
    return Published(folder_path, raw, almacen, op, home, checks, messages,
                     exit_year.read_text(encoding="utf-8") if exit_year.exists() else "")


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
    return _read_published(folder_path, raw, almacen, Path(env.get("VRAEM_OPERACION") or operator(almacen)),
                           Path(env["DAGSTER_HOME"]))


@pytest.fixture(scope="session")
def small_published(small_sample, tmp_path_factory):
    """The whole small sample refreshed once by `vraem refresh` (a subprocess, `refresh_env` with the
    operator database where the settings put it by default). Shared: read it, never refresh it again."""
    publicado = _refreshed(tmp_path_factory, "publicado_pequena", small_sample, op=False)
    yield from _shared(publicado, publicado.almacen.parent)


@pytest.fixture(scope="session")
def published_2024(sample_2024, tmp_path_factory):
    """`muestra_2024` refreshed once by `vraem refresh`. Shared: read it, or refresh a copy (`copy_of`)."""
    publicado = _refreshed(tmp_path_factory, "publicado_2024", sample_2024, op=True)
    yield from _shared(publicado, publicado.almacen.parent, publicado.operator.parent)


def copy_of(publicado: Published, destination: Path) -> dict[str, str]:
    """A copy of a CLI-published folder (analysts' file, operator database, DAGSTER_HOME) in `destino`; returns the
    environment of a refresh there."""
    for part in ("w", "op", "dagster_home"):
        shutil.copytree(publicado.folder_path / part, destination / part)
    return refresh_env(destination)


# --- the hand-worked firm scenario, materialized once --------------------------------------------------------------


def materialize_once(base: Path, years: tuple[int, int]) -> Published:
    """Materialize `base/raw` into `base/wh/vraem.duckdb` in-process, outside any test's environment, with the
    run's Dagster instance in `base/dagster_home` (for a fixture shared by several tests: their copies come from
    `materialized_copy`)."""
    warehouse, home = base / "wh" / "vraem.duckdb", base / "dagster_home"
    instance = dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("VRAEM_RAW_DIR", str(base / "raw"))
            mp.setenv("VRAEM_WAREHOUSE", str(warehouse))
            for var in ("VRAEM_OPERACION", "VRAEM_TERRITORY", "VRAEM_TEMP_DIR", "VRAEM_INFORME_DIR", "VRAEM_MEMORIA"):
                mp.delenv(var, raising=False)
            assert materialize(years, instance=instance).success
    finally:
        instance.dispose()
    return _read_published(base, base / "raw", warehouse, operator(warehouse), home)


def materialized_copy(publicado: Published, destination: Path) -> tuple[Path, Path]:
    """A copy of a folder `materialize_once` published (raw files, analysts' file, operator database) in
    `destino`: (raw, warehouse)."""
    for part in ("raw", "wh"):
        shutil.copytree(publicado.folder_path / part, destination / part)
    return destination / "raw", destination / "wh" / "vraem.duckdb"


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
    """tests/scenario.py (2023, 2024) materialized and published once: `raw/`, `wh/vraem.duckdb` and the operator
    database beside it, and the run's check evaluations. Shared: read it, or work on `escenario_copia`."""
    base = _once(tmp_path_factory, "escenario", lambda b: _scenario(b, enaho=False))
    warehouse = base / "wh" / "vraem.duckdb"
    publicado = _read_published(base, base / "raw", warehouse, operator(warehouse), base / "dagster_home")
    yield from _shared(publicado, base / "raw", base / "wh")


@pytest.fixture
def scenario_copy(scenario_published, tmp_path, env) -> tuple[Path, Path]:
    """A copy of `escenario_publicado` in tmp_path, the settings pointing at it: (raw, warehouse)."""
    raw, warehouse = materialized_copy(scenario_published, tmp_path)
    return raw, env(raw, warehouse)


@pytest.fixture(scope="session")
def enaho_scenario_published(tmp_path_factory):
    """tests/scenario.py, ENAHO (small, 2023, 2024) and a stray file no source recognises, materialized and
    published once; `mensajes` holds the run's log messages. Shared: read it, or work on a copy."""
    base = _once(tmp_path_factory, "escenario_enaho", lambda b: _scenario(b, enaho=True))
    warehouse = base / "wh" / "vraem.duckdb"
    publicado = _read_published(base, base / "raw", warehouse, operator(warehouse), base / "dagster_home")
    yield from _shared(publicado, base / "raw", base / "wh")
