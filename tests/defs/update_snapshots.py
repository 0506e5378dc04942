"""Rewrite the asset-graph snapshot after an intended change of the graph (never during a test run):

    uv run --locked python -m tests.defs.update_snapshots

`tests/defs/test_definitions.py` only compares the graph with `tests/defs/snapshots/definitions.json`; a test
that rewrote its own expectation could never fail. Review the diff of the JSON before committing it.
"""

from __future__ import annotations

import json
from pathlib import Path

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"
UPDATE_COMMAND = "uv run --locked python -m tests.defs.update_snapshots"


def graph() -> dict:
    """What users see of the asset graph: keys, checks (blocking or warning), jobs, schedules, sensors and which
    assets are partitioned."""
    from vraem_pipeline.definitions import defs

    d = defs()
    return {
        "assets": sorted(k.to_user_string() for a in d.assets for k in a.keys),
        # checks defined on their own and checks run in their asset's step (`steps.topic_step`) alike
        "checks": sorted(
            f"{c.asset_key.to_user_string()}:{c.name}:{'bloqueante' if c.blocking else 'aviso'}"
            for cd in [*d.asset_checks, *d.assets]
            for c in cd.check_specs
        ),
        "jobs": sorted(j.name for j in d.jobs),
        "schedules": sorted(s.name for s in d.schedules),
        "sensors": sorted(s.name for s in d.sensors),
        "partitioned": sorted(k.to_user_string() for a in d.assets for k in a.keys if a.partitions_def is not None),
    }


def render(g: dict) -> str:
    return json.dumps(g, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    text = render(graph())
    old = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else None
    if text == old:
        print(f"{SNAPSHOT}: sin cambios")
        return
    SNAPSHOT.write_text(text, encoding="utf-8")
    print(f"{SNAPSHOT}: reescrito; revise su diff (git diff) antes de confirmarlo")


if __name__ == "__main__":
    main()
