"""Write the synthetic customs export files (`vraem_sample/aduanas.py`) and time it, year by year.

    uv run python benchmarks/sample_aduanas.py                    # the test scale (small), 2021–2024: ~0.3 s idle
    uv run python benchmarks/sample_aduanas.py --scale national   # the quick start's, ~300 k accepted lines a year
    uv run python benchmarks/sample_aduanas.py --out /tmp/raw          # kept there (a temp folder is removed)

Tests check what the files hold (tests/sample/test_sample_aduanas.py); how long writing them takes is measured here,
where a slow shared machine cannot fail anything. Prints the seconds to build the firm population (shared with
the other SUNAT files) and, per year, the seconds to write, the files, their size and the lines the generator says
it wrote (read = accepted + rejected + repeats), and the peak RSS of this process.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from vraem_sample import aduanas
from vraem_sample.calibration import calibrate
from vraem_sample.padron import build_universe


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", choices=["small", "national"], default="small")
    parser.add_argument("--seed", type=int, default=7, help="7 = the tests' seed; 2024 = `vraem sample-data`'s")
    parser.add_argument("--years", default="2021-2024")
    parser.add_argument("--out", help="folder to write into, kept (default: a temp folder, removed after)")
    args = parser.parse_args()
    first, _, last = args.years.partition("-")
    years = list(range(int(first), int(last or first) + 1))

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="vraem_sample_aduanas_"))
    try:
        t0 = time.perf_counter()
        uni = build_universe(calibrate(args.scale), args.seed)
        print(f"universo escala={args.scale} seed={args.seed}: {time.perf_counter() - t0:.2f} s")
        counts = aduanas.tally_aduanas(uni, years)
        total = 0.0
        print("año  escribir_s  archivos  MB      líneas_leídas  aceptadas  rechazadas  duplicadas")
        for year in years:
            t1 = time.perf_counter()
            paths = aduanas.write_aduanas(uni, out, [year])
            seconds = time.perf_counter() - t1
            total += seconds
            if year not in counts:
                print(
                    f"{year}  {seconds:10.2f}  sin archivos (fuera de {min(aduanas.ADUANAS_YEARS)}–"
                    f"{max(aduanas.ADUANAS_YEARS)})"
                )
                continue
            c = counts[year]
            mb = sum(p.stat().st_size for p in paths) / 1e6
            print(
                f"{year}  {seconds:10.2f}  {len(paths):8d}  {mb:6.1f}  {c['lineas_leidas']:13,d}  "
                f"{c['aceptadas']:9,d}  {c['rechazadas']:10,d}  {c['duplicadas']:10,d}"
            )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
        print(f"total escribir {total:.2f} s; pico {peak:.2f} GB")
    finally:
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
