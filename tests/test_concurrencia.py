"""One refresh at a time, a refresh that died (kill -9, Ctrl-C) never blocks the next one nor touches the
published warehouse, and analysts reading during a refresh see the old or the new warehouse, never a mix.

The lock (`vraem_pipeline/bloqueo.py`) is checked from other processes, since that is what it is for; the
refreshes run the CLI in subprocesses the way a person does, on the small sample's 2024 folders (written and
refreshed once for the session: `conftest.muestra_2024`, `conftest.publicado_2024`), each with its own DAGSTER_HOME,
warehouse and operator database. A refresh is killed at a chosen point through the test hook
`settings.pausa_de_prueba`.
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

from vraem_pipeline.core import lock as bloqueo
from vraem_pipeline.cli import DAGSTER_YAML
from vraem_pipeline.core.settings import PACKAGE_REFERENCE, PAUSA_DE_PRUEBA, PUNTOS_DE_PAUSA, Settings
from tests.conftest import entorno_de_refresco
from tests.test_determinismo import contenido_marts

#: Never hang the test suite: every wait on a refresh is bounded.
REFRESCO_MAX = 600

_PROBAR = """
import sys
from vraem_pipeline.core import lock as bloqueo
try:
    bloqueo.adquirir(sys.argv[1])
except bloqueo.RefrescoEnCurso as exc:
    print(exc)
    sys.exit(3)
print("adquirido")
"""

_TENER = """
import sys
from vraem_pipeline.core import lock as bloqueo
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
    return entorno_de_refresco(tmp_path, home)


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


@pytest.mark.slow
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


@pytest.mark.slow
def test_el_sensor_marca_fallida_una_ejecucion_muerta_solo_si_ningun_refresco_tiene_el_bloqueo(tmp_path, monkeypatch,
                                                                                             capfd):
    """A run the daemon launched and a power cut ended stays STARTED holding the queue's only place; with no
    `vraem refresh` typed afterwards, the sensor's next tick is what frees it — never while a refresh holds the
    lock (that refresh may be the run)."""
    from vraem_pipeline.defs.automation import nuevos_archivos
    from vraem_pipeline.definitions import defs

    home = _dagster_home(tmp_path / "dagster_home")
    settings = _settings(monkeypatch, tmp_path)
    monkeypatch.setenv("VRAEM_RAW_DIR", str(tmp_path / "raw"))
    (tmp_path / "raw").mkdir()
    script = tmp_path / "ejecucion.py"
    script.write_text(_EJECUCION, encoding="utf-8")
    muerta = subprocess.run([sys.executable, str(script), "morir"], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "DAGSTER_HOME": str(home)})
    assert "en el paso" in muerta.stdout and muerta.returncode == 9, muerta.stderr
    instance = _instancia(home)
    definitions = defs()
    try:
        [run] = instance.get_runs()

        def tick() -> None:
            nuevos_archivos.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=definitions))

        titular = subprocess.Popen([sys.executable, "-c", _TENER, str(settings.lock_path)], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True)
        try:
            assert titular.stdout.readline().strip() == "tengo"
            tick()
            assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.STARTED
            assert _ranuras(instance)[0] == {run.run_id}
        finally:
            titular.stdin.close()
            titular.wait(timeout=30)
        capfd.readouterr()
        tick()
        assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
        assert _ranuras(instance) == (set(), set())
        avisos = [line for line in capfd.readouterr().err.splitlines() if " - WARNING - " in line]
        assert any(f"recuperado: ejecución {run.run_id} interrumpida marcada como fallida" in a for a in avisos), avisos
        assert not bloqueo.en_poder(settings)  # the tick let the lock go
    finally:
        instance.dispose()


