"""Loaders for the reference tables shipped in `vraem_pipeline/reference/` and for the territory setting.

Every code is read as a string (ubigeos, CIIU classes and divisions keep their leading zeros). Shipped files
are read once per process (`lru_cache`) and handed out as copies, so a caller that edits a frame cannot
corrupt the next caller's. The territory (`VRAEM_TERRITORY`, docs/settings-and-cli.md#settings) is user data: it is
checked row by row when it is loaded and fails with a `ReferenceDataError` that names the file, the line and the rule,
because a wrong district list silently changes every firm, credit and GDP figure of the report.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path

import pandas as pd

from vraem_pipeline.core.errors import ReferenceDataError
from vraem_pipeline.core.settings import PACKAGE_REFERENCE
from vraem_pipeline.core.sqltext import sql_literal
from vraem_pipeline.sources import small_text

REFERENCE_DIR = PACKAGE_REFERENCE
SHIPPED_TERRITORY = REFERENCE_DIR / "vraem_distritos.csv"

#: The PRODUCE sector codes of docs/methodology/README.md#marts-tables, in the report's order.
SECTORS = ("agropecuario", "pesca", "mineria", "manufactura", "construccion", "comercio", "servicios")

TERRITORY_COLUMNS = ("ubigeo", "departamento", "provincia", "distrito", "ambito", "fuente")
#: A territory must name its districts; `ambito` and `fuente` only exist for the VRAEM list (a one-department
#: list or a corridor has no intervention scope), so they may be left out and default to "".
TERRITORY_REQUIRED = TERRITORY_COLUMNS[:4]
TERRITORY_OPTIONAL = TERRITORY_COLUMNS[4:]

#: Longest text a territory cell may hold. INEI's longest district names have ~40 characters; a longer cell is
#: a broken file (a lost line end, a pasted document), and the names reach the analysts' warehouse.
MAX_TERRITORY_TEXT = 200

_UBIGEO = re.compile(r"^\d{6}$")
_UBIGEO_LOST_ZERO = re.compile(r"^\d{5}$")

#: Codes still found in older district lists, with the INEI 2025 code that replaced them (reference README).
_STALE_UBIGEOS = {
    "090708": "090709",
    "090712": "090714",
    "160109": "160801",
    "160114": "160803",
}


class MissingUITError(KeyError):
    """No UIT for a year: `uit.csv` has to be extended (new decree) before that year can be stratified."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0])


# ---------------------------------------------------------------------------------------------------------
# Shipped tables


def reference_csv(name: str) -> pd.DataFrame:
    """Any shipped reference CSV, every column as str and empty cells as "" (a copy: safe to modify)."""
    return _read_shipped(name).copy()


@cache
def _read_shipped(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENCE_DIR / name, dtype=str, keep_default_na=False, encoding="utf-8")


def ubigeo_table() -> pd.DataFrame:
    """INEI 2025 districts: `ubigeo, departamento, provincia, distrito` (1,891 rows)."""
    return reference_csv("ubigeo_inei.csv")


@cache
def _ubigeo_set() -> frozenset[str]:
    return frozenset(_read_shipped("ubigeo_inei.csv")["ubigeo"])


def department_names() -> dict[str, str]:
    """2-digit INEI department code → INEI name, e.g. `"05"` → `"Ayacucho"` (25 departments)."""
    table = _read_shipped("ubigeo_inei.csv")
    deps = table.assign(dep=table["ubigeo"].str[:2]).drop_duplicates("dep").sort_values("dep")
    return dict(zip(deps["dep"], deps["departamento"], strict=True))


def uit_table() -> pd.DataFrame:
    """`anio` (int), `uit_soles` (float), `norma` (the decree that set it)."""
    return _uit().copy()


@cache
def _uit() -> pd.DataFrame:
    table = _read_shipped("uit.csv")
    return pd.DataFrame(
        {
            "anio": table["anio"].astype(int),
            "uit_soles": table["uit_soles"].astype(float),
            "norma": table["norma"],
        }
    )


def uit_for_year(anio: int) -> float:
    """UIT in soles of a calendar year; `MissingUITError` (a `KeyError`) for a year `uit.csv` does not cover."""
    table = _uit()
    hit = table.loc[table["anio"] == int(anio), "uit_soles"]
    if hit.empty:
        raise MissingUITError(
            f"no hay UIT para el año {anio} en {REFERENCE_DIR / 'uit.csv'} "
            f"(cubre {table['anio'].min()}–{table['anio'].max()}); agregue la fila con su decreto supremo"
        )
    return float(hit.iloc[0])


