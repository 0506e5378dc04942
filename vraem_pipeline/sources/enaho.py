"""Find and read INEI ENAHO module files (Stata, SPSS or CSV; loose or inside INEI's download zips).

The reader knows formats, not indicators: it returns the requested columns, lower-cased, with string keys that
keep their leading zeros, numeric codes (never value labels) as nullable numbers, and two lineage columns
(`archivo`, `registro`). Every way a file can be unreadable raises `SourceFileError` naming the file.
See docs/sources.md#enaho-codigos and docs/sources.md#enaho-archivos for the quirks handled here.

A file says its year three ways, and each must be the folder's: the data file's name (`enaho01a-<año>-500`,
matched by `module_pattern`), the internal `año` column (`_check_year`) and INEI's survey code in the download
zip's name (`966-Modulo05.zip`, `check_survey_code`, against `reference/enaho_codigos_encuesta.csv`: codes are
not chronological, so `906-Modulo05.zip` in the 2024 folder is 2023's survey, refused). A code the table does
not know (a future year's, the panel series') is accepted and said in `meta.fuentes.nota`.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from vraem_pipeline.core.errors import SourceFileError
from vraem_pipeline.core.references import reference_csv
from vraem_pipeline.sources import zips
from vraem_pipeline.sources.textfiles import ParsedText, parse_delimited, read_header

#: String keys and their published widths (docs/sources.md#enaho-claves). CSV files and numeric-typed keys
#: lose the leading zeros; they are restored to these widths.
KEY_WIDTHS = {"conglome": 6, "vivienda": 3, "hogar": 2, "codperso": 2, "ubigeo": 6}

#: The weight of every module-500 figure.
WEIGHT_500 = "fac500a"

#: Other factor names that scripts have met in place of fac500a. Finding one of them instead of fac500a must
#: stop the run: using it silently would weight the year with another population (docs/sources.md#enaho-factor).
OTHER_FACTORS_500 = ("fac500", "fac500a7", "factor07", "fac500_p", "factora07")

#: Default data-file prefix: `enaho01a` (and `enaho01` for the household-level modules).
DEFAULT_PREFIX = r"enaho01a?"

_FORMATS = ("dta", "sav", "csv")


@dataclass(frozen=True)
class ModuleFile:
    """Where one module's data file is: a file on disk, or a member of a zip (`member` is then set)."""

    path: Path
    member: str | None = None

    @property
    def archivo(self) -> str:
        """Lineage label: the file name, or `zip!member` when the data sit inside a zip."""
        return f"{self.path.name}!{self.member}" if self.member else self.path.name

    @property
    def display_path(self) -> Path:
        return Path(f"{self.path}!{self.member}") if self.member else self.path

    @property
    def fmt(self) -> str:
        return (self.member or self.path.name).rsplit(".", 1)[-1].lower()


def module_pattern(year: int, module: str, prefix: str = DEFAULT_PREFIX) -> re.Pattern[str]:
    """The data file of a module: `(^|/)enaho01a?-<year>-<module>.(dta|csv|sav)`, any case.

    Classifier tables (`enaho_tabla_ciiu_rev4.dta`), dictionaries (PDF), the 2015 duplicate `…2015_500.dta`
    and the panel files (`…-2019-2023-500-panel.dta`) do not match.
    """
    return re.compile(rf"(^|/){prefix}-{year}-{re.escape(str(module))}\.({'|'.join(_FORMATS)})$", re.IGNORECASE)


#: What `vraem refresh` says it expects in `enaho/<año>/` when a file there matches nothing.
EXPECTED_NAME = "<código>-Modulo05|04.zip o enaho01a-<año>-500|400.sav|dta|csv (o un zip que los contenga)"


def module_candidates(year_dir: Path, year: int, module: str, *, prefix: str = DEFAULT_PREFIX) -> list[ModuleFile]:
    """Every copy of a module's data file in the year's folder, loose (any inner folder) or inside a zip; the
    raw/ scan (`archivos.py`) uses it too."""
    pattern = module_pattern(year, module, prefix)
    found: list[ModuleFile] = []
    for path in sorted(p for p in Path(year_dir).rglob("*") if p.is_file()):
        relative = path.relative_to(year_dir).as_posix()
        if pattern.search(relative):
            found.append(ModuleFile(path))
        elif path.suffix.lower() == ".zip":
            found.extend(ModuleFile(path, member) for member in _zip_members(path) if pattern.search(member))
    return found


