"""Whole refreshes as a data engineer runs them (`vraem` in a child process), timed, with their peak memory.

    uv run python benchmarks/refresh.py --raw /tmp/nat/raw                      # national sample (quick start)
    uv run python benchmarks/refresh.py --raw /tmp/real/raw --memory 2GB        # real-size cuts
    uv run python benchmarks/refresh.py --sample-data /tmp/nat/raw              # also time `vraem sample-data`

For the raw folder given, in a fresh folder for the warehouse, the operator database and DAGSTER_HOME (a
temporary one, or `--keep DIR`, which must be empty or absent):
  1. `vraem refresh` of every year found (full refresh of a new warehouse);
  2. `vraem refresh --years <last>` on top of it: one year added to (re-read into) a published six-year warehouse;
and prints each one's wall time, CPU time and peak RSS (`os.wait4` of that child: the process and what it waited
for), where the time went (the seconds `vraem refresh` prints per source and year, summed per source, and each
Dagster step's duration from the run's records), the published file's size and the operator database's. `--memory`
is `VRAEM_MEMORIA`. Targets (docs/performance.md): full six-year refresh of real-size cuts ≤ 3 min and ≤ 2 GB; national
sample ≤ 1 min; small sample ≤ 5 s; one year added ≤ 30 % of the full refresh; `vraem sample-data` at national
scale ≤ 90 s. `--json` ends the output with one line of JSON holding every figure (what `benchmarks/table.py`
reads).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

#: A line `vraem refresh` prints per source (and year) with its seconds: `padron_ruc 2024: … (20.5 s)`.
TIMED_LINE = re.compile(r"^(\w+)(?: \d{4})?: .*\((\d+(?:\.\d+)?) s\)$")


@dataclass
class Run:
    """One child process: wall seconds, peak RSS (GB), CPU seconds (user + system), exit code, its output."""

    seconds: float
    peak_gb: float
    cpu: float
    code: int
    output: str

    def figures(self) -> dict:
        # peak to the MB (3 decimals): a verdict of "≤ 2 GB" must not be decided by rounding
        digits = {"peak_gb": 3}
        return {
            k: round(v, digits.get(k, 2)) if isinstance(v, float) else v
            for k, v in asdict(self).items()
            if k != "output"
        }


def run_process(argv: list[str], env: dict[str, str]) -> Run:
    """Run `argv`, stdout and stderr together, and measure it with `os.wait4`."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    return Run(
        seconds,
        usage.ru_maxrss / 1024 / 1024,
        usage.ru_utime + usage.ru_stime,
        os.waitstatus_to_exitcode(status),
        out,
    )


def run(args: list[str], env: dict[str, str]) -> Run:
    """`vraem <args>`, measured."""
    return run_process([sys.executable, "-m", "vraem_pipeline.cli", *args], env)


def seconds_per_source(output: str) -> dict[str, float]:
    """The seconds `vraem refresh` printed per source (`padron_ruc`, `informe`…). A file's line (`leídas=…`) gives
    that file's own seconds: summed. Any other line gives the seconds since its step began, one step covering every
    year (`empresas_formales 2019: …`, `… 2024: …`): the largest is the step's."""
    files: dict[str, float] = {}
    steps: dict[str, float] = {}
    for line in output.splitlines():
        found = TIMED_LINE.match(line)
        if not found:
            continue
        name, seconds = found.group(1), float(found.group(2))
        if " leídas=" in line:
            files[name] = files.get(name, 0.0) + seconds
        else:
            steps[name] = max(steps.get(name, 0.0), seconds)
    total = {k: round(files.get(k, 0.0) + steps.get(k, 0.0), 1) for k in files.keys() | steps.keys()}
    return dict(sorted(total.items(), key=lambda kv: -kv[1]))


def dagster_runs(home: Path, before: set[str]) -> dict:
    """The runs recorded under `home` since the run ids `before`: each step's seconds (summed over the runs), the
    steps and asset materializations they recorded, and their seconds from Dagster's start to end."""
    import dagster as dg

    steps: dict[str, float] = {}
    runs = materializations = 0
    seconds = 0.0
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for record in instance.get_runs():
            if record.run_id in before:
                continue
            runs += 1
            stats = instance.get_run_stats(record.run_id)
            materializations += stats.materializations
            if stats.start_time and stats.end_time:
                seconds += stats.end_time - stats.start_time
            for stat in instance.get_run_step_stats(record.run_id):
                if stat.start_time and stat.end_time:
                    steps[stat.step_key] = round(steps.get(stat.step_key, 0.0) + stat.end_time - stat.start_time, 2)
    return {
        "dagster_runs": runs,
        "dagster_run_seconds": round(seconds, 1),
        "dagster_materializations": materializations,
        "dagster_steps": dict(sorted(steps.items(), key=lambda kv: -kv[1])),
        "dagster_steps_total": round(sum(steps.values()), 1),
    }