def sector_by_division() -> dict[str, str]:
    """CIIU Rev.4 division (2 digits) → PRODUCE sector code (88 divisions, docs/sources.md#sectores-produce)."""
    table = _read_shipped("ciiu_division_sector_produce.csv")
    return dict(zip(table["division"], table["sector"], strict=True))


def ciiu_classes() -> pd.DataFrame:
    """The 419 CIIU Rev.4 classes: `seccion, division, grupo, clase, titulo` (UN Spanish title) plus `sector`."""
    classes = reference_csv("ciiu_rev4.csv")
    classes["sector"] = classes["division"].map(sector_by_division())
    return classes


def taxpayer_types() -> pd.DataFrame:
    """SUNAT `Tipo` → `es_negocio` (bool: counts as a business for PRODUCE) and `grupo`."""
    table = reference_csv("tipos_contribuyente.csv")
    bad = ~table["es_negocio"].isin(["si", "no"])
    if bad.any():
        first = int(bad.to_numpy().argmax())
        raise ReferenceDataError(
            REFERENCE_DIR / "tipos_contribuyente.csv",
            f"es_negocio debe ser 'si' o 'no', no {table['es_negocio'].iloc[first]!r}",
            line=first + 2,
            rule="tipos_contribuyente.es_negocio",
        )
    table["es_negocio"] = table["es_negocio"] == "si"
    return table


def countries() -> pd.DataFrame:
    """ISO 3166-1 countries: `iso2, nombre, iso3, numerico, nombre_cldr` (use `nombre_cldr` for display)."""
    return reference_csv("paises_iso.csv")


#: The unknown-destination bucket (ISO 3166-1 reserves ZZ for user-assigned "unknown"): blank, non-ISO codes
#: without a known successor, and any code that is neither ISO nor in `paises_sunat.csv`.
UNKNOWN_COUNTRY = ("ZZ", "Destino no identificado")


def export_countries() -> pd.DataFrame:
    """`codigo, pais_iso2, pais`: every code a SUNAT export line may carry, as a destination.

    ISO codes map to themselves (overseas territories stay themselves: ISO keeps them apart, PRODUCE's own
    pipeline folds some into their sovereign); SUNAT's non-ISO codes through `paises_sunat.csv`; names are
    the CLDR Spanish names of `paises_iso.csv`."""
    iso = countries()[["iso2", "nombre_cldr"]].rename(columns={"iso2": "pais_iso2", "nombre_cldr": "pais"})
    remap = reference_csv("paises_sunat.csv")
    unknown = set(remap["pais_iso2"]) - set(iso["pais_iso2"]) - {UNKNOWN_COUNTRY[0]}
    if unknown:
        raise ReferenceDataError(
            REFERENCE_DIR / "paises_sunat.csv",
            f"códigos ISO inexistentes {sorted(unknown)}",
            rule="paises_sunat.pais_iso2",
        )
    names = pd.concat([iso, pd.DataFrame([UNKNOWN_COUNTRY], columns=["pais_iso2", "pais"])])
    codes = pd.concat(
        [iso[["pais_iso2"]].assign(codigo=iso["pais_iso2"]), remap.rename(columns={"codigo_sunat": "codigo"})]
    )
    return codes[["codigo", "pais_iso2"]].merge(names, on="pais_iso2", how="left").reset_index(drop=True)


def resolve_hs_ciiu(pairs: pd.DataFrame, rule_table: pd.DataFrame) -> pd.DataFrame:
    """One CIIU Rev.4 class per HS subheading, from a many-to-many correspondence (`hs`, `isic4`).

    Chapter 99 is left out: HS reserves it for national use, and the correspondence's `999999` ("commodities
    not specified") is not a product, so such lines stay `sin_clasificar`. Then, in order: (1) `rule_table` — the
    longest HS prefix listed there decides (classes the correspondence spreads over a whole group, e.g. coffee over
    0121–0128); (2) the chain HS→ISIC3→ISIC4 adds 0990 (support activities
    for mining) to every ore: dropped when another candidate exists; (3) a single candidate left is the class;
    (4) otherwise the lowest class code, marked `menor_codigo` so that what rests on this rule can be measured.
    """
    rules = dict(zip(rule_table["prefijo_hs"], rule_table["ciiu_clase"], strict=False))
    lengths = sorted({len(p) for p in rules}, reverse=True)
    out = []
    for hs, group in pairs[~pairs["hs"].str.startswith("99")].groupby("hs", sort=True):
        candidates = sorted(set(group["isic4"]))
        prefix = next((hs[:n] for n in lengths if hs[:n] in rules), None)
        if prefix is not None:
            clase, regla = rules[prefix], f"excepcion_{prefix}"
        else:
            kept = [c for c in candidates if c != "0990"] or candidates
            regla = ("unico" if len(candidates) == 1 else "sin_0990") if len(kept) == 1 else "menor_codigo"
            clase = kept[0]
        out.append((hs, clase, regla, "|".join(candidates)))
    return pd.DataFrame(out, columns=["hs6", "ciiu_clase", "regla", "candidatos"])