#: INEI's survey code of each annual cross-section (the year → code table of docs/sources.md#enaho-codigos).
SURVEY_CODES = "enaho_codigos_encuesta.csv"

#: INEI's download zip `<código>-Modulo<NN>.zip` (`966-Modulo05.zip`); some inner folders use `_` (`498_Modulo02`).
_SURVEY_ZIP = re.compile(r"^0*(\d+)[-_]modulo\d+\.zip$", re.IGNORECASE)


@lru_cache(maxsize=1)
def survey_code_years() -> dict[int, int]:
    """INEI cross-section survey code → its year (`reference/enaho_codigos_encuesta.csv`)."""
    table = reference_csv(SURVEY_CODES)
    return {int(c): int(a) for a, c in zip(table["anio"], table["codigo"], strict=True)}


def survey_code(source: ModuleFile) -> int | None:
    """The survey code the download zip's name carries (`966-Modulo05.zip` → 966); None for a loose file or a
    zip named otherwise (a renamed download carries no code to check)."""
    if source.member is None:
        return None
    m = _SURVEY_ZIP.match(source.path.name)
    return int(m.group(1)) if m else None


def check_survey_code(source: ModuleFile, year: int) -> str:
    """Refuse a zip whose name carries the survey code of another year than the folder's, naming the file, the
    code's year and the folder's; return the note of a code the table does not know ("" otherwise)."""
    code = survey_code(source)
    if code is None:
        return ""
    code_year = survey_code_years().get(code)
    if code_year is None:
        return (
            f"código de encuesta {code} ({source.path.name}) no figura en reference/{SURVEY_CODES}: "
            "su año no se pudo comprobar por el código"
        )
    if code_year != year:
        raise SourceFileError(
            source.path,
            f"el código de encuesta {code} del nombre es la ENAHO {code_year}, no la de {year} de la "
            f"carpeta (reference/{SURVEY_CODES}): muévalo a la carpeta de {code_year}",
            rule="enaho_codigo_encuesta",
        )
    return ""


def find_module_file(year_dir: Path, year: int, module: str, *, prefix: str = DEFAULT_PREFIX) -> ModuleFile:
    """Locate a module's data file among the year's downloads, loose or inside any zip of the folder.

    Exactly one match is accepted: two (a zip and its extracted copy, or two formats) would make the year's
    figures depend on which one happened to be read first.
    """
    year_dir = Path(year_dir)
    if not year_dir.is_dir():
        raise SourceFileError(year_dir, f"no existe la carpeta del año {year}")
    pattern = module_pattern(year, module, prefix)
    found = module_candidates(year_dir, year, module, prefix=prefix)
    if not found:
        raise SourceFileError(
            year_dir,
            f"no se encontró el módulo {module} de {year} (se busca {pattern.pattern!r}, suelto o dentro de un zip)",
            rule="enaho_modulo_presente",
        )
    if len(found) > 1:
        listed = ", ".join(f.archivo for f in found)
        raise SourceFileError(
            year_dir,
            f"el módulo {module} de {year} aparece {len(found)} veces ({listed}); deje uno solo",
            rule="enaho_modulo_unico",
        )
    check_survey_code(found[0], year)
    return found[0]


def read_module(
    source: ModuleFile | Path,
    year: int,
    module: str,
    columns: Sequence[str],
    *,
    optional: Iterable[str] = (),
) -> pd.DataFrame:
    """Read only `columns` (+ those of `optional` that exist) of one module file, plus `anio`, `archivo`, `registro`.

    The header is read first and checked: pyreadstat silently drops names it does not know, so a missing
    column would otherwise surface as a wrong figure much later. Module 500 must carry `fac500a`.
    `registro` is the 1-based record number in the file. A CSV also gives each record's physical line
    (`attrs["lineas"]`, what its quarantine reports) and the lines that are not records (`attrs["lineas_malas"]`:
    line, fields, text; `attrs["errores_lineas"]`: why, when not the number of fields; `attrs["cabecera"]` is
    the header they are counted against).
    """
    source = source if isinstance(source, ModuleFile) else ModuleFile(Path(source))
    with _local_copy(source) as path:
        reader = _FORMAT_READERS.get(source.fmt)
        if reader is None:
            raise SourceFileError(source.display_path, f"formato no soportado: .{source.fmt}")
        _check_magic(path, source)
        header, read = reader(path, source)
        selected = _select_columns(source, header, module, columns, optional)
        frame = read(selected)
    bad, bad_errors = frame.attrs.get("lineas_malas", []), frame.attrs.get("errores_lineas", {})
    lines = frame.pop("linea").to_numpy(dtype="int64") if "linea" in frame.columns else None
    if len(frame) == 0 and not bad:
        raise SourceFileError(
            source.display_path,
            "el archivo no trae ningún registro (solo la cabecera)",
            line=1 if lines is not None else None,
            rule="enaho_sin_registros",
        )
    frame.columns = [c.lower() for c in frame.columns]
    frame = _normalize(frame, source, lines)
    _check_year(frame, source, year, lines)
    frame = frame.drop(columns=[c for c in frame.columns if c == "año"])
    frame.insert(0, "anio", pd.array(np.full(len(frame), year), dtype="Int64"))
    frame["archivo"] = source.archivo
    frame["registro"] = pd.array(np.arange(1, len(frame) + 1), dtype="Int64")
    frame.attrs.update(
        lineas=None if lines is None else lines.tolist(), lineas_malas=bad, errores_lineas=bad_errors, cabecera=header
    )
    return frame


