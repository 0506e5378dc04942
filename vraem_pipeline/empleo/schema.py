"""pandera schema of `staging.enaho_personas`: ENAHO module-500 persons with the columns the employment
indicators need (docs/sources.md#enaho-variables).

The descriptions and units here are the single source of the data dictionary and of the warehouse's
`COMMENT ON`; the check names are the rule names that quarantine rows carry, so they read as rules.
All checks are vectorized: the national file has ~90,000 persons a year.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pandera.pandas as pa

#: Person key within a survey year (a person is unique per `anio`; the same codes recur across years).
PERSON_YEAR_KEY = ["anio", "conglome", "vivienda", "hogar", "codperso"]

#: Departments by INEI code (first two digits of the ubigeo); 07 is Callao.
DEPARTMENTS = [f"{code:02d}" for code in range(1, 26)]

#: Years whose module-500 file ships INEI's `ocupinf` (absent from 2024 on: docs/sources.md#enaho-ocupinf-2024).
YEARS_WITH_OCUPINF = range(2007, 2024)

_UNIT_CODE = {"unidad": "código"}


def _rule(builtin, *args, name: str, **kwargs) -> pa.Check:
    """A built-in check reported under its rule name: failure reports (and so the quarantine) show a check's
    `error`, which for built-ins would otherwise be their own text (`isin([1, 2])`)."""
    return builtin(*args, name=name, error=name, **kwargs)


def _codes(name: str, values, description: str, *, nullable: bool = True, rule: str | None = None) -> pa.Column:
    return pa.Column(
        "Int64",
        checks=_rule(pa.Check.isin, list(values), name=rule or f"{name}_en_dominio"),
        nullable=nullable,
        description=description,
        metadata=_UNIT_CODE,
    )


def _key(name: str, width: int, description: str) -> pa.Column:
    return pa.Column(
        str,
        checks=_rule(pa.Check.str_matches, rf"^\d{{{width}}}$", name=f"{name}_{width}_digitos"),
        nullable=False,
        description=description,
        metadata=_UNIT_CODE,
    )


def _employed_have_weight(df):
    return (df["ocu500"] != 1).fillna(True) | df["fac500a"].notna()


def _employed_have_category(df):
    return (df["ocu500"] != 1).fillna(True) | df["p507"].notna()


_COLUMNS = {
    "anio": pa.Column(
        "Int64",
        checks=_rule(pa.Check.in_range, 2004, 2100, name="anio_valido"),
        nullable=False,
        description="Año de la encuesta (tomado de la carpeta del año y verificado contra la variable año del "
        "archivo).",
        metadata={"unidad": "año"},
    ),
    "archivo": pa.Column(
        str,
        checks=_rule(pa.Check.str_length, min_value=1, name="archivo_no_vacio"),
        nullable=False,
        description="Archivo de origen tal como lo publica el INEI; 'zip!miembro' cuando los datos están dentro del "
        "zip.",
        metadata={"unidad": "texto"},
    ),
    "registro": pa.Column(
        "Int64",
        checks=_rule(pa.Check.ge, 1, name="registro_positivo"),
        nullable=False,
        description="Número de registro (1 = primera fila de datos) dentro del archivo de origen.",
        metadata={"unidad": "número de registro"},
    ),
    "conglome": _key("conglome", 6, "Conglomerado: unidad primaria de muestreo (UPM) de la ENAHO."),
    "vivienda": _key("vivienda", 3, "Número de la vivienda dentro del conglomerado."),
    "hogar": _key("hogar", 2, "Número del hogar dentro de la vivienda."),
    "codperso": _key("codperso", 2, "Número de orden de la persona dentro del hogar."),
    "ubigeo": pa.Column(
        str,
        checks=[
            _rule(pa.Check.str_matches, r"^\d{6}$", name="ubigeo_6_digitos"),
            pa.Check(lambda s: s.str[:2].isin(DEPARTMENTS), name="ubigeo_departamento_01_25"),
        ],
        nullable=False,
        description="Ubigeo INEI del distrito (DDPPdd); sus dos primeros dígitos son el departamento.",
        metadata=_UNIT_CODE,
    ),
    "dominio": _codes(
        "dominio",
        range(1, 9),
        "Dominio geográfico: 1 Costa Norte, 2 Costa Centro, 3 Costa Sur, 4 Sierra Norte, 5 Sierra Centro, "
        "6 Sierra Sur, 7 Selva, 8 Lima Metropolitana.",
        rule="dominio_1_8",
    ),
    "estrato": _codes(
        "estrato",
        range(1, 9),
        "Estrato de muestreo por tamaño del centro poblado (1–5 urbano, 6–8 rural); estrato del diseño para la "
        "varianza.",
        nullable=False,
        rule="estrato_1_8",
    ),
    "p204": _codes("p204", (1, 2), "¿Es miembro del hogar? 1 sí, 2 no.", rule="p204_1_2"),
    "p205": _codes("p205", (1, 2), "¿Estuvo ausente del hogar 30 días o más? 1 sí, 2 no (miembros).", rule="p205_1_2"),
    "p206": _codes(
        "p206", (1, 2), "¿Estuvo presente en el hogar 30 días o más? 1 sí, 2 no (no miembros).", rule="p206_1_2"
    ),
    "p207": _codes("p207", (1, 2), "Sexo: 1 hombre, 2 mujer.", nullable=False, rule="p207_1_2"),
    "p208a": pa.Column(
        "Int64",
        checks=_rule(pa.Check.ge, 14, name="edad_14_o_mas", raise_warning=True),
        nullable=True,
        description="Edad en años cumplidos (el módulo 500 cubre a las personas de 14 años y más).",
        metadata={"unidad": "años"},
    ),
    "ocu500": _codes(
        "ocu500",
        range(0, 5),
        "Condición de actividad: 1 ocupado, 2 desocupado abierto, 3 desocupado oculto, 4 no PEA, "
        "0 no entrevistado o no aplicable.",
        nullable=False,
        rule="ocu500_0_4",
    ),
    "p506r4": pa.Column(
        "Int64",
        checks=_rule(pa.Check.in_range, 100, 9999, name="ciiu_rev4_hasta_4_digitos"),
        nullable=True,
        description="Rama de actividad de la ocupación principal, clase CIIU Rev.4 como número (0111 → 111).",
        metadata=_UNIT_CODE,
    ),
    "p507": _codes(
        "p507",
        range(1, 8),
        "Categoría de ocupación: 1 empleador, 2 independiente, 3 empleado, 4 obrero, 5 trabajador familiar no "
        "remunerado, 6 trabajador del hogar, 7 otro.",
        rule="p507_1_7",
    ),
    "p510": _codes(
        "p510",
        (1, 2, 3, 5, 6, 7),
        "Para quién trabaja: 1 FFAA/PNP, 2 administración pública, 3 empresa pública, 5 empresas especiales de "
        "servicios, 6 empresa o patrono privado, 7 otra.",
        rule="p510_en_dominio",
    ),
    "p510a1": _codes(
        "p510a1",
        (1, 2, 3),
        "Registro del negocio en la SUNAT: 1 persona jurídica, 2 persona natural (RUC/RUS/RER), 3 no registrado.",
        rule="p510a1_1_3",
    ),
    "p512a": _codes(
        "p512a",
        range(1, 6),
        "Personas que trabajan en el establecimiento (incluido el informante): 1 hasta 20, 2 de 21 a 50, "
        "3 de 51 a 100, 4 de 101 a 500, 5 más de 500.",
        rule="p512a_1_5",
    ),
    "p512b": pa.Column(
        "Int64",
        checks=_rule(pa.Check.in_range, 1, 9999, name="p512b_1_9999"),
        nullable=True,
        description="Número de personas que trabajan en el establecimiento (9999 = no especificado).",
        metadata={"unidad": "personas"},
    ),
    "fac500a": pa.Column(
        "Float64",
        checks=[
            _rule(pa.Check.gt, 0, name="fac500a_positivo"),
            pa.Check(
                lambda s: pd.Series(np.isfinite(s.to_numpy(dtype="float64", na_value=np.nan)), index=s.index),
                name="valor_finito",
                error="valor_finito",
            ),
        ],
        nullable=True,
        description="Factor de expansión de empleo e ingresos del módulo 500 (personas que representa cada caso).",
        metadata={"unidad": "personas"},
    ),
    "ocupinf": _codes(
        "ocupinf",
        (1, 2),
        "Empleo informal de la ocupación principal según el INEI: 1 informal, 2 formal (publicado hasta 2023).",
        rule="ocupinf_1_2",
    ),
}

#: Columns added after reading (rebuild) or absent in some years: not required of every frame.
_OPTIONAL = {"ocupinf"}

#: Columns that the module-500 reader must find in the file (the lineage columns are added by the reader).
COLUMNS_M500 = [c for c in _COLUMNS if c not in _OPTIONAL and c not in ("anio", "archivo", "registro")]

#: Module-500 columns read when present.
OPTIONAL_M500 = ["ocupinf"]


def schema_persons(*, ocupinf_required: bool = False, ocupinf_absent: bool = False) -> pa.DataFrameSchema:
    """The staging schema. `ocupinf_requerido` makes the official flag mandatory (2007–2023);
    `ocupinf_ausente` warns if a year that should not ship it does (a re-release worth noticing)."""
    columns = {}
    for name, column in _COLUMNS.items():
        required = name not in _OPTIONAL or (name == "ocupinf" and ocupinf_required)
        column = copy.deepcopy(column)  # set_name and required mutate the column: keep the templates intact
        column.required = required
        columns[name] = column.set_name(name)
    checks = [
        pa.Check(_employed_have_weight, name="fac500a_presente_en_ocupados"),
        pa.Check(_employed_have_category, name="p507_presente_en_ocupados", raise_warning=True),
    ]
    if ocupinf_absent:
        checks.append(
            pa.Check(lambda df: "ocupinf" not in df.columns, name="ocupinf_ausente_desde_2024", raise_warning=True)
        )
    return pa.DataFrameSchema(
        columns,
        checks=checks,
        unique=PERSON_YEAR_KEY,
        report_duplicates="exclude_first",
        coerce=True,
        name="staging.enaho_personas",
        description="Personas de 14 años y más del módulo 500 de la ENAHO (empleo e ingresos), una fila por "
        "persona y año, con las variables que usan los indicadores de empleo.",
    )


def schema_for_year(year: int) -> pa.DataFrameSchema:
    """The schema with the year's `ocupinf` expectation (required up to 2023, absent from 2024)."""
    return schema_persons(ocupinf_required=year in YEARS_WITH_OCUPINF, ocupinf_absent=year >= 2024)


