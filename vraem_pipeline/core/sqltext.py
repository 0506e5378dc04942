"""Text spliced into SQL where DuckDB takes no parameter (COMMENT ON, ATTACH, a view's body, a header's names).

Everywhere else values go as parameters; these two are the only quoting the project does.
"""

from __future__ import annotations


def sql_literal(text: object) -> str:
    """Any text (a comment, a path, a file's label) as a SQL string literal, single quotes doubled."""
    return "'" + str(text).replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """A name (e.g. a column from a file's header) as a quoted SQL identifier, double quotes doubled."""
    return '"' + str(name).replace('"', '""') + '"'
