"""SUNAT Padrón RUC activity texts → CIIU Rev.4 class, division and PRODUCE sector.

The open-data Padrón RUC gives the main activity (`Actividad_Economica_CIIU_revision4_Principal`) as a title
without its code: upper case, no accents, "N.C.P." sometimes spelled out as "NO CLASIFICADOS PREVIAMENTE", and
a few typos. No public SUNAT text→code catalogue exists, so the title is matched against the titles we have,
after normalising both sides the same way (`normalize_activity_text`):

1. `titulo_onu` — the UN Spanish class titles (`ciiu_rev4.csv`). They are the classification itself and
   cover all 419 classes, so they win any conflict.
2. `titulo_pe` — the Peruvian upper-case wording (`ciiu_rev4_titulos_mayusculas_pe.csv`), for the 47 classes
   Peru words differently from the UN.
3. `variante_sunat` — the short, hand-kept list of Padrón variants and typos (`ciiu_rev4_variantes_sunat.csv`),
   last because each entry is one observed spelling, not a source of truth; it must only add new texts.

Within one source a normalised text naming two classes resolves to the lowest class code. The one such case
is `CULTIVO DE OTRAS PLANTAS NO PERENNES`: the UN title of 0119, also (wrongly) the Peruvian wording of 0129.
Rule 1 sends it to 0119 — the text literally says "no perennes" — and 0129 stays reachable through its own UN
title `CULTIVO DE OTRAS PLANTAS PERENNES`; both are division 01, so the sector (agropecuario) is the same
either way. `ambiguous_texts()` lists every such text and how it was resolved.

Empty texts, `-`, `NO DISPONIBLE` and anything unmatched get no class and sector `sin_clasificar`: nothing is
guessed, and the caller reports the unmatched share. Matching runs on the distinct texts only (a national
Padrón has ~12 M rows but a few hundred texts) and maps back with vectorised joins.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from vraem_pipeline.core.references import reference_csv, sector_by_division

UNCLASSIFIED = "sin_clasificar"
METHODS = ("titulo_onu", "titulo_pe", "variante_sunat")  # in priority order
RESULT_COLUMNS = ("texto", "clase", "division", "sector", "metodo")

_STRING = pd.StringDtype()
# N.C.P. in all the spellings seen, after punctuation became spaces: "N C P", "NCP", and spelled out
# ("NO CLASIFICADOS PREVIAMENTE" in the Padrón; "NO CLASIFICADAS EN OTRA PARTE" is the UN expansion).
_NCP = r"\b(?:N C P|NCP|NO CLASIFICAD[AO]S? (?:PREVIAMENTE|EN OTRA PARTE))\b"


def normalize_activity_text(s: pd.Series) -> pd.Series:
    """Matching key of an activity title: upper case, no accents (Ñ→N), N.C.P. unified, no punctuation.

    Applied identically to the reference titles and to the Padrón texts, so that the only differences left
    are real wording differences. Missing values stay missing; the index is kept.
    """
    out = s.astype(_STRING).str.upper().str.normalize("NFKD")
    out = out.str.replace(r"[\u0300-\u036f]", "", regex=True)  # combining marks: accents, the tilde of Ñ
    out = out.str.replace(r"[^A-Z0-9]+", " ", regex=True).str.strip()
    return out.str.replace(_NCP, "NCP", regex=True)


@lru_cache(maxsize=1)
def _candidates() -> pd.DataFrame:
    """Every (normalised text, class, method) the three sources offer, with the method's priority."""
    un = reference_csv("ciiu_rev4.csv").rename(columns={"titulo": "texto"})
    pe = reference_csv("ciiu_rev4_titulos_mayusculas_pe.csv")
    variants = reference_csv("ciiu_rev4_variantes_sunat.csv")
    parts = [
        frame[["texto", "clase"]].assign(metodo=method, prioridad=rank)
        for rank, (method, frame) in enumerate(zip(METHODS, (un, pe, variants), strict=True))
    ]
    candidates = pd.concat(parts, ignore_index=True)
    candidates["clave"] = normalize_activity_text(candidates["texto"])
    candidates = candidates.drop_duplicates(["clave", "clase", "metodo"])
    return candidates.sort_values(["clave", "prioridad", "clase"], ignore_index=True)


@lru_cache(maxsize=1)
def _lookup() -> pd.DataFrame:
    """One row per normalised text: the class chosen by the documented priority, its division and sector."""
    chosen = _candidates().drop_duplicates("clave", keep="first")
    lookup = pd.DataFrame(
        {
            "clave": chosen["clave"].to_numpy(),
            "clase": chosen["clase"].to_numpy(),
            "division": chosen["clase"].str[:2].to_numpy(),
            "metodo": chosen["metodo"].to_numpy(),
        },
        dtype=_STRING,
    )
    lookup["sector"] = lookup["division"].map(sector_by_division()).astype(_STRING)
    return lookup


def ambiguous_texts() -> pd.DataFrame:
    """Normalised texts that name more than one class, and how each was resolved.

    Columns: `texto` (normalised), `clases` (every candidate as `clase:metodo`), `clase` and `metodo`
    (the one chosen), `mismo_sector` (True when all candidates share the sector, so sector counts do not
    depend on the choice).
    """
    candidates = _candidates()
    candidates = candidates[candidates.groupby("clave")["clase"].transform("nunique") > 1]
    sectors = sector_by_division()
    rows = []
    for key, group in candidates.groupby("clave", sort=True):
        rows.append(
            {
                "texto": key,
                "clases": ", ".join(f"{c}:{m}" for c, m in zip(group["clase"], group["metodo"], strict=True)),
                "clase": group["clase"].iloc[0],
                "metodo": group["metodo"].iloc[0],
                "mismo_sector": group["clase"].str[:2].map(sectors).nunique() == 1,
            }
        )
    return pd.DataFrame(rows, columns=["texto", "clases", "clase", "metodo", "mismo_sector"])


def match_activity(texts: pd.Series) -> pd.DataFrame:
    """CIIU Rev.4 class of each Padrón activity text: `texto, clase, division, sector, metodo`, same index.

    `clase`/`division` are NA and `sector`/`metodo` are `sin_clasificar` when the text has no match.
    Only the distinct texts are normalised and joined; the result is spread back by position.
    """
    codes, uniques = pd.factorize(texts, use_na_sentinel=True)
    keys = normalize_activity_text(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    found = pd.DataFrame({"clave": keys}).merge(_lookup(), on="clave", how="left", validate="many_to_one")
    # One extra all-NA row at the end for missing texts (factorize code -1).
    found = pd.concat([found, pd.DataFrame({"clave": [pd.NA]}, dtype=_STRING)], ignore_index=True)
    found[["sector", "metodo"]] = found[["sector", "metodo"]].fillna(UNCLASSIFIED)
    positions = np.where(codes < 0, len(found) - 1, codes)
    # Arrow-backed `take`, not row objects: this is the only step that scales with the Padrón's row count.
    columns = {"texto": texts.array}
    columns.update({c: found[c].array.take(positions) for c in RESULT_COLUMNS[1:]})
    return pd.DataFrame(columns, index=texts.index)