def run_ids(home: Path) -> set[str]:
    import dagster as dg

    if not (home / "dagster.yaml").is_file():
        return set()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        return {r.run_id for r in instance.get_runs()}


def refresh(args: list[str], env: dict[str, str], home: Path) -> tuple[Run, dict]:
    """`vraem refresh <args>`, measured, with where its time went."""
    before = run_ids(home)
    measured = run(["refresh", *args], env)
    published = re.search(r"publicada en (\d+(?:\.\d+)?) s", measured.output)
    return measured, {
        **measured.figures(),
        "run_seconds": float(published.group(1)) if published else None,
        "per_source": seconds_per_source(measured.output),
        **(dagster_runs(home, before) if measured.code == 0 else {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--raw", required=True)
    parser.add_argument("--memory", default="2GB", help="VRAEM_MEMORIA of the refreshes")
    parser.add_argument("--sample-data", help="write the sample here first, timed")
    parser.add_argument("--scale", default="national", choices=["national", "small", "real"], help="of --sample-data")
    parser.add_argument("--keep", help="keep the warehouse folder here (empty or absent) instead of a temp folder")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of every figure")
    args = parser.parse_args()
    env = {**os.environ, "VRAEM_MEMORIA": args.memory}
    figures: dict = {"raw": str(Path(args.raw).resolve()), "memory": args.memory}
    if args.sample_data:
        sample = run(["sample-data", "--out", args.sample_data, "--scale", args.scale], env)
        print(
            f"vraem sample-data ({args.scale}): {sample.seconds:.1f} s, pico {sample.peak_gb:.2f} GB, "
            f"salida {sample.code}"
        )
        figures["sample_data"] = sample.figures()
    if args.keep and Path(args.keep).exists() and any(Path(args.keep).iterdir()):
        parser.error(f"--keep {args.keep}: the folder is not empty (a full refresh needs a new warehouse)")
    with tempfile.TemporaryDirectory(prefix="vraem_refresh_") as tmp:
        folder = Path(args.keep or tmp).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        home = folder / "dagster"
        env.update(
            VRAEM_WAREHOUSE=str(folder / "vraem.duckdb"),
            DAGSTER_HOME=str(home),
            VRAEM_RAW_DIR=str(Path(args.raw).resolve()),
        )
        env.pop("VRAEM_OPERACION", None)
        full, figures["full"] = refresh([], env, home)
        print("\n".join(full.output.splitlines()[-25:]))
        print(
            f"refresh completo: {full.seconds:.1f} s, CPU {full.cpu:.1f} s, pico {full.peak_gb:.2f} GB, "
            f"salida {full.code}"
        )
        years = sorted(int(p.name) for p in (Path(args.raw) / "sunat" / "padron").iterdir() if p.name.isdigit())
        one, figures["one_year"] = refresh(["--years", str(years[-1])], env, home)
        figures["one_year"].update(year=years[-1], share_of_full=round(one.seconds / full.seconds, 3))
        print("\n".join(one.output.splitlines()[-25:]))
        print(
            f"un año ({years[-1]}) sobre el almacén publicado: {one.seconds:.1f} s, CPU {one.cpu:.1f} s, "
            f"pico {one.peak_gb:.2f} GB, salida {one.code} ({100 * one.seconds / full.seconds:.0f} % del completo; "
            "meta ≤ 30 %)"
        )
        for name in ("full", "one_year"):
            print(f"  {name}: por fuente {figures[name]['per_source']}")
            print(
                f"  {name}: pasos de Dagster {figures[name].get('dagster_steps')} "
                f"({figures[name].get('dagster_materializations')} materializaciones)"
            )
        wh, op = folder / "vraem.duckdb", folder / "vraem_operacion.duckdb"
        if wh.is_file() and op.is_file():
            figures.update(
                warehouse_mb=round(wh.stat().st_size / 1e6, 1), operator_gb=round(op.stat().st_size / 1e9, 2)
            )
            print(f"almacén de analistas {figures['warehouse_mb']} MB; base de operación {figures['operator_gb']} GB")
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
