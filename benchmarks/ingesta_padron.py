"""One Padrón RUC cut through the pipeline's ingest, side by side with DuckDB's own load of the same file.

    uv run python benchmarks/ingesta_padron.py raw/sunat/padron/2024/PadronRUC_202412.zip [--memoria 2GB]

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
after is printed too. Targets (issue 17): ratio ≤ 2, peak RSS ≤ 1.5 GB.
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


def baseline(csv_path: str, db: str, memoria: str) -> dict:
    import duckdb

    Path(db).unlink(missing_ok=True)
    con = duckdb.connect(db, config={"memory_limit": memoria})
    t0, c0 = time.perf_counter(), _cpu()
    con.execute(
        f"CREATE TABLE t AS SELECT {', '.join(COLUMNS)} FROM read_csv('{csv_path}', all_varchar=true, "
        "store_rejects=true)"
    )
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
    con.close()
    return {"segundos": round(seconds, 2), "cpu": round(cpu, 2), "filas": rows, "pico_gb": round(_peak_gb(), 2)}


def pipeline(path: str, db: str, memoria: str, temp: str) -> dict:
    from vraem_pipeline.core.databases import connect, ensure_schemas
    from vraem_pipeline.core.sqlrules import register_macros, row_verdict, stage_text_load, table_failures
    from vraem_pipeline.empresas.schema import PADRON
    from vraem_pipeline.sources import padron

    Path(db).unlink(missing_ok=True)
    con = connect(db)
    con.execute(f"SET memory_limit = '{memoria}'")
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
    return {
        "segundos": round(t3 - t0, 2),
        "cpu": round(cpu, 2),
        "lectura": round(t1 - t0, 2),
        "validacion_y_escritura": round(t2 - t1, 2),
        "control_bloqueante": round(t3 - t2, 2),
        "pasos": staged.step_seconds,
        "via": load.via,
        "leidas": load.rows_read,
        "aceptadas": staged.accepted_rows,
        "rechazadas": staged.rejected_rows,
        "fallas_control": len(failures),
        "pico_gb": round(_peak_gb(), 2),
    }


def _child(kind: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--hijo", kind, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("archivo", nargs="?")
    parser.add_argument("--memoria", default="2GB")
    parser.add_argument("--hijo", nargs="+")
    args = parser.parse_args()
    if args.hijo:
        kind, *rest = args.hijo
        print(json.dumps(baseline(*rest) if kind == "base" else pipeline(*rest)))
        return
    src = Path(args.archivo).resolve()
    with tempfile.TemporaryDirectory(prefix="vraem_bench_", dir=src.parent) as tmp:
        plain = src
        if zipfile.is_zipfile(src):
            with zipfile.ZipFile(src) as zf, zf.open(zf.namelist()[0]) as member:
                plain = Path(tmp) / "miembro.csv"
                with open(plain, "wb") as out:
                    shutil.copyfileobj(member, out, 16 << 20)
        load_before = os.getloadavg()
        runs = [_child("base", str(plain), f"{tmp}/base.duckdb", args.memoria)]
        ours = _child("pipeline", str(src), f"{tmp}/operacion.duckdb", args.memoria, tmp)
        runs.append(_child("base", str(plain), f"{tmp}/base.duckdb", args.memoria))
        load_after = os.getloadavg()
        base = min(runs, key=lambda r: r["segundos"])
    print(
        f"archivo: {src} ({src.stat().st_size / 1e9:.2f} GB), memory_limit {args.memoria}, {os.cpu_count()} CPU; "
        f"carga media antes {load_before[0]:.2f}, después {load_after[0]:.2f} (1 min)"
    )
    print(
        f"DuckDB, carga propia (antes y después del pipeline: {', '.join(str(r['segundos']) for r in runs)} s): "
        f"{base['segundos']} s, CPU {base['cpu']} s, {base['filas']:,} filas, pico {base['pico_gb']} GB"
    )
    print(
        f"pipeline (leer → validar → cuarentena → staging → control): {ours['segundos']} s, CPU {ours['cpu']} s, "
        f"pico {ours['pico_gb']} GB "
        f"[lectura {ours['lectura']} s vía {ours['via']}, validación y escritura {ours['validacion_y_escritura']} s "
        f"{ours['pasos']}, control bloqueante {ours['control_bloqueante']} s]"
    )
    print(
        f"  leídas {ours['leidas']:,} = aceptadas {ours['aceptadas']:,} + rechazadas {ours['rechazadas']:,}; "
        f"fallas del control: {ours['fallas_control']}"
    )
    print(
        f"razón pipeline / DuckDB: {ours['segundos'] / base['segundos']:.2f} en tiempo, "
        f"{ours['cpu'] / min(r['cpu'] for r in runs):.2f} en CPU (meta ≤ 2; pico ≤ 1.5 GB)"
    )


if __name__ == "__main__":
    main()
