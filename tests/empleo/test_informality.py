"""INEI's ocupinf construction (docs/sources.md#enaho-informalidad): one fixture row per branch, Stata-missing cases
included.

Every expected value was worked out by hand from the Stata syntax; the comment on each row says how.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vraem_pipeline.empleo.informality import add_rebuilt_flag, compare_with_official, rebuild_ocupinf

NA = np.nan
INF, FOR = 1, 2

# name: (ocu500, p507, p510, p510a1, p512a, p512b, p506r4, employer_pays_insurance, expected ocupinf, sector)
BRANCHES = {
    # not employed: nothing is built
    "not_employed": (4, NA, NA, NA, NA, NA, NA, False, None, None),
    # public employee: p510=2 → hogar 1 → sector 1; employee → employer pays → formal
    "public_employee_insured": (1, 3, 2, NA, 4, NA, 8411, True, FOR, 1),
    # corporation (p510a1=1) → sector 1; employee without employer-paid insurance → informal
    "corporate_employee_uninsured": (1, 4, 6, 1, 1, 15, 4711, False, INF, 1),
    # unregistered unit → hogar 0, sector 2; an employee of an informal-sector unit is informal even when insured
    "insured_employee_informal_sector": (1, 4, 6, 3, 1, 3, 4100, True, INF, 2),
    # p510a1 missing: Stata's `p510a1 > 1` is true → hogar 0; `p510a1 <= 2` is false → sector 9; employee → seg
    "employee_missing_registration": (1, 3, 6, NA, 1, 4, 4711, True, FOR, 9),
    # employer, 51–100 people (p512a=3): num 9 → 4; non-agro household unit with num > 3 → quasi-corporation
    "employer_quasi_corporation": (1, 1, NA, 3, 3, NA, 1071, False, FOR, 1),
    # employer, p512a and p512b missing: num stays 9 (`p512a < 6` false) and 9 > 3 → quasi-corporation too
    "employer_size_unknown": (1, 1, NA, 3, NA, NA, 4711, False, FOR, 1),
    # agro own-account (a_rev4 1) → sector 2 → informal
    "agro_own_account": (1, 2, NA, 3, NA, NA, 111, False, INF, 2),
    # agro own-account with RUC: the agro rule runs before the registration rule → still sector 2
    "agro_own_account_registered": (1, 2, NA, 2, 1, 1, 111, False, INF, 2),
    # mining class 0729 falls in 111–990 (a_rev4 1), replicated as written → sector 2
    "mining_own_account_registered": (1, 2, NA, 2, 1, 1, 729, False, INF, 2),
    # non-agro own-account, persona natural con RUC → sector 1 → formal
    "own_account_registered": (1, 2, NA, 2, 1, 1, 4711, False, FOR, 1),
    # non-agro own-account, not registered → sector 2 → informal
    "own_account_unregistered": (1, 2, NA, 3, 1, 1, 4711, False, INF, 2),
    # own-account, registration missing → hogar 0, no rule fires → sector 9 → ocupinf missing
    "own_account_sector_undetermined": (1, 2, NA, NA, 1, 1, 4711, False, None, 9),
    # employer, registration missing, 3 people (num 1, not > 3) → sector 9 → ocupinf missing
    "employer_sector_undetermined": (1, 1, NA, NA, 1, 3, 4711, False, None, 9),
    # employer, p506r4 missing (a_rev4 missing: `max` excludes missing) and p512b missing → num 9 but no
    # quasi-corporation because a_rev4 is not 2 → sector 9
    "employer_industry_missing": (1, 1, NA, NA, NA, NA, NA, False, None, 9),
    # TFNR, unregistered unit → sector 2; TFNR always informal
    "tfnr_unregistered": (1, 5, NA, 3, 1, 4, 4711, False, INF, 2),
    # TFNR in a government activity: hogar 1 → sector 1; p512b missing → `p512b < 6` false → stays sector 1
    "tfnr_government_size_missing": (1, 5, NA, NA, NA, NA, 8411, False, INF, 1),
    # the same with 3 people → sector 1 becomes 2
    "tfnr_government_small": (1, 5, NA, NA, 1, 3, 8411, False, INF, 2),
    # TFNR in a corporation: hogar 1 → 0 (no TFNR in corporations) → p510a1 1 <= 2 → sector 1 → p512b 3 → 2
    "tfnr_corporation_small": (1, 5, NA, 1, 1, 3, 4711, False, INF, 2),
    # domestic worker: hogar 0, sector 3; employee → employer-paid insurance decides
    "domestic_uninsured": (1, 6, NA, NA, 1, 1, 9700, False, INF, 3),
    "domestic_insured": (1, 6, NA, NA, 1, 1, 9700, True, FOR, 3),
    # "otro" working for the public administration: hogar 1 → 0 (p507 7) → 1 again (DNCN correction) → sector 1;
    # category 3 → informal
    "otro_public_administration": (1, 7, 2, NA, NA, NA, 4711, False, INF, 1),
    # employed with no category: hogar 0 (p510a1 missing), a_rev4 missing → sector 9, ocupinf missing
    "employed_without_category": (1, NA, NA, NA, NA, NA, NA, False, None, 9),
}

KEYS = ["conglome", "vivienda", "hogar", "codperso"]


def _modules(branches: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = list(branches.values())
    n = len(rows)
    keys = {
        "conglome": ["005030"] * n,
        "vivienda": [f"{i + 1:03d}" for i in range(n)],
        "hogar": ["11"] * n,
        "codperso": ["01"] * n,
    }
    cols = ["ocu500", "p507", "p510", "p510a1", "p512a", "p512b", "p506r4"]
    m500 = pd.DataFrame({**keys, **{c: [r[i] for r in rows] for i, c in enumerate(cols)}})
    m500[cols] = m500[cols].astype("Float64")
    pays = np.array([r[7] for r in rows])
    m400 = pd.DataFrame(keys)
    for col in ["p419a1", "p419a2", "p419a3", "p419a4", "p419a5", "p419a8"]:
        m400[col] = pd.array([NA] * n, dtype="Float64")
    m400.loc[pays, "p419a1"] = 1.0
    # insurance that is not employer-paid, or paid by the employer but outside INEI's list, never counts
    m400.loc[~pays, "p419a5"] = 5.0
    m400["p419a6"] = 1.0
    return m500, m400.sample(frac=1, random_state=3)  # another order: the join must use the key


def test_every_branch_of_the_rebuild():
    m500, m400 = _modules(BRANCHES)
    out = rebuild_ocupinf(m500, m400)
    got = dict(
        zip(BRANCHES, zip(out["ocupinf"].astype(object), out["sector"].astype(object), strict=False), strict=False)
    )
    for name, row in BRANCHES.items():
        ocupinf, sector = got[name]
        assert (None if pd.isna(ocupinf) else ocupinf) == row[8], f"{name}: ocupinf"
        assert (None if pd.isna(sector) else sector) == row[9], f"{name}: sector"
    assert list(out.columns) == KEYS + ["ocupinf", "sector"]
    assert out.index.equals(m500.index)


@pytest.mark.parametrize("column", ["p419a2", "p419a3", "p419a4", "p419a5", "p419a8"])
def test_any_listed_insurance_paid_by_the_workplace_makes_an_employee_formal(column):
    m500, m400 = _modules({"x": BRANCHES["corporate_employee_uninsured"]})
    m400[column] = 1.0
    assert rebuild_ocupinf(m500, m400)["ocupinf"].tolist() == [FOR]


def test_person_absent_from_module_400_counts_as_uninsured():
    m500, m400 = _modules({"x": BRANCHES["public_employee_insured"]})
    out = rebuild_ocupinf(m500, m400.iloc[0:0])
    assert out["ocupinf"].tolist() == [INF]


def test_join_uses_the_year_when_both_modules_carry_several_years():
    m500, m400 = _modules({"x": BRANCHES["public_employee_insured"]})
    m500 = pd.concat([m500.assign(anio=2023), m500.assign(anio=2024)], ignore_index=True)
    m400 = m400.assign(anio=2024)  # insured only in 2024
    assert rebuild_ocupinf(m500, m400)["ocupinf"].tolist() == [INF, FOR]


def test_duplicated_person_key_is_refused():
    m500, m400 = _modules({"x": BRANCHES["public_employee_insured"]})
    with pytest.raises(ValueError, match="módulo 400: 1 personas con clave repetida"):
        rebuild_ocupinf(m500, pd.concat([m400, m400]))


def test_add_rebuilt_flag_appends_the_staging_columns():
    m500, m400 = _modules({"a": BRANCHES["domestic_insured"], "b": BRANCHES["not_employed"]})
    out = add_rebuilt_flag(m500, m400)
    assert out["ocupinf_reconstruido"].tolist()[0] == FOR and pd.isna(out["ocupinf_reconstruido"].iloc[1])
    assert out["sector_reconstruido"].tolist()[0] == 3
    assert list(out.columns[:-2]) == list(m500.columns)


def test_compare_with_official_by_hand():
    # weights 1, 2, 3, 4, 10; official 1, 1, 2, 2, <NA>; rebuilt 1, 2, 2, <NA>, 1
    # agreement over the 4 rows with an official flag: rows 1 and 3 → 50 %
    # official rate: (1 + 2) / 10 = 30 %; rebuilt rate over its non-missing rows: (1 + 10) / (1 + 2 + 3 + 10)
    official = pd.array([1, 1, 2, 2, None], dtype="Int64")
    rebuilt = pd.array([1, 2, 2, None, 1], dtype="Int64")
    c = compare_with_official(rebuilt, official, [1, 2, 3, 4, 10])
    assert c.n_rows == 4
    assert c.agreement_share == 0.5
    assert c.rate_official_pct == pytest.approx(30.0)
    assert c.rate_rebuilt_pct == pytest.approx(100 * 11 / 16)
    assert c.diff_pp == pytest.approx(100 * 11 / 16 - 30.0)
    masked = compare_with_official(rebuilt, official, [1, 2, 3, 4, 10], mask=[True, True, False, False, False])
    assert (masked.n_rows, masked.agreement_share, masked.rate_official_pct) == (2, 0.5, 100.0)
