"""One refresh at a time per operator database, and a refresh that died never blocks the next one.

**The lock.** `vraem refresh` (and any Dagster resource that writes the operator database) holds an OS-level
exclusive lock, `fcntl.flock(LOCK_EX | LOCK_NB)`, on `Settings.lock_path` (`<operacion>.lock`) for the whole
refresh. The kernel releases it when the process ends, however it ends (return, exception, Ctrl-C, `kill -9`,
power cut), so it can never go stale and there is nothing to clean up by hand. The file itself stays in place
(removing a lock file while another process waits on it would let two processes "hold" it) and, while held,
says who holds it (pid, host, start time) so that a refused refresh can tell the person whom it waits for.

The lock is re-entrant within one process: a second acquisition (e.g. a Dagster resource inside the CLI's run)
only nests, and the lock is released when the outermost holder lets it go. Another process is refused at once,
with `RefrescoEnCurso` (`adquirir`, what `vraem refresh` uses: exit 3), or waits for it (`esperar`, for runs
nobody watches: the Dagster daemon's, up to `Settings.espera_bloqueo_s`, env `VRAEM_ESPERA_BLOQUEO_S`).

**Recovery.** A refresh killed mid-run leaves its Dagster run STARTED, holding the `vraem_almacen` pool slot
(every later run then waits forever for that slot), and a publish killed mid-copy leaves a
`.{warehouse.name}.<pid>.tmp` file beside the warehouse. `recuperar` (run by `vraem refresh` right after taking
the lock, before the job starts) marks such runs failed, frees their pool slots and deletes those files.
Holding the lock proves that no other refresh of *this* operator database is alive; since a Dagster instance
(DAGSTER_HOME) may be shared by refreshes of other warehouses or by the Dagster UI, a run or a file is only
recovered when the process that wrote it is gone (its pid, taken from the run's events or the file's name, no
longer exists or now belongs to a younger process).
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vraem_pipeline.core.settings import ESPERA_BLOQUEO, Settings

if TYPE_CHECKING:
    import dagster as dg

#: Run statuses of a run that has not finished; if its process is gone, nobody will ever finish it.
ESTADOS_SIN_TERMINAR = ("NOT_STARTED", "QUEUED", "STARTING", "STARTED", "CANCELING")


class RefrescoEnCurso(RuntimeError):
    """Another process holds the lock: the refresh is refused at once (`vraem refresh` exits 3)."""

    def __init__(self, lock_path: Path, pid: int | None, host: str | None, desde: str | None):
        self.lock_path = Path(lock_path)
        self.pid = pid
        self.host = host
        self.desde = desde
        quien = f"pid {pid}" if pid is not None else "pid desconocido"
        if host and host != socket.gethostname():
            quien += f" en {host}"
        if desde:
            quien += f", desde {desde}"
        super().__init__(f"otra actualización está en curso ({quien}): {self.lock_path}; espere a que termine")


@dataclass
class _Tenencia:
    fd: int
    cuenta: int
    pid: int  # the process that took the lock (a forked child shares it but must not unlock it)


_mutex = threading.RLock()
_tenencias: dict[Path, _Tenencia] = {}


def _ruta(destino: Settings | Path | str) -> Path:
    path = getattr(destino, "lock_path", destino)
    return Path(path).resolve()


def _leer(fd: int) -> dict[str, str]:
    try:
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace")
    except OSError:
        return {}
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def titular(destino: Settings | Path | str) -> dict[str, str]:
    """What the lock file says about its holder (`pid`, `host`, `desde`); empty if nobody wrote it yet."""
    try:
        fd = os.open(_ruta(destino), os.O_RDONLY)
    except OSError:
        return {}
    try:
        return _leer(fd)
    finally:
        os.close(fd)


def adquirir(destino: Settings | Path | str) -> None:
    """Take the lock (or nest, if this process already holds it); `RefrescoEnCurso` if another process holds it."""
    path = _ruta(destino)
    with _mutex:
        tenencia = _tenencias.get(path)
        if tenencia is not None:
            tenencia.cuenta += 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except PermissionError:  # another user's lock file: it can still be locked, not written
            fd = os.open(path, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise
                info = _leer(fd)
                for _ in range(10):  # the holder may be between taking the lock and writing its name
                    if info.get("pid"):
                        break
                    time.sleep(0.02)
                    info = _leer(fd)
                pid = info.get("pid", "")
                raise RefrescoEnCurso(path, int(pid) if pid.isdigit() else None, info.get("host"),
                                      info.get("desde")) from None
            desde = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"pid={os.getpid()}\nhost={socket.gethostname()}\ndesde={desde}\n".encode(), 0)
            except OSError:
                pass  # read-only lock file: the lock holds all the same, only the holder's name is missing
        except BaseException:
            os.close(fd)  # also releases the lock if it was taken
            raise
        _tenencias[path] = _Tenencia(fd=fd, cuenta=1, pid=os.getpid())


def liberar(destino: Settings | Path | str) -> None:
    """Undo one `adquirir`; the outermost one releases the lock. Releasing a lock not held is a no-op."""
    path = _ruta(destino)
    with _mutex:
        tenencia = _tenencias.get(path)
        if tenencia is None:
            return
        tenencia.cuenta -= 1
        if tenencia.cuenta > 0:
            return
        del _tenencias[path]
        try:
            if tenencia.pid == os.getpid():
                with suppress(OSError):
                    os.ftruncate(tenencia.fd, 0)  # nobody holds it: no stale name in the file
                fcntl.flock(tenencia.fd, fcntl.LOCK_UN)
        finally:
            os.close(tenencia.fd)


def en_poder(destino: Settings | Path | str) -> bool:
    """Whether this process holds the lock."""
    with _mutex:
        return _ruta(destino) in _tenencias


@contextmanager
def refresco(destino: Settings | Path | str) -> Iterator[Path]:
    """`with bloqueo.refresco(settings): …` — hold the lock for the block (re-entrant, refused at once)."""
    adquirir(destino)
    try:
        yield _ruta(destino)
    finally:
        liberar(destino)


# ---------------------------------------------------------------------------------------------------------
# Waiting for the lock: runs nobody is watching.

#: Between two attempts to take a lock held by another process.
INTERVALO_ESPERA_S = 5.0
#: While the same process holds the lock, a "still waiting" line this often (the first attempt always says who).
AVISO_CADA_S = 600.0


class EsperaAgotada(RefrescoEnCurso):
    """The lock was still held by another process after the whole wait (`Settings.espera_bloqueo_s`)."""

    def __init__(self, negado: RefrescoEnCurso, esperado_s: float):
        super().__init__(negado.lock_path, negado.pid, negado.host, negado.desde)
        self.esperado_s = esperado_s
        self.args = (f"{self.args[0].removesuffix('; espere a que termine')}; se esperó {esperado_s:.0f} s, "
                     f"el máximo de {ESPERA_BLOQUEO}",)


def esperar(destino: Settings | Path | str, timeout_s: float, log: Callable[[str], Any] = print, *,
            intervalo_s: float = INTERVALO_ESPERA_S) -> float:
    """Take the lock like `adquirir`, but wait up to `timeout_s` for another process to let it go; returns the
    seconds waited (0 when it was free or already held by this process, which only nests).

    For runs nobody is watching: a run the Dagster daemon launched (schedule, sensor) that meets a hand-run
    `vraem refresh` must not fail the team's unattended refresh for good; it waits for it, saying whom it waits
    for (`log`, e.g. a Dagster `context.log.warning`) when it starts waiting, when the holder changes and every
    `AVISO_CADA_S` after. `vraem refresh` itself keeps refusing at once (exit 3): a person is there to decide.
    A lock still held after `timeout_s` raises `EsperaAgotada` (a `RefrescoEnCurso`) naming the holder.
    Polling every `intervalo_s` seconds rather than a blocking `flock`: the wait stays bounded and the holder
    can be named while waiting.
    """
    if timeout_s < 0 or intervalo_s <= 0:
        raise ValueError(f"esperar: timeout_s={timeout_s!r} e intervalo_s={intervalo_s!r} deben ser ≥ 0 y > 0")
    inicio = time.monotonic()
    titular_visto: tuple | None = None
    ultimo_aviso = inicio
    while True:
        try:
            adquirir(destino)
        except RefrescoEnCurso as negado:
            ahora = time.monotonic()
            esperado = ahora - inicio
            if esperado >= timeout_s:
                raise EsperaAgotada(negado, esperado) from None
            quien = (negado.pid, negado.host, negado.desde)
            if quien != titular_visto or ahora - ultimo_aviso >= AVISO_CADA_S:
                accion = "esperando" if titular_visto is None else "sigue esperando"
                log(f"{accion} el bloqueo ({esperado:.0f} s de {timeout_s:.0f} s como máximo): {negado}")
                titular_visto, ultimo_aviso = quien, ahora
            time.sleep(min(intervalo_s, timeout_s - esperado))
            continue
        esperado = time.monotonic() - inicio
        if titular_visto is not None:
            log(f"bloqueo obtenido tras esperar {esperado:.0f} s: {_ruta(destino)}")
        return esperado if titular_visto is not None else 0.0


# ---------------------------------------------------------------------------------------------------------
# Recovery after a refresh that died.


def _inicio_proceso(pid: int) -> float | None:
    """Start time (epoch seconds) of a live process, on Linux; None where /proc is not available."""
    try:
        campos = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        btime = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                     if line.startswith("btime "))
        return btime + int(campos[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def proceso_vivo(pid: int, *, antes_de: float | None = None) -> bool:
    """Whether process `pid` exists on this host (and, if `antes_de` is given, started before that epoch time).

    A pid reused by a process that started after the run's event or the file was written is not the same
    process: it counts as gone. A zombie (killed, not yet reaped) is gone too.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        estado = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if estado in ("Z", "X"):
            return False
    except (OSError, IndexError):
        pass
    if antes_de is not None:
        inicio = _inicio_proceso(pid)
        if inicio is not None and inicio > antes_de + 2.0:  # btime has a one-second resolution
            return False
    return True


