"""What one tick of the sensor on raw/ (`nuevos_archivos`, vraem_pipeline/defs/automation.py) costs on a raw folder.

    uv run python benchmarks/sensor_tick.py --raw /tmp/real/raw [--warehouse /tmp/real/vraem.duckdb] [--json]

Evaluates the tick in-process, as the daemon does (`evaluate_tick` with the project's definitions and an
ephemeral instance, like tests/defs/test_automation.py), and prints:
  * the first tick: no cursor (the sensor just started, or was reset), so every watched file is read and hashed;
    against the published warehouse given (`--warehouse`, e.g. one `benchmarks/refresh.py --keep` left: its files
    are held, nothing is requested), else against none (every year is requested);
  * the quiet tick: the first tick's cursor, nothing moved — a stat per file (the best of three).
and of the first tick the seconds spent hashing, the `raw/` walk alone, the files and bytes watched, the runs
requested. Loading the definitions is timed apart (the daemon loads them once, not per tick). `--json` ends the
output with one line of JSON holding the figures (what `benchmarks/table.py` reads).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw", required=True, type=Path)
    parser.add_argument("--warehouse", type=Path, help="the published warehouse the first tick compares with")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    args = parser.parse_args()
    raw = args.raw.resolve()
    with tempfile.TemporaryDirectory(prefix="vraem_sensor_") as tmp:
        os.environ["VRAEM_RAW_DIR"] = str(raw)
        os.environ["VRAEM_WAREHOUSE"] = str(args.warehouse.resolve() if args.warehouse else Path(tmp) / "none.duckdb")
        os.environ["VRAEM_OPERACION"] = str(Path(tmp) / "vraem_operacion.duckdb")  # the tick takes the lock
        logging.getLogger("dagster").setLevel(logging.ERROR)

        import dagster as dg

        from vraem_pipeline.definitions import defs
        from vraem_pipeline.defs import automation

        t0 = time.perf_counter()
        definitions = defs()
        definitions.resolve_asset_graph()
        load_s = time.perf_counter() - t0
        instance = dg.DagsterInstance.ephemeral()

        hashing = [0.0]
        sha256_of = automation.sha256_of

        def timed_sha256(path: Path) -> str:
            start = time.perf_counter()
            try:
                return sha256_of(path)
            finally:
                hashing[0] += time.perf_counter() - start

        automation.sha256_of = timed_sha256

        def tick(cursor: str | None) -> tuple[float, dg.SensorResult]:
            context = dg.build_sensor_context(cursor=cursor, definitions=definitions, instance=instance)
            start = time.perf_counter()
            result = automation.nuevos_archivos.evaluate_tick(context)
            return time.perf_counter() - start, result

        first_s, first = tick(None)
        hashed_s = hashing[0]
        quiet = [tick(first.cursor) for _ in range(3)]
        quiet_s = min(s for s, _ in quiet)
        t0 = time.perf_counter()
        walked = sorted(raw.rglob("*"))
        walk_s = time.perf_counter() - t0
    cursor = json.loads(first.cursor)
    size = sum(entry[0] for entry in cursor.values())
    figures = {
        "raw": str(raw),
        "warehouse": str(args.warehouse) if args.warehouse else None,
        "files": len(cursor),
        "gb": round(size / 1e9, 2),
        "paths_walked": len(walked),
        "definitions_s": round(load_s, 2),
        "first_s": round(first_s, 2),
        "first_hashing_s": round(hashed_s, 2),
        "first_requests": len(first.run_requests),
        "quiet_s": round(quiet_s, 3),
        "quiet_runs_s": [round(s, 3) for s, _ in quiet],
        "quiet_requests": max(len(r.run_requests) for _, r in quiet),
        "walk_s": round(walk_s, 3),
    }
    print(
        f"raw {raw}: {figures['files']} archivos vigilados, {figures['gb']} GB; "
        f"definiciones {figures['definitions_s']} s"
    )
    print(
        f"primer tick (sin cursor; almacén publicado: {figures['warehouse'] or 'ninguno'}): {figures['first_s']} s, "
        f"de ellos {figures['first_hashing_s']} s calculando SHA-256; {figures['first_requests']} ejecuciones pedidas"
    )
    print(
        f"tick tranquilo (nada cambió): {figures['quiet_s']} s (mejor de {figures['quiet_runs_s']}), "
        f"el recorrido de raw/ solo {figures['walk_s']} s; {figures['quiet_requests']} ejecuciones pedidas"
    )
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
