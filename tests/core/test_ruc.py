import pandas as pd
import pytest

from vraem_pipeline.core.ruc import check_digit_ok, is_valid

# Test vectors of docs/sources.md#ruc-digito (python-stdnum tests + sample Padrón RUCs).
VALID = ["20512333797", "10054148289", "15484032987", "17155542071", "20100070970", "10452159428", "20512201611"]
INVALID = ["20512333798", "99512333792", "2051233379", "20555534987", "", "2051233379A"]


@pytest.mark.parametrize("ruc", VALID)
def test_valid_vectors(ruc):
    assert is_valid(ruc)


@pytest.mark.parametrize("ruc", INVALID)
def test_invalid_vectors(ruc):
    assert not is_valid(ruc)


def test_remainders_zero_and_one_map_to_one_and_zero():
    # 1000000000x: Σ w·d = 5 → r = 5 → dv 6. Search bodies with r = 0 and r = 1 to pin the Peruvian rule
    # (dv = 1 for r = 0, dv = 0 for r = 1), which the CUIT-style variant gets wrong.
    weights = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    found = {}
    for body in range(10_000_000, 10_000_200):
        base = f"20{body:08d}"
        r = sum(w * int(d) for w, d in zip(weights, base, strict=False)) % 11
        found.setdefault(r, base)
    assert is_valid(found[0] + "1") and not is_valid(found[0] + "0")
    assert is_valid(found[1] + "0") and not is_valid(found[1] + "9")


def test_vectorized_keeps_index_and_handles_missing():
    s = pd.Series(["20512333797", None, "20512333798"], index=[10, 11, 12])
    out = check_digit_ok(s)
    assert out.tolist() == [True, False, False]
    assert out.index.tolist() == [10, 11, 12]


def test_sql_macros_agree_with_the_numpy_rule_on_every_check_digit():
    """The SQL macros (one cast, telescoped digit sum) against `check_digit_ok`: 2,000 bases of every prefix, each
    with all ten last digits (one valid, nine not), plus malformed texts; and `vraem_ruc_dv` against the plain
    per-digit formula on numbers of any length (the telescoped sum must not depend on n having 11 digits)."""
    import duckdb
    import numpy as np

    from vraem_pipeline.core.ruc import SQL_MACROS, WEIGHTS

    rng = np.random.default_rng(7)
    bases = [f"{p}{b:08d}" for p in ("10", "15", "17", "20") for b in rng.integers(0, 10**8, 500)]
    rucs = [b + str(d) for b in bases for d in range(10)] + INVALID + ["-2051233379", "205123337971", None]
    con = duckdb.connect()
    for macro in SQL_MACROS:
        con.execute(macro)
    con.execute("CREATE TABLE r AS SELECT unnest($r) AS ruc", {"r": rucs})
    got = [bool(x) for (x,) in con.execute("SELECT coalesce(vraem_ruc_valido(ruc), false) FROM r").fetchall()]
    assert got == check_digit_ok(pd.Series(rucs)).tolist()
    assert sum(got) == len(bases)
    plain = "(11 - (" + " + ".join(f"{w} * (n // {10 ** (10 - i)} % 10)" for i, w in enumerate(WEIGHTS.tolist()))
    plain += ") % 11) % 10 = n % 10"
    numbers = [int(x) for x in rng.integers(0, 10**15, 5000)] + [0, 1, 10**10, 10**11 - 1]
    differ = con.execute(
        f"SELECT count(*) FROM (SELECT unnest($n)::BIGINT AS n) WHERE vraem_ruc_dv(n) <> ({plain})", {"n": numbers}
    ).fetchone()[0]
    assert differ == 0