def _proceso_de_ejecucion(instance: dg.DagsterInstance, run_id: str) -> tuple[int | None, float | None]:
    """(pid, timestamp) of the process that executed the run, from its RUN_START event or its latest event."""
    import dagster as dg

    registros = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_START, limit=1).records
    registros = registros or instance.get_records_for_run(run_id, limit=50, ascending=False).records
    for registro in registros:
        entrada = registro.event_log_entry
        if entrada.dagster_event is not None and entrada.dagster_event.pid:
            return entrada.dagster_event.pid, entrada.timestamp
    return None, None


def _ranuras_por_ejecucion(instance: dg.DagsterInstance) -> dict[str, list[str]]:
    """run_id → pools in which it claims a slot or waits for one."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return {}
    ranuras: dict[str, list[str]] = {}
    for pool, info in storage.get_concurrency_infos(sorted(storage.get_concurrency_keys())).items():
        for slot in info.claimed_slots:
            ranuras.setdefault(slot.run_id, []).append(pool)
        for step in info.pending_steps:
            if step.assigned_timestamp is None:
                ranuras.setdefault(step.run_id, [])  # waiting: holds no slot but must leave the queue
    for run_id in storage.get_concurrency_run_ids():
        ranuras.setdefault(run_id, [])
    return ranuras


def _ranuras(pools: list[str]) -> str:
    if not pools:
        return "no retenía ranuras del pool"
    cuenta = {p: pools.count(p) for p in sorted(set(pools))}
    return "ranuras liberadas: " + ", ".join(f"{p}×{n}" for p, n in cuenta.items())


def _temporales(settings: Settings) -> list[Path]:
    """`.{warehouse.name}.*.tmp` files (and their DuckDB `.wal`) beside the warehouse."""
    carpeta = settings.warehouse.parent
    if not carpeta.is_dir():
        return []
    prefijo = f".{settings.warehouse.name}."
    return sorted(p for p in carpeta.iterdir()
                  if p.name.startswith(prefijo) and p.name.endswith((".tmp", ".tmp.wal")) and p.is_file())


def recuperar(settings: Settings, instance: dg.DagsterInstance | None = None,
              informar: Callable[[str], Any] = print) -> list[str]:
    """Clean up after refreshes that died; returns (and passes to `informar`) one line per thing recovered.

    Must be called holding the lock (`adquirir`), before the new run starts. It
    - reports failed every run left NOT_STARTED/QUEUED/STARTING/STARTED/CANCELING whose process is gone, and
      frees its concurrency slots and pending steps (`free_concurrency_slots_for_run`, what the Dagster daemon
      does after a run ends; a run that never frees them keeps the next runs "blocked by limit for pool");
    - frees the slots still held by runs that did finish (an interrupted step never gives its slot back);
    - deletes `.{warehouse.name}.*.tmp` files (and their `.wal`) left beside the warehouse by a killed publish.
    Runs and files whose process is still alive (another warehouse sharing DAGSTER_HOME, a run launched from
    the Dagster UI) are left alone, with a line starting "  aviso:".
    """
    if not en_poder(settings):
        raise RuntimeError(f"recuperar() requiere tener el bloqueo {settings.lock_path}")
    import dagster as dg
    from dagster._core.events import JobFailureData, RunFailureReason
    from dagster._core.storage.dagster_run import FINISHED_STATUSES

    lineas: list[str] = []

    def decir(linea: str) -> None:
        lineas.append(linea)
        informar(linea)

    propia = instance is None
    instance = instance or dg.DagsterInstance.get()
    try:
        storage = instance.event_log_storage
        ranuras = _ranuras_por_ejecucion(instance)
        sin_terminar = instance.get_run_records(
            filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus[s] for s in ESTADOS_SIN_TERMINAR]))
        revisadas: set[str] = set()
        for record in sin_terminar:
            run = record.dagster_run
            revisadas.add(run.run_id)
            pid, ts = _proceso_de_ejecucion(instance, run.run_id)
            if pid is not None and (pid == os.getpid() or proceso_vivo(pid, antes_de=ts)):
                decir(f"  aviso: la ejecución {run.run_id} ({run.status.value}) sigue activa en el proceso {pid};"
                      " no se toca")
                continue
            if pid is None and run.remote_job_origin is not None:
                # Launched from the Dagster UI and waiting for its daemon (queued): not ours, holds no slot.
                decir(f"  aviso: la ejecución {run.run_id} ({run.status.value}) lanzada desde la interfaz de Dagster"
                      " no ha empezado; no se toca")
                continue
            # No pid: created in-process (a refresh's run emits RUN_START right after creating it) by a process
            # that died before starting it.
            proceso = f"el proceso {pid} ya no existe" if pid is not None else "su proceso murió antes de iniciarla"
            instance.report_run_failed(
                run,
                message=(f"Ejecución interrumpida: {proceso} (kill -9, cierre de la terminal, corte de luz…). "
                         f"Marcada como fallida por `vraem refresh` (pid {os.getpid()}) al recuperar."),
                job_failure_data=JobFailureData(error=None, failure_reason=RunFailureReason.UNEXPECTED_TERMINATION),
            )
            pools = ranuras.get(run.run_id, [])
            if storage.supports_global_concurrency_limits:
                storage.free_concurrency_slots_for_run(run.run_id)
            decir(f"  recuperado: ejecución {run.run_id} interrumpida marcada como fallida "
                  f"(estaba {run.status.value}; {proceso}); {_ranuras(pools)}")

        for run_id, pools in ranuras.items():
            if run_id in revisadas:
                continue
            run = instance.get_run_by_id(run_id)
            if run is not None and run.status not in FINISHED_STATUSES:
                continue  # started after our listing: a live run of another process sharing the instance
            storage.free_concurrency_slots_for_run(run_id)
            estado = run.status.value if run is not None else "borrada"
            if pools:
                decir(f"  recuperado: ejecución {run_id} ya terminada ({estado}) retenía el pool; {_ranuras(pools)}")
            else:
                decir(f"  recuperado: ejecución {run_id} ya terminada ({estado}) seguía en la cola del pool; quitada")
    finally:
        if propia:
            instance.dispose()

    for path in _temporales(settings):
        medio = path.name[len(f".{settings.warehouse.name}."):].split(".tmp", 1)[0]
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            continue
        if medio.isdigit() and int(medio) != os.getpid() and proceso_vivo(int(medio), antes_de=mtime):
            decir(f"  aviso: {path} es de una publicación en curso (proceso {medio}); no se borra")
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        decir(f"  recuperado: archivo temporal de una publicación interrumpida borrado: {path}")
    return lineas



def recuperar_si_libre(settings: Settings, instance: dg.DagsterInstance,
                       informar: Callable[[str], Any] = print) -> list[str] | None:
    """`recuperar` from the Dagster daemon's side (the sensor's tick): if no refresh holds the lock, every run
    left unfinished is dead — a run the daemon launched that was cut short (a service stopped, a power cut)
    stays STARTED in Dagster and, the queue allowing one run at a time, would hold every queued run until
    someone typed `vraem refresh`. None when a refresh holds the lock (it recovered when it took it)."""
    try:
        adquirir(settings)
    except RefrescoEnCurso:
        return None
    try:
        return recuperar(settings, instance, informar)
    finally:
        liberar(settings)
