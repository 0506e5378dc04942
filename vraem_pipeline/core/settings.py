"""The user-facing settings of contract §1, read from the environment once per run.

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


#: DuckDB's memory limit for a refresh (contract §1). 2 GB holds a real-size Padrón cut (12.5 M lines) with
#: room to spare on an 8 GB laptop; DuckDB spills what does not fit to `temp_dir`.
DEFAULT_MEMORY = "2GB"

#: How long a run that `vraem refresh` did not start (the Dagster daemon's, the UI's) waits for the refresh lock
#: held by another process before it fails (`bloqueo.esperar`). A refresh of the national sample takes minutes,
#: a real-size six-year one ~7 minutes; hours leave room for a slow machine without hiding a hung refresh for ever.
ESPERA_BLOQUEO = "VRAEM_ESPERA_BLOQUEO_S"
DEFAULT_ESPERA_BLOQUEO_S = 6 * 3600

#: How often the Dagster daemon evaluates the sensor on raw/ (`defs/automation.py`), in seconds. A quiet tick
#: costs a stat per file (README, "Performance"), so minutes are plenty for files that arrive once a year.
INTERVALO_SENSOR = "VRAEM_SENSOR_INTERVALO_S"
DEFAULT_INTERVALO_SENSOR_S = 300


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
    return int(seconds_from_env(INTERVALO_SENSOR, DEFAULT_INTERVALO_SENSOR_S, minimum=1))


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    warehouse: Path
    territory: Path
    operacion: Path
    memoria: str
    temp_dir: Path
    informe_dir: Path
    espera_bloqueo_s: float = DEFAULT_ESPERA_BLOQUEO_S

    @classmethod
    def from_env(cls) -> Settings:
        warehouse = Path(os.environ.get("VRAEM_WAREHOUSE", REPO_ROOT / "warehouse" / "vraem.duckdb")).resolve()
        operacion = Path(os.environ.get("VRAEM_OPERACION", warehouse.with_name("vraem_operacion.duckdb"))).resolve()
        return cls(
            raw_dir=Path(os.environ.get("VRAEM_RAW_DIR", REPO_ROOT / "raw")).resolve(),
            warehouse=warehouse,
            territory=Path(os.environ.get("VRAEM_TERRITORY", DEFAULT_TERRITORY)).resolve(),
            operacion=operacion,
            memoria=os.environ.get("VRAEM_MEMORIA", DEFAULT_MEMORY),
            temp_dir=Path(os.environ.get("VRAEM_TEMP_DIR", operacion.with_name(operacion.stem + ".tmp"))).resolve(),
            informe_dir=Path(os.environ.get("VRAEM_INFORME_DIR", warehouse.with_name("informe"))).resolve(),
            espera_bloqueo_s=seconds_from_env(ESPERA_BLOQUEO, DEFAULT_ESPERA_BLOQUEO_S),
        )

    @property
    def lock_path(self) -> Path:
        """OS-level lock held by the one refresh that may write the operator database and publish."""
        return self.operacion.with_name(self.operacion.name + ".lock")


def is_year_folder(name: str) -> bool:
    """A folder named like a year, `raw/<fuente>/…/<año>/`."""
    return bool(_YEAR_DIR.match(name))


#: Test hook, never set in production: `VRAEM_PRUEBA_PAUSA=<punto>:<archivo>` makes a refresh that reaches
#: `pausa_de_prueba(<punto>)` create <archivo> (its pid inside) and sleep there, so that a test can SIGKILL it at
#: exactly that point (tests/test_concurrencia.py). The points: `lectura` (a national file loaded into the
#: scratch table, staging untouched), `staging` (inside the transaction that replaces a year of staging, rows
#: deleted and inserted, not committed), `publicacion` (the new analysts' file half written, not swapped in).
PAUSA_DE_PRUEBA = "VRAEM_PRUEBA_PAUSA"
PUNTOS_DE_PAUSA = ("lectura", "staging", "publicacion")
#: How long the paused process waits for its SIGKILL before it carries on (a test that forgot it never hangs).
PAUSA_MAXIMA_S = 300
_pausados: set[str] = set()


def pausa_de_prueba(punto: str) -> None:
    """The test hook `PAUSA_DE_PRUEBA`; does nothing unless that variable names `punto`."""
    valor = os.environ.get(PAUSA_DE_PRUEBA, "")
    nombre, _, marca = valor.partition(":")
    if nombre != punto or punto in _pausados:
        return
    if punto not in PUNTOS_DE_PAUSA or not marca:
        raise ValueError(f"{PAUSA_DE_PRUEBA}={valor!r}: use <punto>:<archivo>, punto en {PUNTOS_DE_PAUSA}")
    _pausados.add(punto)  # once per process: a step that passes the point again carries on
    Path(marca).write_text(f"{os.getpid()}\n", encoding="utf-8")
    time.sleep(PAUSA_MAXIMA_S)


def years_found(raw_dir: Path) -> list[int]:
    """Years with at least one source folder `raw/<fuente>/…/<año>/` (contract §1: years come from the data)."""
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
