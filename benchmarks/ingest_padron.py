"""One Padrón RUC cut through the pipeline's ingest, side by side with DuckDB's own load of the same file.

    uv run python benchmarks/ingest_padron.py raw/sunat/padron/2024/PadronRUC_202412.zip [--memory 2GB]
    uv run python benchmarks/ingest_padron.py PadronRUC_201912.zip --baseline-only   # DuckDB's own load, once

prints, each measured in its own process (so each peak RSS is its own):
  * DuckDB's own load: `CREATE TABLE t AS SELECT <the nine staged columns> FROM read_csv(file, all_varchar=true,
    store_rejects=true)` into a database file, run before and after the pipeline, the better of the two (the
    load writes a file and the page cache moves it). A zip is extracted first (not timed): DuckDB cannot read
    one, so the baseline is the plain member.
  * the pipeline: read → validate → quarantine → stage → blocking check (`padron.load_cut`,
    `sqlrules.stage_text_load`, `sqlrules.table_failures`) into a fresh operator database under the memory
    limit, with the time of each step.
and the ratio of the two, in wall-clock seconds and in CPU seconds (user + system of the process): on a shared
machine the wall clock of both moves with the other processes, the CPU far less. The load average before and
after is printed too. Targets (docs/performance.md): ratio ≤ 2, peak RSS ≤ 1.5 GB.

`--baseline-only` measures DuckDB's own load alone, once (the floor of a refresh: `table.py` adds the six cuts').
Scratch files (the extracted member, both databases, DuckDB's spill) go to a temporary folder under `--workdir`
(default: the file's own folder, so that they sit on the same disk). `--json` ends the output with one line of
JSON holding every figure (what `benchmarks/table.py` reads).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

COLUMNS = [
    "RUC",
    "Estado",
    "Condicion",
    "Tipo",
    "Actividad_Economica_CIIU_revision4_Principal",
    "NroTrab",
    "ComercioExterior",
    "UBIGEO",
    "PERIODO_PUBLICACION",
]


def _peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def baseline(csv_path: str, db: str, memory: str) -> dict:
    import duckdb

    Path(db).unlink(missing_ok=True)
    con = duckdb.connect(db, config={"memory_limit": memory})
    t0, c0 = time.perf_counter(), _cpu()
    con.execute(
        f"CREATE TABLE t AS SELECT {', '.join(COLUMNS)} FROM read_csv('{csv_path}', all_varchar=true, "
        "store_rejects=true)"
    )
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
    con.close()
    Path(db).unlink(missing_ok=True)
    return {"seconds": round(seconds, 2), "cpu": round(cpu, 2), "rows": rows, "peak_gb": round(_peak_gb(), 2)}


def pipeline(path: str, db: str, memory: str, temp: str) -> dict:
    from vraem_pipeline.core.databases import connect, ensure_schemas
    from vraem_pipeline.core.sqlrules import register_macros, row_verdict, stage_text_load, table_failures
    from vraem_pipeline.empresas.schema import PADRON
    from vraem_pipeline.sources import padron

    Path(db).unlink(missing_ok=True)
    con = connect(db)
    con.execute(f"SET memory_limit = '{memory}'")
    con.execute(f"SET temp_directory = '{temp}'")
    ensure_schemas(con)
    name = Path(path).name
    cut = padron.Cut(Path(path), name.split("_")[1][:6])
    t0, c0 = time.perf_counter(), _cpu()
    register_macros(con)
    load = padron.load_cut(
        con, cut, table="trabajo.padron_ruc", workdir=Path(temp), derived=row_verdict(PADRON, cut.anio)
    )
    t1 = time.perf_counter()
    staged = stage_text_load(con, load, fuente="padron_ruc", schema=PADRON, table="staging.padron_ruc", anio=cut.anio)
    t2 = time.perf_counter()
    failures = table_failures(con, "staging.padron_ruc", PADRON, [cut.anio])
    t3, cpu = time.perf_counter(), _cpu() - c0
    con.close()
    Path(db).unlink(missing_ok=True)
    return {
        "seconds": round(t3 - t0, 2),
        "cpu": round(cpu, 2),
        "read": round(t1 - t0, 2),
        "validate_and_write": round(t2 - t1, 2),
        "blocking_check": round(t3 - t2, 2),
        "steps": staged.step_seconds,
        "via": load.via,
        "rows_read": load.rows_read,
        "accepted": staged.accepted_rows,
        "rejected": staged.rejected_rows,
        "check_failures": len(failures),
        "peak_gb": round(_peak_gb(), 2),
    }


def _child(kind: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _plain(src: Path, tmp: str) -> Path:
    """The file DuckDB's own load reads: the file itself, or a zip's (first) member extracted into `tmp`."""
    if not zipfile.is_zipfile(src):
        return src
    plain = Path(tmp) / "member.csv"
    with zipfile.ZipFile(src) as zf, zf.open(zf.namelist()[0]) as member, open(plain, "wb") as out:
        shutil.copyfileobj(member, out, 16 << 20)
    return plain


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", nargs="?")
    parser.add_argument("--memory", default="2GB", help="DuckDB's memory_limit for both loads")
    parser.add_argument("--workdir", type=Path, help="where the scratch folder goes (default: the file's folder)")
    parser.add_argument("--baseline-only", action="store_true", help="only DuckDB's own load, once")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of every figure")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        print(json.dumps(baseline(*rest) if kind == "base" else pipeline(*rest)))
        return
    if not args.file:
        parser.error("the cut to load is required")
    src = Path(args.file).resolve()
    workdir = (args.workdir or src.parent).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vraem_bench_", dir=workdir) as tmp:
        plain = _plain(src, tmp)
        load_before = os.getloadavg()
        runs = [_child("base", str(plain), f"{tmp}/base.duckdb", args.memory)]
        ours = None
        if not args.baseline_only:
            ours = _child("pipeline", str(src), f"{tmp}/operator.duckdb", args.memory, tmp)
            runs.append(_child("base", str(plain), f"{tmp}/base.duckdb", args.memory))
        load_after = os.getloadavg()
    base = min(runs, key=lambda r: r["seconds"])
    print(
        f"archivo: {src} ({src.stat().st_size / 1e9:.2f} GB), memory_limit {args.memory}, {os.cpu_count()} CPU; "
        f"carga media antes {load_before[0]:.2f}, después {load_after[0]:.2f} (1 min)"
    )
    print(
        f"DuckDB, carga propia ({', '.join(str(r['seconds']) for r in runs)} s): "
        f"{base['seconds']} s, CPU {base['cpu']} s, {base['rows']:,} filas, pico {base['peak_gb']} GB"
    )
    figures = {
        "file": str(src),
        "size_gb": round(src.stat().st_size / 1e9, 3),
        "memory": args.memory,
        "baseline": base,
        "baseline_runs": runs,
        "load_before": load_before[0],
        "load_after": load_after[0],
    }
    if ours is not None:
        print(
            f"pipeline (leer → validar → cuarentena → staging → control): {ours['seconds']} s, CPU {ours['cpu']} s, "
            f"pico {ours['peak_gb']} GB "
            f"[lectura {ours['read']} s vía {ours['via']}, validación y escritura {ours['validate_and_write']} s "
            f"{ours['steps']}, control bloqueante {ours['blocking_check']} s]"
        )
        print(
            f"  leídas {ours['rows_read']:,} = aceptadas {ours['accepted']:,} + rechazadas {ours['rejected']:,}; "
            f"fallas del control: {ours['check_failures']}"
        )
        ratio, cpu_ratio = ours["seconds"] / base["seconds"], ours["cpu"] / min(r["cpu"] for r in runs)
        print(f"razón pipeline / DuckDB: {ratio:.2f} en tiempo, {cpu_ratio:.2f} en CPU (meta ≤ 2; pico ≤ 1.5 GB)")
        figures.update(pipeline=ours, ratio=round(ratio, 2), cpu_ratio=round(cpu_ratio, 2))
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
