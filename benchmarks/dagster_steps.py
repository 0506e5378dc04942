"""What a Dagster step and a Dagster run cost on their own, with this project's Dagster, on this machine.

    uv run python benchmarks/dagster_steps.py [--n 40] [--json]

Materializes, in-process, N trivial assets chained one per step, then the same N as one multi-asset step, then a
run of a single trivial step — against an ephemeral instance and against a SQLite instance in a temp
DAGSTER_HOME (what `vraem refresh` uses). Prints the seconds per step, per asset materialization within one step,
and per run. Why it matters: the refresh used to be ~50 steps (an asset or a check each); it is now 13
(`vraem_pipeline/lib/steps.py`: a topic's assets and checks in one step). `--json` ends the output with one line
of JSON holding the figures (what `benchmarks/table.py` reads).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
import time

import dagster as dg


def _graph(n: int):
    chain, prev = [], None
    for i in range(n):

        @dg.asset(name=f"a{i}", deps=[prev] if prev else [])
        def _a() -> None:
            return None

        chain.append(_a)
        prev = _a
    specs = [dg.AssetSpec(f"m{i}") for i in range(n)]

    @dg.multi_asset(specs=specs)
    def multi():
        for s in specs:
            yield dg.MaterializeResult(asset_key=s.key)

    return chain, multi


def _timed(objs, instance) -> float:
    t0 = time.perf_counter()
    result = dg.materialize(objs, instance=instance)
    assert result.success
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the figures")
    args = parser.parse_args()
    logging.getLogger("dagster").setLevel(logging.ERROR)
    chain, multi = _graph(args.n)
    figures = {"n": args.n}
    for kind in ("ephemeral", "sqlite"):
        if kind == "sqlite":
            home = tempfile.mkdtemp(prefix="vraem_steps_")
            os.environ["DAGSTER_HOME"] = home
            with open(os.path.join(home, "dagster.yaml"), "w") as fh:
                fh.write("telemetry:\n  enabled: false\n")
            instance = dg.DagsterInstance.get()
        else:
            instance = dg.DagsterInstance.ephemeral()
        _timed(chain[:1], instance)  # warm-up: first run pays for imports and storage creation
        steps = _timed(chain, instance)
        one_step = _timed([multi], instance)
        run = min(_timed(chain[:1], instance) for _ in range(3))
        print(
            f"{kind} instance: {args.n} steps {steps:.2f} s ({1000 * steps / args.n:.0f} ms per step and "
            f"materialization); {args.n} materializations in 1 step {one_step:.2f} s "
            f"({1000 * one_step / args.n:.0f} ms each); one run of 1 step {run:.2f} s"
        )
        figures[kind] = {
            "ms_per_step": round(1000 * steps / args.n, 1),
            "ms_per_materialization_in_one_step": round(1000 * one_step / args.n, 1),
            "s_per_run": round(run, 3),
        }
    shutil.rmtree(home, ignore_errors=True)
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
