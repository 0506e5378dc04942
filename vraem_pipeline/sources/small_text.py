"""Small CSVs people edit and save themselves (the territory's district list, the GDP share table): UTF-8 (with or
without BOM) or Windows-1252, what Excel writes for "CSV UTF-8" and for plain "CSV", with `,` or `;` (a
Spanish-locale Excel) between fields.

Both files are decoded by the same rule: a file in neither encoding, a workbook or binary saved under the CSV's
name, or one mixing UTF-8 lines with Windows-1252 lines (no single decoding reads both right: names would be
garbled) fails naming the line. The national files are another matter (`textfiles.py`).
"""

from __future__ import annotations

from pathlib import Path

from vraem_pipeline.core.errors import SourceFileError


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode(path: Path, *, what: str, rule: str, error: type[SourceFileError] = SourceFileError) -> str:
    """The file's text; `what` names the file in messages ("el archivo de territorio"), `rule` prefixes the rules
    (`<rule>.formato`, `<rule>.codificacion`, `<rule>.archivo`), `error` is the error raised (a reference table's
    is `ReferenceDataError`)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error(path, f"no se puede leer {what}: {exc}", rule=f"{rule}.archivo") from None
    if raw[:2] == b"PK" or raw[:4] == b"\xd0\xcf\x11\xe0":
        raise error(
            path,
            "es un libro Excel, no un CSV: guárdelo como «CSV UTF-8 (delimitado por comas)»",
            line=1,
            rule=f"{rule}.formato",
        )
    if b"\x00" in raw:
        raise error(
            path,
            "no es un archivo de texto (tiene bytes nulos)",
            line=raw.count(b"\n", 0, raw.index(b"\x00")) + 1,
            rule=f"{rule}.formato",
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        first_bad = raw.count(b"\n", 0, exc.start) + 1
    utf8_line = next((n for n, line in enumerate(raw.split(b"\n"), 1) if not line.isascii() and _is_utf8(line)), None)
    if utf8_line is not None:
        raise error(
            path,
            f"codificación mezclada: la línea {utf8_line} es UTF-8 y esta no es UTF-8; guarde el archivo "
            "en una sola codificación",
            line=first_bad,
            rule=f"{rule}.codificacion",
        )
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise error(
            path,
            f"el byte 0x{raw[exc.start]:02x} no es UTF-8 ni Windows-1252",
            line=raw.count(b"\n", 0, exc.start) + 1,
            rule=f"{rule}.codificacion",
        ) from None


def delimiter(text: str) -> str:
    """`;` when the header has more of them than `,` (a Spanish-locale Excel), else `,`."""
    first_line = text.split("\n", 1)[0]
    return ";" if first_line.count(";") > first_line.count(",") else ","
