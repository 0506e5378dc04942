"""Numbers written the way the printed edition writes them: thousands with commas, a decimal point, one decimal
for percentages ("12,345", "4.2%", "S/ 1,234 millones").

These are Jinja2 filters and the charts' tick and label formatters, so that a figure reads the same in a
sentence, on a bar and in the key-figures panel.
"""

from __future__ import annotations

import math
import re
import unicodedata


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def entero(value) -> str:
    """12345 → "12,345"."""
    if _missing(value):
        return "sin dato"
    return f"{round(value):,d}"


def decimal(value, digits: int = 1) -> str:
    """4.2004 → "4.2"; a value that rounds to zero is "0.0", never "-0.0"."""
    if _missing(value):
        return "sin dato"
    rounded = round(value, digits)
    return f"{0.0 if rounded == 0 else rounded:,.{digits}f}"


def pct(value, digits: int = 1) -> str:
    """4.2004 → "4.2%"."""
    return "sin dato" if _missing(value) else f"{decimal(value, digits)}%"


def millones(value) -> str:
    """Millions as the edition prints them: no decimals from 100 up ("1,234"), one below ("6.5")."""
    if _missing(value):
        return "sin dato"
    return entero(value) if abs(value) >= 100 else decimal(value, 1)


def millions_of_people(value) -> str:
    """3,100,000 → "3.1 millones" (the edition's rounded way of naming a population)."""
    return "sin dato" if _missing(value) else f"{decimal(value / 1e6, 1)} millones"


def trabajadores(value) -> str:
    """A workforce as the edition names it: "3.1 millones de trabajadores" from a million up, else "123,456
    trabajadores" (a rounded "0.4 millones" would say nothing)."""
    if _missing(value):
        return "sin dato"
    return f"{millions_of_people(value)} de trabajadores" if value >= 1e6 else f"{entero(value)} trabajadores"


def signo(value, digits: int = 1) -> str:
    """A change with its sign, for a bar label: "+4.2%", "-1.5%", "0.0%"."""
    if _missing(value):
        return ""
    text = pct(value, digits)
    return text if text.startswith("-") or text.startswith("0.0") else f"+{text}"


def tendencia(value, digits: int = 1) -> str:
    """Which way a change went once rounded as printed: "sube", "baja" or "igual" (templates pick the words)."""
    if _missing(value):
        return "sin_dato"
    rounded = round(value, digits)
    return "sube" if rounded > 0 else "baja" if rounded < 0 else "igual"


FILTERS = {
    "entero": entero,
    "decimal": decimal,
    "pct": pct,
    "millones": millones,
    "millones_de_personas": millions_of_people,
    "signo": signo,
    "trabajadores": trabajadores,
    "tendencia": tendencia,
}


def enumerar(items) -> str:
    """Spanish list: "A, B y C"; the conjunction is "e" before a word sounding /i/ ("Suiza e India")."""
    items = [str(i) for i in items]
    if len(items) < 2:
        return "".join(items)
    last = items[-1]
    conjunction = "e" if re.match(r"(?i)h?i(?![aeiouáéó])", last) else "y"
    return f"{', '.join(items[:-1])} {conjunction} {last}"


FILTERS["enumerar"] = enumerar


def con_pct(row: dict, field_name: str) -> str:
    """A category with its share in brackets, as the edition lists them: "Cusco (12.5%)"."""
    return f"{row[field_name]} ({pct(row['participacion_pct'])})"


FILTERS["con_pct"] = con_pct


def formatear(value, nombre: str) -> str:
    """Applies one of these formats by name (the key-figures panel names the format of each card)."""
    return FILTERS[nombre](value)


FILTERS["formatear"] = formatear


def slug(text: str) -> str:
    """A name fit for a file: "VRAEM" → "vraem", "Junín" → "junin", "Corredor minero sur" → "corredor_minero_sur"."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_") or "territorio"
