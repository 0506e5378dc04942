"""The schedule and the sensor run by a real Dagster daemon, the way a team runs them (docs/operating.md): the
code location, the daemon and the webserver are started as separate processes with the runbook's
systemd units' commands, the variables of its environment file and its `dagster.yaml` — on SQLite (the file
`vraem refresh` writes) and on PostgreSQL (`VRAEM_PRUEBA_POSTGRES`, a throwaway server `.ci/run` starts) — and
the units pass `systemd-analyze verify`. Also `bloqueo.wait_for`, the wait of a run nobody watches, against a
second process holding the refresh lock, and the runbook's backup command against that lock.

Every process a test starts has its own process group, dies with the test (killed at teardown, and sent SIGKILL
by the kernel should pytest itself die) and every wait is bounded.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest
import yaml
from dagster._core.definitions.run_request import InstigatorType
from dagster._core.instance.ref import InstanceRef
from dagster._core.scheduler.instigation import TickStatus

from tests.support.runs import years_of
from vraem_pipeline.cli import DAGSTER_YAML
from vraem_pipeline.core import lock as locking
from vraem_pipeline.core.settings import LOCK_WAIT, SENSOR_INTERVAL, Settings, seconds_from_env

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
#: The checkout in the runbook's examples: the units' paths are this one's.
CHECKOUT = "/srv/vraem/vraem-pipeline"
#: Bounds of every wait (seconds): a process that should be ready, a run of one year of the small sample.
STARTUP_MAX = 180
RUN_MAX = 600
STOP_MAX = 60

POSTGRES = "VRAEM_PRUEBA_POSTGRES"
REQUIRE_POSTGRES = "VRAEM_EXIGIR_POSTGRES"

_HOLD_LOCK = """
import sys
from vraem_pipeline.core import lock as bloqueo
bloqueo.acquire(sys.argv[1])
print("tengo", flush=True)
sys.stdin.read()
"""


# --- the runbook (docs/operating.md) -------------------------------------------------------------------------


def _team_section() -> str:
    """The team's runbook: docs/operating.md, whose commands and units the tests below run."""
    return (REPO / "docs" / "operating.md").read_text(encoding="utf-8")


def _blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", _team_section(), flags=re.S | re.M)


def units() -> dict[str, str]:
    """The systemd units of the runbook, by file name."""
    [block] = [b for b in _blocks("ini") if "# /etc/systemd/system/" in b]
    parts = re.split(r"^# /etc/systemd/system/(\S+)\n", block, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def orden(unidad: str) -> list[str]:
    """The unit's ExecStart, run from this checkout's venv."""
    [linea] = [x for x in units()[unidad].splitlines() if x.startswith("ExecStart=")]
    argv = shlex.split(linea.removeprefix("ExecStart="))
    return [a.replace(f"{CHECKOUT}/.venv/bin", str(BIN)) for a in argv]


def env_variables() -> list[str]:
    """The variables of `/etc/vraem/vraem.env`."""
    [block] = [b for b in _blocks("ini") if b.startswith("DAGSTER_HOME=")]
    return [linea.split("=", 1)[0] for linea in block.splitlines() if "=" in linea]


def team_dagster_yaml() -> dict:
    [block] = [b for b in _blocks("yaml") if "postgres_db" in b]
    return yaml.safe_load(block)


def test_the_runbook_config_is_the_one_vraem_refresh_writes_plus_postgres():
    """The team's `dagster.yaml` is the CLI's (one writer, one run at a time) plus the storage: a team that
    starts from either gets runs queued one after another."""
    team_config = team_dagster_yaml()
    assert team_config.pop("storage")["postgres"]["postgres_db"]["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    assert team_config == yaml.safe_load(DAGSTER_YAML)
    assert team_config["concurrency"] == {"pools": {"default_limit": 1}, "runs": {"max_concurrent_runs": 1}}


def test_the_services_workspace_points_at_the_code_server_of_the_unit():
    ws = yaml.safe_load((REPO / "workspace_equipo.yaml").read_text())
    [entry] = ws["load_from"]
    servidor = orden("vraem-dagster-codigo.service")
    assert servidor[1:4] == ["code-server", "start", "-m"] and "vraem_pipeline.definitions" in servidor
    assert entry["grpc_server"] == {
        "host": "localhost",
        "port": int(servidor[servidor.index("-p") + 1]),
        "location_name": servidor[servidor.index("--location-name") + 1],
    }
    for unidad in ("vraem-dagster-daemon.service", "vraem-dagster-webserver.service"):
        assert orden(unidad)[orden(unidad).index("-w") + 1] == "workspace_equipo.yaml"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="sin systemd-analyze")
def test_systemd_units_of_the_runbook_verify(tmp_path):
    """`systemd-analyze verify` on the units as written, with the checkout at this repository (it checks that
    each ExecStart is executable, so the runbook's paths are replaced by real ones, nothing else)."""
    env_file = tmp_path / "vraem.env"
    env_file.write_text("".join(f"{v}=x\n" for v in env_variables()))
    for nombre, texto in units().items():
        texto = texto.replace(CHECKOUT, str(REPO)).replace("/etc/vraem/vraem.env", str(env_file))
        if BIN != REPO / ".venv" / "bin":
            texto = texto.replace(str(REPO / ".venv" / "bin"), str(BIN))
        (tmp_path / nombre).write_text(texto)
    assert set(units()) == {
        "vraem-dagster-codigo.service",
        "vraem-dagster-daemon.service",
        "vraem-dagster-webserver.service",
    }
    exit_year = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.glob("*.service"))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert exit_year.returncode == 0, exit_year.stdout + exit_year.stderr
    assert "Unknown key" not in exit_year.stderr and "Unknown section" not in exit_year.stderr, exit_year.stderr