def hs_ciiu_resolved() -> pd.DataFrame:
    """The shipped resolution (`hs6_ciiu4.csv`: `hs6, ciiu_clase, regla, candidatos`)."""
    return reference_csv("hs6_ciiu4.csv")


def write_hs_ciiu_resolved() -> Path:
    """Rebuild `hs6_ciiu4.csv` from `hs_isic4.csv` and `hs_ciiu4_reglas.csv` (after editing either)."""
    table = resolve_hs_ciiu(reference_csv("hs_isic4.csv"), reference_csv("hs_ciiu4_reglas.csv"))
    path = REFERENCE_DIR / "hs6_ciiu4.csv"
    table.to_csv(path, index=False, lineterminator="\n")
    return path


# ---------------------------------------------------------------------------------------------------------
# Territory


def load_territory(path: Path | str | None = None) -> pd.DataFrame:
    """The districts of the territory (`None` ⇒ the shipped VRAEM list of 79 districts).

    Returns `ubigeo, departamento, provincia, distrito, ambito, fuente` as str, in file order; `ambito` and
    `fuente` are kept as given (the VRAEM list has `por_confirmar` scopes) and are "" when the file has no
    such column. Raises `ReferenceDataError` for a header that is not those columns (the four first are
    required, extra columns are rejected so that a misspelt `ambito` is not silently dropped), a malformed
    ubigeo, an ubigeo that is not an INEI 2025 district, a duplicate ubigeo or a file without districts.
    A 5-digit ubigeo is a code that lost its leading zero in a spreadsheet and is zero-padded back.
    """
    if path is None or Path(path).resolve() == SHIPPED_TERRITORY:
        return _shipped_territory().copy()
    return _parse_territory(Path(path))


@lru_cache(maxsize=1)
def _shipped_territory() -> pd.DataFrame:
    return _parse_territory(SHIPPED_TERRITORY)


def territory_name(path: Path | str) -> str:
    """The territory's name as the report prints it, read off its file name, since the district list has no
    column for it: the stem without a `_distritos` suffix, `_` as spaces; a department's name when it is one
    (`ayacucho_distritos.csv` → "Ayacucho", accents from INEI's table), else in capitals (`vraem_distritos.csv`
    → "VRAEM", `corredor_minero_sur.csv` → "CORREDOR MINERO SUR")."""
    stem = re.sub(r"[_-]distritos$", "", Path(path).stem, flags=re.IGNORECASE).replace("_", " ").strip()
    by_plain = {_plain(name): name for name in department_names().values()}
    return by_plain.get(_plain(stem), stem.upper())


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def territory_departments(territory: pd.DataFrame) -> list[str]:
    """Sorted 2-digit department codes of the territory's districts (the scope of department indicators)."""
    return sorted(set(territory["ubigeo"].str[:2]))


def _long_line(path: Path, text: str) -> None:
    """A line no territory row can have (before the csv module, whose own field limit depends on the process)."""
    limit = (MAX_TERRITORY_TEXT + 3) * len(TERRITORY_COLUMNS)  # every field at its longest, quoted, with commas
    for number, line in enumerate(text.split("\n"), 1):
        if len(line) > limit:
            raise ReferenceDataError(
                path,
                f"línea de {len(line):,} caracteres: ningún campo del territorio pasa de "
                f"{MAX_TERRITORY_TEXT} caracteres",
                line=number,
                rule="territorio.texto_largo",
            )


