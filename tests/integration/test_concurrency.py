"""One refresh at a time, a refresh that died (kill -9, Ctrl-C) never blocks the next one nor touches the
published warehouse, and analysts reading during a refresh see the old or the new warehouse, never a mix.

The lock (`vraem_pipeline/bloqueo.py`) is checked from other processes, since that is what it is for; the
refreshes run the CLI in subprocesses the way a person does, on the small sample's 2024 folders (written and
refreshed once for the session: `conftest.sample_2024`, `conftest.published_2024`), each with its own DAGSTER_HOME,
warehouse and operator database. A refresh is killed at a chosen point through the test hook
`settings.pause_for_test`.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.instance.ref import InstanceRef

from tests.support.runs import marts_content, refresh_env
from vraem_pipeline.cli import DAGSTER_YAML
from vraem_pipeline.core import lock as locking
from vraem_pipeline.core.settings import PACKAGE_REFERENCE, PAUSE_FOR_TEST, PAUSE_POINTS, Settings

#: Never hang the test suite: every wait on a refresh is bounded.
REFRESH_MAX = 600

_TRY_LOCK = """
import sys
from vraem_pipeline.core import lock as bloqueo
try:
    bloqueo.acquire(sys.argv[1])
except bloqueo.RefreshInProgress as exc:
    print(exc)
    sys.exit(3)
print("adquirido")
"""

_HOLD_LOCK = """
import sys
from vraem_pipeline.core import lock as bloqueo
bloqueo.acquire(sys.argv[1])
print("tengo", flush=True)
sys.stdin.read()
"""

#: A run in the pool `vraem_almacen` (as every asset of the project), against the instance in DAGSTER_HOME.
#: `morir`: the process dies inside the step without any cleanup (what kill -9 does); `colgar`: it stays alive
#: inside the step until its stdin closes; `normal`: it finishes; `crear`: it creates the run (NOT_STARTED) and
#: dies before starting it (a refresh killed while Dagster plans the run).
_RUN_SCRIPT = """
import os
import sys

import dagster as dg

@dg.asset(pool="vraem_almacen")
def paso():
    print("en el paso", flush=True)
    if sys.argv[1] == "morir":
        os._exit(9)
    if sys.argv[1] == "colgar":
        sys.stdin.read()
    return 1

job = dg.Definitions(assets=[paso], jobs=[dg.define_asset_job("prueba", [paso])]).resolve_job_def("prueba")
if sys.argv[1] == "crear":
    print("creada", dg.DagsterInstance.get().create_run_for_job(job).run_id, flush=True)
    os._exit(9)
