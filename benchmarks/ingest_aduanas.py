"""One year of customs export files read → validated → staged, at the sample's size or several times it.

    uv run python benchmarks/ingest_aduanas.py --raw /tmp/nat/raw --year 2024              # the national sample
    uv run python benchmarks/ingest_aduanas.py --raw /tmp/nat/raw --year 2024 --copies 6   # ≈ a real year

A real year of Aduanet weekly files is 26–47 k records a week, ~2 M a year (docs/sources.md#aduanas-semanales); the
sample year is ~370 k. `--copies N` stages the year's folder N times over (copies of every weekly zip under
other week names): N × the records to read, inflate, cut and check, though only one copy of each line is
accepted — the rest are repeats, which is the heaviest path of the duplicate search. Prints the seconds of the
read and of the staging, and the peak RSS of this process, against the memory setting.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from vraem_pipeline.core.databases import ensure_schemas, operator_config
from vraem_pipeline.core.sqlrules import stage_text_load
from vraem_pipeline.exportaciones.schema import EXPORTACIONES
from vraem_pipeline.sources import aduanas


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw", required=True)
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--copies", type=int, default=1)
    parser.add_argument("--memory", default="2GB")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vraem_aduanas_") as tmp:
        folder = Path(tmp) / "aduanas" / str(args.year)
        folder.mkdir(parents=True)
        source = Path(args.raw) / "aduanas" / str(args.year)
        for path in source.iterdir():
            for k in range(args.copies):
                # a name of its own, so that each copy is another file of the year
                name = path.name if k == 0 else f"{path.stem}_{k}{path.suffix}"
                shutil.copy(path, folder / name)
        con = duckdb.connect(str(Path(tmp) / "op.duckdb"), config=operator_config(args.memory, Path(tmp) / "spill"))
        ensure_schemas(con)
        files, _ = aduanas.find_files(folder)
        t0 = time.perf_counter()
        load = aduanas.load_year(
            con, files, table="trabajo.exportaciones", anio=args.year, workdir=Path(tmp) / "copies"
        )
        t1 = time.perf_counter()
        staged = stage_text_load(
            con, load, fuente="exportaciones", schema=EXPORTACIONES, table="staging.exportaciones", anio=args.year
        )
        t2 = time.perf_counter()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
        print(
            f"{len(files)} archivos, {load.rows_read:,} líneas leídas, {staged.accepted_rows:,} aceptadas, "
            f"{staged.rejected_rows:,} rechazadas"
        )
        print(
            f"lectura {t1 - t0:.1f} s, validación y escritura {t2 - t1:.1f} s ({staged.step_seconds}), "
            f"total {t2 - t0:.1f} s; pico {peak:.2f} GB (memory_limit {args.memory})"
        )


if __name__ == "__main__":
    main()
