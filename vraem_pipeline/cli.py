"""`vraem`: the data engineer's commands (docs/settings-and-cli.md#command-line).

`refresh` runs the Dagster job in-process against the Dagster instance in DAGSTER_HOME (default: a `.dagster`
folder beside the warehouse), so runs, logs and check results are in the UI afterwards; it prints one line per
step a person can follow and exits non-zero with the file, line and rule when something fails.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from vraem_pipeline.core.settings import Settings, parse_years, years_found

DAGSTER_YAML = """\
# Written by `vraem refresh`. One writer at a time for the DuckDB build file; the runs the Dagster daemon
# launches (sensor, schedule, UI) wait in its queue one after another instead of meeting the refresh lock.
concurrency:
  pools:
    default_limit: 1
  runs:
    max_concurrent_runs: 1
telemetry:
  enabled: false
"""


def _contiguous_blocks(years: list[int]) -> list[tuple[int, int]]:
    blocks: list[list[int]] = []
    for y in years:
        if blocks and y == blocks[-1][-1] + 1:
            blocks[-1].append(y)
        else:
            blocks.append([y])
    return [(b[0], b[-1]) for b in blocks]


def _ensure_dagster_home(settings: Settings) -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or settings.warehouse.parent / ".dagster").resolve()
    with _dagster_storage(home):
        home.mkdir(parents=True, exist_ok=True)
        if not (home / "dagster.yaml").exists():
            (home / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


@contextmanager
def _dagster_storage(home: Path):
    """A full disk or a file-size limit met by Dagster's own storage (the SQLite files under DAGSTER_HOME, its
    dagster.yaml) names that folder instead of surfacing as SQLite's traceback."""
    from vraem_pipeline.core.errors import StorageError, raise_storage_error

    try:
        yield
    except StorageError:
        raise
    except Exception as err:
        raise_storage_error(err, home, "escribir la instancia de Dagster")
        raise


#: Errors whose message already names the file, line and rule (`errors.py`).
_FILE_ERRORS = ("SourceFileError", "ReferenceDataError", "StorageError")


def _root_cause(error) -> str:
    """The message a person can act on: the first error of the chain that names the file (a library error it
    wraps, e.g. pyreadstat's, does not), else the deepest cause (Dagster's own wrappers say nothing useful)."""
    chain = []
    while error is not None:
        chain.append(error)
        error = getattr(error, "cause", None)
    named = [e for e in chain if getattr(e, "cls_name", None) in _FILE_ERRORS]
    error = named[0] if named else chain[-1]
    message = (error.message or "").strip()
    message = (
        message.split(": ", 1)[1]
        if message.startswith(("vraem_pipeline.", "ValueError", "KeyError")) and ": " in message
        else message
    )
    if not named:  # a library's words for a full disk or a file-size limit: say it in the user's
        from vraem_pipeline.core.errors import storage_cause

        cause = storage_cause(Exception(message))
        if cause is not None:
            message = f"{cause}: {message}"
    return message


def _failed_assets(error) -> str | None:
    """The assets a topic's step was computing when it failed (`steps.PartFailed`), if the error says."""
    while error is not None:
        if getattr(error, "cls_name", None) == "PartFailed":
            return (error.message or "").split(": ", 1)[-1].strip() or None
        error = getattr(error, "cause", None)
    return None


def _report(result) -> tuple[list[str], list[str]]:
    """(errors, warnings) a person can act on, from the run's events."""
    errors, warnings = [], []
    for event in result.all_events:
        kind = event.event_type_value
        if kind == "STEP_FAILURE":  # a multi-line message (the publish guard: one line per loss) stays one per line
            error = event.event_specific_data.error
            where = _failed_assets(error) or event.step_key
            errors += [f"{where}: {line}" for line in _root_cause(error).splitlines()]
        elif kind in ("RESOURCE_INIT_FAILURE", "RESOURCE_TEARDOWN_FAILURE") and event.event_specific_data.error:
            # e.g. the run's copy of the operator database could not be made (a full disk): no step ran
            errors += [
                f"recursos de la ejecución: {line}"
                for line in _root_cause(event.event_specific_data.error).splitlines()
            ]
        elif kind == "ASSET_CHECK_EVALUATION":
            ev = event.event_specific_data
            if not ev.passed:
                name = f"{ev.asset_key.to_user_string()}:{ev.check_name}"
                details = {k: v.value for k, v in ev.metadata.items() if not hasattr(v.value, "splitlines")}
                line = f"control {name} no pasó {details}"
                (errors if ev.severity.value == "ERROR" else warnings).append(line)
    return errors, warnings


def refresh(args: argparse.Namespace) -> int:
    """`vraem refresh`; whatever fails, the last line it prints starts with `vraem refresh:` and says what
    happened (a full disk under Dagster's own storage included, never a library's traceback)."""
    published: list[str] = []  # runs of this refresh that published (a --years with gaps is several runs)
    try:
        return _refresh(args, published)
    except KeyboardInterrupt:
        print(f"vraem refresh: interrumpido (Ctrl-C); {_unchanged(published)}", file=sys.stderr)
        return 130
    except Exception as exc:  # the one-line verdict instead of a traceback; the details are in the Dagster run
        print(f"vraem refresh: falló: {_describe_failure(exc)}; {_unchanged(published)}", file=sys.stderr)
        return 1