result = job.execute_in_process(instance=dg.DagsterInstance.get(), raise_on_error=False)
print("terminada", result.success, flush=True)
"""


def _python(code: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, **kwargs)


def _vraem(*args: str, env: dict, timeout: float = REFRESH_MAX) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vraem_pipeline.cli", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def _popen_vraem(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "vraem_pipeline.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


class _LineReader:
    """Reads a process's stdout in a thread (so a pipe never fills up) and waits for a line, with a deadline."""

    def __init__(self, stream):
        self.lineas: list[str] = []
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for linea in stream:
            self.lineas.append(linea)
            self._queue.put(linea)
        self._queue.put(None)

    def wait_for(self, line_pattern: str, timeout: float) -> str:
        limite = time.monotonic() + timeout
        while True:
            try:
                linea = self._queue.get(timeout=max(0.0, limite - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"sin una línea {line_pattern!r} en {timeout} s:\n{self.texto()}") from None
            if linea is None:
                raise AssertionError(f"el proceso terminó sin una línea {line_pattern!r}:\n{self.texto()}")
            if re.search(line_pattern, linea):
                return linea

    def texto(self) -> str:
        self._thread.join(timeout=30)
        return "".join(self.lineas)


def _env(tmp_path: Path, home: Path | None = None) -> dict:
    return refresh_env(tmp_path, home)


def _settings(monkeypatch, tmp_path: Path) -> Settings:
    env = _env(tmp_path)
    for var in ("DAGSTER_HOME", "VRAEM_WAREHOUSE", "VRAEM_OPERACION"):
        monkeypatch.setenv(var, env[var])
    for var in ("VRAEM_RAW_DIR", "VRAEM_TEMP_DIR", "VRAEM_TERRITORY"):
        monkeypatch.delenv(var, raising=False)
    return Settings.from_env()


def _lock_of(env: dict) -> Path:
    """Where `Settings.lock_path` is for a refresh run with this environment."""
    operator = Path(env["VRAEM_OPERACION"]).resolve()
    return operator.with_name(operator.name + ".lock")


def _instance(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def _dagster_home(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")
    return path


def _slots(instance: dg.DagsterInstance) -> tuple[set[str], set[str]]:
    """(runs holding a pool slot, runs waiting in a pool queue)."""
    storage = instance.event_log_storage
    infos = storage.get_concurrency_infos(sorted(storage.get_concurrency_keys())).values()
    return (
        {s.run_id for info in infos for s in info.claimed_slots},
        {p.run_id for info in infos for p in info.pending_steps},
    )


# --- the lock ------------------------------------------------------------------------------------------------


def test_lock_refused_to_another_process_and_reentrant(tmp_path):
    lock = tmp_path / "op" / "o.duckdb.lock"
    with locking.refresco(lock):
        content = lock.read_text()
        assert f"pid={os.getpid()}" in content and "host=" in content and "desde=" in content
        with locking.refresco(lock):  # same process (e.g. a Dagster resource inside the CLI's run): nests
            assert locking.held(lock)
            other = _python(_TRY_LOCK, str(lock))
            assert other.returncode == 3, other.stdout + other.stderr
        assert locking.held(lock)  # the inner release does not let it go
        other = _python(_TRY_LOCK, str(lock))
        assert other.returncode == 3
        msg = other.stdout
        assert "otra actualización está en curso" in msg and f"pid {os.getpid()}" in msg
        assert str(lock) in msg and "espere a que termine" in msg
        assert re.search(r"desde \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", msg)
    assert not locking.held(lock)
    other = _python(_TRY_LOCK, str(lock))
    assert other.returncode == 0 and "adquirido" in other.stdout, other.stdout + other.stderr
    assert lock.exists()  # the file stays (removing it would let two processes hold "the" lock)


@pytest.mark.parametrize("final", ["sale", "sigkill", "sigint"])
def test_lock_becomes_free_again_when_the_holder_ends(tmp_path, final):
    lock = tmp_path / "o.duckdb.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "tengo"
        other = _python(_TRY_LOCK, str(lock))
        assert other.returncode == 3 and f"pid {holder.pid}," in other.stdout, other.stdout + other.stderr
        with pytest.raises(locking.RefreshInProgress, match=f"pid {holder.pid}"):
            locking.acquire(lock)
        assert not locking.held(lock)
        if final == "sale":
            holder.stdin.close()
        else:
            os.kill(holder.pid, signal.SIGKILL if final == "sigkill" else signal.SIGINT)
        holder.wait(timeout=30)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    with locking.refresco(lock):
        assert locking.held(lock)
    assert _python(_TRY_LOCK, str(lock)).returncode == 0


# --- recovery on a Dagster instance --------------------------------------------------------------------------


@pytest.mark.slow
def test_recover_releases_the_slot_of_a_dead_run_and_respects_a_live_one(tmp_path, monkeypatch):
    home = _dagster_home(tmp_path / "dagster_home")
    settings = _settings(monkeypatch, tmp_path)
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    script = tmp_path / "ejecucion.py"
    script.write_text(_RUN_SCRIPT, encoding="utf-8")

    # A run whose process died before starting it: NOT_STARTED forever (it holds no slot).
    creada = subprocess.run(
        [sys.executable, str(script), "crear"], capture_output=True, text=True, timeout=120, env=env
    )
    assert creada.stdout.startswith("creada") and creada.returncode == 9, creada.stderr
    unstarted_run = creada.stdout.split()[1]
    # A run whose process dies inside its step: STARTED forever, holding the pool's only slot.
    died = subprocess.run([sys.executable, str(script), "morir"], capture_output=True, text=True, timeout=120, env=env)
    assert "en el paso" in died.stdout and died.returncode == 9, died.stderr
    instance = _instance(home)
    try:
        assert instance.get_run_by_id(unstarted_run).status == dg.DagsterRunStatus.NOT_STARTED
        [dead_run] = [r for r in instance.get_runs() if r.run_id != unstarted_run]
        assert dead_run.status == dg.DagsterRunStatus.STARTED
        assert _slots(instance)[0] == {dead_run.run_id}

        # A live run waiting for that slot: it must be left alone (it could be another warehouse's refresh).
        live = subprocess.Popen(
            [sys.executable, str(script), "colgar"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        reader = _LineReader(live.stdout)
        try:
            deadline = time.monotonic() + 120
            while len(instance.get_runs()) < 3 or len(_slots(instance)[1]) < 2:
                assert time.monotonic() < deadline and live.poll() is None, "la ejecución viva no llegó al pool"
                time.sleep(0.5)
            live_run = next(r for r in instance.get_runs() if r.run_id not in (dead_run.run_id, unstarted_run))

            with pytest.raises(RuntimeError, match="requiere tener el bloqueo"):
                locking.recover(settings, instance, notify=lambda _: None)
            with locking.refresco(settings):
                lineas = locking.recover(settings, instance, notify=lambda _: None)
            assert any(
                line.startswith(f"  recuperado: ejecución {dead_run.run_id} interrumpida marcada como fallida")
                and "vraem_almacen×1" in line
                for line in lineas
            ), lineas
            assert any(
                line.startswith(f"  recuperado: ejecución {unstarted_run} interrumpida marcada como fallida")
                for line in lineas
            ), lineas
            assert any(line.startswith("  aviso:") and live_run.run_id in line for line in lineas), lineas
            assert instance.get_run_by_id(dead_run.run_id).status == dg.DagsterRunStatus.FAILURE
            assert instance.get_run_by_id(unstarted_run).status == dg.DagsterRunStatus.FAILURE
            assert instance.get_run_by_id(live_run.run_id).status == dg.DagsterRunStatus.STARTED
            claimed, queued = _slots(instance)
            assert dead_run.run_id not in claimed | queued

            # The freed slot goes to the live run, which now runs its step and waits on its stdin.
            reader.wait_for("en el paso", timeout=120)
            live.stdin.close()
            assert live.wait(timeout=120) == 0
            assert instance.get_run_by_id(live_run.run_id).status == dg.DagsterRunStatus.SUCCESS
        finally:
            if live.poll() is None:
                live.kill()
                live.wait()

        # Nothing left to recover, and the next run is not "blocked by limit for pool".
        with locking.refresco(settings):
            assert locking.recover(settings, instance, notify=lambda _: None) == []
        assert _slots(instance) == (set(), set())
        following = subprocess.run(
            [sys.executable, str(script), "normal"], capture_output=True, text=True, timeout=120, env=env
        )
        assert "terminada True" in following.stdout, following.stderr
    finally:
        instance.dispose()


# --- vraem refresh -------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_sensor_marks_a_dead_run_failed_only_if_no_refresh_holds_the_lock(tmp_path, monkeypatch, capfd):
    """A run the daemon launched and a power cut ended stays STARTED holding the queue's only place; with no
    `vraem refresh` typed afterwards, the sensor's next tick is what frees it — never while a refresh holds the
    lock (that refresh may be the run)."""
    from vraem_pipeline.definitions import defs
    from vraem_pipeline.defs.automation import nuevos_archivos

    home = _dagster_home(tmp_path / "dagster_home")
    settings = _settings(monkeypatch, tmp_path)
    monkeypatch.setenv("VRAEM_RAW_DIR", str(tmp_path / "raw"))
    (tmp_path / "raw").mkdir()
    script = tmp_path / "ejecucion.py"
    script.write_text(_RUN_SCRIPT, encoding="utf-8")
    died = subprocess.run(
        [sys.executable, str(script), "morir"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DAGSTER_HOME": str(home)},
    )
    assert "en el paso" in died.stdout and died.returncode == 9, died.stderr
    instance = _instance(home)
    definitions = defs()
    try:
        [run] = instance.get_runs()

        def tick() -> None:
            nuevos_archivos.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=definitions))

        holder = subprocess.Popen(
            [sys.executable, "-c", _HOLD_LOCK, str(settings.lock_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout.readline().strip() == "tengo"
            tick()
            assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
            assert _slots(instance)[0] == {run.run_id}
        finally:
            holder.stdin.close()
            holder.wait(timeout=30)
        capfd.readouterr()
        tick()
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
        assert _slots(instance) == (set(), set())
        warning_lines = [line for line in capfd.readouterr().err.splitlines() if " - WARNING - " in line]
        assert any(
            f"recuperado: ejecución {run.run_id} interrumpida marcada como fallida" in a for a in warning_lines
        ), warning_lines
        assert not locking.held(settings)  # the tick let the lock go
    finally:
        instance.dispose()


@pytest.mark.slow
def test_two_refreshes_at_once_only_one_goes_on(raw_2024, publicado, tmp_path):
    env = _env(tmp_path)
    other_raw = tmp_path / "raw_b"
    shutil.copytree(raw_2024, other_raw)
    inicio = time.monotonic()
    processes = [_popen_vraem("refresh", "--raw", str(r), env=env) for r in (raw_2024, other_raw)]
    try:
        finished: dict[int, float] = {}
        while len(finished) < 2 and time.monotonic() - inicio < REFRESH_MAX:
            for i, p in enumerate(processes):
                if i not in finished and p.poll() is not None:
                    finished[i] = time.monotonic() - inicio
            time.sleep(0.2)
        exits = [p.communicate(timeout=30) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
    codes = [p.returncode for p in processes]
    assert sorted(codes) == [0, 3], (codes, exits)
    loser, winner = (0, 1) if codes[0] == 3 else (1, 0)
    out, err = exits[loser]
    assert finished[loser] < 20, finished  # refused at once, not after waiting
    assert "otra actualización está en curso" in err and f"pid {processes[winner].pid}," in err, err
    assert str(_lock_of(env)) in err and "listo" not in out
    assert "listo" in exits[winner][0], exits[winner]

    instance = _instance(Path(env["DAGSTER_HOME"]))
    try:
        runs = instance.get_runs()
        assert len(runs) == 1 and runs[0].is_success  # the refused refresh did not even start a run
    finally:
        instance.dispose()
    # Nothing corrupted or mixed: the warehouse opens, records the winner's run alone, and its marts are, to the
    # last bit, those of a refresh of the same files that ran alone.
    almacen = Path(env["VRAEM_WAREHOUSE"])
    assert _query(almacen, "SELECT list(run_id) FROM meta.ejecuciones") == ([runs[0].run_id],)
    assert marts_content(almacen) == marts_content(publicado / "w" / "v.duckdb")


_PROGRESS = r"^(padron_ruc|enaho)"

#: One statement that reads three tables: the last run published, a figure of the marts and the territory's
#: size. The reader test changes the territory, so the old and the new warehouse differ in all three.
_QUERY = """SELECT (SELECT run_id FROM meta.ejecuciones ORDER BY fin DESC LIMIT 1),
                      (SELECT valor FROM marts.indicadores_clave WHERE anio = 2024 AND indicador = 'empresas_formales'),
                      (SELECT count(*) FROM referencia.territorio)"""


def _query(almacen: Path, sql: str = _QUERY) -> tuple:
    con = duckdb.connect(str(almacen), read_only=True)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


@pytest.fixture
def raw_2024(sample_2024) -> Path:
    """The small sample's 2024 folders and GDP workbook (conftest.sample_2024): the refreshes below repeat, one
    year keeps them short. Shared: the refreshes read it, nothing here writes in it."""
    return sample_2024


@pytest.fixture
def publicado(published_2024) -> Path:
    """A folder with `w/` (the published warehouse), `op/` (operator database) and `dagster_home/` after one
    refresh of `raw_2024` (conftest.published_2024, once for the session); a test that refreshes again works on a
    copy (`_copy_of`)."""
    return published_2024.folder_path


def _copy_of(publicado: Path, tmp_path: Path) -> dict:
    for part in ("w", "op", "dagster_home"):
        shutil.copytree(publicado / part, tmp_path / part)
    return _env(tmp_path)


def _staging_rows(operator: Path) -> dict[str, int]:
    con = duckdb.connect(str(operator), read_only=True)
    try:
        tablas = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'staging' ORDER BY 1"
            ).fetchall()
        ]
        return {t: con.execute(f"SELECT count(*) FROM staging.{t}").fetchone()[0] for t in tablas}
    finally:
        con.close()


def _kill_at(point: str, raw: Path, env: dict, folder: Path) -> str:
    """Start `vraem refresh --raw RAW`, let it reach `point` (settings.pause_for_test) and kill it there with its
    whole process group (kill -9: no cleanup of any kind). Returns what it printed (unbuffered, so that the lines
    it printed before dying are there)."""
    marca, salida = folder / f"en_pausa_{point}", folder / f"salida_{point}.txt"
    with open(salida, "w") as out:
        killed = subprocess.Popen(
            [sys.executable, "-m", "vraem_pipeline.cli", "refresh", "--raw", str(raw)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**env, PAUSE_FOR_TEST: f"{point}:{marca}", "PYTHONUNBUFFERED": "1"},
        )
    try:
        limite = time.monotonic() + REFRESH_MAX
        while not marca.exists():
            assert killed.poll() is None, salida.read_text()
            assert time.monotonic() < limite, f"el refresco no llegó a {point}"
            time.sleep(0.1)
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
    finally:
        if killed.poll() is None:
            os.killpg(killed.pid, signal.SIGKILL)
            killed.wait()
    assert killed.returncode == -signal.SIGKILL
    printed = salida.read_text()
    assert "listo" not in printed
    return printed


def _recovery_lines(printed: str, killed_run_id: str, temp_files: list[Path], copy_file: Path) -> None:
    """What a refresh says when it finds what the refresh killed before it left: the run marked failed, the
    half-written publication and the run's copy of the operator database deleted."""
    assert f"  recuperado: ejecución {killed_run_id} interrumpida marcada como fallida" in printed, printed
    for path in temp_files:
        assert f"recuperado: archivo temporal de una publicación interrumpida borrado: {path}" in printed, printed
    assert f"  recuperado: copia de trabajo de una ejecución interrumpida borrada: {copy_file}" in printed, printed


@pytest.mark.slow
def test_refresh_killed_at_each_step_leaves_the_warehouse_intact_and_does_not_block_the_next(
    publicado, raw_2024, tmp_path
):
    """A chain: a refresh killed while reading, the next one (which recovers from it) killed inside the
    transaction that replaces staging, the next (which recovers from that) killed while writing the new
    analysts' file, and a last one that recovers from it and publishes. After every kill the published file and
    the operator database are byte-identical; every next refresh cleans up after the one killed before it and
    goes on — one run of each kind instead of a killed refresh and a whole one per point."""
    env = _copy_of(publicado, tmp_path)
    almacen, operator, home = Path(env["VRAEM_WAREHOUSE"]), Path(env["VRAEM_OPERACION"]), Path(env["DAGSTER_HOME"])
    bytes_before, values_before = almacen.read_bytes(), _query(almacen)
    marts_before, staging_before = marts_content(almacen), _staging_rows(operator)
    operator_before = operator.read_bytes()

    killed_runs: list[str] = []
    left_behind: tuple[str, list[Path], Path] | None = None  # (run, temp files, copy) the last kill left
    for point in PAUSE_POINTS:
        printed = _kill_at(point, raw_2024, env, tmp_path)
        if left_behind:  # it recovered from the kill before it, then went on to its own point
            _recovery_lines(printed, *left_behind)

        # The published file: the same bytes, and it opens with the old values.
        assert almacen.read_bytes() == bytes_before, point
        assert _query(almacen) == values_before
        temp_files = [p for p in almacen.parent.iterdir() if ".tmp" in p.name]
        assert bool(temp_files) == (point == "publicacion"), (point, temp_files)  # half-written, never swapped in
        # The operator database: the same bytes (the run worked on its own copy, left beside it), and it opens
        # with the rows it had.
        assert operator.read_bytes() == operator_before, point
        assert _staging_rows(operator) == staging_before
        [copy_file] = [p for p in operator.parent.iterdir() if p.name.endswith(".ejecucion")]
        instance = _instance(home)
        try:
            statuses = {r.run_id: r.status for r in instance.get_runs()}
            [killed_run] = [r for r, st in statuses.items() if st == dg.DagsterRunStatus.STARTED]
            assert killed_run in _slots(instance)[0]  # holding its pool slot: what used to block the next
            assert all(statuses[r] == dg.DagsterRunStatus.FAILURE for r in killed_runs)  # recovered by this one
        finally:
            instance.dispose()
        killed_runs.append(killed_run)
        left_behind = (killed_run, temp_files, copy_file)

    # The last refresh recovers by itself, completes and publishes: a new run, the same marts.
    following = _vraem("refresh", "--raw", str(raw_2024), env=env)
    assert following.returncode == 0, following.stdout + following.stderr
    _recovery_lines(following.stdout, *left_behind)
    assert "listo" in following.stdout
    assert not [p.name for p in almacen.parent.iterdir() if ".tmp" in p.name]
    assert not [p.name for p in operator.parent.iterdir() if ".ejecucion" in p.name]
    vals = _query(almacen)
    assert vals[0] not in (values_before[0], *killed_runs) and vals[1:] == values_before[1:]
    # no killed run is in the history of publications (one used to be, when killed while publishing)
    published_runs = _query(almacen, "SELECT list(run_id ORDER BY fin) FROM meta.ejecuciones")
    assert published_runs == ([values_before[0], vals[0]],)
    assert marts_content(almacen) == marts_before
    instance = _instance(home)
    try:
        statuses = {r.run_id: r.status for r in instance.get_runs()}
        assert [statuses.pop(r) for r in killed_runs] == [dg.DagsterRunStatus.FAILURE] * len(PAUSE_POINTS)
        assert set(statuses.values()) == {dg.DagsterRunStatus.SUCCESS} and vals[0] in statuses
        assert _slots(instance) == (set(), set())
    finally:
        instance.dispose()


#: Readers of the published warehouse during a refresh: each opens it read-only, runs `_QUERY`, closes, over
#: and over until the file `alto` appears; then writes what it saw (distinct answers, with counts) and its errors.
_READER_SCRIPT = """
import collections, json, os, sys, time
import duckdb
almacen, consulta, salida, alto = sys.argv[1:5]
vistos, errores = collections.Counter(), []
while not os.path.exists(alto):
    try:
        con = duckdb.connect(almacen, read_only=True)
        try:
            vistos[json.dumps(list(con.execute(consulta).fetchone()))] += 1
        finally:
            con.close()
    except Exception as exc:
        errores.append(f"{type(exc).__name__}: {exc}")
    if sum(vistos.values()) == 1:
        open(salida + ".empezo", "w").close()
    time.sleep(PAUSA_LECTOR_S)
with open(salida, "w") as fh:
    json.dump({"vistos": vistos, "errores": errores}, fh)
"""

#: Readers running together (at least three are required), the pause between two of a reader's queries
#: (they share the machine with the refresh: measured alone, the test takes 28 s of CPU with a 0.05 s pause and
#: 20 s with 0.25 s, and each reader still reads the warehouse dozens of times during the refresh), and how long
#: they keep reading after the refresh ended.
N_READERS = 3
READER_PAUSE_S = 0.25
FINAL_READ_S = 2.0


@pytest.mark.slow
def test_readers_during_a_refresh_see_the_old_or_the_new_warehouse_never_a_mix(publicado, raw_2024, tmp_path):
    env = _copy_of(publicado, tmp_path)
    almacen = Path(env["VRAEM_WAREHOUSE"])
    old = _query(almacen)
    height = tmp_path / "alto"
    exits = [tmp_path / f"lector_{i}.json" for i in range(N_READERS)]
    codigo = _READER_SCRIPT.replace("PAUSA_LECTOR_S", repr(READER_PAUSE_S))
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", codigo, str(almacen), _QUERY, str(s), str(height)], stderr=subprocess.PIPE, text=True
        )
        for s in exits
    ]
    try:
        limite = time.monotonic() + 120
        while not all(Path(f"{s}.empezo").exists() for s in exits):
            assert time.monotonic() < limite and all(p.poll() is None for p in readers), "los lectores no empezaron"
            time.sleep(0.1)
        # A whole refresh that changes every figure: the same files, another territory.
        refresco = _vraem(
            "refresh",
            "--raw",
            str(raw_2024),
            env={**env, "VRAEM_TERRITORY": str(PACKAGE_REFERENCE / "ayacucho_distritos.csv")},
        )
        assert refresco.returncode == 0, refresco.stdout + refresco.stderr
        time.sleep(FINAL_READ_S)
        height.touch()
        for p in readers:
            assert p.wait(timeout=60) == 0, p.stderr.read()
    finally:
        height.touch()
        for p in readers:
            if p.poll() is None:
                p.kill()
                p.wait()
    new = _query(almacen)
    assert all(a != b for a, b in zip(old, new, strict=False)), (old, new)
    for exit_year in exits:
        reader_result = json.loads(exit_year.read_text())
        assert reader_result["errores"] == []
        seen = {tuple(json.loads(v)): n for v, n in reader_result["vistos"].items()}
        assert set(seen) == {old, new}, seen  # both seen, and nothing else: never a mix


@pytest.mark.slow
def test_ctrl_c_ends_the_refresh_and_releases_the_lock(raw_2024, tmp_path, monkeypatch):
    env = _env(tmp_path)
    process = _popen_vraem("refresh", "--raw", str(raw_2024), env=env)
    try:
        reader = _LineReader(process.stdout)
        reader.wait_for(_PROGRESS, timeout=REFRESH_MAX)
        os.kill(process.pid, signal.SIGINT)
        process.wait(timeout=120)
        err = process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode in (1, 130), (process.returncode, err)  # failed run, or interrupted outside it
    assert "listo" not in reader.texto()
    assert _python(_TRY_LOCK, str(_lock_of(env))).returncode == 0  # the lock is free again

    settings = _settings(monkeypatch, tmp_path)
    instance = _instance(Path(env["DAGSTER_HOME"]))
    try:
        [run] = instance.get_runs()
        assert run.is_finished and not run.is_success
        with locking.refresco(settings):
            locking.recover(settings, instance, notify=lambda _: None)
        assert _slots(instance) == (set(), set())  # nothing left for the next refresh to wait for
    finally:
        instance.dispose()


@pytest.mark.slow
def test_a_run_without_the_cli_waits_for_a_refresh_lock_and_then_publishes(scenario_raw, env, monkeypatch):
    """A run that is not `vraem refresh` (the daemon's, the UI's: the resource's `wait_for`) meeting the lock of a
    hand-run refresh waits for it, naming the holder, and publishes once it is free — where `vraem refresh`
    refuses at once. The holder is another process holding the lock (what a running CLI refresh does); it lets
    go once the run has said it is waiting."""
    import logging

    from tests.support.runs import materialize, operator

    warehouse = env(scenario_raw)
    monkeypatch.setenv("VRAEM_ESPERA_BLOQUEO_S", "120")
    lock = operator(warehouse).with_name(operator(warehouse).name + ".lock")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    class _ReleaseOnWait(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "esperando el bloqueo" in record.getMessage():
                threading.Timer(1.0, holder.stdin.close).start()

    progress = logging.getLogger("vraem.progreso")
    handler, nivel = _ReleaseOnWait(), progress.level
    progress.addHandler(handler)
    progress.setLevel(logging.INFO)
    try:
        assert holder.stdout.readline().strip() == "tengo"
        instance = dg.DagsterInstance.ephemeral()
        result = materialize((2024, 2024), instance=instance)
        holder.wait(timeout=30)
    finally:
        progress.removeHandler(handler)
        progress.setLevel(nivel)
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    assert result.success
    logs = [e.user_message or e.message for e in instance.all_logs(result.run_id)]
    assert any("esperando el bloqueo" in m and f"pid {holder.pid}" in m for m in logs), logs
    assert any("bloqueo obtenido tras esperar" in m for m in logs), logs
    assert warehouse.exists()
