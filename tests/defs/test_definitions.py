"""The asset graph users see (keys, checks, jobs, schedules, sensors) cannot change by accident.

This test only compares; after an intended change, rewrite the snapshot with the separate command
`uv run --locked python -m tests.defs.update_snapshots` and review its diff.
"""

import json

import dagster as dg
import pytest

from tests.defs.update_snapshots import SNAPSHOT, UPDATE_COMMAND, graph
from vraem_pipeline.definitions import defs


def test_definitions_snapshot():
    if not SNAPSHOT.exists():
        pytest.fail(f"falta {SNAPSHOT}: créelo con `{UPDATE_COMMAND}`")
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    actual = graph()
    changed = {
        part: {
            "añadidos": sorted(set(actual.get(part, [])) - set(expected.get(part, []))),
            "quitados": sorted(set(expected.get(part, [])) - set(actual.get(part, []))),
        }
        for part in sorted(set(actual) | set(expected))
        if actual.get(part) != expected.get(part)
    }
    assert actual == expected, (
        f"el grafo de activos cambió respecto de {SNAPSHOT.name}: {changed}; si el cambio es "
        f"intencionado, ejecute `{UPDATE_COMMAND}` y revise el diff"
    )


def test_definitions_load_and_validate():
    d = defs()
    assert dg.Definitions.validate_loadable(d) is None
    job = d.resolve_job_def("refresco")
    assert job.executor_def.name == "in_process"


def test_every_writing_asset_shares_the_single_writer_pool():
    pools = {a.node_def.name: a.op.pool for a in defs().assets}
    assert set(pools.values()) == {"vraem_almacen"}, pools