def _unchanged(published: list[str]) -> str:
    if published:
        return f"solo se publicó lo de las ejecuciones {', '.join(published)}"
    return "el almacén publicado y la base de operación no se modificaron"


def _describe_failure(exc: BaseException) -> str:
    """One line naming the cause: a storage failure (no space, file too large) with the file being written —
    for Dagster's SQLite storage, its folder — or the error's own first line."""
    from vraem_pipeline.core.errors import StorageError, storage_cause

    if isinstance(exc, StorageError):
        return str(exc)
    cause = storage_cause(exc)
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if cause is None:
        return first
    if getattr(exc, "filename", None):
        return f"{exc.filename}: {cause} al escribirlo"
    return f"{cause} ({first})"


def _refresh(args: argparse.Namespace, published: list[str]) -> int:
    if args.raw:
        os.environ["VRAEM_RAW_DIR"] = str(Path(args.raw).resolve())
    if args.warehouse:
        os.environ["VRAEM_WAREHOUSE"] = str(Path(args.warehouse).resolve())
    settings = Settings.from_env()
    years = parse_years(args.years) if args.years else years_found(settings.raw_dir)
    if not years:
        print(f"vraem refresh: no hay carpetas de año con archivos en {settings.raw_dir}", file=sys.stderr)
        return 2
    from vraem_pipeline.core import raw_scan
    from vraem_pipeline.registry import SOURCES

    empty = raw_scan.years_without_files(settings.raw_dir, years, SOURCES)
    if empty and not args.permitir_perdidas:
        folders = ", ".join(dict.fromkeys(f"{s.folder}/" for s in SOURCES if s.yearly))
        print(
            f"vraem refresh: ninguna fuente tiene archivos en raw/ para {', '.join(map(str, empty))} ({folders}): "
            "refrescar esos años borraría lo que la base de operación y el almacén tienen de ellos; quítelos de "
            "--years o, si es lo que quiere, repita con --permitir-perdidas",
            file=sys.stderr,
        )
        return 2

    # One refresh at a time (vraem_pipeline/bloqueo.py): refused at once, before loading Dagster, if another
    # process holds the lock; the kernel releases it however this process ends (Ctrl-C and kill -9 included).
    from vraem_pipeline.core import lock as locking

    try:
        locking.acquire(settings)
    except locking.RefreshInProgress as exc:
        print(f"vraem refresh: {exc}", file=sys.stderr)
        return 3
    try:
        home = _ensure_dagster_home(settings)
        with _dagster_storage(home):
            locking.recover(settings)  # holding the lock: runs, pool slots and files left by a refresh that died
        return _refresh_locked(settings, years, home, published, permitir_perdidas=args.permitir_perdidas)
    finally:
        locking.release(settings)


def _refresh_locked(
    settings: Settings, years: list[int], home: Path, published_runs: list[str], *, permitir_perdidas: bool = False
) -> int:
    """The refresh proper, run while holding the lock (see `refresh`); appends to `published_runs` each run that
    published."""
    progress = logging.getLogger("vraem.progreso")
    progress.setLevel(logging.INFO)
    handler = logging.StreamHandler(sys.stdout)
    started = time.perf_counter()
    handler.setFormatter(logging.Formatter("%(message)s"))
    progress.addHandler(handler)
    progress.propagate = False
    try:
        return _run_blocks(settings, years, home, published_runs, permitir_perdidas, started)
    finally:
        progress.removeHandler(handler)


def _run_blocks(
    settings: Settings, years: list[int], home: Path, published_runs: list[str], permitir_perdidas: bool, started: float
) -> int:
    import dagster as dg

    from vraem_pipeline.core.guards import ALLOW_LOSSES_TAG
    from vraem_pipeline.definitions import defs

    print(f"vraem refresh: años {years[0]}–{years[-1]} · raw {settings.raw_dir} · almacén {settings.warehouse}")
    print(f"  territorio {settings.territory} · instancia Dagster {home}")
    from vraem_pipeline.core import raw_scan
    from vraem_pipeline.registry import SOURCES

    for line in raw_scan.unrecognised_messages(raw_scan.unrecognised_files(settings.raw_dir, SOURCES)):
        print(f"  ADVERTENCIA {line}")
    job = defs().resolve_job_def("refresco")
    with _dagster_storage(home):
        instance = dg.DagsterInstance.get()
    status = 0
    for start, end in _contiguous_blocks(years):
        with _dagster_storage(home):  # steps' own failures are events; what escapes is the instance's storage
            result = job.execute_in_process(
                instance=instance,
                tags={
                    "dagster/asset_partition_range_start": str(start),
                    "dagster/asset_partition_range_end": str(end),
                    **({ALLOW_LOSSES_TAG: "true"} if permitir_perdidas else {}),
                },
                run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
                raise_on_error=False,
            )
        errors, warnings = _report(result)
        for w in warnings:
            print(f"  ADVERTENCIA {w}")
        if errors or not result.success:
            for e in errors or ["la ejecución falló (ver la interfaz de Dagster)"]:
                print(f"ERROR {e}", file=sys.stderr)
            published = any(
                e.event_type_value == "ASSET_MATERIALIZATION" and e.asset_key == dg.AssetKey(["almacen", "publicado"])
                for e in result.all_events
            )
            if published:
                published_runs.append(result.run_id)
                state = "se publicó el almacén pero un paso posterior falló"
            else:
                state = "esta ejecución no modificó el almacén publicado ni la base de operación"
            print(f"vraem refresh: falló la ejecución {result.run_id}; {state}", file=sys.stderr)
            status = 1
            break
        published_runs.append(result.run_id)
        print(f"  ejecución {result.run_id} ({start}–{end}) publicada en {time.perf_counter() - started:.1f} s")
    if status == 0:
        print(f"vraem refresh: listo — {settings.warehouse}")
    return status


