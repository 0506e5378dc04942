"""Synthetic SUNAT open-data Padrón RUC cuts (``PadronRUC_AAAAMM``), national scale in seconds per year.

Why the design is what it is:

* **One population of taxpayers for all years** (:class:`Universo`). A firm keeps its RUC, domicile,
  activity and size from year to year; firms enter and exit along the calibrated path
  (:mod:`.calibracion`). This makes year-on-year changes meaningful and lets the ventas file of any year
  join to the Padrón of that year.
* **Exact by construction.** The formal firms of every year, segment (the 79 VRAEM districts / the rest)
  and, for the published year, stratum, sector and department are exact integer counts; a non-formal row
  can never satisfy the formal rule by accident (checked when the population is built).
* **Vectorized text.** Every column is a small category table (pre-encoded, pre-quoted bytes) plus an
  integer code per row; a line is ``pyarrow``'s element-wise join of the gathered pieces and the file is
  the joined buffers written as they are, block by block (``LINEAS_POR_BLOQUE``) so that memory does not
  grow with the cut. No Python loop touches a row, so 3 M rows cost seconds.
* **Real-world dirt, counted.** Malformed lines, RUCs failing the check digit, a duplicated RUC, ``-``
  ubigeos, ``NO DISPONIBLE`` texts, a year with the ubigeo's leading zero lost, format drift between years
  and a superseded mid-year cut: each kind is planted in known numbers (:class:`Suciedad`) so that a test
  can assert rows read = accepted + rejected.
* **Real size on demand.** ``scale="real"`` pads each December cut with filler lines (RUC-10 persons
  without business, closed companies: ``LINEAS_CORTE_REAL``) up to the ~10–12.5 M lines SUNAT publishes.
  Fillers are clean, unique, absent from the ventas file and never formal, so every figure is the
  national sample's; only the reading of the files gets heavier, which is what that scale is for.

The formal-firm rule the generator is built against: latest cut of the year; ``Estado`` = ``ACTIVO``;
``Tipo`` a business type of ``tipos_contribuyente.csv``; declared ``VENTAS_NETAS`` > 0 for the year;
valid RUC check digit and exactly 16 fields; first line of a duplicated RUC kept.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .importes import importe_suelto
from .calibracion import (
    ESTRATOS,
    PESO_DEPARTAMENTO_NACIONAL,
    PRE_INSCRITOS,
    SECTORES,
    Calibracion,
    leer_referencia,
)

CABECERA = (
    "RUC",
    "Estado",
    "Condicion",
    "Tipo",
    "Actividad_Economica_CIIU_revision3_Principal",
    "Actividad_Economica_CIIU_revision3_Secundaria",
    "Actividad_Economica_CIIU_revision4_Principal",
    "NroTrab",
    "TipoFacturacion",
    "TipoContabilidad",
    "ComercioExterior",
    "UBIGEO",
    "Departamento",
    "Provincia",
    "Distrito",
    "PERIODO_PUBLICACION",
)

# Estado codes (0 = the RUC is not in that cut).
ESTADOS = ("", "ACTIVO", "BAJA DE OFICIO", "BAJA DEFINITIVA", "SUSPENSION TEMPORAL", "BAJA PROVISIONAL POR OFICIO")
AUSENTE, ACTIVO, BAJA_OFICIO, BAJA_DEFINITIVA, SUSPENSION, BAJA_PROVISIONAL = range(6)

# What the year's ventas file says about a RUC.
V_NINGUNA, V_POSITIVA, V_CERO, V_VACIA = range(4)

CONDICIONES = ("HABIDO", "NO HABIDO", "NO HALLADO", "PENDIENTE")
FACTURACION = ("MANUAL", "COMPUTARIZADO", "MANUAL/COMPUTARIZADO")
CONTABILIDAD = ("MANUAL", "COMPUTARIZADO", "MANUAL/COMPUTARIZADO")
COMERCIO_EXTERIOR = ("SIN ACTIVIDAD", "IMPORTADOR", "EXPORTADOR", "IMPORTADOR/EXPORTADOR")

NO_DISPONIBLE = "NO DISPONIBLE"
#: Activity texts that match no CIIU Rev.4 title (old Rev.3 wording, abbreviations): dirt for national and
#: non-formal rows only, so that the pipeline's "unclassified" bucket is exercised.
TEXTOS_DESCONOCIDOS = (
    "OTRAS ACTIVIDADES EMPRESARIALES NCP",
    "VTA. MIN. ALIMENTOS, BEBIDAS, TABACO",
    "ACTIVIDADES NO ESPECIFICADAS EN OTRA PARTE",
    "SERVICIOS DIVERSOS",
)
#: A known SUNAT typo (ALAMBICAS for ALÁMBRICAS, source note §3.2), listed in
#: ``ciiu_rev4_variantes_sunat.csv``: national firms only.
TEXTO_VARIANTE = "ACTIVIDADES DE TELECOMUNICACIONES ALAMBICAS"

#: Roles of a taxpayer in the simulated population.
ROL_FORMAL, ROL_BAJA_ANTIGUA, ROL_INACTIVO, ROL_SUSPENDIDO, ROL_EXCLUIDO = range(5)


# --------------------------------------------------------------------------------------------------------
# Formats by year
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formato:
    """How one year's cut is written: the format drift of source note §3.1 made explicit."""

    delimitador: str
    codificacion: str  # "latin-1" or "utf-8"
    bom: bool
    fin_linea: str
    comprimido: bool  # zip with one member, or a plain .csv
    ubigeo_sin_cero: bool  # ubigeo written as a number (leading zero of departments 01–09 lost)

    @property
    def comillas(self) -> bool:
        """Comma files quote the fields that contain a comma (or a quote), like a CSV writer would."""
        return self.delimitador == ","


_PIPE = Formato("|", "latin-1", False, "\n", True, False)
_PIPE_PLANO_SIN_CERO = Formato("|", "latin-1", False, "\n", False, True)
_COMA = Formato(",", "utf-8", True, "\r\n", True, False)


def formato_de(anio: int) -> Formato:
    """2019–2021 ``|`` latin-1 zip; 2022 a plain ``|`` latin-1 .csv whose ubigeo lost its leading zero
    (a cut re-saved through a spreadsheet); 2023 on ``,`` UTF-8 with BOM, CRLF, quoted fields, zipped."""
    if anio <= 2021:
        return _PIPE
    if anio == 2022:
        return _PIPE_PLANO_SIN_CERO
    return _COMA


def nombre_corte(anio: int, mes: int) -> str:
    return f"PadronRUC_{anio}{mes:02d}"


# --------------------------------------------------------------------------------------------------------
# RUC
# --------------------------------------------------------------------------------------------------------

_PESOS_RUC = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def digito_verificador(base: np.ndarray) -> np.ndarray:
    """Check digit of the 10-digit RUC bases (int64), vectorized: source note §2.

    ``dv = (11 - sum(w_i d_i) mod 11) mod 10`` with weights 5,4,3,2,7,6,5,4,3,2 — remainder 0 gives 1 and
    remainder 1 gives 0 (not the Argentine-style variants).
    """
    x = np.asarray(base, dtype=np.int64).copy()
    suma = np.zeros_like(x)
    for w in reversed(_PESOS_RUC):
        suma += w * (x % 10)
        x //= 10
    return (11 - suma % 11) % 10