@pytest.mark.slow
def test_dos_refrescos_a_la_vez_solo_uno_sigue(raw_2024, publicado, tmp_path):
    env = _env(tmp_path)
    otro_raw = tmp_path / "raw_b"
    shutil.copytree(raw_2024, otro_raw)
    inicio = time.monotonic()
    procesos = [_popen_vraem("refresh", "--raw", str(r), env=env) for r in (raw_2024, otro_raw)]
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
    # Nothing corrupted or mixed: the warehouse opens, records the winner's run alone, and its marts are, to the
    # last bit, those of a refresh of the same files that ran alone.
    almacen = Path(env["VRAEM_WAREHOUSE"])
    assert _consultar(almacen, "SELECT list(run_id) FROM meta.ejecuciones") == ([runs[0].run_id],)
    assert contenido_marts(almacen) == contenido_marts(publicado / "w" / "v.duckdb")


_PROGRESO = r"^(padron_ruc|enaho)"

#: One statement that reads three tables: the last run published, a figure of the marts and the territory's
#: size. The reader test changes the territory, so the old and the new warehouse differ in all three.
_CONSULTA = """SELECT (SELECT run_id FROM meta.ejecuciones ORDER BY fin DESC LIMIT 1),
                      (SELECT valor FROM marts.indicadores_clave WHERE anio = 2024 AND indicador = 'empresas_formales'),
                      (SELECT count(*) FROM referencia.territorio)"""


def _consultar(almacen: Path, sql: str = _CONSULTA) -> tuple:
    con = duckdb.connect(str(almacen), read_only=True)
    try:
        return con.execute(sql).fetchone()
    finally:
        con.close()


@pytest.fixture
def raw_2024(muestra_2024) -> Path:
    """The small sample's 2024 folders and GDP workbook (conftest.muestra_2024): the refreshes below repeat, one
    year keeps them short. Shared: the refreshes read it, nothing here writes in it."""
    return muestra_2024


@pytest.fixture
def publicado(publicado_2024) -> Path:
    """A folder with `w/` (the published warehouse), `op/` (operator database) and `dagster_home/` after one
    refresh of `raw_2024` (conftest.publicado_2024, once for the session); a test that refreshes again works on a
    copy (`_copia_de`)."""
    return publicado_2024.carpeta


def _copia_de(publicado: Path, tmp_path: Path) -> dict:
    for parte in ("w", "op", "dagster_home"):
        shutil.copytree(publicado / parte, tmp_path / parte)
    return _env(tmp_path)


def _filas_staging(operacion: Path) -> dict[str, int]:
    con = duckdb.connect(str(operacion), read_only=True)
    try:
        tablas = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'staging' "
                                            "ORDER BY 1").fetchall()]
        return {t: con.execute(f"SELECT count(*) FROM staging.{t}").fetchone()[0] for t in tablas}
    finally:
        con.close()