def _parse_territory(path: Path) -> pd.DataFrame:
    text = small_text.decode(path, what="el archivo de territorio", rule="territorio", error=ReferenceDataError)
    _long_line(path, text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=small_text.delimiter(text))
    header = next(reader, None)
    if header is None:
        raise ReferenceDataError(path, "el archivo de territorio está vacío", line=1, rule="territorio.vacio")
    names = [h.strip().lower() for h in header]
    expected = ",".join(TERRITORY_COLUMNS)
    missing = [c for c in TERRITORY_REQUIRED if c not in names]
    unknown = [h for h, n in zip(header, names, strict=True) if n not in TERRITORY_COLUMNS]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if missing or unknown or repeated:
        details = "; ".join(
            part
            for part in (
                f"faltan {', '.join(missing)}" if missing else "",
                f"columnas desconocidas {', '.join(repr(u) for u in unknown)}" if unknown else "",
                f"columnas repetidas {', '.join(repeated)}" if repeated else "",
            )
            if part
        )
        raise ReferenceDataError(
            path,
            f"cabecera inesperada: se esperaba '{expected}' (ambito y fuente opcionales), "
            f"se encontró '{','.join(header)}' ({details})",
            line=1,
            rule="territorio.cabecera",
        )

    inei = _ubigeo_set()
    first_seen: dict[str, int] = {}
    rows: list[dict[str, str]] = []
    line = reader.line_num
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ReferenceDataError(path, f"CSV mal formado: {exc}", line=line + 1, rule="territorio.csv") from None
        start, line = line + 1, reader.line_num
        if not any(cell.strip() for cell in record):  # blank line or an Excel row of empty cells
            continue
        if len(record) != len(names):
            raise ReferenceDataError(
                path,
                f"la fila tiene {len(record)} campos y la cabecera {len(names)}",
                line=start,
                rule="territorio.campos",
            )
        row = {name: cell.strip() for name, cell in zip(names, record, strict=True)}
        long = [name for name, cell in row.items() if len(cell) > MAX_TERRITORY_TEXT]
        if long:
            raise ReferenceDataError(
                path,
                f"el campo {long[0]} tiene {len(row[long[0]]):,} caracteres: ningún campo "
                f"del territorio pasa de {MAX_TERRITORY_TEXT} caracteres",
                line=start,
                rule="territorio.texto_largo",
            )
        code = row["ubigeo"]
        if _UBIGEO_LOST_ZERO.match(code):
            code = code.zfill(6)
        if not _UBIGEO.match(code):
            raise ReferenceDataError(
                path,
                f"ubigeo mal formado {row['ubigeo']!r}: debe tener 6 dígitos (INEI, p. ej. 050401)",
                line=start,
                rule="territorio.ubigeo_formato",
            )
        if code not in inei:
            hint = (
                f"; es un código antiguo, INEI 2025 usa {_STALE_UBIGEOS[code]}"
                if code in _STALE_UBIGEOS
                else "; use la codificación INEI 2025 (no la de RENIEC)"
            )
            raise ReferenceDataError(
                path,
                f"ubigeo {code} no es un distrito de la lista INEI (ubigeo_inei.csv){hint}",
                line=start,
                rule="territorio.ubigeo_inei",
            )
        if code in first_seen:
            raise ReferenceDataError(
                path,
                f"ubigeo {code} repetido (ya está en la línea {first_seen[code]})",
                line=start,
                rule="territorio.ubigeo_duplicado",
            )
        first_seen[code] = start
        row["ubigeo"] = code
        rows.append(row)

    if not rows:
        raise ReferenceDataError(path, "el territorio no tiene distritos", line=1, rule="territorio.vacio")
    frame = pd.DataFrame(rows, columns=list(names), dtype=str)
    for column in TERRITORY_OPTIONAL:
        if column not in frame:
            frame[column] = ""
    return frame[list(TERRITORY_COLUMNS)]


# ---------------------------------------------------------------------------------------------------------
# The reference tables written into the warehouse


def _replace_table(con, table: str, df: pd.DataFrame, comment: str) -> None:
    con.register("_vraem_ref", df)
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _vraem_ref")
    con.unregister("_vraem_ref")
    con.execute(f"COMMENT ON TABLE {table} IS {sql_literal(comment)}")


def write_reference_tables(
    con, territory: pd.DataFrame, territory_label: str, topic_tables: Mapping[str, tuple[pd.DataFrame, str]]
) -> None:
    """The lookups marts join: the territory (configuration), the shipped public tables every topic shares, and
    each topic's own (`topic_tables`: name → (table, comment), from the registry's topics)."""
    departamentos = pd.DataFrame(sorted(department_names().items()), columns=["ubigeo_departamento", "departamento"])
    _replace_table(con, "referencia.territorio", territory, f"Distritos del territorio ({territory_label})")
    _replace_table(
        con,
        "referencia.territorio_departamentos",
        pd.DataFrame({"ubigeo_departamento": territory_departments(territory)}),
        f"Departamentos de los distritos del territorio ({territory_label}): el alcance de las cifras departamentales",
    )
    _replace_table(con, "referencia.ubigeo", ubigeo_table(), "Distritos INEI (ubigeo de 6 dígitos)")
    _replace_table(con, "referencia.departamentos", departamentos, "Departamentos INEI")
    _replace_table(
        con,
        "referencia.ciiu_clases",
        ciiu_classes()[["clase", "titulo", "seccion", "division"]],
        "Clases CIIU Rev.4 con su título en español (Naciones Unidas)",
    )
    for name, (table, comment) in topic_tables.items():
        _replace_table(con, f"referencia.{name}", table, comment)
