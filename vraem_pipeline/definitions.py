"""Entry point for `dg`, `dagster dev -w workspace.yaml` and `vraem refresh`: everything under defs/."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