#: The schema with no year-specific expectation (e.g. for a multi-year staging table).
SCHEMA_PERSONS = schema_persons()


def _who_pays(name: str, what: str) -> pa.Column:
    return _codes(
        name,
        range(1, 6),
        f"¿Quién paga el seguro {what}? 1 su centro de trabajo, 2 usted mismo, 3 es jubilado, 4 un familiar, "
        "5 no paga (módulo 400; vacío si no está afiliado).",
        rule=f"{name}_1_5",
    )


#: Module 400 (health): only the key and who pays each insurance, what the informality rebuild needs
#: (docs/sources.md#enaho-variables, docs/sources.md#enaho-informalidad: an employee is formal when the workplace pays
#: some insurance, p419aX = 1).
SCHEMA_HEALTH = pa.DataFrameSchema(
    {
        "anio": _COLUMNS["anio"],
        "archivo": _COLUMNS["archivo"],
        "registro": _COLUMNS["registro"],
        "conglome": _COLUMNS["conglome"],
        "vivienda": _COLUMNS["vivienda"],
        "hogar": _COLUMNS["hogar"],
        "codperso": _COLUMNS["codperso"],
        "p419a1": _who_pays("p419a1", "EsSalud"),
        "p419a2": _who_pays("p419a2", "privado de salud"),
        "p419a3": _who_pays("p419a3", "de una entidad prestadora de salud (EPS)"),
        "p419a4": _who_pays("p419a4", "de las Fuerzas Armadas o Policiales"),
        "p419a5": _who_pays("p419a5", "Integral de Salud (SIS)"),
        "p419a8": _who_pays("p419a8", "de otro tipo"),
    },
    unique=PERSON_YEAR_KEY,
    report_duplicates="exclude_first",
    coerce=True,
    name="staging.enaho_salud",
    description="Personas del módulo 400 de la ENAHO (salud): afiliación a seguros, insumo de la reconstrucción "
    "del empleo informal para los años sin ocupinf.",
)