@pytest.mark.slow
@pytest.mark.parametrize("punto", PUNTOS_DE_PAUSA)
def test_refresco_matado_en_cada_paso_deja_el_almacen_intacto_y_no_bloquea_el_siguiente(publicado, raw_2024,
                                                                                          tmp_path, punto):
    env = _copia_de(publicado, tmp_path)
    almacen, operacion, home = Path(env["VRAEM_WAREHOUSE"]), Path(env["VRAEM_OPERACION"]), Path(env["DAGSTER_HOME"])
    bytes_antes, valores_antes = almacen.read_bytes(), _consultar(almacen)
    marts_antes, staging_antes = contenido_marts(almacen), _filas_staging(operacion)
    operacion_antes = operacion.read_bytes()

    # The refresh stops at `punto` (settings.pausa_de_prueba) and is killed there with its whole process group.
    marca = tmp_path / "en_pausa"
    with open(tmp_path / "salida.txt", "w") as salida:
        matado = subprocess.Popen([sys.executable, "-m", "vraem_pipeline.cli", "refresh", "--raw", str(raw_2024)],
                                  stdout=salida, stderr=subprocess.STDOUT, start_new_session=True,
                                  env={**env, PAUSA_DE_PRUEBA: f"{punto}:{marca}"})
    try:
        limite = time.monotonic() + REFRESCO_MAX
        while not marca.exists():
            assert matado.poll() is None, (tmp_path / "salida.txt").read_text()
            assert time.monotonic() < limite, f"el refresco no llegó a {punto}"
            time.sleep(0.1)
        os.killpg(matado.pid, signal.SIGKILL)
        matado.wait(timeout=30)
    finally:
        if matado.poll() is None:
            os.killpg(matado.pid, signal.SIGKILL)
            matado.wait()
    assert matado.returncode == -signal.SIGKILL
    assert "listo" not in (tmp_path / "salida.txt").read_text()

    # The published file: the same bytes, and it opens with the old values.
    assert almacen.read_bytes() == bytes_antes
    assert _consultar(almacen) == valores_antes
    temporales = [p.name for p in almacen.parent.iterdir() if ".tmp" in p.name]
    assert bool(temporales) == (punto == "publicacion"), temporales  # a half-written new file, never swapped in
    # The operator database: the same bytes (the run worked on its own copy, left beside it), and it opens with the
    # rows it had.
    assert operacion.read_bytes() == operacion_antes
    assert _filas_staging(operacion) == staging_antes
    [copia] = [p for p in operacion.parent.iterdir() if p.name.endswith(".ejecucion")]
    instance = _instancia(home)
    try:
        [run_matado] = [r for r in instance.get_runs() if r.status != dg.DagsterRunStatus.SUCCESS]
        assert run_matado.status == dg.DagsterRunStatus.STARTED  # what used to block every later refresh
        assert run_matado.run_id in _ranuras(instance)[0]
    finally:
        instance.dispose()

    # The next refresh recovers by itself, completes and publishes: a new run, the same marts.
    siguiente = _vraem("refresh", "--raw", str(raw_2024), env=env)
    assert siguiente.returncode == 0, siguiente.stdout + siguiente.stderr
    assert f"  recuperado: ejecución {run_matado.run_id} interrumpida marcada como fallida" in siguiente.stdout
    for nombre in temporales:
        assert f"recuperado: archivo temporal de una publicación interrumpida borrado: {almacen.parent / nombre}" \
            in siguiente.stdout
    assert f"  recuperado: copia de trabajo de una ejecución interrumpida borrada: {copia}" in siguiente.stdout
    assert "listo" in siguiente.stdout
    assert not [p.name for p in almacen.parent.iterdir() if ".tmp" in p.name]
    assert not [p.name for p in operacion.parent.iterdir() if ".ejecucion" in p.name]
    valores = _consultar(almacen)
    assert valores[0] not in (valores_antes[0], run_matado.run_id) and valores[1:] == valores_antes[1:]
    # the killed run is nowhere in the history of publications (it used to be, when killed while publishing)
    publicadas = _consultar(almacen, "SELECT list(run_id ORDER BY fin) FROM meta.ejecuciones")
    assert publicadas == ([valores_antes[0], valores[0]],)
    assert contenido_marts(almacen) == marts_antes
    instance = _instancia(home)
    try:
        estados = {r.run_id: r.status for r in instance.get_runs()}
        assert estados.pop(run_matado.run_id) == dg.DagsterRunStatus.FAILURE
        assert set(estados.values()) == {dg.DagsterRunStatus.SUCCESS} and valores[0] in estados
        assert _ranuras(instance) == (set(), set())
    finally:
        instance.dispose()