def ruc_valido(ruc: np.ndarray) -> np.ndarray:
    """True where an 11-digit RUC (int64) carries its correct check digit."""
    r = np.asarray(ruc, dtype=np.int64)
    return digito_verificador(r // 10) == r % 10


#: Body range (8 digits after the prefix) per RUC prefix: DNIs for 10, SUNAT's company numbering for 20.
_RANGO_CUERPO = {10: (0, 80_000_000), 15: (0, 100_000_000), 17: (0, 100_000_000), 20: (10_000_000, 61_000_000)}
#: Indices of each prefix's permutation from which reserved RUCs (dirt, ventas-only RUCs) are drawn;
#: the population uses indices below it, so the two never collide.
_BASE_RESERVADA = {10: 40_000_000, 15: 50_000_000, 17: 50_000_000, 20: 30_000_000}
#: First index of each prefix's permutation used for the filler RUCs of ``scale="real"``: above the
#: population (< _BASE_RESERVADA) and above the reserved blocks (10,000 RUCs per block, blocks < 1,000 up to
#: 2024), so a filler RUC is never a taxpayer of the population, a planted-dirt RUC or a ventas-only RUC.
_BASE_RELLENO = {10: 50_000_000, 20: 40_000_000}
_MULTIPLICADOR = 7_919_113  # odd, not a multiple of 5: coprime with every range size above


def _cuerpos(prefijo: int, indices: np.ndarray, seed: int) -> np.ndarray:
    """Distinct 8-digit bodies for distinct indices: an affine permutation of the prefix's range.

    Cheaper than sampling without replacement from 80 M values, and the same index always gives the same
    RUC, so reserved RUCs can be addressed by index without any shared state.
    """
    inicio, fin = _RANGO_CUERPO[prefijo]
    m = fin - inicio
    desplazamiento = (seed * 104_729 + prefijo * 7_777) % m
    return inicio + (np.asarray(indices, dtype=np.int64) * _MULTIPLICADOR + desplazamiento) % m


def construir_ruc(prefijo: int | np.ndarray, cuerpo: np.ndarray) -> np.ndarray:
    """11-digit RUC (int64) from prefix and 8-digit body, with its check digit."""
    base = np.asarray(prefijo, dtype=np.int64) * 100_000_000 + np.asarray(cuerpo, dtype=np.int64)
    return base * 10 + digito_verificador(base)


def ruc_reservados(prefijo: int, bloque: int, k: int, seed: int) -> np.ndarray:
    """``k`` valid RUCs from reserved block ``bloque`` (10,000 per block): never in the population."""
    idx = _BASE_RESERVADA[prefijo] + bloque * 10_000 + np.arange(k)
    if prefijo in _BASE_RELLENO and k and int(idx[-1]) >= _BASE_RELLENO[prefijo]:
        raise ValueError(f"bloque reservado {bloque} invade los RUC {prefijo} de relleno")
    return construir_ruc(prefijo, _cuerpos(prefijo, idx, seed))


def con_digito_errado(ruc: np.ndarray) -> np.ndarray:
    """The same RUCs with the check digit shifted by one: they fail the check (dirt)."""
    r = np.asarray(ruc, dtype=np.int64)
    return r - r % 10 + (r % 10 + 1) % 10


# --------------------------------------------------------------------------------------------------------
# Reference catalogues
# --------------------------------------------------------------------------------------------------------


def normalizar_texto(s: str) -> str:
    """Upper case, accents stripped, spaces collapsed: how SUNAT writes activity texts (Ñ becomes N)."""
    s = unicodedata.normalize("NFKD", s.upper())
    s = "".join(c for c in s if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", s).strip()


def sector_de_division(division: int) -> str:
    """PRODUCE sector of a CIIU Rev.4 division, the rule of the brief (keyed on the number, not the letter)."""
    if division <= 2:
        return "agropecuario"
    if division == 3:
        return "pesca"
    if 5 <= division <= 9:
        return "mineria"
    if 10 <= division <= 33:
        return "manufactura"
    if 41 <= division <= 43:
        return "construccion"
    if 45 <= division <= 47:
        return "comercio"
    return "servicios"


#: Relative weights of the usual classes of each sector (other classes of the sector weigh 0.3): bodegas,
#: restaurants, transport and hairdressers dominate the micro-firm universe; coffee and cocoa the
#: VRAEM's agriculture; bakeries, furniture and sawmills its manufacturing.
PESOS_CLASE: dict[str, dict[str, float]] = {
    "agropecuario": {"0127": 12, "0122": 4, "0111": 3, "0113": 3, "0123": 2, "0128": 2, "0141": 3, "0144": 1,
                     "0145": 1, "0146": 1, "0150": 2, "0161": 3, "0210": 3, "0220": 3},
    "pesca": {"0322": 8, "0321": 2, "0312": 4, "0311": 2},
    "mineria": {"0729": 6, "0810": 6, "0899": 2, "0990": 2, "0710": 1},
    "manufactura": {"1071": 10, "1079": 4, "1410": 5, "1610": 5, "3100": 6, "2511": 4, "1811": 3, "1104": 2,
                    "1050": 2, "1010": 1, "1075": 2, "1622": 2},
    "construccion": {"4100": 6, "4210": 3, "4220": 1, "4290": 2, "4321": 2, "4322": 1, "4330": 2, "4390": 2},
    "comercio": {"4711": 20, "4719": 6, "4721": 10, "4722": 3, "4723": 2, "4730": 3, "4741": 2, "4751": 2,
                 "4752": 5, "4759": 2, "4771": 8, "4772": 5, "4773": 4, "4774": 1, "4781": 6, "4782": 3,
                 "4789": 3, "4799": 2, "4510": 2, "4520": 4, "4530": 3, "4540": 2, "4620": 3, "4630": 4,
                 "4649": 3, "4659": 2, "4663": 3, "4690": 4},
    "servicios": {"5610": 20, "4921": 5, "4922": 6, "4923": 8, "5510": 6, "5590": 1, "5621": 2, "5630": 3,
                  "9602": 5, "9609": 3, "8299": 5, "7020": 3, "6920": 4, "7110": 3, "8211": 2, "6810": 3,
                  "8620": 2, "8510": 2, "9511": 1, "9521": 1, "9522": 1, "9529": 1, "5320": 1, "6201": 2,
                  "6190": 2, "7310": 1, "8010": 1, "8549": 2, "9311": 1, "9329": 1, "3821": 1},
}
#: Classes whose Peruvian upper-case title is shared (0119/0129): never given to a VRAEM firm.
CLASES_AMBIGUAS = ("0119", "0129")
#: Secondary activities (CIIU Rev.3 "secundaria" column) come from a short list of common side
#: businesses; a short list also keeps the pre-joined category table of a cut small (see ``_lineas``).
CLASES_SECUNDARIAS = ("4711", "4719", "4721", "4730", "4752", "4771", "4772", "4773", "4781", "4690", "4630",
                      "5610", "4922", "4923", "5510", "9602", "8299", "6810", "0127", "1071", "4100", "4520")


@dataclass(frozen=True)
class Catalogo:
    """Taxpayer types, activity texts and districts, read once from the reference tables."""

    tipos: tuple[str, ...]
    tipo_es_negocio: np.ndarray  # bool per tipo
    textos: tuple[str, ...]  # activity texts; index 0 = NO DISPONIBLE
    texto_sector: tuple[str | None, ...]  # sector of each text, None when it matches no class
    clase_textos: dict[str, tuple[int, ...]]  # class -> indices of its text variants
    secundarias: tuple[int, ...]  # text indices allowed in the secondary-activity column (0 first)
    clases_por_sector: dict[str, tuple[np.ndarray, np.ndarray]]  # sector -> (classes, weights)
    ubigeo: tuple[str, ...]
    geo_nombres: tuple[tuple[str, str, str], ...]  # (DEPARTAMENTO, PROVINCIA, DISTRITO) upper case
    geo_vraem: np.ndarray  # bool per district
    geo_departamento: np.ndarray  # 2-digit department code per district (str array)

    def tipo(self, nombre: str) -> int:
        try:
            return self.tipos.index(nombre)
        except ValueError:
            raise KeyError(f"tipo {nombre!r} no está en tipos_contribuyente.csv") from None


def cargar_catalogo() -> Catalogo:
    """Build the catalogue from ``tipos_contribuyente.csv``, the two CIIU title tables and the ubigeos."""
    tipos = leer_referencia("tipos_contribuyente.csv")
    un = leer_referencia("ciiu_rev4.csv")
    pe = leer_referencia("ciiu_rev4_titulos_mayusculas_pe.csv")
    textos: list[str] = [NO_DISPONIBLE]
    sector_txt: list[str | None] = [None]
    indice: dict[str, int] = {}
    clase_textos: dict[str, list[int]] = {}
    for clase, titulo in list(zip(un["clase"], un["titulo"], strict=True)) + list(
        zip(pe["clase"], pe["texto"], strict=True)
    ):
        t = normalizar_texto(titulo)
        sector = sector_de_division(int(clase[:2]))
        if t not in indice:
            indice[t] = len(textos)
            textos.append(t)
            sector_txt.append(sector)
        elif sector_txt[indice[t]] != sector:
            raise ValueError(f"texto CIIU {t!r} en dos sectores")
        clase_textos.setdefault(clase, [])
        if indice[t] not in clase_textos[clase]:
            clase_textos[clase].append(indice[t])
    for t in TEXTOS_DESCONOCIDOS:
        if normalizar_texto(t) in indice:
            raise ValueError(f"texto de suciedad {t!r} coincide con un título CIIU")
        textos.append(t)
        sector_txt.append(None)
    textos.append(TEXTO_VARIANTE)
    sector_txt.append("servicios")

    clases_por_sector: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for sector in SECTORES:
        clases = sorted(c for c in clase_textos if sector_de_division(int(c[:2])) == sector)
        pesos = np.array([PESOS_CLASE[sector].get(c, 0.3) for c in clases], dtype=float)
        clases_por_sector[sector] = (np.array(clases), pesos)

    ubi = leer_referencia("ubigeo_inei.csv")
    vraem = set(leer_referencia("vraem_distritos.csv")["ubigeo"])
    faltan = vraem - set(ubi["ubigeo"])
    if faltan:
        raise ValueError(f"distritos VRAEM fuera de ubigeo_inei.csv: {sorted(faltan)}")
    return Catalogo(
        tipos=tuple(tipos["tipo"]),
        tipo_es_negocio=(tipos["es_negocio"] == "si").to_numpy(),
        textos=tuple(textos),
        texto_sector=tuple(sector_txt),
        clase_textos={c: tuple(v) for c, v in clase_textos.items()},
        secundarias=(0, *(clase_textos[c][0] for c in CLASES_SECUNDARIAS)),
        clases_por_sector=clases_por_sector,
        ubigeo=tuple(ubi["ubigeo"]),
        geo_nombres=tuple(
            (d.upper(), p.upper(), t.upper())
            for d, p, t in zip(ubi["departamento"], ubi["provincia"], ubi["distrito"], strict=True)
        ),
        geo_vraem=ubi["ubigeo"].isin(vraem).to_numpy(),
        geo_departamento=ubi["ubigeo"].str[:2].to_numpy(dtype=object).astype(str),
    )


# --------------------------------------------------------------------------------------------------------
# The population
# --------------------------------------------------------------------------------------------------------

#: Estado taken by a firm when it stops being formal, and its probability.
_ESTADO_SALIDA = ((BAJA_OFICIO, 0.45), (BAJA_DEFINITIVA, 0.30), (SUSPENSION, 0.10), (ACTIVO, 0.15))
#: Share of the exits with a non-ACTIVO estado that still declared sales for their last (partial) year:
#: they test that the Estado filter, not the ventas file, decides.
_VENTAS_EN_ANIO_SALIDA = 0.40
#: Ventas status of an ACTIVO business row without sales: declared zero, empty amount, or no line at all.
_SIN_VENTAS = ((V_CERO, 0.4), (V_VACIA, 0.3), (V_NINGUNA, 0.3))

#: Taxpayer types of the business roles by stratum: persona natural dominates micro firms,
#: sociedades anónimas the larger ones.
_TIPOS_NEGOCIO = {
    "micro": {"PERSONA NATURAL CON NEGOCIO": 70, "EMPRESA INDIVIDUAL DE RESPONSABILIDAD LIMITADA": 12,
              "SOCIEDAD ANONIMA CERRADA": 12, "SOCIEDAD COMERCIAL DE RESPONSABILIDAD LIMITADA": 3,
              "SOCIEDAD ANONIMA": 1, "SOCIEDAD CONYUGAL CON NEGOCIO": 0.5, "SUCESION INDIVISA CON NEGOCIO": 0.5,
              "SOCIEDAD IRREGULAR": 0.5, "COOPERATIVAS SAIS CAPS": 0.5},
    "pequena": {"PERSONA NATURAL CON NEGOCIO": 20, "EMPRESA INDIVIDUAL DE RESPONSABILIDAD LIMITADA": 20,
                "SOCIEDAD ANONIMA CERRADA": 45, "SOCIEDAD COMERCIAL DE RESPONSABILIDAD LIMITADA": 8,
                "SOCIEDAD ANONIMA": 5, "COOPERATIVAS SAIS CAPS": 2},
    "mediana": {"SOCIEDAD ANONIMA CERRADA": 55, "SOCIEDAD ANONIMA": 25,
                "EMPRESA INDIVIDUAL DE RESPONSABILIDAD LIMITADA": 5,
                "SOCIEDAD COMERCIAL DE RESPONSABILIDAD LIMITADA": 10, "PERSONA NATURAL CON NEGOCIO": 5},
    "grande": {"SOCIEDAD ANONIMA CERRADA": 45, "SOCIEDAD ANONIMA": 35, "SOCIEDAD ANONIMA ABIERTA": 5,
               "SUCURSALES O AG. DE EMPRESAS EXTRANJERAS": 5, "SOCIEDAD COMERCIAL DE RESPONSABILIDAD LIMITADA": 10},
}
#: Non-business taxpayers (excluded by the rule), by weight.
_TIPOS_EXCLUIDOS = {
    "PERSONA NATURAL SIN NEGOCIO": 55, "ASOCIACION": 14, "JUNTA DE PROPIETARIOS": 4,
    "CONTRATOS COLABORACION EMPRESARIAL": 5, "COMUNIDAD CAMPESINA NATIVA COMUNAL": 4, "ENTIDAD RELIGIOSA": 3,
    "GOBIERNO REGIONAL LOCAL": 2, "INSTITUCIONES PUBLICAS": 2, "UNIVERSIDADES CENTROS EDUCATIVOS Y CULTURALES": 2,
    "SINDICATOS Y FEDERACIONES": 2, "FUNDACION": 1, "EMPRESA ESTATAL DE DERECHO PRIVADO": 1,
    "PERSONA NATURAL SIN NEGOCIO CON RENTAS DE CAPITAL": 3, "GOBIERNO CENTRAL": 0.5, "EMBAJADAS": 0.3,
    "ORGANISMOS INTERNACIONALES": 0.2,
}
#: Taxpayer types whose RUC starts with 10 (a DNI); a few "sin negocio" ones carry 15 or 17.
_TIPOS_PERSONA = ("PERSONA NATURAL CON NEGOCIO", "PERSONA NATURAL SIN NEGOCIO",
                  "PERSONA NATURAL SIN NEGOCIO CON RENTAS DE CAPITAL")
#: Excluded taxpayers that may declare sales (an asociación's income, a public company's sales).
_EXCLUIDOS_CON_VENTAS = 0.25


def _elegir(rng: np.random.Generator, opciones, n: int):
    """``n`` draws from ``((value, weight), …)`` or ``{value: weight}``."""
    pares = list(opciones.items()) if isinstance(opciones, dict) else list(opciones)
    valores = np.array([v for v, _ in pares])
    p = np.array([w for _, w in pares], dtype=float)
    return valores[rng.choice(len(pares), size=n, p=p / p.sum())]


def _peso_distrito(ubigeo: str, vraem: bool) -> float:
    """Relative weight of a district inside its department: capitals hold most firms."""
    if vraem:
        if ubigeo in ("080910", "080907"):  # Pichari, Kimbiri: the valley's commercial towns
            return 8.0
        if ubigeo in ("120606", "120604"):  # Pangoa, Mazamari
            return 6.0
        if ubigeo == "120608":  # Río Tambo
            return 4.0
        return 6.0 if ubigeo.endswith("01") else 1.0
    if ubigeo.startswith("1501") or ubigeo.startswith("0701"):  # Lima Metropolitana, Callao
        return 25.0
    if ubigeo[2:] == "0101":
        return 30.0
    return 6.0 if ubigeo.endswith("01") else 1.0


@dataclass
class Segmento:
    """Arrays of one segment's taxpayers before RUCs are assigned (see :func:`_simular_segmento`)."""

    rol: np.ndarray
    entrada: np.ndarray  # first formal year (ROL_FORMAL), else 0
    salida: np.ndarray  # year the firm stopped being formal, 9999 if never
    estado: np.ndarray  # (n, años) int8
    ventas: np.ndarray  # (n, años) int8


def _simular_segmento(rng: np.random.Generator, cal: Calibracion, nombre: str) -> Segmento:
    """Taxpayers of one segment and their Estado / ventas status in every year.

    Formal firms follow the calibrated flows: the first year's stock, then each year some firms exit
    (``Flujo.salidas``) and others enter (``Flujo.entradas``). A firm that exits keeps its RUC in later cuts
    with a baja, a suspension, or ACTIVO without sales; a share of entrants already appear, ACTIVO without
    sales, the year before. Background taxpayers (old bajas, dormant and suspended firms, non-business
    types) complete the Padrón.
    """
    flujo = cal.flujo_vraem if nombre == "vraem" else cal.flujo_resto
    anios = cal.anios
    na = len(anios)
    a0 = anios[0]
    n_formal_total = sum(flujo.entradas.values())
    entrada = np.zeros(n_formal_total, dtype=np.int16)
    salida = np.full(n_formal_total, 9999, dtype=np.int16)
    entrada[: flujo.formales[a0]] = a0
    siguiente = flujo.formales[a0]
    for a in anios[1:]:
        activos = np.flatnonzero((entrada > 0) & (entrada <= a - 1) & (salida > a - 1))
        salen = rng.choice(activos, size=flujo.salidas[a], replace=False)
        salida[salen] = a
        entran = flujo.entradas[a]
        entrada[siguiente : siguiente + entran] = a
        siguiente += entran
    anio_col = np.array(anios, dtype=np.int16)
    formal = (entrada[:, None] <= anio_col) & (anio_col < salida[:, None])
    estado = np.where(formal, ACTIVO, AUSENTE).astype(np.int8)
    ventas = np.where(formal, V_POSITIVA, V_NINGUNA).astype(np.int8)

    # After the exit.
    estado_salida = _elegir(rng, _ESTADO_SALIDA, n_formal_total).astype(np.int8)
    despues = anio_col[None, :] >= salida[:, None]
    estado = np.where(despues, estado_salida[:, None], estado)
    sin_ventas = _elegir(rng, _SIN_VENTAS, n_formal_total * na).reshape(n_formal_total, na).astype(np.int8)
    activo_sin = despues & (estado_salida[:, None] == ACTIVO)
    ventas = np.where(activo_sin, sin_ventas, ventas)
    en_salida = (anio_col[None, :] == salida[:, None]) & (estado_salida[:, None] != ACTIVO)
    declara = rng.random(n_formal_total) < _VENTAS_EN_ANIO_SALIDA
    ventas = np.where(en_salida & declara[:, None], V_POSITIVA, ventas)

    # The year before entry (RUC registered, no sales yet).
    pre = (entrada > a0) & (rng.random(n_formal_total) < PRE_INSCRITOS)
    antes = (anio_col[None, :] == (entrada[:, None] - 1)) & pre[:, None]
    estado = np.where(antes, ACTIVO, estado)
    ventas = np.where(antes, sin_ventas, ventas)

    partes_rol = [np.full(n_formal_total, ROL_FORMAL, dtype=np.int8)]
    partes_estado = [estado]
    partes_ventas = [ventas]
    fondo = cal.fondo[nombre]

    n = fondo["baja_antigua"]
    e = _elegir(rng, ((BAJA_OFICIO, 0.6), (BAJA_DEFINITIVA, 0.35), (BAJA_PROVISIONAL, 0.05)), n).astype(np.int8)
    partes_rol.append(np.full(n, ROL_BAJA_ANTIGUA, dtype=np.int8))
    partes_estado.append(np.repeat(e[:, None], na, axis=1))
    partes_ventas.append(np.zeros((n, na), dtype=np.int8))

    n = fondo["inactivo"]
    partes_rol.append(np.full(n, ROL_INACTIVO, dtype=np.int8))
    partes_estado.append(np.full((n, na), ACTIVO, dtype=np.int8))
    partes_ventas.append(_elegir(rng, _SIN_VENTAS, n * na).reshape(n, na).astype(np.int8))

    n = fondo["suspendido"]
    partes_rol.append(np.full(n, ROL_SUSPENDIDO, dtype=np.int8))
    partes_estado.append(np.full((n, na), SUSPENSION, dtype=np.int8))
    partes_ventas.append(np.zeros((n, na), dtype=np.int8))

    # Non-business taxpayers: the first year's stock plus new registrations every year.
    alta = [np.full(fondo["excluido"], a0, dtype=np.int16)]
    for a, k in cal.fondo_excluido_nuevo[nombre].items():
        alta.append(np.full(k, a, dtype=np.int16))
    alta_ex = np.concatenate(alta)
    n = len(alta_ex)
    e = _elegir(rng, ((ACTIVO, 0.9), (BAJA_OFICIO, 0.1)), n).astype(np.int8)
    presente = anio_col[None, :] >= alta_ex[:, None]
    partes_rol.append(np.full(n, ROL_EXCLUIDO, dtype=np.int8))
    partes_estado.append(np.where(presente, e[:, None], AUSENTE).astype(np.int8))
    # ventas of excluded types are decided after their tipo is known (see construir_universo)
    partes_ventas.append(np.zeros((n, na), dtype=np.int8))

    n_fondo = sum(len(r) for r in partes_rol[1:])
    return Segmento(
        rol=np.concatenate(partes_rol),
        entrada=np.concatenate([entrada, np.zeros(n_fondo, dtype=np.int16)]),
        salida=np.concatenate([salida, np.full(n_fondo, 9999, dtype=np.int16)]),
        estado=np.concatenate(partes_estado),
        ventas=np.concatenate(partes_ventas),
    )


@dataclass
class Suciedad:
    """The dirt planted in one cut, so that tests can account for every line.

    ``lineas`` are extra or altered lines inserted before main row ``pos`` (in the cut's row order);
    ``ventas`` are (RUC, cents) lines the ventas file must carry for the planted RUCs.
    """

    lineas: list[tuple[int, bytes, str]] = field(default_factory=list)
    ventas: list[tuple[int, int]] = field(default_factory=list)
    ruc_invalidos: list[int] = field(default_factory=list)
    ruc_malformados: list[int] = field(default_factory=list)
    ruc_duplicados: list[int] = field(default_factory=list)

    def conteo(self) -> dict[str, int]:
        c: dict[str, int] = {}
        for _, _, tipo in self.lineas:
            c[tipo] = c.get(tipo, 0) + 1
        return c


#: Dirt per cut by scale: lines failing the check digit, lines with one field too many / too few.
#: Three duplicated RUC lines per cut at every scale (moved into the VRAEM, turned baja, identical).
SUCIEDAD_POR_ESCALA = {
    "national": {"ruc_dv_invalido": 12, "campo_extra": 4, "campo_faltante": 3},
    "small": {"ruc_dv_invalido": 4, "campo_extra": 2, "campo_faltante": 1},
}
#: Share of non-VRAEM rows whose UBIGEO (and names) is ``-``; they still count nationally.
UBIGEO_GUION = 0.003


@dataclass
class Universo:
    """Every simulated taxpayer, sorted by RUC, with its attributes and per-year Estado / ventas status."""

    cal: Calibracion
    seed: int
    cat: Catalogo
    ruc: np.ndarray
    vraem: np.ndarray
    rol: np.ndarray
    entrada: np.ndarray
    salida: np.ndarray
    estado: np.ndarray
    ventas: np.ndarray
    geo: np.ndarray  # index into the ubigeo table, -1 = "-"
    tipo: np.ndarray
    act4: np.ndarray
    act3: np.ndarray
    act3s: np.ndarray
    estrato: np.ndarray
    posicion: np.ndarray
    trab: np.ndarray  # -1 = NO DISPONIBLE
    cond: np.ndarray
    fact: np.ndarray
    cont: np.ndarray
    comex: np.ndarray
    _suciedad: dict = field(default_factory=dict, repr=False)

    def t(self, anio: int) -> int:
        return self.cal.anios.index(anio)

    @cached_property
    def es_negocio(self) -> np.ndarray:
        return self.cat.tipo_es_negocio[self.tipo]

    @cached_property
    def ruc_texto(self) -> pa.Array:
        """Every RUC as text once (int→string is the costliest cast of a cut), gathered per cut."""
        return pc.cast(pa.array(self.ruc), pa.string()).cast(pa.large_binary())

    def formal(self, anio: int) -> np.ndarray:
        """The rule, applied to the population (dirt is outside it): ACTIVO, business type, sales > 0."""
        t = self.t(anio)
        return (self.estado[:, t] == ACTIVO) & self.es_negocio & (self.ventas[:, t] == V_POSITIVA)

    def corte(self, anio: int, mes: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows of a cut: (population indices in RUC order, Estado code per row, district index per row).

        The December cut is the year's state. The superseded June cut of the published year shows the
        year half-way: half of the year's entrants are not registered yet (unless they already had a
        RUC), the year's exits are still ACTIVO, and 3 % of the VRAEM formal firms still have their
        previous domicile in the department capital — so reading it gives wrong figures.
        """
        t = self.t(anio)
        estado = self.estado[:, t].copy()
        geo = self.geo.copy()
        if mes != 12:
            rng = np.random.default_rng([self.seed, anio, mes, 606])
            entra = (self.rol == ROL_FORMAL) & (self.entrada == anio)
            tarde = entra & (rng.random(len(estado)) < 0.5)
            previo = self.estado[:, t - 1] if t > 0 else np.zeros_like(estado)
            estado[tarde & (previo == AUSENTE)] = AUSENTE
            sale = (self.rol == ROL_FORMAL) & (self.salida == anio)
            estado[sale] = ACTIVO
            mueve = self.formal(anio) & self.vraem & (rng.random(len(estado)) < 0.03)
            capitales = {d: self.cat.ubigeo.index(d + "0101") for d in np.unique(self.cat.geo_departamento)}
            deptos = self.cat.geo_departamento[geo[mueve]]
            geo[mueve] = np.array([capitales[d] for d in deptos], dtype=geo.dtype)
        filas = np.flatnonzero(estado != AUSENTE)
        return filas, estado[filas], geo[filas]

    def suciedad(self, anio: int, mes: int = 12) -> Suciedad:
        """The dirt of one cut (memoized: the ventas writer needs the same planted RUCs)."""
        clave = (anio, mes)
        if clave not in self._suciedad:
            self._suciedad[clave] = _plantar_suciedad(self, anio, mes)
        return self._suciedad[clave]


def construir_universo(cal: Calibracion, seed: int = 2024) -> Universo:
    """Simulate the taxpayer population for the calibration's years, deterministically from ``seed``.

    Attributes are drawn per taxpayer; the VRAEM formal firms of the published year get their stratum,
    sector and department from exact shuffled allocations (so shares are exact, not just expected), every
    other firm draws them from the calibrated shares. Ends by checking that the rule, applied to the
    population, gives exactly the calibrated counts of every year.
    """
    rng = np.random.default_rng([seed, 1])
    cat = cargar_catalogo()
    segs = {nombre: _simular_segmento(rng, cal, nombre) for nombre in ("vraem", "resto")}
    vraem = np.concatenate([np.full(len(segs[s].rol), s == "vraem") for s in segs])
    rol = np.concatenate([segs[s].rol for s in segs])
    entrada = np.concatenate([segs[s].entrada for s in segs])
    salida = np.concatenate([segs[s].salida for s in segs])
    estado = np.concatenate([segs[s].estado for s in segs])
    ventas = np.concatenate([segs[s].ventas for s in segs])
    n = len(rol)
    anio_pub = cal.anio_publicado
    t_pub = cal.anios.index(anio_pub)
    formal_pub = (rol == ROL_FORMAL) & (estado[:, t_pub] == ACTIVO) & (ventas[:, t_pub] == V_POSITIVA)
    exacto = vraem & formal_pub
    negocio = rol != ROL_EXCLUIDO

    # Stratum.
    estrato = np.zeros(n, dtype=np.int8)
    for seg, pct in ((True, cal.estrato_pct_vraem), (False, cal.estrato_pct_nacional)):
        m = (vraem == seg) & negocio
        estrato[m] = _elegir(rng, {i: pct[e] for i, e in enumerate(ESTRATOS)}, int(m.sum()))
    etiquetas = np.repeat(np.arange(4), [cal.vraem_por_estrato[e] for e in ESTRATOS])
    estrato[exacto] = rng.permutation(etiquetas)

    # Sector and activity text.
    sector = np.zeros(n, dtype=np.int8)
    for seg, pct in ((True, cal.sector_pct_vraem), (False, cal.sector_pct_nacional)):
        m = vraem == seg
        sector[m] = _elegir(rng, {i: pct[s] for i, s in enumerate(SECTORES)}, int(m.sum()))
    sector[rol == ROL_EXCLUIDO] = SECTORES.index("servicios")
    etiquetas = np.repeat(np.arange(len(SECTORES)), [cal.vraem_por_sector[s] for s in SECTORES])
    sector[exacto] = rng.permutation(etiquetas)
    act4 = np.zeros(n, dtype=np.int32)
    for i, s in enumerate(SECTORES):
        clases, pesos = cat.clases_por_sector[s]
        # (class, variant) -> text index, with the number of distinct variants of each class
        variantes = np.zeros((len(clases), 2), dtype=np.int32)
        n_var = np.zeros(len(clases), dtype=np.int32)
        for k, c in enumerate(clases):
            v = cat.clase_textos[c][:2]
            variantes[k, : len(v)] = v
            n_var[k] = len(v)
        for seg in (True, False):
            m = np.flatnonzero((sector == i) & (vraem == seg))
            p = pesos.copy()
            if seg:
                p[np.isin(clases, CLASES_AMBIGUAS)] = 0.0
            k = rng.choice(len(clases), size=len(m), p=p / p.sum())
            v = (rng.random(len(m)) * n_var[k]).astype(np.int32)
            act4[m] = variantes[k, v]
    # Dirt texts: never on a VRAEM firm that is formal in any year.
    alguna_vez_formal = (rol == ROL_FORMAL)
    u = rng.random(n)
    idx_desconocidos = [cat.textos.index(t) for t in TEXTOS_DESCONOCIDOS]
    nacional_formal = ~vraem & alguna_vez_formal
    act4[nacional_formal & (u < 0.010)] = 0
    m = nacional_formal & (u >= 0.010) & (u < 0.013)
    act4[m] = rng.choice(idx_desconocidos, size=int(m.sum()))
    act4[nacional_formal & (u >= 0.013) & (u < 0.015)] = cat.textos.index(TEXTO_VARIANTE)
    act4[(rol != ROL_FORMAL) & (u < 0.25)] = 0
    m = (rol != ROL_FORMAL) & (u >= 0.25) & (u < 0.27)
    act4[m] = rng.choice(idx_desconocidos, size=int(m.sum()))
    act3 = np.where(rng.random(n) < 0.5, act4, 0).astype(np.int32)
    secundarias = np.array(cat.secundarias, dtype=np.int32)
    act3s = np.where(rng.random(n) < 0.85, 0, secundarias[rng.integers(1, len(secundarias), n)]).astype(np.int32)

    # Domicile.
    geo = np.zeros(n, dtype=np.int32)
    deptos = cat.geo_departamento
    for seg in (True, False):
        m = np.flatnonzero(vraem == seg)
        pesos_dep = cal.departamento_pct_vraem if seg else PESO_DEPARTAMENTO_NACIONAL
        dep = _elegir(rng, pesos_dep, len(m))
        if seg:
            etiquetas = np.repeat(np.array(list(cal.vraem_por_departamento)), list(cal.vraem_por_departamento.values()))
            dep[np.isin(m, np.flatnonzero(exacto))] = rng.permutation(etiquetas)
        for d in np.unique(dep):
            distritos = np.flatnonzero((deptos == d) & (cat.geo_vraem == seg))
            pesos = np.array([_peso_distrito(cat.ubigeo[k], seg) for k in distritos])
            sel = m[dep == d]
            geo[sel] = distritos[rng.choice(len(distritos), size=len(sel), p=pesos / pesos.sum())]
    geo[~vraem & (rng.random(n) < UBIGEO_GUION)] = -1

    # Taxpayer type, and from it the RUC prefix.
    tipo = np.zeros(n, dtype=np.int16)
    for i, e in enumerate(ESTRATOS):
        m = negocio & (estrato == i)
        tipo[m] = _elegir(rng, {cat.tipo(x): w for x, w in _TIPOS_NEGOCIO[e].items()}, int(m.sum()))
    m = ~negocio
    tipo[m] = _elegir(rng, {cat.tipo(x): w for x, w in _TIPOS_EXCLUIDOS.items()}, int(m.sum()))

    # Excluded taxpayers that declare sales (never formal: their Tipo is not a business).
    persona = np.isin(tipo, [cat.tipo(x) for x in _TIPOS_PERSONA])
    declara = (~negocio) & ~persona & (rng.random(n) < _EXCLUIDOS_CON_VENTAS)
    ventas = np.where(declara[:, None] & (estado == ACTIVO), V_POSITIVA, ventas).astype(np.int8)

    prefijo = np.where(persona, 10, 20)
    u = rng.random(n)
    sin_negocio = ~negocio & persona
    prefijo[sin_negocio & (u < 0.02)] = 15
    prefijo[sin_negocio & (u >= 0.02) & (u < 0.03)] = 17
    ruc = np.zeros(n, dtype=np.int64)
    for p in (10, 15, 17, 20):
        m = np.flatnonzero(prefijo == p)
        if len(m) >= _BASE_RESERVADA[p]:
            raise ValueError(f"demasiados RUC {p} para el rango reservado")
        ruc[m] = construir_ruc(p, _cuerpos(p, np.arange(len(m)), seed))

    # Workers, condition, billing, accounting, foreign trade.
    trab = np.full(n, -1, dtype=np.int32)
    u = rng.random(n)
    nd = np.where(persona, 0.70, 0.55)
    nd = np.where(rol == ROL_FORMAL, nd, 0.85)
    con_dato = u >= nd
    maximo = np.array([6, 60, 150, 3000])[estrato]
    minimo = np.array([0, 2, 20, 50])[estrato]
    valor = minimo + np.floor((maximo - minimo + 1) * rng.random(n) ** 2.5).astype(np.int32)
    valor = np.where(rol == ROL_FORMAL, valor, 0)
    trab[con_dato] = valor[con_dato]
    cond = np.where(
        rol == ROL_FORMAL,
        _elegir(rng, ((0, 0.985), (1, 0.01), (2, 0.005)), n),
        _elegir(rng, ((0, 0.6), (1, 0.28), (2, 0.1), (3, 0.02)), n),
    ).astype(np.int8)
    fact = _elegir(rng, ((0, 0.5), (1, 0.2), (2, 0.3)), n).astype(np.int8)
    cont = _elegir(rng, ((0, 0.55), (1, 0.3), (2, 0.15)), n).astype(np.int8)
    comex = _elegir(rng, ((0, 0.97), (1, 0.015), (2, 0.005), (3, 0.01)), n).astype(np.int8)
    comex[estrato == 3] = _elegir(rng, ((0, 0.5), (1, 0.2), (2, 0.1), (3, 0.2)), int((estrato == 3).sum()))
    posicion = rng.random(n)

    orden = np.argsort(ruc, kind="stable")
    if np.any(np.diff(ruc[orden]) == 0):
        raise AssertionError("RUC repetido en la población")
    uni = Universo(
        cal=cal, seed=seed, cat=cat, ruc=ruc[orden], vraem=vraem[orden], rol=rol[orden], entrada=entrada[orden],
        salida=salida[orden], estado=estado[orden], ventas=ventas[orden], geo=geo[orden], tipo=tipo[orden],
        act4=act4[orden], act3=act3[orden], act3s=act3s[orden], estrato=estrato[orden],
        posicion=posicion[orden], trab=trab[orden], cond=cond[orden], fact=fact[orden], cont=cont[orden],
        comex=comex[orden],
    )
    _verificar(uni)
    return uni


def _verificar(uni: Universo) -> None:
    """The population must give the calibrated counts under the rule: fail loudly here, not in a report."""
    cal = uni.cal
    vraem_geo = np.zeros(len(uni.geo), dtype=bool)
    con_geo = uni.geo >= 0
    vraem_geo[con_geo] = uni.cat.geo_vraem[uni.geo[con_geo]]
    if not np.array_equal(vraem_geo, uni.vraem):
        raise AssertionError("segmento VRAEM y ubigeo no coinciden")
    for a in cal.anios:
        f = uni.formal(a)
        if int(f.sum()) != cal.nacional_formales[a] or int((f & uni.vraem).sum()) != cal.vraem_formales[a]:
            raise AssertionError(f"{a}: formales {int(f.sum())}/{int((f & uni.vraem).sum())} ≠ calibración")
        sectores = {uni.cat.texto_sector[i] for i in np.unique(uni.act4[f & uni.vraem])}
        if None in sectores:
            raise AssertionError(f"{a}: empresa formal VRAEM sin texto CIIU reconocible")
    f = uni.formal(cal.anio_publicado) & uni.vraem
    estratos = np.bincount(uni.estrato[f], minlength=4)
    if {e: int(estratos[i]) for i, e in enumerate(ESTRATOS)} != cal.vraem_por_estrato:
        raise AssertionError("estratos VRAEM ≠ calibración")


# --------------------------------------------------------------------------------------------------------
# Writing a cut
# --------------------------------------------------------------------------------------------------------


def _campo(texto: str, fmt: Formato) -> bytes:
    """One field as bytes of the cut's encoding, quoted when a comma file needs it."""
    if fmt.comillas and ("," in texto or '"' in texto or "\n" in texto):
        texto = '"' + texto.replace('"', '""') + '"'
    return texto.encode(fmt.codificacion)


@dataclass(frozen=True)
class _Piezas:
    """Pre-encoded category tables of one format and period: a line is a join of gathered pieces."""

    estado: list[bytes]
    cond: list[bytes]
    tipo: list[bytes]
    texto: list[bytes]
    trab: list[bytes]  # index = workers + 1 (0 = NO DISPONIBLE)
    fact: list[bytes]
    cont: list[bytes]
    comex: list[bytes]
    geo: list[bytes]  # index = district + 1 (0 = "-"), UBIGEO..Distrito joined by the delimiter
    periodo: bytes  # PERIODO_PUBLICACION + end of line
    fmt: Formato


def _piezas(cat: Catalogo, fmt: Formato, periodo: str, max_trab: int) -> _Piezas:
    d = fmt.delimitador.encode()
    geo = [d.join([b"-"] * 4)]
    for ubigeo, (dep, prov, dist) in zip(cat.ubigeo, cat.geo_nombres, strict=True):
        codigo = str(int(ubigeo)) if fmt.ubigeo_sin_cero else ubigeo
        geo.append(d.join(_campo(x, fmt) for x in (codigo, dep, prov, dist)))
    return _Piezas(
        estado=[_campo(x, fmt) for x in ESTADOS],
        cond=[_campo(x, fmt) for x in CONDICIONES],
        tipo=[_campo(x, fmt) for x in cat.tipos],
        texto=[_campo(x, fmt) for x in cat.textos],
        trab=[_campo(NO_DISPONIBLE, fmt)] + [str(i).encode() for i in range(max_trab + 1)],
        fact=[_campo(x, fmt) for x in FACTURACION],
        cont=[_campo(x, fmt) for x in CONTABILIDAD],
        comex=[_campo(x, fmt) for x in COMERCIO_EXTERIOR],
        geo=geo,
        periodo=periodo.encode() + fmt.fin_linea.encode(),
        fmt=fmt,
    )


def _fila_codigos(uni: Universo, i: int, estado: int, geo: int) -> dict[str, int]:
    return {
        "estado": estado, "cond": int(uni.cond[i]), "tipo": int(uni.tipo[i]), "act3": int(uni.act3[i]),
        "act3s": int(uni.act3s[i]), "act4": int(uni.act4[i]), "trab": int(uni.trab[i]) + 1,
        "fact": int(uni.fact[i]), "cont": int(uni.cont[i]), "comex": int(uni.comex[i]), "geo": int(geo) + 1,
    }


def _campos_linea(pz: _Piezas, ruc: str, c: dict[str, int]) -> list[bytes]:
    """The 13 pieces of one line (the geo piece holds 4 fields), for the few lines built one by one."""
    return [
        ruc.encode(), pz.estado[c["estado"]], pz.cond[c["cond"]], pz.tipo[c["tipo"]], pz.texto[c["act3"]],
        pz.texto[c["act3s"]], pz.texto[c["act4"]], pz.trab[c["trab"]], pz.fact[c["fact"]], pz.cont[c["cont"]],
        pz.comex[c["comex"]], pz.geo[c["geo"]], pz.periodo,
    ]


def _plantar_suciedad(uni: Universo, anio: int, mes: int) -> Suciedad:
    """Choose the dirt of one cut: bad check digits, malformed lines, duplicated RUCs.

    Planted lines copy a real formal row of the year (same segment) with a fresh reserved RUC and carry
    positive sales in the ventas file, so a pipeline that skipped the check would count them. Duplicates
    repeat a real RUC later in the file: one moved into a VRAEM district, one turned baja, one identical —
    keeping the last instead of the first changes the VRAEM count.
    """


    rng = np.random.default_rng([uni.seed, anio, mes, 77])
    filas, estado, geo = uni.corte(anio, mes)
    formal = uni.formal(anio)[filas] & (estado == ACTIVO)
    fmt = formato_de(anio)
    pz = _piezas(uni.cat, fmt, f"{anio}{mes:02d}", int(uni.trab.max()))
    cuantos = SUCIEDAD_POR_ESCALA[uni.cal.escala]
    s = Suciedad()
    bloque = (anio - 2000) * 40 + mes * 3
    n_filas = len(filas)
    uit = uni.cal.uit[anio]

    def plantilla(vraem: bool) -> int:
        candidatas = np.flatnonzero(formal & (uni.vraem[filas] == vraem))
        return int(rng.choice(candidatas))

    persona = {uni.cat.tipo(x) for x in _TIPOS_PERSONA}

    def ruc_para(r: int, j: int, bloque_k: int) -> int:
        """A reserved RUC whose prefix fits the template's type (10 for personas naturales, else 20)."""
        prefijo = 10 if int(uni.tipo[filas[r]]) in persona else 20
        return int(ruc_reservados(prefijo, bloque_k, j + 1, uni.seed)[j])

    # Lines whose RUC fails the check digit: half in the VRAEM.
    k = cuantos["ruc_dv_invalido"]
    for j in range(k):
        r = plantilla(j % 2 == 0)
        ruc = int(con_digito_errado(np.array([ruc_para(r, j, bloque)]))[0])
        c = _fila_codigos(uni, int(filas[r]), int(estado[r]), int(geo[r]))
        linea = fmt.delimitador.encode().join(_campos_linea(pz, str(int(ruc)), c))
        s.lineas.append((int(rng.integers(0, n_filas + 1)), linea, "ruc_dv_invalido"))
        s.ventas.append((int(ruc), importe_suelto(rng, uit)))
        s.ruc_invalidos.append(int(ruc))

    # Malformed lines (valid RUCs): one field too many, one too few.
    k_extra, k_falta = cuantos["campo_extra"], cuantos["campo_faltante"]
    d = fmt.delimitador.encode()
    for j in range(k_extra + k_falta):
        r = plantilla(j % 2 == 1)
        ruc = ruc_para(r, j, bloque + 1)
        c = _fila_codigos(uni, int(filas[r]), int(estado[r]), int(geo[r]))
        partes = _campos_linea(pz, str(int(ruc)), c)
        if j < k_extra:
            tipo = "campo_extra"
            if fmt.comillas:
                # an activity text with a comma written without its quotes: 17 fields
                con_coma = [t for t in uni.cat.textos if "," in t]
                partes[6] = con_coma[j % len(con_coma)].encode(fmt.codificacion)
            else:
                # a stray delimiter inside the district name: 17 fields
                partes[11] = partes[11] + d + b"ANEXO"
        else:
            tipo = "campo_faltante"
            del partes[7]  # NroTrab missing: 15 fields
        s.lineas.append((int(rng.integers(0, n_filas + 1)), d.join(partes), tipo))
        s.ventas.append((int(ruc), importe_suelto(rng, uit)))
        s.ruc_malformados.append(int(ruc))

    # Duplicated RUCs: the second line comes later in the file and differs (except the identical one).
    vraem_geo = [i for i, v in enumerate(uni.cat.geo_vraem) if v]
    for variante in ("duplicado_reubicado", "duplicado_baja", "duplicado_identico"):
        if variante == "duplicado_reubicado":
            r = plantilla(False)
        elif variante == "duplicado_baja":
            r = plantilla(True)
        else:
            r = int(rng.integers(0, n_filas))
        i = int(filas[r])
        c = _fila_codigos(uni, i, int(estado[r]), int(geo[r]))
        if variante == "duplicado_reubicado":
            c["geo"] = int(rng.choice(vraem_geo)) + 1
        elif variante == "duplicado_baja":
            c["estado"] = BAJA_OFICIO
        linea = d.join(_campos_linea(pz, str(int(uni.ruc[i])), c))
        s.lineas.append((int(rng.integers(r + 1, n_filas + 1)), linea, variante))
        s.ruc_duplicados.append(int(uni.ruc[i]))
    s.lineas.sort(key=lambda x: x[0])
    return s


def _producto(tablas: list[list[bytes]], sep: bytes, fin: bytes = b"") -> list[bytes]:
    """Every combination of the tables' entries, joined (last table varies fastest): a mixed-radix table."""
    combinadas = [b""]
    for k, tabla in enumerate(tablas):
        combinadas = [a + sep + b if k else b for a in combinadas for b in tabla]
    return [c + fin for c in combinadas]


@dataclass(frozen=True)
class _Tablas:
    """The pre-joined category tables of one cut, as Arrow arrays built once and gathered block by block.

    Neighbouring low-cardinality columns are pre-joined into one table (every combination, a few tens of
    thousands of entries) and addressed by a mixed-radix code, so a line is 5 gathered pieces instead of
    13: RUC | Estado..Tipo | the three activity columns | NroTrab | TipoFacturacion..PERIODO. The population
    rows and the filler rows of ``scale="real"`` go through the same tables, so they cannot differ in
    dialect (encoding, quoting, delimiter, end of line).
    """

    a: pa.Array  # Estado|Condicion|Tipo
    b: pa.Array  # rev.3 principal|rev.3 secundaria|rev.4 principal
    trab: pa.Array  # index = workers + 1 (0 = NO DISPONIBLE)
    d: pa.Array  # TipoFacturacion|TipoContabilidad|ComercioExterior|UBIGEO..Distrito|PERIODO + end of line
    n_cond: int
    n_tipo: int
    n_txt: int
    n_sec: int
    n_cont: int
    n_comex: int
    n_geo: int
    pos_sec: np.ndarray  # text index -> position in the secondary-activity list
    sep: pa.Scalar

    def cod_a(self, estado: np.ndarray, cond: np.ndarray, tipo: np.ndarray) -> np.ndarray:
        return (estado.astype(np.int64) * self.n_cond + cond) * self.n_tipo + tipo

    def cod_b(self, con_rev3: np.ndarray, act3s: np.ndarray, act4: np.ndarray) -> np.ndarray:
        """rev.3 principal is NO DISPONIBLE (``con_rev3`` 0) or the rev.4 text itself (1)."""
        return (con_rev3.astype(np.int64) * self.n_sec + self.pos_sec[act3s]) * self.n_txt + act4.astype(np.int64)

    def cod_d(self, fact: np.ndarray, cont: np.ndarray, comex: np.ndarray, geo: np.ndarray) -> np.ndarray:
        """``geo`` is the district index, -1 for the ``-`` ubigeo."""
        return ((fact.astype(np.int64) * self.n_cont + cont) * self.n_comex + comex) * self.n_geo + (geo + 1)

    def unir(self, ruc: pa.Array, cod_a: np.ndarray, cod_b: np.ndarray, trab: np.ndarray,
             cod_d: np.ndarray) -> pa.Array:
        """The lines (each ending with its end of line) as one ``large_binary`` array."""
        def tomar(tabla: pa.Array, codigos: np.ndarray) -> pa.Array:
            return tabla.take(pa.array(np.asarray(codigos, dtype=np.int32)))

        piezas = [ruc, tomar(self.a, cod_a), tomar(self.b, cod_b), tomar(self.trab, trab), tomar(self.d, cod_d)]
        return pc.binary_join_element_wise(*piezas, self.sep)


def _tablas(cat: Catalogo, pz: _Piezas) -> _Tablas:
    d = pz.fmt.delimitador.encode()
    sec = np.array(cat.secundarias)
    pos_sec = np.zeros(len(cat.textos), dtype=np.int64)
    pos_sec[sec] = np.arange(len(sec))
    n_txt = len(pz.texto)
    tabla_b = [
        d.join((pz.texto[t] if f else pz.texto[0], pz.texto[s], pz.texto[t]))
        for f in (0, 1) for s in sec for t in range(n_txt)
    ]

    def arrow(tabla: list[bytes]) -> pa.Array:
        return pa.array(tabla, type=pa.large_binary())

    return _Tablas(
        a=arrow(_producto([pz.estado, pz.cond, pz.tipo], d)),
        b=arrow(tabla_b),
        trab=arrow(pz.trab),
        d=arrow(_producto([pz.fact, pz.cont, pz.comex, pz.geo], d, d + pz.periodo)),
        n_cond=len(pz.cond), n_tipo=len(pz.tipo), n_txt=n_txt, n_sec=len(sec), n_cont=len(pz.cont),
        n_comex=len(pz.comex), n_geo=len(pz.geo), pos_sec=pos_sec, sep=pa.scalar(d, pa.large_binary()),
    )


def _lineas(uni: Universo, t: _Tablas, filas: np.ndarray, estado: np.ndarray, geo: np.ndarray) -> pa.Array:
    """Population lines ``filas`` of a cut (a block of it), in order."""
    return t.unir(
        uni.ruc_texto.take(pa.array(filas)),
        t.cod_a(estado, uni.cond[filas], uni.tipo[filas]),
        t.cod_b(uni.act3[filas] != 0, uni.act3s[filas], uni.act4[filas]),
        uni.trab[filas] + 1,
        t.cod_d(uni.fact[filas], uni.cont[filas], uni.comex[filas], geo),
    )


def _trozos(lineas: pa.Array, insertos: list[tuple[int, bytes, str]]):
    """Byte chunks of a block of lines: slices of the joined buffer with the planted lines in between."""
    n = len(lineas)
    offsets = np.frombuffer(lineas.buffers()[1], dtype=np.int64)[lineas.offset : lineas.offset + n + 1]
    datos = memoryview(lineas.buffers()[2])
    paso = 1 << 24
    previo = 0
    for pos, linea, _ in [*insertos, (n, None, "")]:
        a, b = int(offsets[previo]), int(offsets[pos])
        for x in range(a, b, paso):
            yield datos[x : min(b, x + paso)]
        if linea is not None:
            yield linea  # planted lines end with the period piece, which carries the end of line
        previo = pos


#: Lines joined at a time, for the population rows and the filler rows alike. A cut is never held whole
#: as text: a block's gathered pieces and joined lines are ~300 MB at most, so the memory of writing a cut
#: does not grow with its size (a 3 M-line cut joined at once peaked at 2.8 GB; the 12.5 M-line cuts of
#: ``scale="real"`` would not fit). The bytes written do not depend on it.
LINEAS_POR_BLOQUE = 1 << 19


def _bloques_poblacion(uni: Universo, t: _Tablas, filas: np.ndarray, estado: np.ndarray, geo: np.ndarray,
                       insertos: list[tuple[int, bytes, str]]):
    """The population rows of a cut as blocks of joined lines, each with the planted lines that go in it.

    Yields ``(lines, inserts)`` with insert positions relative to the block (see :func:`_trozos`).
    """
    n = len(filas)
    k = 0
    for a in range(0, n, LINEAS_POR_BLOQUE):
        b = min(n, a + LINEAS_POR_BLOQUE)
        propios = []
        # a line planted before row b belongs to the next block, unless b is the end of the cut
        while k < len(insertos) and (insertos[k][0] < b or (b == n and insertos[k][0] == n)):
            pos, linea, tipo = insertos[k]
            propios.append((pos - a, linea, tipo))
            k += 1
        yield _lineas(uni, t, filas[a:b], estado[a:b], geo[a:b]), propios
    if k < len(insertos):  # a cut without population rows
        yield None, insertos[k:]


# --------------------------------------------------------------------------------------------------------
# Filler lines (scale="real")
# --------------------------------------------------------------------------------------------------------

#: Physical lines (header included) of each December cut at ``scale="real"``. SUNAT's open-data Padrón
#: RUC lists every RUC ever issued that is not purged: 12,515,483 lines in a recent cut, most of them
#: natural persons without business (a RUC-10 for a fee receipt or a one-off sale) and closed RUCs. The
#: national sample carries the 2.5–3.2 M rows that matter to the rule; the real scale pads each cut up
#: to these totals (growing ~4 % a year back from the observed size), so that readers, disks and
#: memory are exercised at the size the refresh meets in production.
LINEAS_CORTE_REAL: dict[int, int] = {
    2019: 10_210_000,
    2020: 10_640_000,
    2021: 11_090_000,
    2022: 11_560_000,
    2023: 12_030_000,
    2024: 12_515_483,
}

#: Share of filler lines that are closed companies (RUC 20); the rest are natural persons (RUC 10).
_RELLENO_EMPRESAS = 0.08
#: Estado of filler persons: mostly ACTIVO (a RUC nobody closes), some closed.
_RELLENO_ESTADO_PERSONA = ((ACTIVO, 0.84), (BAJA_DEFINITIVA, 0.10), (BAJA_OFICIO, 0.06))
#: Filler companies are always closed: a business Tipo with an ACTIVO Estado could be a formal firm.
_RELLENO_ESTADO_EMPRESA = ((BAJA_DEFINITIVA, 0.6), (BAJA_OFICIO, 0.4))
_RELLENO_TIPO_EMPRESA = {
    "SOCIEDAD ANONIMA CERRADA": 45, "EMPRESA INDIVIDUAL DE RESPONSABILIDAD LIMITADA": 25,
    "SOCIEDAD COMERCIAL DE RESPONSABILIDAD LIMITADA": 15, "SOCIEDAD ANONIMA": 10, "SOCIEDAD IRREGULAR": 5,
}
#: An ACTIVO person is never a business; a closed one may be a closed business (so the Estado filter,
#: not the Tipo alone, keeps it out).
_RELLENO_TIPO_PERSONA_ACTIVA = {
    "PERSONA NATURAL SIN NEGOCIO": 97, "PERSONA NATURAL SIN NEGOCIO CON RENTAS DE CAPITAL": 3,
}
_RELLENO_TIPO_PERSONA_BAJA = {"PERSONA NATURAL SIN NEGOCIO": 50, "PERSONA NATURAL CON NEGOCIO": 50}
#: Condicion of filler rows (codes of CONDICIONES), for ACTIVO (True) and closed (False) RUCs: closed ones
#: are often NO HABIDO, SUNAT having stopped looking for them.
_RELLENO_CONDICION = {True: ((0, 0.80), (1, 0.12), (2, 0.06), (3, 0.02)), False: ((0, 0.35), (1, 0.45), (2, 0.20))}
#: Share of filler rows with an activity text: closed businesses usually show their old activity, persons
#: without business rarely.
_RELLENO_CON_ACTIVIDAD = {True: 0.85, False: 0.08}
#: NroTrab of filler rows: NO DISPONIBLE (code 0) or 0 workers (code 1).
_RELLENO_TRABAJADORES = ((0, 0.95), (1, 0.05))
#: Billing, accounting and foreign trade of filler rows (codes of FACTURACION, CONTABILIDAD,
#: COMERCIO_EXTERIOR): a person without business keeps manual books and does not trade abroad.
_RELLENO_FACTURACION = ((0, 0.85), (1, 0.05), (2, 0.10))
_RELLENO_CONTABILIDAD = ((0, 0.90), (1, 0.07), (2, 0.03))
_RELLENO_COMERCIO_EXTERIOR = ((0, 0.998), (1, 0.002))
#: Share of filler rows whose UBIGEO (and names) is ``-``: persons who never declared a domicile.
_RELLENO_UBIGEO_GUION = 0.01

_MASCARA_64 = (1 << 64) - 1


def _azar(indices: np.ndarray, seed: int, corriente: int) -> np.ndarray:
    """64 pseudo-random bits per filler index (splitmix64 of a seeded counter).

    A hash of the index instead of a generator's stream: a filler's attributes depend only on (seed, its
    index), not on the block it is drawn in nor on the year, so the fillers of a cut are the previous
    cut's plus new ones (a person keeps her RUC, Estado and district from cut to cut) and the bytes do not
    depend on ``LINEAS_POR_BLOQUE``.
    """
    clave = (seed * 0x9E3779B97F4A7C15 + corriente * 0xD1B54A32D192ED03 + 0x632BE59BD9B4E019) & _MASCARA_64
    x = indices.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(clave)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _campo16(h: np.ndarray, k: int) -> np.ndarray:
    """Field ``k`` (0–3) of 16 bits of the hashes ``h``: four independent draws per hash."""
    return (h >> np.uint64(16 * k)) & np.uint64(0xFFFF)


def _tabla_sorteo(opciones, bits: int = 16) -> np.ndarray:
    """Value drawn for each of the ``2**bits`` uniform integers, over ``((value, weight), …)`` or a dict.

    A categorical draw is then one gather per row instead of a binary search.
    """
    pares = list(opciones.items()) if isinstance(opciones, dict) else list(opciones)
    valores = np.array([v for v, _ in pares], dtype=np.int64)
    p = np.array([w for _, w in pares], dtype=float)
    cortes = np.round(np.cumsum(p / p.sum())[:-1] * (1 << bits))
    return valores[np.searchsorted(cortes, np.arange(1 << bits), side="right")]


#: Bits of the uniform integer a filler's district is drawn from: 2**20 slots, so the smallest district
#: (a few 1e-5 of the people) still gets tens of slots.
_BITS_GEO = 20


@dataclass(frozen=True)
class _DistribucionRelleno:
    """The filler draws as lookup tables (uniform integer -> code), built once per cut."""

    geo: np.ndarray  # 2**_BITS_GEO entries: district index, -1 for "-"
    estado_empresa: np.ndarray
    estado_persona: np.ndarray
    tipo_empresa: np.ndarray
    tipo_activa: np.ndarray
    tipo_baja: np.ndarray
    cond_activa: np.ndarray
    cond_baja: np.ndarray
    trab: np.ndarray
    fact: np.ndarray
    cont: np.ndarray
    comex: np.ndarray
    actividades: np.ndarray  # text indices a filler's activity is drawn from
    es_negocio: np.ndarray


def _distribucion_relleno(cat: Catalogo) -> _DistribucionRelleno:
    """Fillers live everywhere, VRAEM districts included: department weight × district weight (the
    capitals hold most people), as for the population's national firms."""
    deps = cat.geo_departamento
    peso = np.array([_peso_distrito(u, bool(v)) for u, v in zip(cat.ubigeo, cat.geo_vraem, strict=True)])
    dentro = {d: peso[deps == d].sum() for d in np.unique(deps)}
    peso = peso / np.array([dentro[d] for d in deps]) * np.array([PESO_DEPARTAMENTO_NACIONAL[d] for d in deps])
    geo = [(-1, _RELLENO_UBIGEO_GUION)] + list(zip(range(len(peso)), (1 - _RELLENO_UBIGEO_GUION) * peso / peso.sum()))

    def tipos(pesos: dict[str, float]) -> np.ndarray:
        return _tabla_sorteo({cat.tipo(x): w for x, w in pesos.items()})

    return _DistribucionRelleno(
        geo=_tabla_sorteo(geo, _BITS_GEO),
        estado_empresa=_tabla_sorteo(_RELLENO_ESTADO_EMPRESA),
        estado_persona=_tabla_sorteo(_RELLENO_ESTADO_PERSONA),
        tipo_empresa=tipos(_RELLENO_TIPO_EMPRESA),
        tipo_activa=tipos(_RELLENO_TIPO_PERSONA_ACTIVA),
        tipo_baja=tipos(_RELLENO_TIPO_PERSONA_BAJA),
        cond_activa=_tabla_sorteo(_RELLENO_CONDICION[True]),
        cond_baja=_tabla_sorteo(_RELLENO_CONDICION[False]),
        trab=_tabla_sorteo(_RELLENO_TRABAJADORES),
        fact=_tabla_sorteo(_RELLENO_FACTURACION),
        cont=_tabla_sorteo(_RELLENO_CONTABILIDAD),
        comex=_tabla_sorteo(_RELLENO_COMERCIO_EXTERIOR),
        actividades=np.array(cat.secundarias[1:], dtype=np.int64),
        es_negocio=cat.tipo_es_negocio,
    )


def ruc_relleno(indices: np.ndarray, seed: int) -> np.ndarray:
    """RUCs of the filler lines ``indices`` (0, 1, …): 10… persons and 20… closed companies.

    Taken from index ranges of the RUC permutations that nothing else uses (``_BASE_RELLENO``): distinct
    for distinct indices, and never a RUC of the population, of the planted dirt or of the ventas file.
    """
    i = np.asarray(indices, dtype=np.int64)
    for p in (10, 20):
        if len(i) and _BASE_RELLENO[p] + int(i.max()) >= _RANGO_CUERPO[p][1] - _RANGO_CUERPO[p][0]:
            raise ValueError(f"más líneas de relleno ({int(i.max()) + 1:,}) que RUC {p} libres")
    empresa = _es_empresa(_azar(i, seed, 1))
    c10 = _cuerpos(10, _BASE_RELLENO[10] + i, seed)
    c20 = _cuerpos(20, _BASE_RELLENO[20] + i, seed)
    return construir_ruc(np.where(empresa, 20, 10), np.where(empresa, c20, c10))


def _es_empresa(h1: np.ndarray) -> np.ndarray:
    return _campo16(h1, 0) < np.uint64(round(_RELLENO_EMPRESAS * (1 << 16)))


def _lineas_relleno(t: _Tablas, dist: _DistribucionRelleno, indices: np.ndarray, seed: int) -> pa.Array:
    """Filler lines ``indices`` of a cut: well-formed, valid RUCs, and never a formal firm."""
    i = np.asarray(indices, dtype=np.int64)
    h1, h2, h3, h4 = (_azar(i, seed, k) for k in (1, 2, 3, 4))
    empresa = _es_empresa(h1)
    ruc = ruc_relleno(i, seed)

    u = _campo16(h1, 1)
    estado = np.where(empresa, dist.estado_empresa[u], dist.estado_persona[u])
    activo = estado == ACTIVO
    u = _campo16(h1, 2)
    tipo = np.where(empresa, dist.tipo_empresa[u], np.where(activo, dist.tipo_activa[u], dist.tipo_baja[u]))
    negocio = dist.es_negocio[tipo]
    if np.any(activo & negocio):
        raise AssertionError("línea de relleno ACTIVO con Tipo de negocio")
    u = _campo16(h1, 3)
    cond = np.where(activo, dist.cond_activa[u], dist.cond_baja[u])

    umbral = np.where(negocio, _RELLENO_CON_ACTIVIDAD[True], _RELLENO_CON_ACTIVIDAD[False]) * (1 << 16)
    con_actividad = _campo16(h2, 0) < umbral
    cual = (_campo16(h2, 1) * np.uint64(len(dist.actividades))) >> np.uint64(16)
    act4 = np.where(con_actividad, dist.actividades[cual.astype(np.int64)], 0)
    con_rev3 = con_actividad & (_campo16(h2, 2) < np.uint64(1 << 15))  # rev.3 principal = rev.4 text, or ND

    return t.unir(
        pc.cast(pa.array(ruc), pa.string()).cast(pa.large_binary()),
        t.cod_a(estado, cond, tipo),
        t.cod_b(con_rev3, np.zeros(len(i), dtype=np.int64), act4),
        dist.trab[_campo16(h2, 3)],
        t.cod_d(dist.fact[_campo16(h3, 2)], dist.cont[_campo16(h3, 3)], dist.comex[_campo16(h4, 0)],
                dist.geo[h3 & np.uint64((1 << _BITS_GEO) - 1)]),
    )


def _bloques_relleno(cat: Catalogo, t: _Tablas, k: int, seed: int):
    """``k`` filler lines as blocks of joined lines (no planted lines among them)."""
    dist = _distribucion_relleno(cat)
    for a in range(0, k, LINEAS_POR_BLOQUE):
        yield _lineas_relleno(t, dist, np.arange(a, min(k, a + LINEAS_POR_BLOQUE)), seed), []


def lineas_relleno(uni: Universo, anio: int, mes: int, lineas_total: int | None) -> int:
    """Filler lines a cut needs to have ``lineas_total`` physical lines (header included); 0 if None."""
    if lineas_total is None:
        return 0
    k = int(lineas_total) - 1 - filas_escritas(uni, anio, mes)["lineas_datos"]
    if k < 0:
        raise ValueError(f"{nombre_corte(anio, mes)}: {lineas_total:,} líneas pedidas, menos que las "
                         f"{lineas_total - k:,} del corte sin relleno")
    return k


# --------------------------------------------------------------------------------------------------------
# Writing a cut
# --------------------------------------------------------------------------------------------------------

#: Deflate level of the zipped cuts: 1 is ~4x faster than the default for ~20 % bigger files, which is
#: what "seconds per year" needs at 3 M rows.
NIVEL_ZIP = 1


def escribir_zip(ruta: Path, miembro: str, fecha: tuple[int, ...], volcar) -> None:
    """A zip of one member streamed by ``volcar(f)`` (never whole in memory), deflated at ``NIVEL_ZIP``."""
    info = zipfile.ZipInfo(miembro, date_time=fecha)
    info.compress_type = zipfile.ZIP_DEFLATED
    # ZipFile.open(…, "w") takes the level from the ZipInfo (renamed compress_level in Python 3.13)
    if hasattr(info, "compress_level"):
        info.compress_level = NIVEL_ZIP
    else:
        info._compresslevel = NIVEL_ZIP
    info.external_attr = 0o644 << 16
    with zipfile.ZipFile(ruta, "w") as zf, zf.open(info, "w", force_zip64=True) as f:
        volcar(f)


def escribir_padron(uni: Universo, raw_dir: Path, anio: int, mes: int = 12, lineas_total: int | None = None) -> Path:
    """Write one cut under ``raw_dir/sunat/padron/<anio>/`` in that year's format; returns its path.

    ``lineas_total`` (``scale="real"``): pad the cut with filler lines, after the population rows, until it
    has that many physical lines, header included. The population part is byte for byte the unpadded cut.
    """
    fmt = formato_de(anio)
    filas, estado, geo = uni.corte(anio, mes)
    pz = _piezas(uni.cat, fmt, f"{anio}{mes:02d}", int(uni.trab.max()))
    t = _tablas(uni.cat, pz)
    suciedad = uni.suciedad(anio, mes)
    relleno = lineas_relleno(uni, anio, mes, lineas_total)
    fin = fmt.fin_linea.encode()
    cabecera = (b"\xef\xbb\xbf" if fmt.bom else b"") + fmt.delimitador.join(CABECERA).encode() + fin
    carpeta = Path(raw_dir) / "sunat" / "padron" / str(anio)
    carpeta.mkdir(parents=True, exist_ok=True)
    nombre = nombre_corte(anio, mes)

    def volcar(f) -> None:
        f.write(cabecera)
        bloques = itertools.chain(_bloques_poblacion(uni, t, filas, estado, geo, suciedad.lineas),
                                  _bloques_relleno(uni.cat, t, relleno, uni.seed))
        for lineas, insertos in bloques:
            if lineas is None:
                for _, linea, _ in insertos:
                    f.write(linea)
                continue
            for trozo in _trozos(lineas, insertos):
                f.write(trozo)

    if fmt.comprimido:
        ruta = carpeta / f"{nombre}.zip"
        escribir_zip(ruta, f"{nombre}.csv", (anio, mes, 28, 0, 0, 0), volcar)
    else:
        ruta = carpeta / f"{nombre}.csv"
        with open(ruta, "wb") as f:
            volcar(f)
    return ruta


def filas_escritas(uni: Universo, anio: int, mes: int = 12, lineas_total: int | None = None) -> dict[str, int]:
    """Line accounting of a cut: data lines, and how many of them are each kind of dirt (and filler)."""
    filas, _, _ = uni.corte(anio, mes)
    s = uni.suciedad(anio, mes)
    cuenta = {"lineas_datos": len(filas) + len(s.lineas), "filas_poblacion": len(filas), **s.conteo()}
    if lineas_total is not None:
        cuenta["relleno"] = int(lineas_total) - 1 - cuenta["lineas_datos"]
        cuenta["lineas_datos"] += cuenta["relleno"]
    return cuenta


__all__ = [
    "CABECERA",
    "Catalogo",
    "Formato",
    "LINEAS_CORTE_REAL",
    "LINEAS_POR_BLOQUE",
    "SUCIEDAD_POR_ESCALA",
    "Suciedad",
    "Universo",
    "cargar_catalogo",
    "con_digito_errado",
    "construir_ruc",
    "construir_universo",
    "digito_verificador",
    "escribir_padron",
    "filas_escritas",
    "formato_de",
    "lineas_relleno",
    "nombre_corte",
    "normalizar_texto",
    "ruc_relleno",
    "ruc_reservados",
    "ruc_valido",
    "sector_de_division",
]
