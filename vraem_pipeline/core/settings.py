"""The user-facing settings of docs/settings-and-cli.md#settings, read from the environment once per run.

Everything that locates data is a setting, never a constant in an asset: the same code must build the
warehouse for another territory or another raw folder just by changing the environment.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_REFERENCE = Path(__file__).resolve().parents[1] / "reference"
DEFAULT_TERRITORY = PACKAGE_REFERENCE / "vraem_distritos.csv"

#: Oldest DuckDB release analysts' clients must still open (DBeaver/ODBC drivers and R lag the CLI).
#: DuckDB 2.0 can write files readable from v1.4.0 on; a lower value would forbid newer storage features.
STORAGE_COMPATIBILITY_VERSION = "v1.4.0"

_YEAR_DIR = re.compile(r"^(19|20)\d\d$")


#: DuckDB's memory limit for a refresh (docs/settings-and-cli.md#settings). 2 GB holds a real-size Padrón cut (12.5 M
#: lines) with room to spare on an 8 GB laptop; DuckDB spills what does not fit to `temp_dir`.
DEFAULT_MEMORY = "2GB"

#: How long a run that `vraem refresh` did not start (the Dagster daemon's, the UI's) waits for the refresh lock
#: held by another process before it fails (`bloqueo.wait_for`). A refresh of the national sample takes minutes,
#: a real-size six-year one ~7 minutes; hours leave room for a slow machine without hiding a hung refresh for ever.
LOCK_WAIT = "VRAEM_ESPERA_BLOQUEO_S"
DEFAULT_LOCK_WAIT_S = 6 * 3600

#: How often the Dagster daemon evaluates the sensor on raw/ (`defs/automation.py`), in seconds. A quiet tick
#: costs a stat per file (docs/performance.md), so minutes are plenty for files that arrive once a year.
SENSOR_INTERVAL = "VRAEM_SENSOR_INTERVALO_S"
DEFAULT_SENSOR_INTERVAL_S = 300


def seconds_from_env(variable: str, default: float, minimum: float = 0) -> float:
    """A duration setting in seconds; a value that is not a number, or below `minimum`, names the variable."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return float(default)
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{variable}={text!r}: debe ser un número de segundos") from None
    if not value >= minimum or value == float("inf"):
        raise ValueError(f"{variable}={text!r}: debe ser un número de segundos ≥ {minimum:g}")
    return value


def sensor_interval_s() -> int:
    """`VRAEM_SENSOR_INTERVALO_S` (default 300 s, at least 1): read when the definitions are imported, so a change
    takes effect when the code location is restarted."""
    return int(seconds_from_env(SENSOR_INTERVAL, DEFAULT_SENSOR_INTERVAL_S, minimum=1))


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    warehouse: Path
    territory: Path
    operator: Path
    memoria: str
    temp_dir: Path
    informe_dir: Path
    espera_bloqueo_s: float = DEFAULT_LOCK_WAIT_S

    @classmethod
    def from_env(cls) -> Settings:
        warehouse = Path(os.environ.get("VRAEM_WAREHOUSE", REPO_ROOT / "warehouse" / "vraem.duckdb")).resolve()
        operator = Path(os.environ.get("VRAEM_OPERACION", warehouse.with_name("vraem_operacion.duckdb"))).resolve()
        return cls(
            raw_dir=Path(os.environ.get("VRAEM_RAW_DIR", REPO_ROOT / "raw")).resolve(),
            warehouse=warehouse,
            territory=Path(os.environ.get("VRAEM_TERRITORY", DEFAULT_TERRITORY)).resolve(),
            operator=operator,
            memoria=os.environ.get("VRAEM_MEMORIA", DEFAULT_MEMORY),
            temp_dir=Path(os.environ.get("VRAEM_TEMP_DIR", operator.with_name(operator.stem + ".tmp"))).resolve(),
            informe_dir=Path(os.environ.get("VRAEM_INFORME_DIR", warehouse.with_name("informe"))).resolve(),
            espera_bloqueo_s=seconds_from_env(LOCK_WAIT, DEFAULT_LOCK_WAIT_S),
        )

    @property
    def lock_path(self) -> Path:
        """OS-level lock held by the one refresh that may write the operator database and publish."""
        return self.operator.with_name(self.operator.name + ".lock")


def is_year_folder(name: str) -> bool:
    """A folder named like a year, `raw/<fuente>/…/<año>/`."""
    return bool(_YEAR_DIR.match(name))


#: Test hook, never set in production: `VRAEM_PRUEBA_PAUSA=<punto>:<archivo>` makes a refresh that reaches
#: `pause_for_test(<punto>)` create <archivo> (its pid inside) and sleep there, so that a test can SIGKILL it at
#: exactly that point (tests/integration/test_concurrency.py). The points: `lectura` (a national file loaded into the
#: scratch table, staging untouched), `staging` (inside the transaction that replaces a year of staging, rows
#: deleted and inserted, not committed), `publicacion` (the new analysts' file half written, not swapped in).
PAUSE_FOR_TEST = "VRAEM_PRUEBA_PAUSA"
PAUSE_POINTS = ("lectura", "staging", "publicacion")
#: How long the paused process waits for its SIGKILL before it carries on (a test that forgot it never hangs).
MAX_PAUSE_S = 300
_paused: set[str] = set()


def pause_for_test(point: str) -> None:
    """The test hook `PAUSE_FOR_TEST`; does nothing unless that variable names `punto`."""
    valor = os.environ.get(PAUSE_FOR_TEST, "")
    nombre, _, marca = valor.partition(":")
    if nombre != point or point in _paused:
        return
    if point not in PAUSE_POINTS or not marca:
        raise ValueError(f"{PAUSE_FOR_TEST}={valor!r}: use <punto>:<archivo>, punto en {PAUSE_POINTS}")
    _paused.add(point)  # once per process: a step that passes the point again carries on
    Path(marca).write_text(f"{os.getpid()}\n", encoding="utf-8")
    time.sleep(MAX_PAUSE_S)


def years_found(raw_dir: Path) -> list[int]:
    """Years with at least one source folder `raw/<fuente>/…/<año>/` (docs/settings-and-cli.md#settings: years come from
    the data)."""
    years: set[int] = set()
    if raw_dir.is_dir():
        for path in raw_dir.rglob("*"):
            if path.is_dir() and is_year_folder(path.name) and any(path.iterdir()):
                years.add(int(path.name))
    return sorted(years)


def parse_years(spec: str) -> list[int]:
    """`2019-2024`, `2024` or `2019,2021,2024` → sorted list of years."""
    years: set[int] = set()
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            start, end = (int(x) for x in part.split("-", 1))
            if end < start:
                raise ValueError(f"rango de años invertido: {part}")
            years.update(range(start, end + 1))
        else:
            years.add(int(part))
    return sorted(years)