#: Readers of the published warehouse during a refresh: each opens it read-only, runs `_CONSULTA`, closes, over
#: and over until the file `alto` appears; then writes what it saw (distinct answers, with counts) and its errors.
_LECTOR = """
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

#: Readers running together (the brief asks for at least three), the pause between two of a reader's queries
#: (they share the machine with the refresh), and how long they keep reading after the refresh ended.
N_LECTORES = 3
PAUSA_LECTOR_S = 0.05
LECTURA_FINAL_S = 2.0


@pytest.mark.slow
def test_lectores_durante_un_refresco_ven_el_almacen_viejo_o_el_nuevo_nunca_una_mezcla(publicado, raw_2024, tmp_path):
    env = _copia_de(publicado, tmp_path)
    almacen = Path(env["VRAEM_WAREHOUSE"])
    viejo = _consultar(almacen)
    alto = tmp_path / "alto"
    salidas = [tmp_path / f"lector_{i}.json" for i in range(N_LECTORES)]
    codigo = _LECTOR.replace("PAUSA_LECTOR_S", repr(PAUSA_LECTOR_S))
    lectores = [subprocess.Popen([sys.executable, "-c", codigo, str(almacen), _CONSULTA, str(s), str(alto)],
                                 stderr=subprocess.PIPE, text=True) for s in salidas]
    try:
        limite = time.monotonic() + 120
        while not all(Path(f"{s}.empezo").exists() for s in salidas):
            assert time.monotonic() < limite and all(p.poll() is None for p in lectores), "los lectores no empezaron"
            time.sleep(0.1)
        # A whole refresh that changes every figure: the same files, another territory.
        refresco = _vraem("refresh", "--raw", str(raw_2024),
                          env={**env, "VRAEM_TERRITORY": str(PACKAGE_REFERENCE / "ayacucho_distritos.csv")})
        assert refresco.returncode == 0, refresco.stdout + refresco.stderr
        time.sleep(LECTURA_FINAL_S)
        alto.touch()
        for p in lectores:
            assert p.wait(timeout=60) == 0, p.stderr.read()
    finally:
        alto.touch()
        for p in lectores:
            if p.poll() is None:
                p.kill()
                p.wait()
    nuevo = _consultar(almacen)
    assert all(a != b for a, b in zip(viejo, nuevo)), (viejo, nuevo)
    for salida in salidas:
        resultado = json.loads(salida.read_text())
        assert resultado["errores"] == []
        vistos = {tuple(json.loads(v)): n for v, n in resultado["vistos"].items()}
        assert set(vistos) == {viejo, nuevo}, vistos  # both seen, and nothing else: never a mix


@pytest.mark.slow
def test_ctrl_c_termina_el_refresco_y_libera_el_bloqueo(raw_2024, tmp_path, monkeypatch):
    env = _env(tmp_path)
    proceso = _popen_vraem("refresh", "--raw", str(raw_2024), env=env)
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


@pytest.mark.slow
def test_una_ejecucion_sin_cli_espera_el_bloqueo_de_un_refresco_y_luego_publica(scenario_raw, env, monkeypatch):
    """A run that is not `vraem refresh` (the daemon's, the UI's: the resource's `esperar`) meeting the lock of a
    hand-run refresh waits for it, naming the holder, and publishes once it is free — where `vraem refresh`
    refuses at once. The holder is another process holding the lock (what a running CLI refresh does); it lets
    go once the run has said it is waiting."""
    import logging

    from tests.conftest import materialize, operacion

    warehouse = env(scenario_raw)
    monkeypatch.setenv("VRAEM_ESPERA_BLOQUEO_S", "120")
    lock = operacion(warehouse).with_name(operacion(warehouse).name + ".lock")
    titular = subprocess.Popen([sys.executable, "-c", _TENER, str(lock)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    class _SoltarAlEsperar(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "esperando el bloqueo" in record.getMessage():
                threading.Timer(1.0, titular.stdin.close).start()

    progreso = logging.getLogger("vraem.progreso")
    handler, nivel = _SoltarAlEsperar(), progreso.level
    progreso.addHandler(handler)
    progreso.setLevel(logging.INFO)
    try:
        assert titular.stdout.readline().strip() == "tengo"
        instance = dg.DagsterInstance.ephemeral()
        result = materialize((2024, 2024), instance=instance)
        titular.wait(timeout=30)
    finally:
        progreso.removeHandler(handler)
        progreso.setLevel(nivel)
        if titular.poll() is None:
            titular.kill()
            titular.wait()
    assert result.success
    logs = [e.user_message or e.message for e in instance.all_logs(result.run_id)]
    assert any("esperando el bloqueo" in m and f"pid {titular.pid}" in m for m in logs), logs
    assert any("bloqueo obtenido tras esperar" in m for m in logs), logs
    assert warehouse.exists()
