"""The blocking check every topic's marts share: shares sum to 100 % and totals agree with the evolution mart."""

import duckdb
import pytest

from vraem_pipeline.lib.steps import shares_check

CHECK = shares_check(on="t_a", evolution="t_evolucion", total="m", blocks={"a": "t_a", "b": "t_b"}, description="")


def run(tmp_path, a, b, evolucion):
    path = tmp_path / "op.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    for name, rows in (("t_a", a), ("t_b", b)):
        con.execute(f"CREATE TABLE marts.{name} (anio INT, participacion_pct DOUBLE, m DOUBLE)")
        if rows:
            con.executemany(f"INSERT INTO marts.{name} VALUES (?, ?, ?)", rows)
    con.execute("CREATE TABLE marts.t_evolucion (anio INT, m DOUBLE)")
    if evolucion:
        con.executemany("INSERT INTO marts.t_evolucion VALUES (?, ?)", evolucion)
    try:
        result = CHECK.run(con, None)
    finally:
        con.close()
    assert CHECK.blocking and CHECK.name == "participaciones_suman_100"
    return result.passed, result.metadata["bloques_con_error"].value


@pytest.mark.parametrize(
    "a, b, evolucion, passed",
    [
        ([(2024, 60, 6), (2024, 40, 4)], [(2024, 100, 10)], [(2024, 10)], True),  # consistent
        ([(2024, 60, 6), (2024, 30, 4)], [(2024, 100, 10)], [(2024, 10)], False),  # block a sums 90 %
        ([(2024, 60, 6), (2024, 40, 4)], [(2024, 100, 9)], [(2024, 10)], False),  # block b's total ≠ evolution
        ([(2024, 60, 6), (2024, 40, 4)], [(2024, 100, 10)], [], False),  # evolution lacks the year
        ([], [], [(2024, 10)], False),  # blocks lack a year with a total
        ([(2024, 0, 0)], [(2024, 0, 0)], [(2024, 0)], True),  # a year with nothing: no shares
    ],
)
def test_shares_check_one_case_per_branch(tmp_path, a, b, evolucion, passed):
    assert run(tmp_path, a, b, evolucion)[0] is passed