# --- waiting for the lock ------------------------------------------------------------------------------------------


class _Holder:
    """Another process holding the refresh lock until `let_go()`."""

    def __init__(self, lock: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HOLD_LOCK, str(lock)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout.readline().strip() == "tengo"
        self.pid = self.process.pid

    def let_go(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)


def test_wait_takes_the_lock_once_the_other_process_lets_it_go(tmp_path):
    lock = tmp_path / "op" / "o.duckdb.lock"
    holder = _Holder(lock)
    lineas: list[str] = []

    def log(linea: str) -> None:
        lineas.append(linea)
        if len(lineas) == 1:  # the run said whom it waits for: now the holder finishes
            holder.let_go()

    try:
        expected_period = locking.wait_for(lock, timeout_s=120, log=log, interval_s=0.05)
        assert locking.held(lock)
        assert f"pid={os.getpid()}" in lock.read_text()  # the file now names this process
    finally:
        locking.release(lock)
        holder.kill()
    assert expected_period > 0 and len(lineas) == 2
    assert lineas[0].startswith("esperando el bloqueo (") and f"pid {holder.pid}," in lineas[0]
    assert "otra actualización está en curso" in lineas[0] and str(lock) in lineas[0]
    assert lineas[1].startswith("bloqueo obtenido tras esperar ") and lineas[1].endswith(str(lock))
    assert not locking.held(lock)


def test_wait_gives_up_after_its_timeout_naming_the_holder(tmp_path):
    lock = tmp_path / "o.duckdb.lock"
    holder = _Holder(lock)
    lineas: list[str] = []
    try:
        with pytest.raises(
            locking.LockWaitTimeout,
            match=rf"pid {holder.pid},.*se esperó \d+ s, el máximo de "
            rf"{LOCK_WAIT}",
        ):
            locking.wait_for(lock, timeout_s=0.3, log=lineas.append, interval_s=0.05)
        with pytest.raises(locking.RefreshInProgress):  # what the CLI catches (exit 3) catches this too
            locking.wait_for(lock, timeout_s=0, log=lineas.append)
    finally:
        holder.kill()
    assert not locking.held(lock)
    # one line for the whole wait, not one per try; no wait at all with timeout 0 (the exception says it all)
    assert len(lineas) == 1 and f"pid {holder.pid}," in lineas[0]


def test_wait_nests_in_the_process_that_holds_the_lock_and_says_nothing(tmp_path):
    lock = tmp_path / "o.duckdb.lock"
    lineas: list[str] = []
    with locking.refresco(lock):  # e.g. the operator-database resource inside `vraem refresh`'s own run
        assert locking.wait_for(lock, timeout_s=0, log=lineas.append) == 0
        locking.release(lock)
        assert locking.held(lock)
    assert not locking.held(lock) and lineas == []
    assert locking.wait_for(lock, timeout_s=0, log=lineas.append) == 0 and lineas == []
    locking.release(lock)


def test_the_wait_and_the_sensor_interval_are_settings(monkeypatch):
    monkeypatch.delenv(LOCK_WAIT, raising=False)
    assert Settings.from_env().espera_bloqueo_s == 6 * 3600
    monkeypatch.setenv(LOCK_WAIT, "90")
    assert Settings.from_env().espera_bloqueo_s == 90
    for bad in ("6h", "-1", "nan"):
        monkeypatch.setenv(LOCK_WAIT, bad)
        with pytest.raises(ValueError, match=rf"^{LOCK_WAIT}='{bad}': debe ser un número de segundos"):
            Settings.from_env()
    monkeypatch.setenv(SENSOR_INTERVAL, "0")
    with pytest.raises(ValueError, match=rf"^{SENSOR_INTERVAL}='0': .* ≥ 1"):
        seconds_from_env(SENSOR_INTERVAL, 300, minimum=1)


@pytest.mark.skipif(shutil.which("flock") is None, reason="sin flock(1)")
def test_the_backup_command_is_refused_while_a_refresh_holds_the_lock(tmp_path):
    """The runbook's `flock --nonblock <lock> cp …` takes the very lock `vraem refresh` holds."""
    [block] = [b for b in _blocks("bash") if "flock --nonblock" in b]
    base = "/srv/vraem/operacion/vraem_operacion.duckdb"
    copy_command = block[block.index("flock") : block.index("\ncp ")].replace("\\\n", " ")
    operator = tmp_path / "vraem_operacion.duckdb"
    operator.write_bytes(b"base de operacion")
    copy_file = tmp_path / "copia.duckdb"
    copy_command = copy_command.replace(base, str(operator)).replace(
        "/backup/vraem_operacion-$(date +%F).duckdb", str(copy_file)
    )
    holder = _Holder(Path(f"{operator}.lock"))
    try:
        refused = subprocess.run(["bash", "-c", copy_command], capture_output=True, text=True, timeout=60)
        assert refused.returncode == 1 and not copy_file.exists()
    finally:
        holder.kill()
    done = subprocess.run(["bash", "-c", copy_command], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and copy_file.read_bytes() == b"base de operacion", done.stderr


# --- the services ------------------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """In the child: SIGKILL when the test process dies, even by SIGKILL (Linux's PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


class Service:
    """A process started like its systemd unit: its own process group, output in a log file; stopped with
    SIGTERM to the group (what `systemctl stop` sends), then SIGKILL after PARADA_MAX."""

    def __init__(self, nombre: str, argv: list[str], env: dict, folder_path: Path):
        self.nombre = nombre
        self.log = folder_path / f"{nombre}.log"
        with open(self.log, "wb") as exit_year:
            self.process = subprocess.Popen(
                argv,
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=exit_year,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, lineas: int = 40) -> str:
        texto = self.log.read_text(errors="replace").splitlines()
        return f"--- {self.nombre} ({self.log}) ---\n" + "\n".join(texto[-lineas:])

    def grupo(self) -> list[str]:
        """The processes still in its group (the main one reaped first: a zombie would count)."""
        self.process.poll()
        exit_year = subprocess.run(
            ["ps", "-o", "pid=,stat=,args=", "-g", str(self.process.pid)], capture_output=True, text=True, timeout=30
        )
        return [x for x in exit_year.stdout.splitlines() if x.strip()]

    def interrupt(self) -> None:
        """Ctrl-C in its terminal: SIGINT to the whole foreground group."""
        os.killpg(self.process.pid, signal.SIGINT)

    def stop(self) -> int | None:
        """Stop the whole group: the main process's exit status, or None if it had to be killed."""
        estado = None
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                estado = self.process.wait(timeout=STOP_MAX)
            except subprocess.TimeoutExpired:
                pass
        else:
            estado = self.process.returncode
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # whatever is left in the group (a run worker)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=STOP_MAX)
        return estado


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(condicion, waiting_for: str, services: list[Service], timeout: float = RUN_MAX, every: float = 0.25):
    """Poll `condicion()` until it returns something truthy; fail naming `que` with the services' logs if it
    does not within `timeout` or if a service died meanwhile."""
    limite = time.monotonic() + timeout
    while True:
        valor = condicion()
        if valor:
            return valor
        dead = [s for s in services if not s.alive()]
        if dead or time.monotonic() > limite:
            motivo = f"murió {', '.join(s.nombre for s in dead)}" if dead else f"pasaron {timeout} s"
            pytest.fail(f"esperando {waiting_for}: {motivo}\n" + "\n".join(s.tail() for s in services))
        time.sleep(every)


@pytest.fixture
def services():
    """Every service a test starts, stopped at teardown whatever happened."""
    started: list[Service] = []
    yield started
    for service in reversed(started):
        service.stop()


@pytest.fixture(scope="module")
def sample(small_sample, tmp_path_factory) -> Path:
    """The small sample's (conftest.small_sample) 2023 and 2024 folders and the GDP workbook: two years keep the
    runs short and still let the sensor's first tick request one year that was never published. Each test
    copies it."""
    return years_of(small_sample, ("2023", "2024"), tmp_path_factory.mktemp("muestra") / "raw_2023_2024")


def _postgres() -> str | None:
    url = os.environ.get(POSTGRES)
    if not url and os.environ.get(REQUIRE_POSTGRES):
        pytest.fail(f"{REQUIRE_POSTGRES} está definida pero {POSTGRES} no: .ci/run debía arrancar PostgreSQL")
    return url


@pytest.fixture
def base_postgres():
    """A database of its own on the server of VRAEM_PRUEBA_POSTGRES, dropped after the test: (url, name)."""
    url = _postgres()
    if not url:
        pytest.skip(f"sin {POSTGRES} (.ci/run arranca un PostgreSQL desechable y exige esta prueba)")
    import psycopg2

    nombre = f"vraem_prueba_{uuid.uuid4().hex[:12]}"
    con = psycopg2.connect(url)
    con.autocommit = True
    try:
        con.cursor().execute(f'CREATE DATABASE "{nombre}"')
        yield url, nombre
        con.cursor().execute(f'DROP DATABASE IF EXISTS "{nombre}" WITH (FORCE)')
    finally:
        con.close()


def _dagster_home(home: Path, almacen: str, postgres: tuple[str, str] | None) -> dict[str, str]:
    """DAGSTER_HOME with the file `vraem refresh` writes (SQLite) or the runbook's (PostgreSQL, pointed at the
    test's server); returns the variables it needs."""
    home.mkdir(parents=True)
    if almacen == "sqlite":
        (home / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")
        return {"DAGSTER_PG_PASSWORD": ""}
    url, nombre = postgres
    parts = urlsplit(url)
    config = team_dagster_yaml()
    config["storage"]["postgres"]["postgres_db"].update(
        username=unquote(parts.username or ""),
        hostname=parts.hostname or "localhost",
        db_name=nombre,
        port=parts.port or 5432,
    )
    (home / "dagster.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return {"DAGSTER_PG_PASSWORD": unquote(parts.password or "")}


def _instance(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def _schedule_tick(instance: dg.DagsterInstance, workspace: Path, when: dt.datetime):
    """The scheduler daemon's own iteration (`launch_scheduled_runs`) for the tick at `cuando`, with Dagster's
    clock set by its test tooling (`freeze_time`): the schedule started the day before, evaluated a minute
    after its tick, stopped again so that the real daemon started next never catches up on later ticks."""
    from dagster._core.test_utils import freeze_time
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget
    from dagster._scheduler.scheduler import launch_scheduled_runs

    with WorkspaceProcessContext(instance, WorkspaceFileTarget(paths=[str(workspace)])) as workspace_context:
        location = workspace_context.create_request_context().get_code_location("vraem_pipeline")
        [repository] = location.get_repositories().values()
        schedule = repository.get_schedule("refresco_anual")
        with freeze_time(when - dt.timedelta(days=1)):
            instance.start_schedule(schedule)
        try:
            fin = when + dt.timedelta(minutes=1)
            with freeze_time(fin):
                list(
                    launch_scheduled_runs(workspace_context, logging.getLogger("vraem.prueba"), fin, iteration_times={})
                )
        finally:
            instance.stop_schedule(schedule.get_remote_origin_id(), schedule.selector_id, schedule)
        return instance.get_ticks(schedule.get_remote_origin_id(), schedule.selector_id)


def _sources(almacen: Path) -> dict[str, tuple]:
    """Published meta.fuentes: file relative to raw/ → (sha256, rows read)."""
    con = duckdb.connect(str(almacen), read_only=True)
    try:
        filas = con.execute("SELECT archivo, sha256, filas_leidas FROM meta.fuentes WHERE archivo IS NOT NULL")
        return {re.sub(r"^.*/raw/", "", a): (s, n) for a, s, n in filas.fetchall()}
    finally:
        con.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _finished(instance: dg.DagsterInstance, run_ids: list[str]):
    runs = [instance.get_run_by_id(r) for r in run_ids]
    if all(r.is_finished for r in runs):
        return runs
    return None


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning:gql")
@pytest.mark.parametrize("almacen", ["sqlite", "postgres"])
def test_the_daemon_runs_the_schedule_and_the_sensor_one_run_at_a_time(
    almacen, sample, tmp_path, services, request, monkeypatch
):
    """The annual refresh unattended, end to end, as docs/operating.md tells a team to run it:
    1. the schedule's 1 April 2025 tick (evaluated by the scheduler daemon's code at that date) queues the run of
       2024, and the daemon runs it: the first analysts' file is published;
    2. a data engineer corrects the 2024 sales file (one line less) and the sensor is turned on: its first tick
       requests 2023 (never published) and 2024 with the sales only — not the rest of 2024, published with these
       very bytes — and the daemon runs the two one after the other, never side by side;
    3. a `touch` of an unchanged file requests nothing.
    The webserver of the runbook reports the runs' status (what a person watches)."""
    postgres = request.getfixturevalue("base_postgres") if almacen == "postgres" else None
    raw = tmp_path / "raw"
    shutil.copytree(sample, raw)
    home = tmp_path / "dagster"
    warehouse = tmp_path / "publicado" / "vraem.duckdb"
    vraem_env = {
        "DAGSTER_HOME": str(home),
        "VRAEM_RAW_DIR": str(raw),
        "VRAEM_OPERACION": str(tmp_path / "operacion" / "vraem_operacion.duckdb"),
        "VRAEM_TEMP_DIR": str(tmp_path / "operacion" / "tmp"),
        "VRAEM_WAREHOUSE": str(warehouse),
        "VRAEM_MEMORIA": "1GB",
        SENSOR_INTERVAL: "2",
        LOCK_WAIT: "600",
        **_dagster_home(home, almacen, postgres),
    }
    assert sorted(vraem_env) == sorted(env_variables())  # the runbook's environment file, all of it
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VRAEM_", "DAGSTER_"))} | vraem_env
    env |= {"VRAEM_CHROMIUM": os.environ["VRAEM_CHROMIUM"]}  # the tests' stand-in (conftest): the report's PDF is
    # not what this test is about, and Chromium would add seconds to each of its three runs
    for k, v in vraem_env.items():  # this process reads the same instance
        monkeypatch.setenv(k, v)
    instance = _instance(home)  # creates the storage's tables before three processes race to
    request.addfinalizer(instance.dispose)

    code_port, web_port = _free_port(), _free_port()
    workspace = tmp_path / "workspace_equipo.yaml"
    workspace.write_text((REPO / "workspace_equipo.yaml").read_text().replace("port: 4266", f"port: {code_port}"))

    def from_unit(unidad: str) -> list[str]:
        argv = orden(unidad)
        argv = [str(workspace) if a == "workspace_equipo.yaml" else a for a in argv]
        return [{"4266": str(code_port), "3000": str(web_port)}.get(a, a) for a in argv]

    codigo = Service("codigo", from_unit("vraem-dagster-codigo.service"), env, tmp_path)
    web = Service("web", from_unit("vraem-dagster-webserver.service"), env, tmp_path)
    services += [codigo, web]
    from dagster._grpc.client import DagsterGrpcClient

    code_client = DagsterGrpcClient(port=code_port, host="localhost")

    def code_ready():
        try:
            return code_client.ping("x")["echo"] == "x"  # the proxy answers once the definitions loaded
        except Exception:
            return False

    _wait(code_ready, "la ubicación de código", services, timeout=STARTUP_MAX)

    # 1. The schedule: one tick, at 06:00 in Lima on 1 April 2025, for the previous year.
    tick = dt.datetime(2025, 4, 1, 6, 0, tzinfo=ZoneInfo("America/Lima")).astimezone(dt.UTC)
    [tic] = _schedule_tick(instance, workspace, tick)
    assert tic.status == TickStatus.SUCCESS and len(tic.run_ids) == 1, tic
    [anual] = [instance.get_run_by_id(r) for r in tic.run_ids]
    assert anual.status == dg.DagsterRunStatus.QUEUED  # the daemon is not running yet: queued, not launched
    assert anual.tags["dagster/schedule_name"] == "refresco_anual" and anual.tags["dagster/partition"] == "2024"
    assert anual.asset_selection is None  # the whole job: every source of the year

    daemon = Service("daemon", from_unit("vraem-dagster-daemon.service"), env, tmp_path)
    services.append(daemon)
    [anual] = _wait(lambda: _finished(instance, [anual.run_id]), "la ejecución del programa", services)
    assert anual.status == dg.DagsterRunStatus.SUCCESS, "\n".join(s.tail(80) for s in services)
    publicado = _sources(warehouse)
    ventas = raw / "sunat/ventas/2024/ventas_2024.txt"
    assert publicado["sunat/ventas/2024/ventas_2024.txt"][0] == _sha(ventas)
    assert not [f for f in publicado if "/2023/" in f]  # the schedule asked for 2024 only

    # 2. A corrected sales file (its last line removed), then the sensor is turned on.
    lineas = ventas.read_bytes().splitlines(keepends=True)
    ventas.write_bytes(b"".join(lineas[:-1]))
    rows_2024 = publicado["sunat/ventas/2024/ventas_2024.txt"][1]
    previous_runs = {r.run_id for r in instance.get_runs()}
    sensor_start = subprocess.run(
        [str(BIN / "dagster"), "sensor", "start", "nuevos_archivos", "-w", str(workspace)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=STARTUP_MAX,
    )
    assert sensor_start.returncode == 0, sensor_start.stdout + sensor_start.stderr

    def sensor_runs():
        runs = [r for r in instance.get_runs() if r.run_id not in previous_runs]
        return runs if len(runs) >= 2 else None

    new_runs = _wait(sensor_runs, "las ejecuciones pedidas por el sensor", services)
    ids = [r.run_id for r in new_runs]
    runs = _wait(lambda: _finished(instance, ids), "las ejecuciones del sensor", services)
    assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS] * 2, "\n".join(s.tail(80) for s in services)
    by_year = {r.tags["dagster/partition"]: r for r in runs}
    assert set(by_year) == {"2023", "2024"}
    assert all(r.tags["dagster/sensor_name"] == "nuevos_archivos" for r in runs)
    staging_2024 = {k.to_user_string() for k in by_year["2024"].asset_selection if k.path[0] == "staging"}
    assert staging_2024 == {"staging/ventas_declaradas"}  # the rest of 2024 is published with these bytes
    staging_2023 = {k.to_user_string() for k in by_year["2023"].asset_selection if k.path[0] == "staging"}
    assert {
        "staging/padron_ruc",
        "staging/ventas_declaradas",
        "staging/exportaciones",
        "staging/sbs_deudores",
        "staging/enaho_personas",
    } <= staging_2023
    records = sorted(instance.get_run_records(dg.RunsFilter(run_ids=ids)), key=lambda r: r.start_time)
    assert records[0].end_time <= records[1].start_time  # one after the other: the queue, not the lock
    publicado = _sources(warehouse)
    assert publicado["sunat/ventas/2024/ventas_2024.txt"] == (_sha(ventas), rows_2024 - 1)
    assert publicado["sunat/ventas/2023/ventas_2023.txt"][0] == _sha(raw / "sunat/ventas/2023/ventas_2023.txt")

    # Watching from a shell, as the runbook says: the daemon's heartbeat and the runs.
    alive = subprocess.run(
        [str(BIN / "dagster-daemon"), "liveness-check"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=STARTUP_MAX,
    )
    assert alive.returncode == 0, alive.stdout + alive.stderr
    listing = subprocess.run(
        [str(BIN / "dagster"), "run", "list"], cwd=REPO, env=env, capture_output=True, text=True, timeout=STARTUP_MAX
    )
    assert listing.returncode == 0 and all(r in listing.stdout for r in [anual.run_id, *ids]), (
        listing.stdout + listing.stderr
    )

    from dagster_graphql import DagsterGraphQLClient

    ui = DagsterGraphQLClient("127.0.0.1", port_number=web_port)

    def status_in_ui(run_id):
        try:
            return ui.get_run_status(run_id)
        except Exception:  # still starting
            return None

    for run_id in [anual.run_id, *ids]:
        assert (
            _wait(lambda r=run_id: status_in_ui(r), "la interfaz", services, timeout=STARTUP_MAX)
            == dg.DagsterRunStatus.SUCCESS
        )

    # 3. A touch: the same bytes with a new time stamp. The next tick sees it and requests nothing.
    [estado] = [
        s
        for s in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
        if s.instigator_name == "nuevos_archivos"
    ]
    touched = raw / "sunat/ventas/2023/ventas_2023.txt"
    os.utime(touched, ns=(time.time_ns(), time.time_ns() + 10**9))
    mtime = touched.stat().st_mtime_ns
    desde = time.time()

    def tick_after():
        ticks = instance.get_ticks(estado.instigator_origin_id, estado.selector_id)
        return [t for t in ticks if t.timestamp > desde and t.status != TickStatus.STARTED][:1]

    [touched_tick] = _wait(tick_after, "un tick del sensor tras el touch", services)
    assert touched_tick.status == TickStatus.SKIPPED and not touched_tick.run_ids
    cursor = json.loads(touched_tick.cursor)
    assert cursor["sunat/ventas/2023/ventas_2023.txt"][1] == mtime  # it saw the touch, and hashed the same bytes
    assert len(instance.get_runs()) == 3

    # The services stop on SIGTERM, as `systemctl stop` sends it.
    for service in (daemon, web, codigo):
        assert service.stop() in (0, -signal.SIGTERM), service.tail()
    if almacen == "postgres" and shutil.which("pg_dump"):
        url, nombre = postgres
        dump = subprocess.run(
            ["pg_dump", "--schema-only", "-d", url.rsplit("/", 1)[0] + f"/{nombre}"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert dump.returncode == 0 and "CREATE TABLE public.runs" in dump.stdout, dump.stderr


def _graphql(port_no: int, query: str) -> dict | None:
    """The webserver's GraphQL answer, or None while it is not serving yet."""
    import urllib.error
    import urllib.request

    http_request = urllib.request.Request(
        f"http://127.0.0.1:{port_no}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(http_request, timeout=30) as response:
            return json.loads(response.read())["data"]
    except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError):
        return None


_DG_DEV = """{
  repositoriesOrError { ... on RepositoryConnection { nodes { sensors { name } schedules { name } } } }
  instance { daemonHealth { allDaemonStatuses { daemonType healthy } } }
}"""


@pytest.mark.slow
def test_dg_dev_serves_the_automations_runs_their_daemon_and_stops_on_ctrl_c(tmp_path, services):
    """The runbook's one-person command: `dg dev` from the checkout serves the UI with the sensor and the schedule,
    runs the daemon that evaluates them (healthy heartbeats), and Ctrl-C stops all of it — no process left."""
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VRAEM_", "DAGSTER_"))} | {
        "DAGSTER_HOME": str(home),
        "VRAEM_RAW_DIR": str(tmp_path / "raw"),
        "VRAEM_WAREHOUSE": str(tmp_path / "publicado" / "vraem.duckdb"),
    }
    assert "`DAGSTER_HOME=$PWD/warehouse/.dagster uv run --locked dg dev`" in " ".join(_team_section().split())
    port_no = _free_port()
    dev = Service("dg_dev", [str(BIN / "dg"), "dev", "--port", str(port_no)], env, tmp_path)
    services.append(dev)

    def healthy():
        datos = _graphql(port_no, _DG_DEV)
        if not datos or not datos["repositoriesOrError"].get("nodes"):
            return None
        health = {d["daemonType"]: d["healthy"] for d in datos["instance"]["daemonHealth"]["allDaemonStatuses"]}
        return (
            datos if health.get("SENSOR") and health.get("SCHEDULER") and health.get("QUEUED_RUN_COORDINATOR") else None
        )

    datos = _wait(healthy, "dg dev con su demonio sano", services, timeout=STARTUP_MAX * 2, every=2)
    [repository] = datos["repositoriesOrError"]["nodes"]
    assert [s["name"] for s in repository["sensors"]] == ["nuevos_archivos"]
    assert [s["name"] for s in repository["schedules"]] == ["refresco_anual"]
    dev.interrupt()
    limite = time.monotonic() + STOP_MAX * 3  # dg dev gives each of its services up to 60 s
    while dev.grupo() and time.monotonic() < limite:
        time.sleep(1)
    assert not dev.grupo(), "procesos de dg dev vivos tras Ctrl-C:\n" + "\n".join(dev.grupo()) + dev.tail()
    assert dev.process.wait(timeout=STOP_MAX) == 0, dev.tail()
