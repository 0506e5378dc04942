"""The progress lines `vraem refresh` prints: a part computed for every year at once says its time once."""

from __future__ import annotations

import logging
import re
import time
from types import SimpleNamespace

from vraem_pipeline.lib.steps import StepContext


def _step(logged: list[str]) -> StepContext:
    context = SimpleNamespace(log=SimpleNamespace(info=logged.append))
    return StepContext(context=context, con=None, vraem=None, config=None, years=[2019, 2020])


def test_a_part_computed_for_every_year_at_once_prints_its_time_once(caplog):
    logged: list[str] = []
    with caplog.at_level(logging.INFO, logger="vraem.progreso"):
        _step(logged).progress_years("pbi", ["pbi 2019: a", "pbi 2020: b"], time.perf_counter() - 1.5)
    printed = [r.getMessage() for r in caplog.records if r.name == "vraem.progreso"]
    assert printed == logged  # the run's log and the CLI's lines are the same
    assert printed[:2] == ["pbi 2019: a", "pbi 2020: b"]  # the years without a time of their own
    assert re.fullmatch(r"pbi: 2 años en un solo cálculo \(1\.\d s\)", printed[2]) and len(printed) == 3


def test_one_year_says_año():
    logged: list[str] = []
    _step(logged).progress_years("pbi", ["pbi 2024: a"], time.perf_counter())
    assert logged[0] == "pbi 2024: a" and logged[1].startswith("pbi: 1 año en un solo cálculo (")
