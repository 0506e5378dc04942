"""ENAHO's modules 500 and 400 of a year, read and ready to validate (a module not delivered reads as none)."""

from __future__ import annotations

from pathlib import Path

from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.empleo import schema
from vraem_pipeline.empleo.informality import INPUTS_M400, PERSON_KEY
from vraem_pipeline.sources import enaho
from vraem_pipeline.sources.textfiles import ParsedText

FOLDER = "enaho"


def _read_module_year(raw_dir: Path, anio: int, module: str, columns, optional=()) -> list[tuple[ParsedText, str]]:
    year_dir = raw_dir / FOLDER / str(anio)
    if not year_dir.is_dir():
        return []
    try:
        found = enaho.find_module_file(year_dir, anio, module)
    except SourceFileError as err:
        if err.rule == "enaho_modulo_presente":  # that module is not delivered for the year: its codes are absent
            return []
        raise
    parsed = enaho.read_module_text(found, anio, module, columns, optional=optional)
    return [(parsed, "; ".join(x for x in (f"módulo {module}", enaho.check_survey_code(found, anio)) if x))]


def read_persons_year(raw_dir: Path, anio: int) -> list[tuple[ParsedText, str]]:
    return _read_module_year(raw_dir, anio, "500", schema.COLUMNS_M500, optional=schema.OPTIONAL_M500)


def read_health_year(raw_dir: Path, anio: int) -> list[tuple[ParsedText, str]]:
    return _read_module_year(raw_dir, anio, "400", PERSON_KEY + INPUTS_M400)
