"""SUNAT Padrón activity texts → CIIU Rev.4 class and PRODUCE sector."""

from __future__ import annotations

import pandas as pd
import pytest

from vraem_pipeline.core.references import SECTORS, ciiu_classes, reference_csv
from vraem_pipeline.empresas import ciiu
from vraem_pipeline.empresas.ciiu import ambiguous_texts, match_activity, normalize_activity_text


def one(text: str | None) -> pd.Series:
    return match_activity(pd.Series([text], dtype=object)).iloc[0]


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Cultivo de caña de azúcar", "CULTIVO DE CANA DE AZUCAR"),
        ("ELABORACIÒN Y CONSERVACIÓN DE CARNE", "ELABORACION Y CONSERVACION DE CARNE"),
        ("  Enseñanza   superior. ", "ENSENANZA SUPERIOR"),
        ("VENTA DE ORDENADORES, EQUIPO PERIFÉRICO", "VENTA DE ORDENADORES EQUIPO PERIFERICO"),
        ("OTROS TIPOS DE ENSEÑANZA N.C.P.", "OTROS TIPOS DE ENSENANZA NCP"),
        ("OTROS TIPOS DE ENSEÑANZA N.C.P", "OTROS TIPOS DE ENSENANZA NCP"),
        ("OTROS TIPOS DE ENSEÑANZA NCP", "OTROS TIPOS DE ENSENANZA NCP"),
        ("OTROS TIPOS DE ENSENANZA NO CLASIFICADOS PREVIAMENTE", "OTROS TIPOS DE ENSENANZA NCP"),
        ("otros tipos de enseñanza no clasificadas previamente", "OTROS TIPOS DE ENSENANZA NCP"),
        ("SERVICIOS FINANCIEROS, EXCEPTO SEGUROS, N.C.P.", "SERVICIOS FINANCIEROS EXCEPTO SEGUROS NCP"),
        ("-", ""),
    ],
)
def test_normalize_activity_text(raw, key):
    assert normalize_activity_text(pd.Series([raw])).iloc[0] == key


def test_normalize_keeps_index_and_missing_values():
    out = normalize_activity_text(pd.Series(["á", None], index=[10, 20]))
    assert out.index.tolist() == [10, 20]
    assert out.iloc[0] == "A" and pd.isna(out.iloc[1])


@pytest.mark.parametrize(
    ("text", "clase", "sector", "metodo"),
    [
        # UN title as SUNAT writes it (upper case, no accents)
        ("ELABORACION DE PRODUCTOS LACTEOS", "1050", "manufactura", "titulo_onu"),
        ("CULTIVO DE CAÑA DE AZUCAR", "0114", "agropecuario", "titulo_onu"),
        ("EXTRACCION DE OTROS MINERALES METALIFEROS NO FERROSOS", "0729", "mineria", "titulo_onu"),
        (
            "VENTA AL POR MENOR EN COMERCIOS NO ESPECIALIZADOS CON PREDOMINIO DE LA VENTA DE ALIMENTOS, "
            "BEBIDAS O TABACO",
            "4711",
            "comercio",
            "titulo_onu",
        ),
        # N.C.P. spelled out, as in the Padrón
        (
            "OTRAS ACTIVIDADES DE SERVICIOS DE APOYO A LAS EMPRESAS NO CLASIFICADOS PREVIAMENTE",
            "8299",
            "servicios",
            "titulo_onu",
        ),
        ("OTRAS ACTIVIDADES DE SERVICIOS DE APOYO A LAS EMPRESAS N.C.P", "8299", "servicios", "titulo_onu"),
        # Peruvian wording, with its typos (ACUICULTURA MARÍTIMA; ASERRADOS; grave accents)
        ("ACUICULTURA MARITIMA", "0321", "pesca", "titulo_pe"),
        ("ASERRADOS Y ACEPILLADURA DE MADERA", "1610", "manufactura", "titulo_pe"),
        ("ELABORACIÒN Y CONSERVACIÓN DE PESCADOS, CRUSTÁCEOS Y MOLUSCOS", "1020", "manufactura", "titulo_pe"),
        ("ACTIVIDADES DE OFICINAS CENTRALES", "7010", "servicios", "titulo_pe"),
        # SUNAT typo
        ("ACTIVIDADES DE TELECOMUNICACIONES ALAMBICAS", "6110", "servicios", "variante_sunat"),
        # building and trade
        ("CONSTRUCCION DE EDIFICIOS", "4100", "construccion", "titulo_onu"),
    ],
)
def test_match_known_texts(text, clase, sector, metodo):
    row = one(text)
    assert (row["clase"], row["division"], row["sector"], row["metodo"]) == (clase, clase[:2], sector, metodo)


