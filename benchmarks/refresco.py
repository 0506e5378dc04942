"""Whole refreshes as a data engineer runs them (`vraem` in a child process), timed, with their peak memory.

    uv run python benchmarks/refresco.py --raw /tmp/nat/raw                      # national sample (quick start)
    uv run python benchmarks/refresco.py --raw /tmp/real/raw --memoria 2GB       # real-size cuts
    uv run python benchmarks/refresco.py --sample-data /tmp/nat/raw              # also time `vraem sample-data`

For the raw folder given, in a fresh temp folder for the warehouse, the operator database and DAGSTER_HOME:
  1. `vraem refresh` of every year found (full refresh of a new warehouse);
  2. `vraem refresh --years <last>` on top of it: one year added to (re-read into) a published six-year warehouse;
and prints each one's wall time and peak RSS (`os.wait4` of that child: the process and what it waited for),
the published file's size and the operator database's. Targets (issue 6): full six-year refresh of real-size
cuts ≤ 3 min and ≤ 2 GB; national sample ≤ 1 min; one year added ≤ 30 % of the full refresh; `vraem
sample-data` at national scale ≤ 90 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS (GB), exit code and the last lines of output of `vraem <args>`."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "vraem_pipeline.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    return seconds, usage.ru_maxrss / 1024 / 1024, os.waitstatus_to_exitcode(status), "\n".join(out.splitlines()[-25:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw", required=True)
    parser.add_argument("--memoria", default="2GB")
    parser.add_argument("--sample-data", help="write the national sample here first, timed")
    parser.add_argument("--keep", help="keep the warehouse folder here instead of a temp folder")
    args = parser.parse_args()
    env = {**os.environ, "VRAEM_MEMORIA": args.memoria}
    if args.sample_data:
        s, gb, code, out = run(["sample-data", "--out", args.sample_data], env)
        print(f"vraem sample-data (national): {s:.1f} s, pico {gb:.2f} GB, salida {code}")
    with tempfile.TemporaryDirectory(prefix="vraem_refresco_", dir=args.keep) as tmp:
        folder = Path(args.keep or tmp)
        env.update(
            VRAEM_WAREHOUSE=str(folder / "vraem.duckdb"),
            DAGSTER_HOME=str(folder / "dagster"),
            VRAEM_RAW_DIR=str(Path(args.raw).resolve()),
        )
        env.pop("VRAEM_OPERACION", None)
        full, gb, code, out = run(["refresh"], env)
        print(out)
        print(f"refresh completo: {full:.1f} s, pico {gb:.2f} GB, salida {code}")
        years = sorted(int(p.name) for p in (Path(args.raw) / "sunat" / "padron").iterdir() if p.name.isdigit())
        one, gb1, code1, out1 = run(["refresh", "--years", str(years[-1])], env)
        print(out1)
        print(
            f"un año ({years[-1]}) sobre el almacén publicado: {one:.1f} s, pico {gb1:.2f} GB, salida {code1} "
            f"({100 * one / full:.0f} % del completo; meta ≤ 30 %)"
        )
        wh, op = folder / "vraem.duckdb", folder / "vraem_operacion.duckdb"
        print(
            f"almacén de analistas {wh.stat().st_size / 1e6:.1f} MB; base de operación {op.stat().st_size / 1e9:.2f} GB"
        )


if __name__ == "__main__":
    main()
