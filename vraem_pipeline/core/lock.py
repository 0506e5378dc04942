"""One refresh at a time per operator database, and a refresh that died never blocks the next one.

**The lock.** `vraem refresh` (and any Dagster resource that writes the operator database) holds an OS-level
exclusive lock, `fcntl.flock(LOCK_EX | LOCK_NB)`, on `Settings.lock_path` (`<operacion>.lock`) for the whole
refresh. The kernel releases it when the process ends, however it ends (return, exception, Ctrl-C, `kill -9`,
power cut), so it can never go stale and there is nothing to clean up by hand. The file itself stays in place
(removing a lock file while another process waits on it would let two processes "hold" it) and, while held,
says who holds it (pid, host, start time) so that a refused refresh can tell the person whom it waits for.

The lock is re-entrant within one process: a second acquisition (e.g. a Dagster resource inside the CLI's run)
only nests, and the lock is released when the outermost holder lets it go. Another process is refused at once,
with `RefreshInProgress` (`acquire`, what `vraem refresh` uses: exit 3), or waits for it (`wait_for`, for runs
nobody watches: the Dagster daemon's, up to `Settings.espera_bloqueo_s`, env `VRAEM_ESPERA_BLOQUEO_S`).

**Recovery.** A refresh killed mid-run leaves its Dagster run STARTED, holding the `vraem_almacen` pool slot
(every later run then waits forever for that slot), and a publish killed mid-copy leaves a
`.{warehouse.name}.<pid>.tmp` file beside the warehouse. `recover` (run by `vraem refresh` right after taking
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

from vraem_pipeline.core.settings import LOCK_WAIT, Settings

if TYPE_CHECKING:
    import dagster as dg

#: Run statuses of a run that has not finished; if its process is gone, nobody will ever finish it.
UNFINISHED_STATUSES = ("NOT_STARTED", "QUEUED", "STARTING", "STARTED", "CANCELING")


class RefreshInProgress(RuntimeError):
    """Another process holds the lock: the refresh is refused at once (`vraem refresh` exits 3)."""

    def __init__(self, lock_path: Path, pid: int | None, host: str | None, desde: str | None):
        self.lock_path = Path(lock_path)
        self.pid = pid
        self.host = host
        self.desde = desde
        who = f"pid {pid}" if pid is not None else "pid desconocido"
        if host and host != socket.gethostname():
            who += f" en {host}"
        if desde:
            who += f", desde {desde}"
        super().__init__(f"otra actualización está en curso ({who}): {self.lock_path}; espere a que termine")


@dataclass
class _Holding:
    fd: int
    tally: int
    pid: int  # the process that took the lock (a forked child shares it but must not unlock it)


_mutex = threading.RLock()
_holdings: dict[Path, _Holding] = {}


def _path(destination: Settings | Path | str) -> Path:
    path = getattr(destination, "lock_path", destination)
    return Path(path).resolve()


def _read(fd: int) -> dict[str, str]:
    try:
        text = os.pread(fd, 4096, 0).decode("utf-8", "replace")
    except OSError:
        return {}
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def holder(destination: Settings | Path | str) -> dict[str, str]:
    """What the lock file says about its holder (`pid`, `host`, `desde`); empty if nobody wrote it yet."""
    try:
        fd = os.open(_path(destination), os.O_RDONLY)
    except OSError:
        return {}
    try:
        return _read(fd)
    finally:
        os.close(fd)


def acquire(destination: Settings | Path | str) -> None:
    """Take the lock (or nest, if this process already holds it); `RefreshInProgress` if another process holds it."""
    path = _path(destination)
    with _mutex:
        holding = _holdings.get(path)
        if holding is not None:
            holding.tally += 1
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
                info = _read(fd)
                for _ in range(10):  # the holder may be between taking the lock and writing its name
                    if info.get("pid"):
                        break
                    time.sleep(0.02)
                    info = _read(fd)
                pid = info.get("pid", "")
                raise RefreshInProgress(
                    path, int(pid) if pid.isdigit() else None, info.get("host"), info.get("desde")
                ) from None
            desde = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"pid={os.getpid()}\nhost={socket.gethostname()}\ndesde={desde}\n".encode(), 0)
            except OSError:
                pass  # read-only lock file: the lock holds all the same, only the holder's name is missing
        except BaseException:
            os.close(fd)  # also releases the lock if it was taken
            raise
        _holdings[path] = _Holding(fd=fd, tally=1, pid=os.getpid())


def release(destination: Settings | Path | str) -> None:
    """Undo one `acquire`; the outermost one releases the lock. Releasing a lock not held is a no-op."""
    path = _path(destination)
    with _mutex:
        holding = _holdings.get(path)
        if holding is None:
            return
        holding.tally -= 1
        if holding.tally > 0:
            return
        del _holdings[path]
        try:
            if holding.pid == os.getpid():
                with suppress(OSError):
                    os.ftruncate(holding.fd, 0)  # nobody holds it: no stale name in the file
                fcntl.flock(holding.fd, fcntl.LOCK_UN)
        finally:
            os.close(holding.fd)


def held(destination: Settings | Path | str) -> bool:
    """Whether this process holds the lock."""
    with _mutex:
        return _path(destination) in _holdings


@contextmanager
def refresco(destination: Settings | Path | str) -> Iterator[Path]:
    """`with bloqueo.refresco(settings): …` — hold the lock for the block (re-entrant, refused at once)."""
    acquire(destination)
    try:
        yield _path(destination)
    finally:
        release(destination)


# ---------------------------------------------------------------------------------------------------------
# Waiting for the lock: runs nobody is watching.

#: Between two attempts to take a lock held by another process.
WAIT_INTERVAL_S = 5.0
#: While the same process holds the lock, a "still waiting" line this often (the first attempt always says who).
WARNING_EVERY_S = 600.0


class LockWaitTimeout(RefreshInProgress):
    """The lock was still held by another process after the whole wait (`Settings.espera_bloqueo_s`)."""

    def __init__(self, refused: RefreshInProgress, waited_s: float):
        super().__init__(refused.lock_path, refused.pid, refused.host, refused.desde)
        self.waited_s = waited_s
        self.args = (
            f"{self.args[0].removesuffix('; espere a que termine')}; se esperó {waited_s:.0f} s, "
            f"el máximo de {LOCK_WAIT}",
        )


def wait_for(
    destination: Settings | Path | str,
    timeout_s: float,
    log: Callable[[str], Any] = print,
    *,
    interval_s: float = WAIT_INTERVAL_S,
) -> float:
    """Take the lock like `acquire`, but wait up to `timeout_s` for another process to let it go; returns the
    seconds waited (0 when it was free or already held by this process, which only nests).

    For runs nobody is watching: a run the Dagster daemon launched (schedule, sensor) that meets a hand-run
    `vraem refresh` must not fail the team's unattended refresh for good; it waits for it, saying whom it waits
    for (`log`, e.g. a Dagster `context.log.warning`) when it starts waiting, when the holder changes and every
    `WARNING_EVERY_S` after. `vraem refresh` itself keeps refusing at once (exit 3): a person is there to decide.
    A lock still held after `timeout_s` raises `LockWaitTimeout` (a `RefreshInProgress`) naming the holder.
    Polling every `intervalo_s` seconds rather than a blocking `flock`: the wait stays bounded and the holder
    can be named while waiting.
    """
    if timeout_s < 0 or interval_s <= 0:
        raise ValueError(f"esperar: timeout_s={timeout_s!r} e intervalo_s={interval_s!r} deben ser ≥ 0 y > 0")
    inicio = time.monotonic()
    seen_holder: tuple | None = None
    last_warning = inicio
    while True:
        try:
            acquire(destination)
        except RefreshInProgress as refused:
            now_s = time.monotonic()
            expected_period = now_s - inicio
            if expected_period >= timeout_s:
                raise LockWaitTimeout(refused, expected_period) from None
            who = (refused.pid, refused.host, refused.desde)
            if who != seen_holder or now_s - last_warning >= WARNING_EVERY_S:
                action = "esperando" if seen_holder is None else "sigue esperando"
                log(f"{action} el bloqueo ({expected_period:.0f} s de {timeout_s:.0f} s como máximo): {refused}")
                seen_holder, last_warning = who, now_s
            time.sleep(min(interval_s, timeout_s - expected_period))
            continue
        expected_period = time.monotonic() - inicio
        if seen_holder is not None:
            log(f"bloqueo obtenido tras esperar {expected_period:.0f} s: {_path(destination)}")
        return expected_period if seen_holder is not None else 0.0


# ---------------------------------------------------------------------------------------------------------
# Recovery after a refresh that died.


def _process_start(pid: int) -> float | None:
    """Start time (epoch seconds) of a live process, on Linux; None where /proc is not available."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        btime = next(
            int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime ")
        )
        return btime + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def process_alive(pid: int, *, started_before: float | None = None) -> bool:
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
    if started_before is not None:
        inicio = _process_start(pid)
        if inicio is not None and inicio > started_before + 2.0:  # btime has a one-second resolution
            return False
    return True


