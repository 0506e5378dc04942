"""What a Dagster step and a Dagster run cost on their own, with this project's Dagster, on this machine.

    uv run python benchmarks/pasos_dagster.py [--n 40]

Materializes, in-process, N trivial assets chained one per step, then the same N as one multi-asset step, then a
run of a single trivial step — against an ephemeral instance and against a SQLite instance in a temp
DAGSTER_HOME (what `vraem refresh` uses). Prints the seconds per step, per asset materialization within one step,
and per run. Why it matters: the refresh used to be ~50 steps (an asset or a check each); it is now 13
(`vraem_pipeline/steps.py`: a topic's assets and checks in one step).
"""

from __future__ import annotations

import argparse
import logging
import os
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
    args = parser.parse_args()
    logging.getLogger("dagster").setLevel(logging.ERROR)
    chain, multi = _graph(args.n)
    for kind in ("efímera", "sqlite"):
        if kind == "sqlite":
            home = tempfile.mkdtemp(prefix="vraem_pasos_")
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
            f"instancia {kind}: {args.n} pasos {steps:.2f} s ({1000 * steps / args.n:.0f} ms por paso y "
            f"materialización); {args.n} materializaciones en 1 paso {one_step:.2f} s "
            f"({1000 * one_step / args.n:.0f} ms cada una); una ejecución de 1 paso {run:.2f} s"
        )


if __name__ == "__main__":
    main()
