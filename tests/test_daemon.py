"""The schedule and the sensor run by a real Dagster daemon, the way a team runs them (README, "Running it as a
team"): the code location, the daemon and the webserver are started as separate processes with the README's
systemd units' commands, the variables of its environment file and its `dagster.yaml` — on SQLite (the file
`vraem refresh` writes) and on PostgreSQL (`VRAEM_PRUEBA_POSTGRES`, a throwaway server `.ci/run` starts) — and
the units pass `systemd-analyze verify`. Also `bloqueo.esperar`, the wait of a run nobody watches, against a
second process holding the refresh lock, and the README's backup command against that lock.

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

from tests.conftest import anios_de
from vraem_pipeline.core import lock as bloqueo
from vraem_pipeline.cli import DAGSTER_YAML
from vraem_pipeline.core.settings import ESPERA_BLOQUEO, INTERVALO_SENSOR, Settings, seconds_from_env

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
#: The checkout in the README's examples: the units' paths are this one's.
CHECKOUT = "/srv/vraem/vraem-pipeline"
#: Bounds of every wait (seconds): a process that should be ready, a run of one year of the small sample.
ARRANQUE_MAX = 180
EJECUCION_MAX = 600
PARADA_MAX = 60

POSTGRES = "VRAEM_PRUEBA_POSTGRES"
EXIGIR_POSTGRES = "VRAEM_EXIGIR_POSTGRES"

_TENER = """
import sys
from vraem_pipeline.core import lock as bloqueo
bloqueo.adquirir(sys.argv[1])
print("tengo", flush=True)
sys.stdin.read()
"""


# --- the README's runbook ----------------------------------------------------------------------------------------


def _equipo() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("## Running it as a team")
    return text[start:text.index("\n## ", start + 1)]


def _bloques(lenguaje: str) -> list[str]:
    return re.findall(rf"^```{lenguaje}\n(.*?)^```", _equipo(), flags=re.S | re.M)


def unidades() -> dict[str, str]:
    """The systemd units of the runbook, by file name."""
    [bloque] = [b for b in _bloques("ini") if "# /etc/systemd/system/" in b]
    partes = re.split(r"^# /etc/systemd/system/(\S+)\n", bloque, flags=re.M)
    return dict(zip(partes[1::2], partes[2::2], strict=True))


def orden(unidad: str) -> list[str]:
    """The unit's ExecStart, run from this checkout's venv."""
    [linea] = [x for x in unidades()[unidad].splitlines() if x.startswith("ExecStart=")]
    argv = shlex.split(linea.removeprefix("ExecStart="))
    return [a.replace(f"{CHECKOUT}/.venv/bin", str(BIN)) for a in argv]


def variables_del_entorno() -> list[str]:
    """The variables of `/etc/vraem/vraem.env`."""
    [bloque] = [b for b in _bloques("ini") if b.startswith("DAGSTER_HOME=")]
    return [linea.split("=", 1)[0] for linea in bloque.splitlines() if "=" in linea]


def dagster_yaml_del_equipo() -> dict:
    [bloque] = [b for b in _bloques("yaml") if "postgres_db" in b]
    return yaml.safe_load(bloque)


def test_the_runbook_config_is_the_one_vraem_refresh_writes_plus_postgres():
    """The team's `dagster.yaml` is the CLI's (one writer, one run at a time) plus the storage: a team that
    starts from either gets runs queued one after another."""
    equipo = dagster_yaml_del_equipo()
    assert equipo.pop("storage")["postgres"]["postgres_db"]["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    assert equipo == yaml.safe_load(DAGSTER_YAML)
    assert equipo["concurrency"] == {"pools": {"default_limit": 1}, "runs": {"max_concurrent_runs": 1}}


def test_the_services_workspace_points_at_the_code_server_of_the_unit():
    ws = yaml.safe_load((REPO / "workspace_equipo.yaml").read_text())
    [entrada] = ws["load_from"]
    servidor = orden("vraem-dagster-codigo.service")
    assert servidor[1:4] == ["code-server", "start", "-m"] and "vraem_pipeline.definitions" in servidor
    assert entrada["grpc_server"] == {"host": "localhost", "port": int(servidor[servidor.index("-p") + 1]),
                                      "location_name": servidor[servidor.index("--location-name") + 1]}
    for unidad in ("vraem-dagster-daemon.service", "vraem-dagster-webserver.service"):
        assert orden(unidad)[orden(unidad).index("-w") + 1] == "workspace_equipo.yaml"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="sin systemd-analyze")
def test_systemd_units_of_the_runbook_verify(tmp_path):
    """`systemd-analyze verify` on the units as written, with the checkout at this repository (it checks that
    each ExecStart is executable, so the README's paths are replaced by real ones, nothing else)."""
    entorno = tmp_path / "vraem.env"
    entorno.write_text("".join(f"{v}=x\n" for v in variables_del_entorno()))
    for nombre, texto in unidades().items():
        texto = texto.replace(CHECKOUT, str(REPO)).replace("/etc/vraem/vraem.env", str(entorno))
        if BIN != REPO / ".venv" / "bin":
            texto = texto.replace(str(REPO / ".venv" / "bin"), str(BIN))
        (tmp_path / nombre).write_text(texto)
    assert set(unidades()) == {"vraem-dagster-codigo.service", "vraem-dagster-daemon.service",
                               "vraem-dagster-webserver.service"}
    salida = subprocess.run(["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.glob("*.service"))],
                            capture_output=True, text=True, timeout=120)
    assert salida.returncode == 0, salida.stdout + salida.stderr
    assert "Unknown key" not in salida.stderr and "Unknown section" not in salida.stderr, salida.stderr


# --- waiting for the lock ------------------------------------------------------------------------------------------


class _Titular:
    """Another process holding the refresh lock until `soltar()`."""

    def __init__(self, lock: Path):
        self.proceso = subprocess.Popen([sys.executable, "-c", _TENER, str(lock)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, start_new_session=True)
        assert self.proceso.stdout.readline().strip() == "tengo"
        self.pid = self.proceso.pid

    def soltar(self) -> None:
        if self.proceso.poll() is None:
            self.proceso.stdin.close()
            self.proceso.wait(timeout=30)

    def matar(self) -> None:
        if self.proceso.poll() is None:
            os.killpg(self.proceso.pid, signal.SIGKILL)
            self.proceso.wait(timeout=30)


def test_esperar_takes_the_lock_once_the_other_process_lets_it_go(tmp_path):
    lock = tmp_path / "op" / "o.duckdb.lock"
    titular = _Titular(lock)
    lineas: list[str] = []

    def log(linea: str) -> None:
        lineas.append(linea)
        if len(lineas) == 1:  # the run said whom it waits for: now the holder finishes
            titular.soltar()

    try:
        esperado = bloqueo.esperar(lock, timeout_s=120, log=log, intervalo_s=0.05)
        assert bloqueo.en_poder(lock)
        assert f"pid={os.getpid()}" in lock.read_text()  # the file now names this process
    finally:
        bloqueo.liberar(lock)
        titular.matar()
    assert esperado > 0 and len(lineas) == 2
    assert lineas[0].startswith("esperando el bloqueo (") and f"pid {titular.pid}," in lineas[0]
    assert "otra actualización está en curso" in lineas[0] and str(lock) in lineas[0]
    assert lineas[1].startswith("bloqueo obtenido tras esperar ") and lineas[1].endswith(str(lock))
    assert not bloqueo.en_poder(lock)


def test_esperar_gives_up_after_its_timeout_naming_the_holder(tmp_path):
    lock = tmp_path / "o.duckdb.lock"
    titular = _Titular(lock)
    lineas: list[str] = []
    try:
        with pytest.raises(bloqueo.EsperaAgotada, match=rf"pid {titular.pid},.*se esperó \d+ s, el máximo de "
                                                        rf"{ESPERA_BLOQUEO}"):
            bloqueo.esperar(lock, timeout_s=0.3, log=lineas.append, intervalo_s=0.05)
        with pytest.raises(bloqueo.RefrescoEnCurso):  # what the CLI catches (exit 3) catches this too
            bloqueo.esperar(lock, timeout_s=0, log=lineas.append)
    finally:
        titular.matar()
    assert not bloqueo.en_poder(lock)
    # one line for the whole wait, not one per try; no wait at all with timeout 0 (the exception says it all)
    assert len(lineas) == 1 and f"pid {titular.pid}," in lineas[0]


def test_esperar_nests_in_the_process_that_holds_the_lock_and_says_nothing(tmp_path):
    lock = tmp_path / "o.duckdb.lock"
    lineas: list[str] = []
    with bloqueo.refresco(lock):  # e.g. the operator-database resource inside `vraem refresh`'s own run
        assert bloqueo.esperar(lock, timeout_s=0, log=lineas.append) == 0
        bloqueo.liberar(lock)
        assert bloqueo.en_poder(lock)
    assert not bloqueo.en_poder(lock) and lineas == []
    assert bloqueo.esperar(lock, timeout_s=0, log=lineas.append) == 0 and lineas == []
    bloqueo.liberar(lock)


def test_the_wait_and_the_sensor_interval_are_settings(monkeypatch):
    monkeypatch.delenv(ESPERA_BLOQUEO, raising=False)
    assert Settings.from_env().espera_bloqueo_s == 6 * 3600
    monkeypatch.setenv(ESPERA_BLOQUEO, "90")
    assert Settings.from_env().espera_bloqueo_s == 90
    for malo in ("6h", "-1", "nan"):
        monkeypatch.setenv(ESPERA_BLOQUEO, malo)
        with pytest.raises(ValueError, match=rf"^{ESPERA_BLOQUEO}='{malo}': debe ser un número de segundos"):
            Settings.from_env()
    monkeypatch.setenv(INTERVALO_SENSOR, "0")
    with pytest.raises(ValueError, match=rf"^{INTERVALO_SENSOR}='0': .* ≥ 1"):
        seconds_from_env(INTERVALO_SENSOR, 300, minimum=1)


@pytest.mark.skipif(shutil.which("flock") is None, reason="sin flock(1)")
def test_the_backup_command_is_refused_while_a_refresh_holds_the_lock(tmp_path):
    """The runbook's `flock --nonblock <lock> cp …` takes the very lock `vraem refresh` holds."""
    [bloque] = [b for b in _bloques("bash") if "flock --nonblock" in b]
    base = "/srv/vraem/operacion/vraem_operacion.duckdb"
    orden_copia = bloque[bloque.index("flock"):bloque.index("\ncp ")].replace("\\\n", " ")
    operacion = tmp_path / "vraem_operacion.duckdb"
    operacion.write_bytes(b"base de operacion")
    copia = tmp_path / "copia.duckdb"
    orden_copia = orden_copia.replace(base, str(operacion)).replace(
        "/backup/vraem_operacion-$(date +%F).duckdb", str(copia))
    titular = _Titular(Path(f"{operacion}.lock"))
    try:
        negada = subprocess.run(["bash", "-c", orden_copia], capture_output=True, text=True, timeout=60)
        assert negada.returncode == 1 and not copia.exists()
    finally:
        titular.matar()
    hecha = subprocess.run(["bash", "-c", orden_copia], capture_output=True, text=True, timeout=60)
    assert hecha.returncode == 0 and copia.read_bytes() == b"base de operacion", hecha.stderr


# --- the services ------------------------------------------------------------------------------------------------


def _morir_con_el_padre() -> None:
    """In the child: SIGKILL when the test process dies, even by SIGKILL (Linux's PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


class Servicio:
    """A process started like its systemd unit: its own process group, output in a log file; stopped with
    SIGTERM to the group (what `systemctl stop` sends), then SIGKILL after PARADA_MAX."""

    def __init__(self, nombre: str, argv: list[str], env: dict, carpeta: Path):
        self.nombre = nombre
        self.log = carpeta / f"{nombre}.log"
        with open(self.log, "wb") as salida:
            self.proceso = subprocess.Popen(argv, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=salida,
                                            stderr=subprocess.STDOUT, start_new_session=True,
                                            preexec_fn=_morir_con_el_padre)

    def vivo(self) -> bool:
        return self.proceso.poll() is None

    def cola(self, lineas: int = 40) -> str:
        texto = self.log.read_text(errors="replace").splitlines()
        return f"--- {self.nombre} ({self.log}) ---\n" + "\n".join(texto[-lineas:])

    def grupo(self) -> list[str]:
        """The processes still in its group (the main one reaped first: a zombie would count)."""
        self.proceso.poll()
        salida = subprocess.run(["ps", "-o", "pid=,stat=,args=", "-g", str(self.proceso.pid)], capture_output=True,
                                text=True, timeout=30)
        return [x for x in salida.stdout.splitlines() if x.strip()]

    def interrumpir(self) -> None:
        """Ctrl-C in its terminal: SIGINT to the whole foreground group."""
        os.killpg(self.proceso.pid, signal.SIGINT)

    def parar(self) -> int | None:
        """Stop the whole group: the main process's exit status, or None if it had to be killed."""
        estado = None
        if self.vivo():
            os.killpg(self.proceso.pid, signal.SIGTERM)
            try:
                estado = self.proceso.wait(timeout=PARADA_MAX)
            except subprocess.TimeoutExpired:
                pass
        else:
            estado = self.proceso.returncode
        try:
            os.killpg(self.proceso.pid, signal.SIGKILL)  # whatever is left in the group (a run worker)
        except ProcessLookupError:
            pass
        self.proceso.wait(timeout=PARADA_MAX)
        return estado


def _puerto_libre() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _esperar(condicion, que: str, servicios: list[Servicio], timeout: float = EJECUCION_MAX, cada: float = 1.0):
    """Poll `condicion()` until it returns something truthy; fail naming `que` with the services' logs if it
    does not within `timeout` or if a service died meanwhile."""
    limite = time.monotonic() + timeout
    while True:
        valor = condicion()
        if valor:
            return valor
        muertos = [s for s in servicios if not s.vivo()]
        if muertos or time.monotonic() > limite:
            motivo = f"murió {', '.join(s.nombre for s in muertos)}" if muertos else f"pasaron {timeout} s"
            pytest.fail(f"esperando {que}: {motivo}\n" + "\n".join(s.cola() for s in servicios))
        time.sleep(cada)


@pytest.fixture
def servicios():
    """Every service a test starts, stopped at teardown whatever happened."""
    iniciados: list[Servicio] = []
    yield iniciados
    for servicio in reversed(iniciados):
        servicio.parar()


@pytest.fixture(scope="module")
def muestra(muestra_pequena, tmp_path_factory) -> Path:
    """The small sample's (conftest.muestra_pequena) 2023 and 2024 folders and the GDP workbook: two years keep the
    runs short and still let the sensor's first tick request one year that was never published. Each test
    copies it."""
    return anios_de(muestra_pequena, ("2023", "2024"), tmp_path_factory.mktemp("muestra") / "raw_2023_2024")


def _postgres() -> str | None:
    url = os.environ.get(POSTGRES)
    if not url and os.environ.get(EXIGIR_POSTGRES):
        pytest.fail(f"{EXIGIR_POSTGRES} está definida pero {POSTGRES} no: .ci/run debía arrancar PostgreSQL")
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
    partes = urlsplit(url)
    config = dagster_yaml_del_equipo()
    config["storage"]["postgres"]["postgres_db"].update(
        username=unquote(partes.username or ""), hostname=partes.hostname or "localhost", db_name=nombre,
        port=partes.port or 5432)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return {"DAGSTER_PG_PASSWORD": unquote(partes.password or "")}


def _instancia(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def _tick_del_programa(instance: dg.DagsterInstance, workspace: Path, cuando: dt.datetime):
    """The scheduler daemon's own iteration (`launch_scheduled_runs`) for the tick at `cuando`, with Dagster's
    clock set by its test tooling (`freeze_time`): the schedule started the day before, evaluated a minute
    after its tick, stopped again so that the real daemon started next never catches up on later ticks."""
    from dagster._core.test_utils import freeze_time
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget
    from dagster._scheduler.scheduler import launch_scheduled_runs

    with WorkspaceProcessContext(instance, WorkspaceFileTarget(paths=[str(workspace)])) as contexto:
        ubicacion = contexto.create_request_context().get_code_location("vraem_pipeline")
        [repositorio] = ubicacion.get_repositories().values()
        programa = repositorio.get_schedule("refresco_anual")
        with freeze_time(cuando - dt.timedelta(days=1)):
            instance.start_schedule(programa)
        try:
            fin = cuando + dt.timedelta(minutes=1)
            with freeze_time(fin):
                list(launch_scheduled_runs(contexto, logging.getLogger("vraem.prueba"), fin, iteration_times={}))
        finally:
            instance.stop_schedule(programa.get_remote_origin_id(), programa.selector_id, programa)
        return instance.get_ticks(programa.get_remote_origin_id(), programa.selector_id)


def _fuentes(almacen: Path) -> dict[str, tuple]:
    """Published meta.fuentes: file relative to raw/ → (sha256, rows read)."""
    con = duckdb.connect(str(almacen), read_only=True)
    try:
        filas = con.execute("SELECT archivo, sha256, filas_leidas FROM meta.fuentes WHERE archivo IS NOT NULL")
        return {re.sub(r"^.*/raw/", "", a): (s, n) for a, s, n in filas.fetchall()}
    finally:
        con.close()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _terminada(instance: dg.DagsterInstance, run_ids: list[str]):
    runs = [instance.get_run_by_id(r) for r in run_ids]
    if all(r.is_finished for r in runs):
        return runs
    return None


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning:gql")
@pytest.mark.parametrize("almacen", ["sqlite", "postgres"])
def test_the_daemon_runs_the_schedule_and_the_sensor_one_run_at_a_time(almacen, muestra, tmp_path, servicios,
                                                                       request, monkeypatch):
    """The annual refresh unattended, end to end, as the README tells a team to run it:
    1. the schedule's 1 April 2025 tick (evaluated by the scheduler daemon's code at that date) queues the run of
       2024, and the daemon runs it: the first analysts' file is published;
    2. a data engineer corrects the 2024 sales file (one line less) and the sensor is turned on: its first tick
       requests 2023 (never published) and 2024 with the sales only — not the rest of 2024, published with these
       very bytes — and the daemon runs the two one after the other, never side by side;
    3. a `touch` of an unchanged file requests nothing.
    The webserver of the runbook reports the runs' status (what a person watches)."""
    postgres = request.getfixturevalue("base_postgres") if almacen == "postgres" else None
    raw = tmp_path / "raw"
    shutil.copytree(muestra, raw)
    home = tmp_path / "dagster"
    warehouse = tmp_path / "publicado" / "vraem.duckdb"
    entorno_vraem = {
        "DAGSTER_HOME": str(home), "VRAEM_RAW_DIR": str(raw),
        "VRAEM_OPERACION": str(tmp_path / "operacion" / "vraem_operacion.duckdb"),
        "VRAEM_TEMP_DIR": str(tmp_path / "operacion" / "tmp"), "VRAEM_WAREHOUSE": str(warehouse),
        "VRAEM_MEMORIA": "1GB", INTERVALO_SENSOR: "2", ESPERA_BLOQUEO: "600",
        **_dagster_home(home, almacen, postgres),
    }
    assert sorted(entorno_vraem) == sorted(variables_del_entorno())  # the runbook's environment file, all of it
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VRAEM_", "DAGSTER_"))} | entorno_vraem
    env |= {"VRAEM_CHROMIUM": os.environ["VRAEM_CHROMIUM"]}  # the tests' stand-in (conftest): the report's PDF is
    # not what this test is about, and Chromium would add seconds to each of its three runs
    for k, v in entorno_vraem.items():  # this process reads the same instance
        monkeypatch.setenv(k, v)
    instance = _instancia(home)  # creates the storage's tables before three processes race to
    request.addfinalizer(instance.dispose)

    puerto_codigo, puerto_web = _puerto_libre(), _puerto_libre()
    workspace = tmp_path / "workspace_equipo.yaml"
    workspace.write_text((REPO / "workspace_equipo.yaml").read_text().replace("port: 4266",
                                                                              f"port: {puerto_codigo}"))

    def desde_la_unidad(unidad: str) -> list[str]:
        argv = orden(unidad)
        argv = [str(workspace) if a == "workspace_equipo.yaml" else a for a in argv]
        return [{"4266": str(puerto_codigo), "3000": str(puerto_web)}.get(a, a) for a in argv]

    codigo = Servicio("codigo", desde_la_unidad("vraem-dagster-codigo.service"), env, tmp_path)
    web = Servicio("web", desde_la_unidad("vraem-dagster-webserver.service"), env, tmp_path)
    servicios += [codigo, web]
    from dagster._grpc.client import DagsterGrpcClient

    cliente_codigo = DagsterGrpcClient(port=puerto_codigo, host="localhost")

    def codigo_listo():
        try:
            return cliente_codigo.ping("x")["echo"] == "x"  # the proxy answers once the definitions loaded
        except Exception:
            return False

    _esperar(codigo_listo, "la ubicación de código", servicios, timeout=ARRANQUE_MAX)

    # 1. The schedule: one tick, at 06:00 in Lima on 1 April 2025, for the previous year.
    tick = dt.datetime(2025, 4, 1, 6, 0, tzinfo=ZoneInfo("America/Lima")).astimezone(dt.UTC)
    [tic] = _tick_del_programa(instance, workspace, tick)
    assert tic.status == TickStatus.SUCCESS and len(tic.run_ids) == 1, tic
    [anual] = [instance.get_run_by_id(r) for r in tic.run_ids]
    assert anual.status == dg.DagsterRunStatus.QUEUED  # the daemon is not running yet: queued, not launched
    assert anual.tags["dagster/schedule_name"] == "refresco_anual" and anual.tags["dagster/partition"] == "2024"
    assert anual.asset_selection is None  # the whole job: every source of the year

    daemon = Servicio("daemon", desde_la_unidad("vraem-dagster-daemon.service"), env, tmp_path)
    servicios.append(daemon)
    [anual] = _esperar(lambda: _terminada(instance, [anual.run_id]), "la ejecución del programa", servicios)
    assert anual.status == dg.DagsterRunStatus.SUCCESS, "\n".join(s.cola(80) for s in servicios)
    publicado = _fuentes(warehouse)
    ventas = raw / "sunat/ventas/2024/ventas_2024.txt"
    assert publicado["sunat/ventas/2024/ventas_2024.txt"][0] == _sha(ventas)
    assert not [f for f in publicado if "/2023/" in f]  # the schedule asked for 2024 only

    # 2. A corrected sales file (its last line removed), then the sensor is turned on.
    lineas = ventas.read_bytes().splitlines(keepends=True)
    ventas.write_bytes(b"".join(lineas[:-1]))
    filas_2024 = publicado["sunat/ventas/2024/ventas_2024.txt"][1]
    previas = {r.run_id for r in instance.get_runs()}
    sensor_start = subprocess.run([str(BIN / "dagster"), "sensor", "start", "nuevos_archivos", "-w", str(workspace)],
                                  cwd=REPO, env=env, capture_output=True, text=True, timeout=ARRANQUE_MAX)
    assert sensor_start.returncode == 0, sensor_start.stdout + sensor_start.stderr

    def del_sensor():
        runs = [r for r in instance.get_runs() if r.run_id not in previas]
        return runs if len(runs) >= 2 else None

    nuevas = _esperar(del_sensor, "las ejecuciones pedidas por el sensor", servicios)
    ids = [r.run_id for r in nuevas]
    runs = _esperar(lambda: _terminada(instance, ids), "las ejecuciones del sensor", servicios)
    assert [r.status for r in runs] == [dg.DagsterRunStatus.SUCCESS] * 2, "\n".join(s.cola(80) for s in servicios)
    por_anio = {r.tags["dagster/partition"]: r for r in runs}
    assert set(por_anio) == {"2023", "2024"}
    assert all(r.tags["dagster/sensor_name"] == "nuevos_archivos" for r in runs)
    staging_2024 = {k.to_user_string() for k in por_anio["2024"].asset_selection if k.path[0] == "staging"}
    assert staging_2024 == {"staging/ventas_declaradas"}  # the rest of 2024 is published with these bytes
    staging_2023 = {k.to_user_string() for k in por_anio["2023"].asset_selection if k.path[0] == "staging"}
    assert {"staging/padron_ruc", "staging/ventas_declaradas", "staging/exportaciones",
            "staging/sbs_deudores", "staging/enaho_personas"} <= staging_2023
    records = sorted(instance.get_run_records(dg.RunsFilter(run_ids=ids)), key=lambda r: r.start_time)
    assert records[0].end_time <= records[1].start_time  # one after the other: the queue, not the lock
    publicado = _fuentes(warehouse)
    assert publicado["sunat/ventas/2024/ventas_2024.txt"] == (_sha(ventas), filas_2024 - 1)
    assert publicado["sunat/ventas/2023/ventas_2023.txt"][0] == _sha(raw / "sunat/ventas/2023/ventas_2023.txt")

    # Watching from a shell, as the runbook says: the daemon's heartbeat and the runs.
    vivo = subprocess.run([str(BIN / "dagster-daemon"), "liveness-check"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=ARRANQUE_MAX)
    assert vivo.returncode == 0, vivo.stdout + vivo.stderr
    lista = subprocess.run([str(BIN / "dagster"), "run", "list"], cwd=REPO, env=env, capture_output=True, text=True,
                           timeout=ARRANQUE_MAX)
    assert lista.returncode == 0 and all(r in lista.stdout for r in [anual.run_id, *ids]), lista.stdout + lista.stderr

    from dagster_graphql import DagsterGraphQLClient

    ui = DagsterGraphQLClient("127.0.0.1", port_number=puerto_web)

    def estado_en_la_ui(run_id):
        try:
            return ui.get_run_status(run_id)
        except Exception:  # still starting
            return None

    for run_id in [anual.run_id, *ids]:
        assert _esperar(lambda r=run_id: estado_en_la_ui(r), "la interfaz", servicios,
                        timeout=ARRANQUE_MAX) == dg.DagsterRunStatus.SUCCESS

    # 3. A touch: the same bytes with a new time stamp. The next tick sees it and requests nothing.
    [estado] = [s for s in instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
                if s.instigator_name == "nuevos_archivos"]
    tocado = raw / "sunat/ventas/2023/ventas_2023.txt"
    os.utime(tocado, ns=(time.time_ns(), time.time_ns() + 10**9))
    mtime = tocado.stat().st_mtime_ns
    desde = time.time()

    def tick_despues():
        ticks = instance.get_ticks(estado.instigator_origin_id, estado.selector_id)
        return [t for t in ticks if t.timestamp > desde and t.status != TickStatus.STARTED][:1]

    [tick_tocado] = _esperar(tick_despues, "un tick del sensor tras el touch", servicios)
    assert tick_tocado.status == TickStatus.SKIPPED and not tick_tocado.run_ids
    cursor = json.loads(tick_tocado.cursor)
    assert cursor["sunat/ventas/2023/ventas_2023.txt"][1] == mtime  # it saw the touch, and hashed the same bytes
    assert len(instance.get_runs()) == 3

    # The services stop on SIGTERM, as `systemctl stop` sends it.
    for servicio in (daemon, web, codigo):
        assert servicio.parar() in (0, -signal.SIGTERM), servicio.cola()
    if almacen == "postgres" and shutil.which("pg_dump"):
        url, nombre = postgres
        volcado = subprocess.run(["pg_dump", "--schema-only", "-d", url.rsplit("/", 1)[0] + f"/{nombre}"],
                                 capture_output=True, text=True, timeout=120)
        assert volcado.returncode == 0 and "CREATE TABLE public.runs" in volcado.stdout, volcado.stderr


def _graphql(puerto: int, consulta: str) -> dict | None:
    """The webserver's GraphQL answer, or None while it is not serving yet."""
    import urllib.error
    import urllib.request

    pedido = urllib.request.Request(f"http://127.0.0.1:{puerto}/graphql", data=json.dumps({"query": consulta}).encode(),
                                    headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(pedido, timeout=30) as respuesta:
            return json.loads(respuesta.read())["data"]
    except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError):
        return None


_DG_DEV = """{
  repositoriesOrError { ... on RepositoryConnection { nodes { sensors { name } schedules { name } } } }
  instance { daemonHealth { allDaemonStatuses { daemonType healthy } } }
}"""


@pytest.mark.slow
def test_dg_dev_serves_the_automations_runs_their_daemon_and_stops_on_ctrl_c(tmp_path, servicios):
    """The runbook's one-person command: `dg dev` from the checkout serves the UI with the sensor and the schedule,
    runs the daemon that evaluates them (healthy heartbeats), and Ctrl-C stops all of it — no process left."""
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VRAEM_", "DAGSTER_"))} | {
        "DAGSTER_HOME": str(home), "VRAEM_RAW_DIR": str(tmp_path / "raw"),
        "VRAEM_WAREHOUSE": str(tmp_path / "publicado" / "vraem.duckdb")}
    assert "`DAGSTER_HOME=$PWD/warehouse/.dagster uv run --locked dg dev`" in " ".join(_equipo().split())
    puerto = _puerto_libre()
    dev = Servicio("dg_dev", [str(BIN / "dg"), "dev", "--port", str(puerto)], env, tmp_path)
    servicios.append(dev)

    def sano():
        datos = _graphql(puerto, _DG_DEV)
        if not datos or not datos["repositoriesOrError"].get("nodes"):
            return None
        salud = {d["daemonType"]: d["healthy"] for d in datos["instance"]["daemonHealth"]["allDaemonStatuses"]}
        return datos if salud.get("SENSOR") and salud.get("SCHEDULER") and salud.get("QUEUED_RUN_COORDINATOR") \
            else None

    datos = _esperar(sano, "dg dev con su demonio sano", servicios, timeout=ARRANQUE_MAX * 2, cada=2)
    [repositorio] = datos["repositoriesOrError"]["nodes"]
    assert [s["name"] for s in repositorio["sensors"]] == ["nuevos_archivos"]
    assert [s["name"] for s in repositorio["schedules"]] == ["refresco_anual"]
    dev.interrumpir()
    limite = time.monotonic() + PARADA_MAX * 3  # dg dev gives each of its services up to 60 s
    while dev.grupo() and time.monotonic() < limite:
        time.sleep(1)
    assert not dev.grupo(), "procesos de dg dev vivos tras Ctrl-C:\n" + "\n".join(dev.grupo()) + dev.cola()
    assert dev.proceso.wait(timeout=PARADA_MAX) == 0, dev.cola()