def sample_data(args: argparse.Namespace) -> int:
    """The sample generators are a package of their own (`vraem_sample/`, beside the pipeline in the repository
    checkout): they are not part of the pipeline's wheel."""
    try:
        from vraem_sample import write_sample
    except ModuleNotFoundError:
        print(
            "vraem sample-data: los generadores de la muestra (paquete vraem_sample) no están instalados: vienen "
            "con el repositorio, no con el paquete del pipeline; ejecútelo desde una copia del repositorio "
            "(uv run vraem sample-data)",
            file=sys.stderr,
        )
        return 2

    out = Path(args.out).resolve() if args.out else Settings.from_env().raw_dir
    t0 = time.perf_counter()
    paths = write_sample(out, seed=args.seed, scale=args.scale)
    print(f"vraem sample-data: {len(paths)} archivos en {out} ({time.perf_counter() - t0:.1f} s)")
    return 0


def report(args: argparse.Namespace) -> int:
    from vraem_pipeline.informe import write_report
    from vraem_pipeline.informe.data import published_years

    settings = Settings.from_env()
    warehouse = Path(args.warehouse).resolve() if args.warehouse else settings.warehouse
    if not warehouse.exists():
        print(f"vraem report: {warehouse}: no hay almacén publicado; ejecute antes `vraem refresh`", file=sys.stderr)
        return 2
    published = published_years(warehouse)
    if args.year not in published:
        print(
            f"vraem report: {warehouse}: el almacén publicado no tiene cifras de {args.year} "
            f"(años publicados: {', '.join(map(str, published)) or 'ninguno'})",
            file=sys.stderr,
        )
        return 2
    out = Path(args.out).resolve() if args.out else settings.informe_dir
    t0 = time.perf_counter()
    archivos = write_report(warehouse, args.year, out, pdf=not args.sin_pdf)
    for path in (archivos.html, archivos.xlsx, archivos.pdf):
        if path:
            print(f"  {path}")
    if archivos.pdf_warning:
        print(f"vraem report: aviso: {archivos.pdf_warning}", file=sys.stderr)
    print(f"vraem report: listo ({time.perf_counter() - t0:.1f} s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vraem", description="Pipeline del reporte Desempeño económico del VRAEM")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sample-data", help="escribe los archivos sintéticos de muestra (2019–2024) en formato real")
    p.add_argument("--out", help="carpeta raw de destino (por defecto VRAEM_RAW_DIR)")
    p.add_argument("--seed", type=int, default=2024)
    p.add_argument(
        "--scale",
        choices=["national", "small", "real"],
        default="national",
        help="national: cortes de 2.5–3.2 M líneas (inicio rápido); real: cortes del tamaño de SUNAT "
        "(12.5 M líneas en 2024, ~15 GB de texto); small: para pruebas",
    )
    p.set_defaults(func=sample_data)

    p = sub.add_parser("refresh", help="materializa todo el grafo de Dagster y publica el almacén")
    p.add_argument("--years", help="p. ej. 2019-2024 (por defecto los años presentes en raw/)")
    p.add_argument("--raw", help="carpeta de archivos fuente (VRAEM_RAW_DIR)")
    p.add_argument("--warehouse", help="archivo DuckDB publicado (VRAEM_WAREHOUSE)")
    p.add_argument(
        "--permitir-perdidas",
        action="store_true",
        help="publica aunque una fuente y año pierda sus filas (o más del 90 %% de ellas), una cifra "
        "clave pase a 0 o desaparezca, o un año desaparezca de un mart frente al almacén publicado, "
        "y refresca años sin archivos en raw/ (vaciándolos); sin esta opción esas pérdidas detienen "
        "la publicación y el almacén publicado no cambia",
    )
    p.set_defaults(func=refresh)

    p = sub.add_parser("report", help="reporte HTML, cuadros .xlsx y PDF de un año, del almacén publicado")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--out", help="carpeta de salida (por defecto VRAEM_INFORME_DIR: warehouse/informe/)")
    p.add_argument("--warehouse", help="almacén publicado del que se lee (VRAEM_WAREHOUSE)")
    p.add_argument("--sin-pdf", action="store_true", help="no imprimir el PDF con Chromium")
    p.set_defaults(func=report)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