# --- locating ------------------------------------------------------------------------------------------------


def _zip_members(path: Path) -> list[str]:
    try:
        return zips.data_members(path)  # member names checked too: none absolute or climbing with `..`
    except SourceFileError as exc:
        if exc.rule != "zip":
            raise
        raise SourceFileError(path, f"el zip no se puede abrir: {exc.problem}", rule="zip_legible") from None


def read_module_text(
    source: ModuleFile, year: int, module: str, columns: Sequence[str], optional: Iterable[str] = ()
) -> ParsedText:
    """`read_module` as the staging step takes it: each record with the line its quarantine names (a CSV's
    physical line, else the record number) and the lines that were not records, with why. The frame's
    `attrs` that carry them stop here: pandas compares attrs on every concat."""
    frame = read_module(source, year, module, columns, optional=optional)
    attrs, frame.attrs = frame.attrs, {}
    if attrs.get("lineas") is not None:
        frame["linea"] = attrs["lineas"]
    return ParsedText(
        path=source.path,
        member=source.member,
        dialect=None,
        header=list(attrs.get("cabecera") or frame.columns),
        frame=frame,
        bad_lines=list(attrs.get("lineas_malas") or []),
        bad_errors=dict(attrs.get("errores_lineas") or {}),
    )


class _local_copy:
    """A path pyreadstat can open: the file itself, or the zip member extracted to a temporary folder."""

    def __init__(self, source: ModuleFile):
        self.source = source
        self._tmp: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> Path:
        if self.source.member is None:
            return self.source.path
        self._tmp = tempfile.TemporaryDirectory(prefix="enaho_")
        try:  # a fresh temp name with the member's extension (pyreadstat reads by it), bounded against bombs
            return zips.copy_member(
                self.source.path,
                self.source.member,
                Path(self._tmp.name),
                suffix=Path(self.source.member).suffix.lower(),
            )
        except BaseException:
            self._tmp.cleanup()
            raise

    def __exit__(self, *exc_info) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


# --- per-format readers: each returns (header names, read(selected names) -> DataFrame) ---------------------

#: First bytes of each format, and of the files most often saved under a data file's name by mistake.
_MAGIC = [
    (b"$FL2", "sav"),
    (b"$FL3", "sav"),
    (b"<stata_dta>", "dta"),
    (b"PK\x03\x04", "xlsx o zip"),
    (b"\xd0\xcf\x11\xe0", "xls"),
    (b"%PDF", "pdf"),
]

#: Stata releases 102–117 start with their release byte, then the byte order (1 or 2).
_OLD_STATA = re.compile(rb"^[\x66-\x75][\x01\x02]")


def _check_magic(path: Path, source: ModuleFile) -> None:
    """A file whose bytes are another format than its extension says (a `.sav` renamed `.dta`, a workbook saved
    as `.csv`) is named for what it is: the reader's own message would be a bare library error."""
    with open(path, "rb") as handle:
        head = handle.read(16)
    found = next((fmt for magic, fmt in _MAGIC if head.startswith(magic)), None)
    if found is None and _OLD_STATA.match(head):
        found = "dta"
    if found is None and source.fmt == "csv" and b"\x00" in head:
        found = "binario"
    if found is not None and found != source.fmt:
        raise SourceFileError(
            source.display_path,
            f"el archivo .{source.fmt} es en realidad {found}: revise la descarga del INEI",
            rule="enaho_formato",
        )