@pytest.mark.parametrize("text", ["NO DISPONIBLE", "", "-", " - ", None, "ACTIVIDAD INVENTADA", "CULTIVO DE"])
def test_no_data_or_unknown_text_is_unclassified(text):
    row = one(text)
    assert pd.isna(row["clase"]) and pd.isna(row["division"])
    assert row["sector"] == "sin_clasificar" and row["metodo"] == "sin_clasificar"


def test_0119_0129_trap():
    """The Peruvian wording of 0129 is the UN title of 0119: the text says 'no perennes', so it is 0119."""
    assert one("CULTIVO DE OTRAS PLANTAS NO PERENNES")[["clase", "sector"]].tolist() == ["0119", "agropecuario"]
    assert one("CULTIVO DE OTRAS PLANTAS PERENNES")[["clase", "sector"]].tolist() == ["0129", "agropecuario"]
    table = ambiguous_texts()
    assert table["texto"].tolist() == ["CULTIVO DE OTRAS PLANTAS NO PERENNES"]
    row = table.iloc[0]
    assert (row["clase"], row["metodo"], bool(row["mismo_sector"])) == ("0119", "titulo_onu", True)
    assert "0129:titulo_pe" in row["clases"]


def test_result_shape_index_and_dtypes():
    texts = pd.Series(["CULTIVO DE ARROZ", None, "NO DISPONIBLE", "CULTIVO DE ARROZ"], index=[7, 3, 9, 1])
    out = match_activity(texts)
    assert list(out.columns) == list(ciiu.RESULT_COLUMNS)
    assert out.index.tolist() == [7, 3, 9, 1]
    assert out["clase"].tolist()[0] == "0112" and out["clase"].tolist()[3] == "0112"
    assert out["texto"].iloc[0] == "CULTIVO DE ARROZ" and pd.isna(out["texto"].iloc[1])
    for column in ("clase", "division", "sector", "metodo"):
        assert isinstance(out[column].dtype, pd.StringDtype)
    assert set(out["sector"]) <= set(SECTORS) | {"sin_clasificar"}
    assert match_activity(pd.Series([], dtype=str)).empty


def test_only_distinct_texts_are_normalised(monkeypatch):
    ciiu._lookup()  # the reference side is normalised once and cached
    sizes: list[int] = []
    real = ciiu.normalize_activity_text

    def spy(s: pd.Series) -> pd.Series:
        sizes.append(len(s))
        return real(s)

    monkeypatch.setattr(ciiu, "normalize_activity_text", spy)
    texts = pd.Series(["ELABORACION DE PRODUCTOS LACTEOS", "NO DISPONIBLE", None, "CULTIVO DE ARROZ"] * 25_000)
    out = match_activity(texts)
    assert sizes == [3]
    assert out["clase"].value_counts().to_dict() == {"1050": 25_000, "0112": 25_000}


def test_every_class_is_reachable_from_its_un_title():
    classes = ciiu_classes()
    out = match_activity(classes["titulo"].str.upper())
    assert (out["clase"].to_numpy() == classes["clase"].to_numpy()).all()
    assert (out["sector"].to_numpy() == classes["sector"].to_numpy()).all()


def test_titles_match_back_to_their_own_class():
    """≥ 99 % of the distinct normalised titles of both title files find their own class again."""
    titles = pd.concat(
        [
            ciiu_classes().rename(columns={"titulo": "texto"})[["texto", "clase"]],
            reference_csv("ciiu_rev4_titulos_mayusculas_pe.csv")[["texto", "clase"]],
        ],
        ignore_index=True,
    )
    titles["clave"] = normalize_activity_text(titles["texto"])
    distinct = titles.drop_duplicates(["clave", "clase"], ignore_index=True)
    found = match_activity(distinct["clave"])["clase"].to_numpy()
    hits = found == distinct["clase"].to_numpy()
    assert hits.mean() >= 0.99
    misses = set(distinct.loc[~hits, "clave"])
    assert misses <= set(ambiguous_texts()["texto"])  # only the documented ambiguity misses


def test_variants_only_add_new_texts_of_real_classes():
    variants = reference_csv("ciiu_rev4_variantes_sunat.csv")
    assert list(variants.columns) == ["texto", "clase", "nota"] and (variants["nota"] != "").all()
    assert variants["clase"].isin(ciiu_classes()["clase"]).all()
    out = match_activity(variants["texto"])
    assert (out["metodo"] == "variante_sunat").all()
    assert (out["clase"].to_numpy() == variants["clase"].to_numpy()).all()


def test_every_ambiguous_text_keeps_its_sector():
    assert ambiguous_texts()["mismo_sector"].all()
