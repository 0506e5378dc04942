"""The formal-firm rule and Ley 30056 strata, one hand-built row per branch (DuckDB in memory)."""

import duckdb
import pandas as pd
import pytest

from tests.support.builders import COMMERCE, ruc
from vraem_pipeline.core import references as referencia
from vraem_pipeline.core.databases import ensure_schemas, replace_years
from vraem_pipeline.empresas.rules import FormalFirmRule, build_formal_firms, write_activity_map
from vraem_pipeline.empresas.schema import PADRON, VENTAS
from vraem_pipeline.registry import topic


def _con(padron_rows: list[dict], ventas_rows: list[dict], anio: int = 2024) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    ensure_schemas(con)
    referencia.write_reference_tables(con, referencia.load_territory(), "vraem", topic("empresas").reference_tables())
    base = {
        "estado": "ACTIVO",
        "condicion": "HABIDO",
        "tipo": "SOCIEDAD ANONIMA CERRADA",
        "actividad_ciiu4": COMMERCE,
        "nro_trab": None,
        "comercio_exterior": None,
        "ubigeo": "050401",
        "periodo_publicacion": f"{anio}12",
        "anio": anio,
        "archivo": "x",
        "linea": 2,
    }
    p = pd.DataFrame([{**base, **r} for r in padron_rows])
    v = pd.DataFrame([{"ejercicio": anio, "anio": anio, "archivo": "v", "linea": 2, **r} for r in ventas_rows])
    replace_years(con, "staging.padron_ruc", [anio], PADRON.validate(p), PADRON)
    replace_years(con, "staging.ventas_declaradas", [anio], VENTAS.validate(v), VENTAS)
    write_activity_map(con)
    return con


def _formal(con, anio=2024) -> pd.DataFrame:
    build_formal_firms(con, [anio], FormalFirmRule())
    return con.execute("SELECT * FROM intermedio.empresas_formales ORDER BY ruc").df()


UIT_2024 = 5150


@pytest.mark.parametrize(
    ("ventas", "estrato"),
    [
        (0.01, "micro"),
        (150 * UIT_2024, "micro"),  # 772,500: "hasta 150 UIT" is inclusive
        (150 * UIT_2024 + 0.01, "pequena"),
        (1700 * UIT_2024, "pequena"),  # 8,755,000
        (1700 * UIT_2024 + 0.01, "mediana"),
        (2300 * UIT_2024, "mediana"),  # 11,845,000
        (2300 * UIT_2024 + 0.01, "grande"),
    ],
)
def test_strata_bounds_2024(ventas, estrato):
    r = ruc("20", 1)
    con = _con([{"ruc": r}], [{"ruc": r, "ventas_netas": ventas}])
    assert _formal(con)["estrato"].tolist() == [estrato]


def test_strata_use_the_uit_of_the_sales_year():
    r = ruc("20", 1)
    con = _con([{"ruc": r}], [{"ruc": r, "ventas_netas": 150 * 4200 + 1}], anio=2019)  # UIT 2019 = 4,200
    assert _formal(con, 2019)["estrato"].tolist() == ["pequena"]


#: Every SUNAT `Tipo` of tipos_contribuyente.csv and whether PRODUCE counts it as a business, written out by hand
#: from the type's name and the working hypothesis of docs/sources.md#empresa-formal [I]: a persona jurídica or a
#: persona natural *con negocio*, with business (3ra categoría) income, counts; public-sector entities, non-profits
#: (asociaciones, fundaciones, sindicatos, juntas de propietarios), contratos de colaboración, embassies and
#: international bodies do not. Deliberately not read from the CSV the product uses: a wrong row there must fail here.
BUSINESS = {
    # personas naturales and their undivided forms: only "con negocio" has business income
    "PERSONA NATURAL CON NEGOCIO": True,
    "PERSONA NATURAL SIN NEGOCIO": False,
    "PERSONA NATURAL SIN NEGOCIO CON RENTAS DE CAPITAL": False,  # capital income (2da categoría) is no business
    "SOCIEDAD CONYUGAL CON NEGOCIO": True,
    "SUCESION INDIVISA CON NEGOCIO": True,
    # companies of the Ley General de Sociedades, EIRL and other business forms
    "SOCIEDAD ANONIMA": True,
    "SOCIEDAD ANONIMA CERRADA": True,
    "SOCIEDAD ANONIMA ABIERTA": True,
    "SOCIEDAD COMERCIAL DE RESPONSABILIDAD LIMITADA": True,
    "EMPRESA INDIVIDUAL DE RESPONSABILIDAD LIMITADA": True,
    "SOCIEDAD IRREGULAR": True,  # a company trading without its registration: still a business
    "SOCIEDAD CIVIL": True,  # professionals' partnership; its income is 3ra categoría
    "SOCIEDAD EN COMANDITA SIMPLE": True,
    "SOCIEDAD COLECTIVA": True,
    "COOPERATIVAS SAIS CAPS": True,  # production cooperatives: not among the rule's exclusions
    "SUCURSALES O AG. DE EMPRESAS EXTRANJERAS": True,
    "EMPRESA DE PROPIEDAD SOCIAL": True,
    # public sector
    "GOBIERNO CENTRAL": False,
    "GOBIERNO REGIONAL LOCAL": False,
    "INSTITUCIONES PUBLICAS": False,
    # borderline [I]: a state-owned firm with sales and 3ra categoría income, but the rule excludes the public sector
    "EMPRESA ESTATAL DE DERECHO PRIVADO": False,
    # non-profits and the other exclusions of the rule
    "UNIVERSIDADES CENTROS EDUCATIVOS Y CULTURALES": False,  # for-profit schools register as companies (S.A.C., …)
    "ASOCIACION": False,
    "FUNDACION": False,
    "COMUNIDAD CAMPESINA NATIVA COMUNAL": False,
    "ENTIDAD RELIGIOSA": False,
    "SINDICATOS Y FEDERACIONES": False,
    "JUNTA DE PROPIETARIOS": False,
    "CONTRATOS COLABORACION EMPRESARIAL": False,
    "EMBAJADAS": False,
    "ORGANISMOS INTERNACIONALES": False,
}