def _unreadable(source: ModuleFile, what: str, exc: Exception, records: int | None = None) -> SourceFileError:
    declared = f"; su cabecera declara {records:,} registros" if records is not None and records >= 0 else ""
    problem = f"{what} dañado o truncado, no se puede leer ({type(exc).__name__}: {exc}{declared})"
    return SourceFileError(source.display_path, problem, rule="enaho_archivo_legible")


def _stata(path: Path, source: ModuleFile):
    encoding = _stata_encoding(path)
    try:
        _, meta = pyreadstat.read_dta(str(path), metadataonly=True, encoding=encoding)
    except Exception as exc:  # pyreadstat raises its own error types for unreadable files
        raise _unreadable(source, "archivo Stata", exc) from None

    def read(selected: list[str]) -> pd.DataFrame:
        try:
            df, _ = pyreadstat.read_dta(str(path), usecols=selected, apply_value_formats=False, encoding=encoding)
        except Exception as exc:  # pyreadstat's errors name neither the file nor the record
            raise _unreadable(source, "archivo Stata", exc, meta.number_rows) from None
        return df

    return list(meta.column_names), read


def _spss(path: Path, source: ModuleFile):
    # An SPSS file records its own character encoding; older INEI files that do not are read as latin-1.
    encoding = None
    try:
        _, meta = pyreadstat.read_sav(str(path), metadataonly=True)
    except Exception:
        encoding = "latin1"
        try:
            _, meta = pyreadstat.read_sav(str(path), metadataonly=True, encoding=encoding)
        except Exception as exc:
            raise _unreadable(source, "archivo SPSS", exc) from None

    def read(selected: list[str]) -> pd.DataFrame:
        try:
            df, _ = pyreadstat.read_sav(
                str(path), usecols=selected, apply_value_formats=False, user_missing=False, encoding=encoding
            )
        except Exception as exc:  # pyreadstat's errors name neither the file nor the record
            raise _unreadable(source, "archivo SPSS", exc, meta.number_rows) from None
        return df

    return list(meta.column_names), read


def _csv(path: Path, source: ModuleFile):
    """Read by the project's delimited-text loader (DuckDB): sniffed dialect and encoding, each record with its
    physical line, lines with the wrong number of fields and lines in another encoding kept aside as bad lines
    (quarantined, `numero_de_campos` / `codificacion`), a file that is not UTF-8 nor latin-1 refused naming
    the line."""
    try:
        header, _ = read_header(path)
    except SourceFileError as err:
        raise SourceFileError(source.display_path, err.problem, line=err.line, rule=err.rule) from None
    header = [name.strip('"') for name in header]

    def read(selected: list[str]) -> pd.DataFrame:
        try:
            parsed = parse_delimited(path, columns={c: c for c in selected}, strip=True)
        except SourceFileError as err:
            raise SourceFileError(source.display_path, err.problem, line=err.line, rule=err.rule) from None
        df = parsed.frame
        # INEI writes a single space for a missing value; `;` files use a decimal comma.
        df[selected] = df[selected].apply(lambda s: s.replace("", pd.NA))
        df.attrs.update(
            decimal_comma=parsed.dialect.delimiter == ";",
            lineas_malas=parsed.bad_lines,
            errores_lineas=parsed.bad_errors,
        )
        return df

    return header, read


_FORMAT_READERS = {"dta": _stata, "sav": _spss, "csv": _csv}


def _stata_encoding(path: Path) -> str | None:
    """latin-1 up to release 117 (ENAHO ≤ 2024); release 118+ files are UTF-8 and say so themselves."""
    with open(path, "rb") as handle:
        head = handle.read(64)
    if head.startswith(b"<stata_dta>"):
        match = re.search(rb"<release>(\d+)</release>", head)
        if match and int(match.group(1)) >= 118:
            return None
    return "latin1"


# --- checks and normalisation ----------------------------------------------------------------------------------


