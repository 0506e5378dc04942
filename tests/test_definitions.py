"""The asset graph users see (keys, checks, jobs, schedules, sensors) cannot change by accident.

Regenerate after an intended change with `UPDATE_SNAPSHOTS=1 uv run pytest tests/test_definitions.py`.
"""

import json
import os
from pathlib import Path

import dagster as dg

from vraem_pipeline.definitions import defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def _graph() -> dict:
    d = defs()
    return {
        "assets": sorted(k.to_user_string() for a in d.assets for k in a.keys),
        "checks": sorted(f"{c.asset_key.to_user_string()}:{c.name}:{'bloqueante' if c.blocking else 'aviso'}"
                         for cd in d.asset_checks for c in cd.check_specs),
        "jobs": sorted(j.name for j in d.jobs),
        "schedules": sorted(s.name for s in d.schedules),
        "sensors": sorted(s.name for s in d.sensors),
        "partitioned": sorted(k.to_user_string() for a in d.assets for k in a.keys if a.partitions_def is not None),
    }


def test_definitions_snapshot():
    graph = _graph()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(graph, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert graph == json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def test_definitions_load_and_validate():
    d = defs()
    assert dg.Definitions.validate_loadable(d) is None
    job = d.resolve_job_def("refresco")
    assert job.executor_def.name == "in_process"


def test_every_writing_asset_shares_the_single_writer_pool():
    pools = {a.node_def.name: a.op.pool for a in defs().assets}
    assert set(pools.values()) == {"vraem_almacen"}, pools