def _run_process(instance: dg.DagsterInstance, run_id: str) -> tuple[int | None, float | None]:
    """(pid, timestamp) of the process that executed the run, from its RUN_START event or its latest event."""
    import dagster as dg

    record_list = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.RUN_START, limit=1).records
    record_list = record_list or instance.get_records_for_run(run_id, limit=50, ascending=False).records
    for registro in record_list:
        entry = registro.event_log_entry
        if entry.dagster_event is not None and entry.dagster_event.pid:
            return entry.dagster_event.pid, entry.timestamp
    return None, None


def _slots_by_run(instance: dg.DagsterInstance) -> dict[str, list[str]]:
    """run_id → pools in which it claims a slot or waits for one."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return {}
    slots: dict[str, list[str]] = {}
    for pool, info in storage.get_concurrency_infos(sorted(storage.get_concurrency_keys())).items():
        for slot in info.claimed_slots:
            slots.setdefault(slot.run_id, []).append(pool)
        for step in info.pending_steps:
            if step.assigned_timestamp is None:
                slots.setdefault(step.run_id, [])  # waiting: holds no slot but must leave the queue
    for run_id in storage.get_concurrency_run_ids():
        slots.setdefault(run_id, [])
    return slots


def _slots(pools: list[str]) -> str:
    if not pools:
        return "no retenía ranuras del pool"
    tally = {p: pools.count(p) for p in sorted(set(pools))}
    return "ranuras liberadas: " + ", ".join(f"{p}×{n}" for p, n in tally.items())


def _temp_files(settings: Settings) -> list[Path]:
    """`.{warehouse.name}.*.tmp` files (and their DuckDB `.wal`) beside the warehouse."""
    folder_path = settings.warehouse.parent
    if not folder_path.is_dir():
        return []
    prefijo = f".{settings.warehouse.name}."
    return sorted(
        p
        for p in folder_path.iterdir()
        if p.name.startswith(prefijo) and p.name.endswith((".tmp", ".tmp.wal")) and p.is_file()
    )


def recover(
    settings: Settings, instance: dg.DagsterInstance | None = None, notify: Callable[[str], Any] = print
) -> list[str]:
    """Clean up after refreshes that died; returns (and passes to `informar`) one line per thing recovered.

    Must be called holding the lock (`acquire`), before the new run starts. It
    - reports failed every run left NOT_STARTED/QUEUED/STARTING/STARTED/CANCELING whose process is gone, and
      frees its concurrency slots and pending steps (`free_concurrency_slots_for_run`, what the Dagster daemon
      does after a run ends; a run that never frees them keeps the next runs "blocked by limit for pool");
    - frees the slots still held by runs that did finish (an interrupted step never gives its slot back);
    - deletes `.{warehouse.name}.*.tmp` files (and their `.wal`) left beside the warehouse by a killed publish.
    Runs and files whose process is still alive (another warehouse sharing DAGSTER_HOME, a run launched from
    the Dagster UI) are left alone, with a line starting "  aviso:".
    """
    if not held(settings):
        raise RuntimeError(f"recuperar() requiere tener el bloqueo {settings.lock_path}")
    import dagster as dg
    from dagster._core.events import JobFailureData, RunFailureReason
    from dagster._core.storage.dagster_run import FINISHED_STATUSES

    lineas: list[str] = []

    def say(linea: str) -> None:
        lineas.append(linea)
        notify(linea)

    own = instance is None
    instance = instance or dg.DagsterInstance.get()
    try:
        storage = instance.event_log_storage
        slots = _slots_by_run(instance)
        unfinished = instance.get_run_records(
            filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus[s] for s in UNFINISHED_STATUSES])
        )
        reviewed_runs: set[str] = set()
        for record in unfinished:
            run = record.dagster_run
            reviewed_runs.add(run.run_id)
            pid, ts = _run_process(instance, run.run_id)
            if pid is not None and (pid == os.getpid() or process_alive(pid, started_before=ts)):
                say(
                    f"  aviso: la ejecución {run.run_id} ({run.status.value}) sigue activa en el proceso {pid};"
                    " no se toca"
                )
                continue
            if pid is None and run.remote_job_origin is not None:
                # Launched from the Dagster UI and waiting for its daemon (queued): not ours, holds no slot.
                say(
                    f"  aviso: la ejecución {run.run_id} ({run.status.value}) lanzada desde la interfaz de Dagster"
                    " no ha empezado; no se toca"
                )
                continue
            # No pid: created in-process (a refresh's run emits RUN_START right after creating it) by a process
            # that died before starting it.
            process = f"el proceso {pid} ya no existe" if pid is not None else "su proceso murió antes de iniciarla"
            instance.report_run_failed(
                run,
                message=(
                    f"Ejecución interrumpida: {process} (kill -9, cierre de la terminal, corte de luz…). "
                    f"Marcada como fallida por `vraem refresh` (pid {os.getpid()}) al recuperar."
                ),
                job_failure_data=JobFailureData(error=None, failure_reason=RunFailureReason.UNEXPECTED_TERMINATION),
            )
            pools = slots.get(run.run_id, [])
            if storage.supports_global_concurrency_limits:
                storage.free_concurrency_slots_for_run(run.run_id)
            say(
                f"  recuperado: ejecución {run.run_id} interrumpida marcada como fallida "
                f"(estaba {run.status.value}; {process}); {_slots(pools)}"
            )

        for run_id, pools in slots.items():
            if run_id in reviewed_runs:
                continue
            run = instance.get_run_by_id(run_id)
            if run is not None and run.status not in FINISHED_STATUSES:
                continue  # started after our listing: a live run of another process sharing the instance
            storage.free_concurrency_slots_for_run(run_id)
            estado = run.status.value if run is not None else "borrada"
            if pools:
                say(f"  recuperado: ejecución {run_id} ya terminada ({estado}) retenía el pool; {_slots(pools)}")
            else:
                say(f"  recuperado: ejecución {run_id} ya terminada ({estado}) seguía en la cola del pool; quitada")
    finally:
        if own:
            instance.dispose()

    for path in _temp_files(settings):
        middle = path.name[len(f".{settings.warehouse.name}.") :].split(".tmp", 1)[0]
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            continue
        if middle.isdigit() and int(middle) != os.getpid() and process_alive(int(middle), started_before=mtime):
            say(f"  aviso: {path} es de una publicación en curso (proceso {middle}); no se borra")
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        say(f"  recuperado: archivo temporal de una publicación interrumpida borrado: {path}")
    return lineas


def recover_if_free(
    settings: Settings, instance: dg.DagsterInstance, notify: Callable[[str], Any] = print
) -> list[str] | None:
    """`recover` from the Dagster daemon's side (the sensor's tick): if no refresh holds the lock, every run
    left unfinished is dead — a run the daemon launched that was cut short (a service stopped, a power cut)
    stays STARTED in Dagster and, the queue allowing one run at a time, would hold every queued run until
    someone typed `vraem refresh`. None when a refresh holds the lock (it recovered when it took it)."""
    try:
        acquire(settings)
    except RefreshInProgress:
        return None
    try:
        return recover(settings, instance, notify)
    finally:
        release(settings)