def _select_columns(
    source: ModuleFile, header: list[str], module: str, columns: Sequence[str], optional: Iterable[str]
) -> list[str]:
    by_lower: dict[str, str] = {}
    for name in header:
        by_lower.setdefault(name.lower(), name)
    if str(module) == "500" and WEIGHT_500 not in by_lower:
        others = [by_lower[n] for n in OTHER_FACTORS_500 if n in by_lower]
        found = f"trae {others} en su lugar" if others else "no trae ningún factor de expansión conocido"
        raise SourceFileError(
            source.display_path,
            f"el módulo 500 debe traer el factor {WEIGHT_500} y {found}: revise qué factor corresponde al año",
            rule="enaho_factor_fac500a",
        )
    wanted = [c.lower() for c in columns]
    missing = [c for c in wanted if c not in by_lower]
    if missing:
        raise SourceFileError(
            source.display_path,
            f"faltan las columnas requeridas {missing}; el archivo trae: {', '.join(header)}",
            rule="enaho_columnas_requeridas",
        )
    wanted += [c.lower() for c in optional if c.lower() in by_lower and c.lower() not in wanted]
    if "año" in by_lower and "año" not in wanted:
        wanted.append("año")
    return [by_lower[c] for c in wanted]


def _where(index: int, lines: np.ndarray | None) -> int:
    """What a person looks for in the file: a CSV record's physical line, else the 1-based record number."""
    return int(lines[index]) if lines is not None else index + 1


def _normalize(frame: pd.DataFrame, source: ModuleFile, lines: np.ndarray | None = None) -> pd.DataFrame:
    """Keys as zero-padded strings, everything else as nullable numbers (codes, never labels)."""
    from_csv = source.fmt == "csv"
    out = {}
    for name in frame.columns:
        series = frame[name]
        if name in KEY_WIDTHS:
            out[name] = _key(series, KEY_WIDTHS[name], pad=from_csv)
        elif name == "año":
            out[name] = series.astype("string").str.strip()
        else:
            out[name] = _number(series, name, source, lines, decimal_comma=frame.attrs.get("decimal_comma", False))
    return pd.DataFrame(out, index=pd.RangeIndex(len(frame)))


def _key(series: pd.Series, width: int, *, pad: bool) -> pd.Series:
    """A string key. Values that lost their zeros (CSV, numeric storage) are padded; a string key read from a
    Stata/SPSS file is kept as stored, so that a genuinely short code still fails validation."""
    if pd.api.types.is_numeric_dtype(series):
        as_int = pd.to_numeric(series).astype("Float64").round().astype("Int64")
        return as_int.astype("string").str.zfill(width).astype("str")
    text = series.astype("string")
    text = text.mask(text.str.strip().eq("").fillna(False))
    if pad:
        text = text.str.strip().str.zfill(width)
    return text.astype("str")


def _number(
    series: pd.Series, name: str, source: ModuleFile, lines: np.ndarray | None = None, *, decimal_comma: bool
) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series):
        values = pd.to_numeric(series).astype("Float64")
    else:
        text = series.astype("string").str.strip()
        text = text.mask(text.eq("").fillna(False))
        if decimal_comma:
            text = text.str.replace(",", ".", regex=False)
        values = pd.to_numeric(text, errors="coerce").astype("Float64")
        bad = values.isna() & text.notna()
        if bad.any():
            first = int(np.flatnonzero(bad.to_numpy())[0])
            examples = list(dict.fromkeys(text[bad].head(20).tolist()))[:3]
            raise SourceFileError(
                source.display_path,
                f"la columna {name} trae valores no numéricos {examples} (¿etiquetas en vez de códigos?)",
                line=_where(first, lines),
                rule="enaho_codigos_numericos",
            )
    nonfinite = ~np.isfinite(values.to_numpy(dtype="float64", na_value=0.0))
    if nonfinite.any():
        # ±inf (`1e400`) stays text: the schema's coercion then rejects its row (`tipo_de_dato` for a code, which
        # pandas would otherwise turn into -9223372036854775808; `valor_finito` for a factor).
        out = values.astype(object)
        out[nonfinite] = values[nonfinite].astype(str).to_numpy()
        return out
    finite = values.dropna()
    if len(finite) and bool((finite == finite.round()).all()):
        return values.round().astype("Int64")
    return values


def _check_year(frame: pd.DataFrame, source: ModuleFile, year: int, lines: np.ndarray | None = None) -> None:
    """The internal `año` must be the folder's year: survey codes are not chronological (906 is 2023)."""
    if "año" not in frame.columns:
        return
    other = frame["año"].dropna()
    other = other[other != str(year)]
    if len(other):
        raise SourceFileError(
            source.display_path,
            f"el archivo es de {sorted(set(other))[:3]} y está en la carpeta de {year}",
            line=_where(int(np.flatnonzero((frame["año"] != str(year)).fillna(False).to_numpy())[0]), lines),
            rule="enaho_anio_coincide",
        )