def test_every_shipped_taxpayer_type_has_a_hand_written_answer():
    """A type added to (or dropped from) tipos_contribuyente.csv must be classified here too, by hand."""
    shipped = referencia.taxpayer_types()["tipo"].tolist()
    assert sorted(shipped) == sorted(BUSINESS), {
        "solo en el CSV": sorted(set(shipped) - set(BUSINESS)),
        "solo en la prueba": sorted(set(BUSINESS) - set(shipped)),
    }


@pytest.mark.parametrize(("tipo", "es_negocio"), sorted(BUSINESS.items()))
def test_each_taxpayer_type_in_or_out(tipo, es_negocio):
    r = ruc("20", 1)
    con = _con([{"ruc": r, "tipo": tipo}], [{"ruc": r, "ventas_netas": 1000.0}])
    assert len(_formal(con)) == (1 if es_negocio else 0)


def test_an_unknown_taxpayer_type_is_not_a_business():
    r = ruc("20", 1)
    con = _con([{"ruc": r, "tipo": "TIPO NUEVO DE SUNAT"}], [{"ruc": r, "ventas_netas": 1000.0}])
    assert _formal(con).empty


@pytest.mark.parametrize(
    ("estado", "ventas", "has_sales_row", "formal"),
    [
        ("ACTIVO", 1000.0, True, True),
        ("BAJA DE OFICIO", 1000.0, True, False),
        ("SUSPENSION TEMPORAL", 1000.0, True, False),
        ("ACTIVO", 0.0, True, False),
        ("ACTIVO", None, True, False),
        ("ACTIVO", None, False, False),
    ],
)
def test_active_with_positive_declared_sales(estado, ventas, has_sales_row, formal):
    r = ruc("20", 1)
    con = _con(
        [{"ruc": r, "estado": estado}],
        [{"ruc": r, "ventas_netas": ventas}] if has_sales_row else [{"ruc": ruc("20", 2), "ventas_netas": 5.0}],
    )
    assert len(_formal(con)) == (1 if formal else 0)


def test_rule_parameters_change_the_result():
    r = ruc("20", 1)
    con = _con([{"ruc": r, "estado": "SUSPENSION TEMPORAL"}], [{"ruc": r, "ventas_netas": None}])
    build_formal_firms(
        con, [2024], FormalFirmRule(estados_activos=("ACTIVO", "SUSPENSION TEMPORAL"), exigir_ventas_positivas=False)
    )
    row = con.execute("SELECT estrato FROM intermedio.empresas_formales").fetchall()
    assert row == [(None,)]  # counted, with no stratum (sales unknown)


def test_sector_from_activity_text():
    r1, r2 = ruc("20", 1), ruc("20", 2)
    con = _con(
        [{"ruc": r1}, {"ruc": r2, "actividad_ciiu4": "NO EXISTE ESTA ACTIVIDAD"}],
        [{"ruc": r1, "ventas_netas": 1.0}, {"ruc": r2, "ventas_netas": 1.0}],
    )
    df = _formal(con).set_index("ruc")
    assert df.loc[r1, "sector"] == "comercio" and df.loc[r1, "ciiu_clase"] == "4721"
    assert df.loc[r2, "sector"] == "sin_clasificar" and pd.isna(df.loc[r2, "ciiu_clase"])


def test_a_year_without_uit_fails_instead_of_dropping_firms():
    con = _con([{"ruc": ruc("20", 1)}], [{"ruc": ruc("20", 1), "ventas_netas": 1.0}])
    with pytest.raises(ValueError, match="UIT"):
        build_formal_firms(con, [2099], FormalFirmRule())
