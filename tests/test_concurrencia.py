"""One refresh at a time, and a refresh that died (kill -9, Ctrl-C) never blocks the next one.

The lock (`vraem_pipeline/bloqueo.py`) is checked from other processes, since that is what it is for; the
refreshes run the CLI in subprocesses the way a person does, on the small sample, with their own DAGSTER_HOME,
warehouse and operator database.
"""

from __future__ import annotations

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
import pytest
from dagster._core.instance.ref import InstanceRef

from vraem_pipeline import bloqueo
from vraem_pipeline.cli import DAGSTER_YAML
from vraem_pipeline.settings import Settings

pytestmark = pytest.mark.slow

#: Never hang the test suite: every wait on a refresh is bounded.
REFRESCO_MAX = 600

_PROBAR = """
import sys
from vraem_pipeline import bloqueo
try:
    bloqueo.adquirir(sys.argv[1])
except bloqueo.RefrescoEnCurso as exc:
    print(exc)
    sys.exit(3)
print("adquirido")
"""

_TENER = """
import sys
from vraem_pipeline import bloqueo
bloqueo.adquirir(sys.argv[1])
print("tengo", flush=True)
sys.stdin.read()
"""

#: A run in the pool `vraem_almacen` (as every asset of the project), against the instance in DAGSTER_HOME.
#: `morir`: the process dies inside the step without any cleanup (what kill -9 does); `colgar`: it stays alive
#: inside the step until its stdin closes; `normal`: it finishes; `crear`: it creates the run (NOT_STARTED) and
#: dies before starting it (a refresh killed while Dagster plans the run).
_EJECUCION = """
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


def _vraem(*args: str, env: dict, timeout: float = REFRESCO_MAX) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vraem_pipeline.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def _popen_vraem(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "vraem_pipeline.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


class _Lector:
    """Reads a process's stdout in a thread (so a pipe never fills up) and waits for a line, with a deadline."""

    def __init__(self, stream):
        self.lineas: list[str] = []
        self._cola: queue.Queue = queue.Queue()
        self._hilo = threading.Thread(target=self._leer, args=(stream,), daemon=True)
        self._hilo.start()

    def _leer(self, stream) -> None:
        for linea in stream:
            self.lineas.append(linea)
            self._cola.put(linea)
        self._cola.put(None)

    def esperar(self, patron: str, timeout: float) -> str:
        limite = time.monotonic() + timeout
        while True:
            try:
                linea = self._cola.get(timeout=max(0.0, limite - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"sin una línea {patron!r} en {timeout} s:\n{self.texto()}") from None
            if linea is None:
                raise AssertionError(f"el proceso terminó sin una línea {patron!r}:\n{self.texto()}")
            if re.search(patron, linea):
                return linea

    def texto(self) -> str:
        self._hilo.join(timeout=30)
        return "".join(self.lineas)


def _env(tmp_path: Path, home: Path | None = None) -> dict:
    env = {**os.environ, "DAGSTER_HOME": str(home or tmp_path / "dagster_home"),
           "VRAEM_WAREHOUSE": str(tmp_path / "w" / "v.duckdb"), "VRAEM_OPERACION": str(tmp_path / "op" / "o.duckdb")}
    for var in ("VRAEM_RAW_DIR", "VRAEM_TEMP_DIR", "VRAEM_TERRITORY"):
        env.pop(var, None)
    return env


def _settings(monkeypatch, tmp_path: Path) -> Settings:
    env = _env(tmp_path)
    for var in ("DAGSTER_HOME", "VRAEM_WAREHOUSE", "VRAEM_OPERACION"):
        monkeypatch.setenv(var, env[var])
    for var in ("VRAEM_RAW_DIR", "VRAEM_TEMP_DIR", "VRAEM_TERRITORY"):
        monkeypatch.delenv(var, raising=False)
    return Settings.from_env()


def _lock_de(env: dict) -> Path:
    """Where `Settings.lock_path` is for a refresh run with this environment."""
    operacion = Path(env["VRAEM_OPERACION"]).resolve()
    return operacion.with_name(operacion.name + ".lock")


def _instancia(home: Path) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def _dagster_home(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")
    return path


def _ranuras(instance: dg.DagsterInstance) -> tuple[set[str], set[str]]:
    """(runs holding a pool slot, runs waiting in a pool queue)."""
    storage = instance.event_log_storage
    infos = storage.get_concurrency_infos(sorted(storage.get_concurrency_keys())).values()
    return ({s.run_id for info in infos for s in info.claimed_slots},
            {p.run_id for info in infos for p in info.pending_steps})


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("muestra") / "raw"
    gen = _vraem("sample-data", "--scale", "small", "--out", str(out), env=_env(out.parent), timeout=300)
    assert gen.returncode == 0, gen.stderr
    return out


# --- the lock ------------------------------------------------------------------------------------------------


def test_bloqueo_negado_a_otro_proceso_y_reentrante(tmp_path):
    lock = tmp_path / "op" / "o.duckdb.lock"
    with bloqueo.refresco(lock):
        contenido = lock.read_text()
        assert f"pid={os.getpid()}" in contenido and "host=" in contenido and "desde=" in contenido
        with bloqueo.refresco(lock):  # same process (e.g. a Dagster resource inside the CLI's run): nests
            assert bloqueo.en_poder(lock)
            otro = _python(_PROBAR, str(lock))
            assert otro.returncode == 3, otro.stdout + otro.stderr
        assert bloqueo.en_poder(lock)  # the inner release does not let it go
        otro = _python(_PROBAR, str(lock))
        assert otro.returncode == 3
        mensaje = otro.stdout
        assert "otra actualización está en curso" in mensaje and f"pid {os.getpid()}" in mensaje
        assert str(lock) in mensaje and "espere a que termine" in mensaje
        assert re.search(r"desde \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", mensaje)
    assert not bloqueo.en_poder(lock)
    otro = _python(_PROBAR, str(lock))
    assert otro.returncode == 0 and "adquirido" in otro.stdout, otro.stdout + otro.stderr
    assert lock.exists()  # the file stays (removing it would let two processes hold "the" lock)


@pytest.mark.parametrize("final", ["sale", "sigkill", "sigint"])
def test_bloqueo_vuelve_a_estar_libre_cuando_el_titular_termina(tmp_path, final):
    lock = tmp_path / "o.duckdb.lock"
    titular = subprocess.Popen([sys.executable, "-c", _TENER, str(lock)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert titular.stdout.readline().strip() == "tengo"
        otro = _python(_PROBAR, str(lock))
        assert otro.returncode == 3 and f"pid {titular.pid}," in otro.stdout, otro.stdout + otro.stderr
        with pytest.raises(bloqueo.RefrescoEnCurso, match=f"pid {titular.pid}"):
            bloqueo.adquirir(lock)
        assert not bloqueo.en_poder(lock)
        if final == "sale":
            titular.stdin.close()
        else:
            os.kill(titular.pid, signal.SIGKILL if final == "sigkill" else signal.SIGINT)
        titular.wait(timeout=30)
    finally:
        if titular.poll() is None:
            titular.kill()
            titular.wait()
    with bloqueo.refresco(lock):
        assert bloqueo.en_poder(lock)
    assert _python(_PROBAR, str(lock)).returncode == 0


# --- recovery on a Dagster instance --------------------------------------------------------------------------


def test_recuperar_libera_la_ranura_de_una_ejecucion_muerta_y_respeta_una_viva(tmp_path, monkeypatch):
    home = _dagster_home(tmp_path / "dagster_home")
    settings = _settings(monkeypatch, tmp_path)
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    script = tmp_path / "ejecucion.py"
    script.write_text(_EJECUCION, encoding="utf-8")

    # A run whose process died before starting it: NOT_STARTED forever (it holds no slot).
    creada = subprocess.run([sys.executable, str(script), "crear"], capture_output=True, text=True, timeout=120, env=env)
    assert creada.stdout.startswith("creada") and creada.returncode == 9, creada.stderr
    run_no_iniciada = creada.stdout.split()[1]
    # A run whose process dies inside its step: STARTED forever, holding the pool's only slot.
    muerta = subprocess.run([sys.executable, str(script), "morir"], capture_output=True, text=True, timeout=120, env=env)
    assert "en el paso" in muerta.stdout and muerta.returncode == 9, muerta.stderr
    instance = _instancia(home)
    try:
        assert instance.get_run_by_id(run_no_iniciada).status == dg.DagsterRunStatus.NOT_STARTED
        [run_muerta] = [r for r in instance.get_runs() if r.run_id != run_no_iniciada]
        assert run_muerta.status == dg.DagsterRunStatus.STARTED
        assert _ranuras(instance)[0] == {run_muerta.run_id}

        # A live run waiting for that slot: it must be left alone (it could be another warehouse's refresh).
        viva = subprocess.Popen([sys.executable, str(script), "colgar"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        lector = _Lector(viva.stdout)
        try:
            deadline = time.monotonic() + 120
            while len(instance.get_runs()) < 3 or len(_ranuras(instance)[1]) < 2:
                assert time.monotonic() < deadline and viva.poll() is None, "la ejecución viva no llegó al pool"
                time.sleep(0.5)
            run_viva = next(r for r in instance.get_runs() if r.run_id not in (run_muerta.run_id, run_no_iniciada))

            with pytest.raises(RuntimeError, match="requiere tener el bloqueo"):
                bloqueo.recuperar(settings, instance, informar=lambda _: None)
            with bloqueo.refresco(settings):
                lineas = bloqueo.recuperar(settings, instance, informar=lambda _: None)
            assert any(line.startswith(f"  recuperado: ejecución {run_muerta.run_id} interrumpida marcada como fallida")
                       and "vraem_almacen×1" in line for line in lineas), lineas
            assert any(line.startswith(f"  recuperado: ejecución {run_no_iniciada} interrumpida marcada como fallida")
                       for line in lineas), lineas
            assert any(line.startswith("  aviso:") and run_viva.run_id in line for line in lineas), lineas
            assert instance.get_run_by_id(run_muerta.run_id).status == dg.DagsterRunStatus.FAILURE
            assert instance.get_run_by_id(run_no_iniciada).status == dg.DagsterRunStatus.FAILURE
            assert instance.get_run_by_id(run_viva.run_id).status == dg.DagsterRunStatus.STARTED
            reclamadas, en_cola = _ranuras(instance)
            assert run_muerta.run_id not in reclamadas | en_cola

            # The freed slot goes to the live run, which now runs its step and waits on its stdin.
            lector.esperar("en el paso", timeout=120)
            viva.stdin.close()
            assert viva.wait(timeout=120) == 0
            assert instance.get_run_by_id(run_viva.run_id).status == dg.DagsterRunStatus.SUCCESS
        finally:
            if viva.poll() is None:
                viva.kill()
                viva.wait()

        # Nothing left to recover, and the next run is not "blocked by limit for pool".
        with bloqueo.refresco(settings):
            assert bloqueo.recuperar(settings, instance, informar=lambda _: None) == []
        assert _ranuras(instance) == (set(), set())
        siguiente = subprocess.run([sys.executable, str(script), "normal"], capture_output=True, text=True,
                                   timeout=120, env=env)
        assert "terminada True" in siguiente.stdout, siguiente.stderr
    finally:
        instance.dispose()


# --- vraem refresh -------------------------------------------------------------------------------------------


def test_dos_refrescos_a_la_vez_solo_uno_sigue(raw, tmp_path):
    env = _env(tmp_path)
    otro_raw = tmp_path / "raw_b"
    shutil.copytree(raw, otro_raw)
    inicio = time.monotonic()
    procesos = [_popen_vraem("refresh", "--raw", str(r), env=env) for r in (raw, otro_raw)]
    try:
        terminado: dict[int, float] = {}
        while len(terminado) < 2 and time.monotonic() - inicio < REFRESCO_MAX:
            for i, p in enumerate(procesos):
                if i not in terminado and p.poll() is not None:
                    terminado[i] = time.monotonic() - inicio
            time.sleep(0.2)
        salidas = [p.communicate(timeout=30) for p in procesos]
    finally:
        for p in procesos:
            if p.poll() is None:
                p.kill()
                p.wait()
    codigos = [p.returncode for p in procesos]
    assert sorted(codigos) == [0, 3], (codigos, salidas)
    perdedor, ganador = (0, 1) if codigos[0] == 3 else (1, 0)
    out, err = salidas[perdedor]
    assert terminado[perdedor] < 20, terminado  # refused at once, not after waiting
    assert "otra actualización está en curso" in err and f"pid {procesos[ganador].pid}," in err, err
    assert str(_lock_de(env)) in err and "listo" not in out
    assert "listo" in salidas[ganador][0], salidas[ganador]

    instance = _instancia(Path(env["DAGSTER_HOME"]))
    try:
        runs = instance.get_runs()
        assert len(runs) == 1 and runs[0].is_success  # the refused refresh did not even start a run
    finally:
        instance.dispose()


_PROGRESO = r"^(padron_ruc|enaho)"


def test_refresco_matado_no_bloquea_el_siguiente(raw, tmp_path):
    env = _env(tmp_path)
    home = Path(env["DAGSTER_HOME"])
    matado = _popen_vraem("refresh", "--raw", str(raw), env=env)
    try:
        _Lector(matado.stdout).esperar(_PROGRESO, timeout=REFRESCO_MAX)  # a step has started
        os.kill(matado.pid, signal.SIGKILL)
        matado.wait(timeout=30)
    finally:
        if matado.poll() is None:
            matado.kill()
            matado.wait()
    assert matado.returncode == -signal.SIGKILL

    instance = _instancia(home)
    try:
        [run_matado] = instance.get_runs()
        assert run_matado.status == dg.DagsterRunStatus.STARTED  # what used to block every later refresh
        assert run_matado.run_id in _ranuras(instance)[0]
    finally:
        instance.dispose()
    # What a publish killed mid-copy leaves beside the warehouse (named after the dead process).
    carpeta = tmp_path / "w"
    carpeta.mkdir(exist_ok=True)
    for nombre in (f".v.duckdb.{matado.pid}.tmp", f".v.duckdb.{matado.pid}.tmp.wal"):
        (carpeta / nombre).write_bytes(b"basura")

    t0 = time.monotonic()
    segundo = _vraem("refresh", "--raw", str(raw), env=env, timeout=REFRESCO_MAX)
    assert segundo.returncode == 0, segundo.stdout + segundo.stderr
    print(f"segundo refresco: {time.monotonic() - t0:.1f} s")
    assert f"  recuperado: ejecución {run_matado.run_id} interrumpida marcada como fallida" in segundo.stdout
    assert f"recuperado: archivo temporal de una publicación interrumpida borrado: {carpeta / f'.v.duckdb.{matado.pid}.tmp'}" \
        in segundo.stdout
    assert "listo" in segundo.stdout
    assert not [p.name for p in carpeta.iterdir() if ".tmp" in p.name]

    instance = _instancia(home)
    try:
        estados = {r.run_id: r.status for r in instance.get_runs()}
        assert estados.pop(run_matado.run_id) == dg.DagsterRunStatus.FAILURE
        assert list(estados.values()) == [dg.DagsterRunStatus.SUCCESS]
        assert _ranuras(instance) == (set(), set())
    finally:
        instance.dispose()


def test_ctrl_c_termina_el_refresco_y_libera_el_bloqueo(raw, tmp_path, monkeypatch):
    env = _env(tmp_path)
    proceso = _popen_vraem("refresh", "--raw", str(raw), env=env)
    try:
        lector = _Lector(proceso.stdout)
        lector.esperar(_PROGRESO, timeout=REFRESCO_MAX)
        os.kill(proceso.pid, signal.SIGINT)
        proceso.wait(timeout=120)
        err = proceso.stderr.read()
    finally:
        if proceso.poll() is None:
            proceso.kill()
            proceso.wait()
    assert proceso.returncode in (1, 130), (proceso.returncode, err)  # failed run, or interrupted outside it
    assert "listo" not in lector.texto()
    assert _python(_PROBAR, str(_lock_de(env))).returncode == 0  # the lock is free again

    settings = _settings(monkeypatch, tmp_path)
    instance = _instancia(Path(env["DAGSTER_HOME"]))
    try:
        [run] = instance.get_runs()
        assert run.is_finished and not run.is_success
        with bloqueo.refresco(settings):
            bloqueo.recuperar(settings, instance, informar=lambda _: None)
        assert _ranuras(instance) == (set(), set())  # nothing left for the next refresh to wait for
    finally:
        instance.dispose()
