"""Synthetic SUNAT definitive-export lines (``aduanas/<año>/``), calibrated to the published export figures.

Two deliveries of the same kind of line (source note §5.1, §5.2), one per year of the report's window:

* **2022 and 2024: Aduanet's weekly zips** ``x<dd><DD><mm><yy>.zip``, each with one dBase III
  ``X<dd><DD><mm><yy>.DBF`` (days ``dd``–``DD`` of month ``mm``; weeks are days 1–7, 8–14, 15–21, 22–28 and
  29–end of month, so they never cross a month end). Some weeks are delivered a second time cut on other days
  (``x05110324`` next to ``x01070324`` and ``x08140324``): the lines of the shared days are in both files, byte
  for byte. Deleted records (flag ``*``) are scattered in the files: older versions of a live line (same key,
  another FOB) and garbage.
* **2021 and 2023: PRODUCE's pipe-delimited delivery** ``exportaciones_<año>.txt`` (latin-1, ``\\n``,
  lower-case header, NANDINA with dots, dates as ``YYYYMMDD`` numbers, ``0`` when missing, blank ubigeo as six
  spaces), with a few lines repeated inside the file.
* **2024 also has** ``exportaciones_2024_12.txt``: December's accepted lines again, in the pipe format, so that
  both deliveries are present for one year and every December line arrives twice.

Why the lines look the way they do:

* **Calibrated cells, exact in cents.** The published export figures are read from
  ``publicado_vraem_2024.csv`` (nothing published is typed here). For each year the territory's FOB (the
  departments of the territory's districts, ``vraem_distritos.csv``) is split into cells
  department × NANDINA × destination: a plausible seed (:data:`MEZCLA_DEPARTAMENTO` × :data:`DESTINOS`) is
  raked until its department, destination and class-0729 margins equal the targets, each department's cents
  are apportioned exactly over its cells, and each cell's cents over its lines (the last line of a cell takes
  the remainder). Totals and department figures are exact to the cent; destination and class figures are
  within a few cents of their targets (cells are rounded inside departments), i.e. at the centre of their
  print-rounding interval. Destinations the publication does not give keep the seed's mix, capped below the
  last ranked one (:data:`TOPE_OTROS_DESTINOS`). The rest of Peru and the lines without ubigeo are
  department × NANDINA cells (exact cents too) whose lines draw their destination from :data:`DESTINOS`;
  the non-ISO SUNAT country codes sit on a few small lines outside the territory.
* **National in scope.** Every department exports; mining concentrates leave through Matarani, Callao, Ilo
  and Chimbote, gold by air, agro exports in season, textiles by road to the neighbours. A share of the FOB
  has a blank or ``999999`` ubigeo (Peru's total only).
* **Exporters from the firm population.** RUC-20 firms of :class:`~.padron.Universo` that are formal in every
  year of the window: mining operators and traders domiciled in Lima (the fiscal-domicile view of the mining
  departments is nearly empty), agro, fishing and manufacturing exporters from the production department or
  from Lima/Callao; a few RUCs absent from the register. Names carry Ñ and accents (cp850 in the DBFs, latin-1 in the pipe files), stable by RUC.
* **Dirt in known counts** (:data:`SUCIEDAD_ADUANAS`): negative FOB, non-numeric FOB (``*****`` overflow in a
  DBF, ``abc`` in the pipe), an impossible numbering date (``YYYY0231``), a NANDINA with a letter
  (``0804.4A.00.00``), a pipe line with the wrong number of fields. Dirty lines have small FOB, keys of their
  own, and never fall on days that a repeated week covers, so reading order cannot change their count.
* **Vectorized.** Lines are numpy arrays; a DBF is a ``(records, 256)`` byte matrix whose columns are filled
  from pre-encoded category tables and digit arithmetic; a pipe file is pyarrow's element-wise join.

:func:`conteo_aduanas` gives the accounting of every file (live, deleted, repeated, each dirt kind) and the
FOB the pipeline must find.
"""

from __future__ import annotations

import calendar
import math
import struct
import weakref
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .calibracion import (ESCALA_DE_CALIBRACION, _publicado, _publicado_cache, _publicado_por_categoria, leer_referencia,
                          redondea_a)
from .padron import NIVEL_ZIP, Universo, ruc_reservados

#: The report's window: the years that get export files (``write_sample`` may ask for more).
ANIOS_ADUANAS = (2021, 2022, 2023, 2024)
#: Delivery of each year: Aduanet weekly DBF zips or the administrative pipe file.
FORMATO_ANIO = {2021: "pipe", 2022: "dbf", 2023: "pipe", 2024: "dbf"}
#: A DBF year that also gets its December lines as a pipe delivery (``exportaciones_<año>_12.txt``).
ANIO_PIPE_DICIEMBRE = 2024

REGIMEN = "Exportación Definitiva"
CABECERA_PIPE = ("regimen|cadu|fano|ndcl|nser|fnum|femb|freg|ndoc|dnombre|ubigeo|cnan|cpaides|vfobserdol|vpesnet|"
                 "tunifis|qunifis")

#: Aduanet export DBF fields in the real files' order (the 44 names of `shared/realdata/README.md`, from a project
#: that parsed the real weekly files); the lengths of the fields the pipeline does not read are plausible choices,
#: and those fields stay blank. (name, type, length, decimals)
CAMPOS_DBF = (
    ("CADU", "C", 3, 0), ("FANO", "C", 4, 0), ("NDCL", "C", 6, 0), ("FNUM", "D", 8, 0), ("FEMB", "D", 8, 0),
    ("FECH_RECEP", "D", 8, 0), ("NDCLREG", "C", 6, 0), ("FREG", "D", 8, 0), ("FANOREG", "C", 4, 0),
    ("CAGE", "C", 4, 0), ("TDOC", "C", 1, 0), ("NDOC", "C", 11, 0), ("DNOMBRE", "C", 60, 0), ("CPAIDES", "C", 2, 0),
    ("CPUEDES", "C", 5, 0), ("CVIATRA", "C", 1, 0), ("CUNITRA", "C", 1, 0), ("CEMPTRA", "C", 4, 0),
    ("DMAT", "C", 20, 0), ("NCON", "C", 20, 0), ("CENTFIN", "C", 3, 0), ("CALM", "C", 4, 0), ("DNOMPRO", "C", 60, 0),
    ("DDIRPRO", "C", 60, 0), ("DK", "C", 1, 0), ("DK2", "C", 1, 0), ("NSER", "N", 4, 0), ("PART_NANDI", "N", 10, 0),
    ("DCOM", "C", 60, 0), ("DMER2", "C", 60, 0), ("DMER3", "C", 60, 0), ("DMER4", "C", 60, 0), ("DMER5", "C", 60, 0),
    ("CEST", "C", 2, 0), ("VFOBSERDOL", "N", 15, 2), ("VPESNET", "N", 15, 3), ("VPESBRU", "N", 15, 3),
    ("QUNIFIS", "N", 15, 3), ("TUNIFIS", "C", 3, 0), ("QUNICOM", "N", 15, 3), ("TUNICOM", "C", 3, 0),
    ("UBIGEO", "C", 6, 0), ("DNOMCON", "C", 60, 0), ("DDIRCON", "C", 60, 0),
)
LONGITUD_REGISTRO = 1 + sum(c[2] for c in CAMPOS_DBF)
_POS = {}
_p = 1
for _c in CAMPOS_DBF:
    _POS[_c[0]] = (_p, _c[2])
    _p += _c[2]
del _p, _c

# --------------------------------------------------------------------------------------------------------
# Products, destinations, departments (plausible choices, not published figures)
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Producto:
    """One NANDINA subheading: description, kind, price (US$ per kg) and typical FOB of a serie (US$)."""

    descripcion: str
    grupo: str  # mineria, metal, agro, pesca, manufactura, hidrocarburo, especial
    usd_kg: float
    usd_linea: float
    unidad: str = "KG"  # TUNIFIS
    kg_unidad: float = 1.0  # kg per physical unit when unidad != KG
    aereo: float = 0.0  # share of the series shipped by air (Aduana Aérea del Callao)


PRODUCTOS: dict[str, Producto] = {
    # ores and concentrates: class 0729 (2603–2617 except 2612); iron ore is 0710
    "2603000000": Producto("CONCENTRADO DE COBRE", "mineria", 2.6, 6_000_000),
    "2608000010": Producto("CONCENTRADO DE ZINC", "mineria", 1.1, 2_000_000),
    "2607000000": Producto("CONCENTRADO DE PLOMO CON CONTENIDO DE PLATA", "mineria", 1.8, 1_500_000),
    "2613100000": Producto("CONCENTRADO DE MOLIBDENO TOSTADO", "mineria", 40.0, 2_500_000),
    "2616100000": Producto("MINERAL DE PLATA Y SUS CONCENTRADOS", "mineria", 8.0, 1_500_000),
    "2616901000": Producto("MINERAL DE ORO Y SUS CONCENTRADOS", "mineria", 20.0, 1_200_000),
    "2601110000": Producto("MINERAL DE HIERRO SIN AGLOMERAR", "mineria", 0.11, 5_000_000),
    # metals: class 2420
    "7108120000": Producto("ORO EN BRUTO (BULLÓN DORÉ)", "metal", 70_000.0, 1_500_000, aereo=1.0),
    "7403110000": Producto("CÁTODOS DE COBRE REFINADO", "metal", 8.5, 1_200_000),
    "7901120000": Producto("ZINC SIN ALEAR EN LINGOTES", "metal", 2.8, 800_000),
    "7106911000": Producto("PLATA EN BRUTO SIN ALEAR", "metal", 800.0, 800_000),
    "8001100000": Producto("ESTAÑO SIN ALEAR", "metal", 28.0, 600_000),
    "7408110000": Producto("ALAMBRE DE COBRE REFINADO", "manufactura", 9.0, 200_000),
    # agriculture
    "0901119000": Producto("CAFÉ VERDE SIN TOSTAR SIN DESCAFEINAR", "agro", 5.5, 130_000),
    "1801001900": Producto("CACAO EN GRANO CRUDO", "agro", 4.5, 90_000),
    "0804400000": Producto("PALTA HASS FRESCA", "agro", 2.3, 50_000),
    "0806100000": Producto("UVA FRESCA RED GLOBE", "agro", 2.5, 45_000),
    "0810400000": Producto("ARÁNDANOS FRESCOS", "agro", 6.5, 60_000, aereo=0.15),
    "0709200000": Producto("ESPÁRRAGOS FRESCOS O REFRIGERADOS", "agro", 3.8, 25_000, aereo=0.6),
    "0804502000": Producto("MANGO FRESCO", "agro", 1.2, 35_000),
    "0805211000": Producto("MANDARINA FRESCA", "agro", 1.1, 30_000),
    "0803901100": Producto("BANANO ORGÁNICO TIPO CAVENDISH", "agro", 0.75, 20_000),
    "1008509000": Producto("QUINUA EN GRANO", "agro", 3.0, 30_000),
    "0910110000": Producto("JENGIBRE (KION) SIN TRITURAR NI PULVERIZAR", "agro", 1.8, 25_000),
    "0904211090": Producto("PÁPRIKA SECA SIN TRITURAR", "agro", 3.5, 30_000),
    "0801220000": Producto("CASTAÑAS DE LA AMAZONÍA SIN CÁSCARA", "agro", 8.0, 50_000),
    "1511100000": Producto("ACEITE DE PALMA EN BRUTO", "agro", 1.0, 150_000),
    "2005700000": Producto("ACEITUNAS PREPARADAS", "agro", 2.2, 25_000),
    # fishing
    "2301201100": Producto("HARINA DE PESCADO", "pesca", 1.7, 600_000),
    "1504201000": Producto("ACEITE DE PESCADO EN BRUTO", "pesca", 3.0, 500_000),
    "0307430000": Producto("POTA CONGELADA EN TROZOS", "pesca", 2.0, 60_000),
    "0306179900": Producto("LANGOSTINOS CONGELADOS", "pesca", 9.0, 80_000),
    # manufactures
    "6109100031": Producto("T-SHIRT DE ALGODÓN PARA HOMBRE", "manufactura", 30.0, 15_000, "U", 0.2, 0.3),
    "6110200090": Producto("SUÉTER DE ALGODÓN", "manufactura", 30.0, 15_000, "U", 0.4, 0.3),
    "5105391000": Producto("PELO FINO CARDADO DE ALPACA", "manufactura", 25.0, 40_000),
    "3920100000": Producto("PELÍCULAS DE POLIETILENO", "manufactura", 2.5, 20_000),
    "2523290000": Producto("CEMENTO PORTLAND GRIS", "manufactura", 0.08, 30_000),
    "1905310000": Producto("GALLETAS DULCES", "manufactura", 3.0, 20_000),
    "2203000000": Producto("CERVEZA DE MALTA", "manufactura", 1.2, 20_000),
    "4818100000": Producto("PAPEL HIGIÉNICO EN ROLLOS", "manufactura", 2.0, 25_000),
    "3004902900": Producto("MEDICAMENTOS PARA USO HUMANO DOSIFICADOS", "manufactura", 30.0, 15_000, aereo=0.5),
    "4407290000": Producto("MADERA ASERRADA TROPICAL", "manufactura", 0.9, 30_000),
    # hydrocarbons
    "2711110000": Producto("GAS NATURAL LICUADO", "hidrocarburo", 0.45, 25_000_000),
    "2709000000": Producto("ACEITES CRUDOS DE PETRÓLEO", "hidrocarburo", 0.5, 10_000_000),
    # NANDINA codes of no HS subheading (chapter 98, special treatment): `sin_clasificar`, tiny FOB
    "9801000000": Producto("ENVÍOS DE SOCORRO Y DONACIONES", "especial", 5.0, 80_000),
    "9810000000": Producto("MUESTRAS SIN VALOR COMERCIAL", "especial", 5.0, 60_000),
}
NANDINAS = tuple(PRODUCTOS)

#: Destination mix of each product (relative weights, ISO codes). Territory lines are cells with an exact
#: destination; the other lines draw theirs from this mix.
_GENERICO = {"US": 30, "CL": 12, "EC": 10, "CO": 10, "BO": 8, "MX": 5, "BR": 4, "AR": 3, "ES": 3, "PA": 2,
             "GT": 2, "CR": 1.5, "DO": 1, "CA": 2, "DE": 1, "GB": 1, "FR": 1, "IT": 1}
DESTINOS: dict[str, dict[str, float]] = {
    "2603000000": {"CN": 78, "JP": 8, "KR": 6, "IN": 1.5, "BG": 2, "DE": 0.8, "ES": 1.2, "PH": 0.8, "FI": 0.6},
    "2608000010": {"CN": 45, "KR": 20, "JP": 10, "ES": 6, "BE": 5, "FI": 4, "NL": 3, "IN": 2, "CA": 2},
    "2607000000": {"CN": 60, "KR": 20, "JP": 8, "IN": 4, "BE": 3, "CA": 2},
    "2613100000": {"CN": 30, "NL": 20, "JP": 15, "KR": 10, "BE": 10, "CL": 10, "US": 5},
    "2616100000": {"CN": 55, "KR": 15, "JP": 15, "BE": 8, "DE": 3},
    "2616901000": {"CN": 50, "JP": 20, "KR": 15, "DE": 5, "ES": 5, "PH": 5},
    "2601110000": {"CN": 90, "JP": 5, "KR": 5},
    "7108120000": {"CH": 45, "IN": 27, "CA": 12, "US": 10, "AE": 3, "GB": 2, "HK": 1},
    "7403110000": {"CN": 35, "US": 25, "BR": 12, "IT": 10, "KR": 5, "TW": 5, "CO": 5, "MX": 3},
    "7901120000": {"US": 30, "CO": 15, "BR": 12, "CN": 10, "BE": 10, "TW": 8, "CL": 8, "AR": 7},
    "7106911000": {"US": 50, "IN": 20, "CN": 15, "GB": 10, "CH": 5},
    "8001100000": {"US": 35, "NL": 20, "JP": 15, "BR": 15, "ES": 10, "IT": 5},
    "7408110000": {"CO": 30, "EC": 25, "BO": 15, "US": 15, "AR": 10, "CL": 5},
    "0901119000": {"US": 26, "DE": 21, "BE": 15, "CA": 7, "SE": 5, "GB": 5, "KR": 3, "JP": 3, "NL": 4, "FR": 4,
                   "IT": 2, "AU": 2},
    "1801001900": {"NL": 30, "BE": 20, "IT": 15, "US": 10, "DE": 8, "ES": 6, "MY": 5, "MX": 6},
    "0804400000": {"NL": 35, "ES": 20, "US": 20, "GB": 8, "CL": 5, "CN": 3, "JP": 2, "HK": 2, "CA": 3, "FR": 2},
    "0806100000": {"US": 35, "NL": 12, "CN": 10, "HK": 8, "MX": 6, "GB": 6, "CA": 5, "TH": 5, "KR": 4, "TW": 4,
                   "RU": 3, "ID": 2},
    "0810400000": {"US": 50, "NL": 20, "CN": 12, "GB": 10, "HK": 3, "CA": 3, "ES": 2},
    "0709200000": {"US": 60, "NL": 12, "ES": 10, "GB": 10, "BE": 3, "FR": 3, "AU": 2},
    "0804502000": {"NL": 35, "US": 30, "ES": 8, "GB": 8, "CA": 6, "CL": 5, "FR": 4, "KR": 4},
    "0805211000": {"US": 35, "GB": 15, "NL": 15, "CA": 12, "CN": 8, "RU": 5, "HK": 5, "SA": 5},
    "0803901100": {"NL": 40, "US": 20, "DE": 12, "BE": 10, "FI": 5, "KR": 5, "JP": 5},
    "1008509000": {"US": 40, "CA": 10, "FR": 8, "NL": 8, "DE": 8, "IT": 6, "ES": 6, "GB": 6, "AU": 4, "BR": 4},
    "0910110000": {"US": 40, "NL": 25, "CA": 10, "ES": 8, "DE": 5, "GB": 5, "FR": 5},
    "0904211090": {"US": 45, "MX": 25, "ES": 15, "DE": 5, "GT": 5},
    "0801220000": {"US": 35, "GB": 20, "AU": 10, "KR": 10, "NZ": 8, "DE": 7, "CA": 5, "NL": 5},
    "1511100000": {"CO": 40, "MX": 25, "CL": 15, "EC": 10, "VE": 10},
    "2005700000": {"BR": 45, "CL": 15, "US": 15, "AR": 10, "EC": 10, "VE": 5},
    "2301201100": {"CN": 70, "VN": 7, "JP": 6, "TW": 5, "DE": 4, "TR": 3, "CL": 3, "NO": 2},
    "1504201000": {"NO": 30, "CL": 20, "DK": 15, "CA": 10, "BE": 10, "NL": 10, "AU": 5},
    "0307430000": {"KR": 30, "CN": 25, "ES": 15, "JP": 10, "TH": 8, "TW": 7, "RU": 5},
    "0306179900": {"US": 45, "ES": 15, "FR": 10, "KR": 10, "IT": 10, "EC": 10},
    "6109100031": {"US": 60, "CL": 8, "BR": 5, "CO": 5, "CA": 5, "DE": 4, "AR": 3, "EC": 3},
    "6110200090": {"US": 55, "CL": 10, "CO": 8, "CA": 6, "BR": 6, "DE": 5, "JP": 5},
    "5105391000": {"IT": 50, "CN": 20, "GB": 10, "JP": 10, "DE": 10},
    "3920100000": _GENERICO,
    "2523290000": {"CL": 40, "BO": 20, "US": 20, "EC": 10, "CO": 10},
    "1905310000": _GENERICO,
    "2203000000": {"CL": 30, "US": 20, "BO": 15, "EC": 15, "ES": 10, "CO": 10},
    "4818100000": {"BO": 30, "EC": 25, "CL": 20, "CO": 15, "US": 10},
    "3004902900": {"EC": 25, "BO": 20, "CO": 15, "VE": 15, "CL": 10, "PA": 10, "GT": 5},
    "4407290000": {"CN": 35, "MX": 20, "DO": 15, "US": 15, "FR": 10, "BE": 5},
    "2711110000": {"ES": 30, "JP": 20, "KR": 15, "CN": 15, "FR": 10, "GB": 10},
    "2709000000": {"US": 50, "CL": 20, "PA": 15, "CN": 15},
    "9801000000": _GENERICO,
    "9810000000": _GENERICO,
}
#: SUNAT codes that are not ISO 3166-1 alpha-2, and the country (or ``ZZ``: no country) they stand for
#: (source note §5.3; ``UM`` is ISO — US Minor Outlying Islands — but SUNAT uses it for the United States).
#: Planted on a few small lines outside the territory (:data:`LINEAS_NO_ISO`), never in the territory.
NO_ISO = {"FX": "FR", "AN": "NL", "1G": "GB", "1M": "DE", "1K": "CI", "99": "ZZ", "YU": "ZZ", "1C": "ZZ", "": "ZZ"}
#: Lines per year carrying each code of ``NO_ISO``, by scale (chosen among the smaller non-mining lines).
LINEAS_NO_ISO = {"national": 6, "small": 1}

#: Product mix (relative FOB weights) by department of origin; ``"sin"`` = lines without a usable ubigeo.
#: The territory's mining departments are dominated by copper concentrate (Apurímac, Cusco, Junín), Ayacucho
#: and Huancavelica by gold, zinc, lead and silver; coffee and cocoa come from the valleys.
MEZCLA_DEPARTAMENTO: dict[str, dict[str, float]] = {
    "01": {"0901119000": 70, "1801001900": 20, "1008509000": 5, "6109100031": 5},
    "02": {"2603000000": 55, "2608000010": 25, "2613100000": 5, "2607000000": 4, "2301201100": 6, "1504201000": 2,
           "0709200000": 2, "0804400000": 1},
    "03": {"2603000000": 95, "2613100000": 2.5, "7108120000": 1.2, "2616901000": 0.8, "0804400000": 0.6,
           "1008509000": 0.1},
    "04": {"2603000000": 78, "7108120000": 7, "2613100000": 4, "2616100000": 1, "0804400000": 2, "0904211090": 2,
           "5105391000": 2, "2005700000": 1, "1008509000": 1, "2523290000": 2},
    "05": {"7108120000": 45, "2608000010": 14, "2607000000": 10, "2616100000": 10, "2603000000": 5,
           "0804400000": 7, "1801001900": 3, "0901119000": 3, "1008509000": 3},
    "06": {"7108120000": 70, "2603000000": 20, "0901119000": 9, "0709200000": 1},
    "07": {"6109100031": 12, "6110200090": 8, "3920100000": 15, "1905310000": 10, "2203000000": 8, "4818100000": 12,
           "3004902900": 10, "2301201100": 10, "0307430000": 5, "7408110000": 10},
    "08": {"2603000000": 84, "7108120000": 4, "2613100000": 1.5, "2616901000": 1, "0901119000": 5,
           "1801001900": 2, "1008509000": 0.5, "5105391000": 0.5},
    "09": {"2608000010": 26, "2607000000": 20, "2616100000": 12, "2603000000": 12, "7108120000": 22,
           "2616901000": 6, "5105391000": 1, "1008509000": 1},
    "10": {"2608000010": 40, "0901119000": 30, "1801001900": 30},
    "11": {"0806100000": 25, "0709200000": 12, "0804400000": 8, "8001100000": 10, "2601110000": 25,
           "0810400000": 5, "2301201100": 10, "1504201000": 3, "0904211090": 2},
    "12": {"2603000000": 64, "2608000010": 10, "2607000000": 4, "2616100000": 2, "2613100000": 1.5,
           "7403110000": 3, "7108120000": 3, "0901119000": 8, "1801001900": 1.5, "0910110000": 1.5,
           "0804400000": 0.5, "1008509000": 0.5, "6110200090": 0.5},
    "13": {"7108120000": 35, "0810400000": 20, "0709200000": 12, "0804400000": 10, "2301201100": 6,
           "2603000000": 5, "0806100000": 6, "6109100031": 3, "0804502000": 3},
    "14": {"0804400000": 25, "0810400000": 20, "0904211090": 15, "0804502000": 20, "0709200000": 10,
           "1905310000": 10},
    "15": {"2711110000": 14, "7901120000": 12, "7408110000": 6, "7106911000": 6, "6109100031": 9,
           "6110200090": 5, "3920100000": 8, "1905310000": 5, "2203000000": 4, "4818100000": 5, "3004902900": 6,
           "2301201100": 6, "0805211000": 5, "0804400000": 3, "2523290000": 2, "0306179900": 1,
           "9801000000": 0.05, "9810000000": 0.05},
    "16": {"2709000000": 70, "4407290000": 20, "1801001900": 10},
    "17": {"7108120000": 75, "0801220000": 20, "4407290000": 5},
    "18": {"2603000000": 68, "7403110000": 17, "2613100000": 6, "7108120000": 3, "0804400000": 3,
           "2005700000": 3},
    "19": {"2608000010": 45, "2607000000": 25, "2616100000": 15, "2603000000": 10, "0901119000": 5},
    "20": {"0806100000": 20, "0804502000": 15, "2301201100": 20, "0803901100": 10, "0307430000": 15,
           "2709000000": 10, "0810400000": 5, "1504201000": 5},
    "21": {"7108120000": 70, "5105391000": 10, "2616901000": 10, "0901119000": 5, "1008509000": 5},
    "22": {"0901119000": 45, "1801001900": 35, "1511100000": 12, "0803901100": 8},
    "23": {"2603000000": 62, "7403110000": 20, "2613100000": 8, "2005700000": 6, "0804400000": 4},
    "24": {"0306179900": 70, "0803901100": 10, "0307430000": 20},
    "25": {"1511100000": 40, "4407290000": 35, "1801001900": 25},
    "sin": {"6109100031": 10, "3920100000": 8, "1905310000": 6, "7108120000": 15, "2603000000": 15,
            "2301201100": 10, "0806100000": 6, "0810400000": 6, "0804400000": 6, "0901119000": 6,
            "2608000010": 6, "9801000000": 0.1, "9810000000": 0.1},
}
#: Weights of the departments outside the territory in their FOB (Áncash, Arequipa and Lima lead; the
#: southern copper mines, La Libertad's gold and berries, Ica's grapes and iron ore follow). The territory's
#: departments have a weight too, used only if a territory file leaves them out.
PESO_DEPARTAMENTO_EXPORTADOR: dict[str, float] = {
    "02": 13.5, "04": 13.0, "15": 13.0, "13": 8.5, "18": 7.5, "11": 7.0, "23": 5.5, "20": 5.0, "07": 4.0,
    "06": 3.5, "19": 2.5, "21": 2.0, "14": 1.8, "22": 1.6, "17": 1.3, "24": 0.8, "16": 0.6, "25": 0.5,
    "10": 0.4, "01": 0.4, "03": 1.0, "05": 1.0, "08": 1.0, "09": 1.0, "12": 1.0,
}
#: Share of national FOB declared without a usable ubigeo (blank or 999999): Peru's total, no department.
SIN_UBIGEO_PCT = 2.3
#: Of those lines, the share written ``999999`` (the rest blank).
SIN_UBIGEO_999999 = 0.4

# ---- territory targets besides the published ones (all in % of the territory's FOB) ---------------------

#: Shares of the destinations the publication ranks 4th and 5th without giving their share (Corea del Sur,
#: Japón): below the 3rd and above every other destination.
PCT_SEGUIDORES = (2.9, 2.4)
#: Every other territory destination stays below this fraction of the last ranked one (the seed's mix,
#: capped), so that the published order holds whatever the product mix.
TOPE_OTROS_DESTINOS = 0.85
#: Split of the territory departments without a published share (Ayacucho, Huancavelica): weights of what
#: the published three leave.
REPARTO_DEPARTAMENTOS_RESTO = {"05": 6.6, "09": 5.0}
#: Years before the published one: changes of the territory's FOB (%), its share of national FOB (%), and
#: shifts (percentage points) of the published shares. 2022: Las Bambas' road blockades and weaker copper.
VAR_TERRITORIO_PCT = {2022: -2.4, 2023: 4.1}
PARTICIPACION_NACIONAL_PCT = {2021: 14.9, 2022: 13.7, 2023: 14.2}
DERIVA_DEPARTAMENTO_PP = {2021: {"03": -2.6, "12": 1.3, "08": 0.9}, 2022: {"03": -4.1, "12": 2.2, "08": 1.2},
                          2023: {"03": -0.7, "12": 0.4, "08": 0.2}}
DERIVA_DESTINO_PP = {2021: {"CN": -2.6, "CH": 0.9, "IN": 0.4}, 2022: {"CN": -1.9, "CH": 0.6, "IN": 0.3},
                     2023: {"CN": -0.5, "CH": 0.2, "IN": 0.1}}
DERIVA_CLASE_PP = {2021: -1.2, 2022: -1.8, 2023: -0.4}

#: Live lines per year at national scale (~Peru's definitive-export series); ``small`` has a hundredth.
LINEAS_NACIONAL = {2021: 281_000, 2022: 296_000, 2023: 302_000, 2024: 318_000}
DIVISOR_ESCALA = {"national": 1, "small": 100}

#: Planted dirt per year (each kind a separate line with a key of its own and a small FOB).
SUCIEDAD_ADUANAS = {
    "national": {"negativo": 6, "no_numerico": 5, "fecha_imposible": 4, "nandina_no_digito": 4, "campos_errados": 4},
    "small": {"negativo": 2, "no_numerico": 1, "fecha_imposible": 1, "nandina_no_digito": 1, "campos_errados": 2},
}
TIPOS_SUCIEDAD = ("negativo", "no_numerico", "fecha_imposible", "nandina_no_digito", "campos_errados")
#: Weekly files delivered a second time on other days, deleted DBF records, and (pipe years) lines repeated
#: inside the delivery, per year.
REPETICION_ADUANAS = {
    "national": {"semanas_repetidas": 4, "borrados": 320, "repetidas_pipe": 25},
    "small": {"semanas_repetidas": 2, "borrados": 6, "repetidas_pipe": 3},
}
#: Share of deleted records that are an older version of a live line (same key, other FOB); the rest garbage.
BORRADOS_COPIA = 0.6
#: Lines whose exporter RUC is absent from the register, per year, and how many such RUCs.
RUC_AUSENTES = {"national": (80, 8), "small": (3, 2)}
#: Reserved RUC block (see ``padron.ruc_reservados``) of the exporters absent from the register.
BLOQUE_RUC_AUSENTE = 100

# ---- logistics -----------------------------------------------------------------------------------------

#: Maritime customs office by department of origin (Matarani/Mollendo 145 for the southern mines, Ilo 163,
#: Chimbote 091, Salaverry 082, Paita 046, Pisco 127, Tumbes 019, Iquitos 226, else Callao 118).
ADUANA_MARITIMA = {"03": "145", "08": "145", "04": "145", "21": "145", "18": "163", "23": "163", "02": "091",
                   "13": "082", "20": "046", "06": "046", "01": "046", "22": "046", "14": "055", "11": "127",
                   "24": "019", "16": "226"}
ADUANA_CALLAO, ADUANA_AEREA = "118", "235"
#: Road exports to the neighbours: customs office at the border.
ADUANA_TERRESTRE = {"EC": "019", "CL": "172", "BO": "262"}
GRUPOS_POR_CARRETERA = ("manufactura", "agro")
ADUANAS = ("019", "046", "055", "082", "091", "118", "127", "145", "163", "172", "226", "235", "262")
VIAS = ("1", "4", "7")  # CVIATRA: sea, air, road
PUERTOS = {
    "CN": ("CNSHA", "CNQDG", "CNNGB", "CNTXG", "CNLYG"), "JP": ("JPTYO", "JPOSA", "JPNGO"), "KR": ("KRPUS", "KRINC"),
    "IN": ("INMAA", "INBOM", "INNSA"), "CH": ("CHZRH", "CHGVA"), "US": ("USMIA", "USLAX", "USNYC", "USPHL", "USHOU"),
    "CA": ("CAVAN", "CATOR", "CAMTR"), "DE": ("DEHAM", "DEBRV"), "NL": ("NLRTM",), "BE": ("BEANR",),
    "ES": ("ESVLC", "ESALG", "ESBCN"), "IT": ("ITGOA", "ITLIV"), "GB": ("GBFXT", "GBLGP"), "FR": ("FRLEH",),
    "CL": ("CLSAI", "CLVAP", "CLARI"), "EC": ("ECGYE",), "CO": ("COBUN", "COCTG"), "BO": ("BOLPB",),
    "BR": ("BRSSZ", "BRRIG"), "MX": ("MXZLO", "MXMZT"), "BG": ("BGBOJ",), "FI": ("FIHMN",), "PH": ("PHMNL",),
}
MESES_PRODUCTO = {  # month weights (Jan…Dec) of seasonal products; the rest ship all year
    "0804400000": (1, 1, 2, 6, 9, 10, 9, 7, 3, 1, 1, 1),
    "0806100000": (9, 6, 3, 1, 0.5, 0.2, 0.2, 0.2, 0.3, 1, 6, 10),
    "0810400000": (3, 2, 1, 0.5, 0.5, 1, 2, 6, 9, 10, 8, 5),
    "0901119000": (1, 1, 1, 1, 2, 5, 8, 9, 9, 8, 6, 3),
    "2301201100": (3, 2, 2, 5, 8, 8, 6, 3, 2, 2, 5, 6),
    "0804502000": (10, 8, 5, 2, 0.3, 0.2, 0.2, 0.2, 0.2, 0.3, 3, 9),
    "0805211000": (0.5, 0.5, 1, 3, 8, 9, 9, 8, 5, 2, 0.5, 0.5),
}
#: Series per DAM at most; lines of one exporter, office, day, destination and mode share a DAM up to it.
SERIES_MAX = 12
_GRUPOS = ("mineria", "metal", "hidrocarburo", "agro", "pesca", "manufactura", "especial")  # mining-like first
_GRUPO_PRODUCTO = np.array([_GRUPOS.index(p.grupo) for p in PRODUCTOS.values()])

# ---- exporter names --------------------------------------------------------------------------------------

_PLANTILLAS = {
    "minero": ("COMPAÑÍA MINERA {a} S.A.", "MINERA {a} S.A.A.", "SOCIEDAD MINERA {a} S.A.",
               "{a} MINING COMPANY S.A.C.", "MINERA {a} {b} S.A.C.", "EMPRESA MINERA {a} S.A."),
    "comercializadora": ("{a} TRADING PERÚ S.A.C.", "COMERCIALIZADORA DE MINERALES {a} S.A.C.", "{a} METALES S.A."),
    "agro": ("AGRÍCOLA {a} S.A.C.", "AGROEXPORTADORA {a} S.A.C.", "COOPERATIVA AGRARIA CAFETALERA {a} LTDA.",
             "FUNDO {a} S.A.C.", "AGRO {a} E.I.R.L.", "CORPORACIÓN AGRÍCOLA {a} {b} S.A.C."),
    "pesca": ("PESQUERA {a} S.A.C.", "CORPORACIÓN PESQUERA {a} S.A.", "{a} SEAFOODS PERÚ S.A.C."),
    "manufactura": ("INDUSTRIAS {a} S.A.C.", "TEXTIL {a} S.A.", "CORPORACIÓN {a} {b} S.A.C.",
                    "FÁBRICA DE {p} {a} S.A.C.", "NEGOCIACIONES {a} S.R.L."),
    "comercio": ("CORPORACIÓN {a} S.A.C.", "{a} EXPORT S.A.C.", "INVERSIONES {a} {b} S.A.C.", "NEGOCIOS {a} E.I.R.L."),
}
_PALABRAS_A = ("ANDINA", "SEÑOR DE HUANCA", "SANTA ROSA", "LOS ÁNGELES", "PEÑA BLANCA", "CHANCHAMAYO", "ACOBAMBA",
               "QUISPICANCHI", "MUÑANI", "VIRÚ", "OLMOS", "CHAVÍN", "COLQUIJIRCA", "SAN JOSÉ", "MONTAÑA VERDE",
               "CORDILLERA", "LOS ANDES", "PACÍFICO SUR", "ALTO PERÚ", "CÓNDOR", "YANQUE", "ÑAUPA", "EL PIÑAL",
               "HUAMANGA", "PICHARI", "KIMBIRI", "AYMARÁ", "TÚPAC", "INTI", "QORI", "CHALHUANCA", "PAMPAS",
               "TAMBO", "URUBAMBA", "SAÑO", "ACHAMAYO", "HUAYTAPALLANA", "PARIACACA", "COTAHUASI", "MARAÑÓN",
               "ORIÓN", "LA CANTUTA", "NIÑO JESÚS", "SAN CRISTÓBAL", "BELÉN", "CRUZ DEL SUR", "NUEVA ESPERANZA",
               "SOL DE ORO", "AGUA DULCE", "PUÑUN", "CORIHUASI", "ILLIMANI", "SALKANTAY", "VILCANOTA", "ÁNCASH")
_PALABRAS_B = ("DEL SUR", "DEL CENTRO", "DEL NORTE", "PERÚ", "ANDES", "INTERNACIONAL", "GLOBAL", "HERMANOS")
_PALABRAS_P = ("CONFECCIONES", "ENVASES", "PLÁSTICOS", "CALZADO", "TEJIDOS", "CONSERVAS")
_SECTOR_A_TIPO = {"agropecuario": "agro", "pesca": "pesca", "manufactura": "manufactura"}


def nombre_exportador(ruc: int, tipo: str) -> str:
    """A company name with Ñ and accents, a function of the RUC and the kind of exporter only (stable across years)."""
    h = (int(ruc) * 2_654_435_761) % (1 << 32)
    plantillas = _PLANTILLAS[tipo]
    texto = plantillas[h % len(plantillas)].format(
        a=_PALABRAS_A[(h >> 4) % len(_PALABRAS_A)], b=_PALABRAS_B[(h >> 12) % len(_PALABRAS_B)],
        p=_PALABRAS_P[(h >> 16) % len(_PALABRAS_P)])
    return texto[:60]


# --------------------------------------------------------------------------------------------------------
# Calibration: targets in cents per year
# --------------------------------------------------------------------------------------------------------


def _f(x) -> Fraction:
    return Fraction(Decimal(str(x)))


@dataclass(frozen=True)
class ObjetivoAnio:
    """Targets of one year, in cents (totals) and exact fractions of 100 (territory shares)."""

    anio: int
    territorio: int
    nacional: int
    sin_ubigeo: int
    departamento_pct: dict[str, Fraction]
    destino_pct: dict[str, Fraction]  # published + followers; the other destinations follow the seed
    seguidores: tuple[str, ...]
    clase_0729_pct: Fraction


@dataclass(frozen=True)
class CalibracionAduanas:
    anio_publicado: int
    territorio_departamentos: tuple[str, ...]
    orden_destinos: tuple[str, ...]
    anios: dict[int, ObjetivoAnio]


@lru_cache(maxsize=1)
def departamentos_territorio() -> tuple[str, ...]:
    """The departments of the territory's districts (``vraem_distritos.csv``), sorted."""
    return tuple(sorted(set(leer_referencia("vraem_distritos.csv")["ubigeo"].str[:2])))


@lru_cache(maxsize=1)
def calibrar_aduanas() -> CalibracionAduanas:
    """Per-year export targets: the published year from ``publicado_vraem_2024.csv``, earlier years from the
    published one and the named choices above. Independent of the scale (only the number of lines changes)."""
    anio_pub, millones = _publicado("exportaciones_millones_usd")
    _, share = _publicado("exportaciones_participacion_nacional_pct")
    _, var = _publicado("exportaciones_var_anual_pct")
    destino_pub = _publicado_por_categoria("exportaciones_por_destino_pct")
    depto_pub = _publicado_por_categoria("exportaciones_por_departamento_pct")
    clase_pub = _publicado_por_categoria("exportaciones_por_producto_pct")
    df = _publicado_cache()
    fila = df[df["indicador"] == "exportaciones_destinos_principales_orden"]
    if len(fila) != 1:
        raise ValueError("se esperaba una fila exportaciones_destinos_principales_orden")
    orden = tuple(fila["categoria"].iloc[0].split(","))
    if set(clase_pub) != {"0729"}:
        raise ValueError(f"clases publicadas inesperadas: {sorted(clase_pub)}")
    if list(orden[: len(destino_pub)]) != sorted(destino_pub, key=lambda c: -destino_pub[c]):
        raise ValueError("el orden publicado de destinos no coincide con sus participaciones")
    seguidores = orden[len(destino_pub):]
    if len(seguidores) != len(PCT_SEGUIDORES):
        raise ValueError("PCT_SEGUIDORES debe tener un valor por destino ordenado sin participación publicada")
    territorio = departamentos_territorio()
    resto_deptos = [d for d in territorio if d not in depto_pub]
    if set(resto_deptos) != set(REPARTO_DEPARTAMENTOS_RESTO) or not set(depto_pub) <= set(territorio):
        raise ValueError(f"REPARTO_DEPARTAMENTOS_RESTO debe cubrir {resto_deptos}")

    t_pub = int(millones * 1_000_000 * 100)
    totales = {anio_pub: t_pub, anio_pub - 1: round(Fraction(t_pub) / (1 + _f(var) / 100))}
    if not redondea_a(_var(totales[anio_pub], totales[anio_pub - 1]), var):
        raise ValueError("el año anterior no reproduce la variación publicada")
    for a in sorted(VAR_TERRITORIO_PCT, reverse=True):
        totales[a - 1] = round(Fraction(totales[a]) / (1 + _f(VAR_TERRITORIO_PCT[a]) / 100))
    anios = {}
    for a in ANIOS_ADUANAS:
        t = totales[a]
        participacion = _f(share) if a == anio_pub else _f(PARTICIPACION_NACIONAL_PCT[a])
        n = round(Fraction(t) * 100 / participacion)
        sin = round(Fraction(n) * _f(SIN_UBIGEO_PCT) / 100)
        deriva_d = DERIVA_DEPARTAMENTO_PP.get(a, {})
        dep = {d: _f(v) + _f(deriva_d.get(d, 0)) for d, v in depto_pub.items()}
        resto = 100 - sum(dep.values())
        w = sum(_f(x) for x in REPARTO_DEPARTAMENTOS_RESTO.values())
        dep |= {d: resto * _f(REPARTO_DEPARTAMENTOS_RESTO[d]) / w for d in resto_deptos}
        deriva_c = DERIVA_DESTINO_PP.get(a, {})
        des = {c: _f(v) + _f(deriva_c.get(c, 0)) for c, v in destino_pub.items()}
        des |= {c: _f(p) for c, p in zip(seguidores, PCT_SEGUIDORES, strict=True)}
        clase = _f(clase_pub["0729"]) + _f(DERIVA_CLASE_PP.get(a, 0))
        anios[a] = ObjetivoAnio(a, t, n, sin, dep, des, seguidores, clase)
    return CalibracionAduanas(anio_pub, territorio, orden, anios)


def _var(nuevo: int, viejo: int) -> Fraction:
    return (Fraction(nuevo, viejo) - 1) * 100


# --------------------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------------------


def _grupo_pais(codigo: str) -> str:
    return NO_ISO.get(codigo, codigo)


@dataclass
class _Celdas:
    dep: np.ndarray  # department code, "" = without ubigeo
    prod: np.ndarray  # index into NANDINAS
    pais: np.ndarray  # ISO code; SORTEO = each line draws its destination from DESTINOS
    centimos: np.ndarray  # int64


#: Destination of a cell whose lines draw their own (outside the territory no destination is calibrated).
SORTEO = "--"


def _semilla(departamentos, con_destino: bool) -> tuple[list, list, list, list]:
    """Seed cells (department, product[, destination]) with weights: product mix × destination mix."""
    deps, prods, paises, pesos = [], [], [], []
    for d in departamentos:
        mezcla = MEZCLA_DEPARTAMENTO["sin" if d == "" else d]
        wm = sum(mezcla.values())
        for p, wp in mezcla.items():
            destinos = DESTINOS[p] if con_destino else {SORTEO: 1.0}
            wd = sum(destinos.values())
            for c, wc in destinos.items():
                deps.append(d)
                prods.append(NANDINAS.index(p))
                paises.append(c)
                pesos.append(wp / wm * wc / wd)
    return deps, prods, paises, pesos


def _rastrillar(w: np.ndarray, margenes: list[tuple[np.ndarray, np.ndarray]], rondas: int = 5000) -> np.ndarray:
    """Iterative proportional fitting of cell weights ``w`` to each margin (group index per cell, target per
    group); raises when a target has no cell or the margins cannot all be met."""
    for idx, objetivo in margenes:
        if np.any((np.bincount(idx, weights=w, minlength=len(objetivo)) == 0) & (objetivo > 0)):
            raise ValueError("rastrillo: un objetivo positivo no tiene celdas")
    total = float(margenes[0][1].sum())
    error = np.inf
    for _ in range(rondas):
        error = 0.0
        for idx, objetivo in margenes:
            s = np.bincount(idx, weights=w, minlength=len(objetivo))
            error = max(error, float(np.max(np.abs(s - objetivo))) / total)
            w = w * np.where(s > 0, objetivo / np.where(s > 0, s, 1), 0.0)[idx]
        if error < 1e-13:
            return w
    raise ValueError(f"rastrillo sin convergencia (error relativo {error:.2e})")


def _con_tope(pct: np.ndarray, tope: float) -> np.ndarray:
    """Shares capped at ``tope``, what is cut spread over the uncapped ones in proportion (same sum)."""
    pct = np.asarray(pct, dtype=float).copy()
    topados = np.zeros(len(pct), dtype=bool)
    for _ in range(len(pct)):
        exceso = pct > tope
        if not exceso.any():
            return pct
        sobra = float((pct[exceso] - tope).sum())
        pct[exceso] = tope
        topados |= exceso
        libres = ~topados
        if not libres.any():
            break
        pct[libres] += sobra * pct[libres] / pct[libres].sum()
    raise ValueError("tope de destinos imposible: demasiado poco que repartir")


def _reparto(total: int, pesos: np.ndarray) -> np.ndarray:
    """Largest-remainder integers (int64) summing to ``total``, proportional to float ``pesos``."""
    pesos = np.asarray(pesos, dtype=float)
    cuota = pesos / pesos.sum() * total
    base = np.floor(cuota).astype(np.int64)
    resto = int(total - base.sum())
    if resto:
        orden = np.lexsort((np.arange(len(cuota)), -pesos, -(cuota - base)))
        base[orden[:resto]] += 1
    return base


@lru_cache(maxsize=8)
def celdas_anio(anio: int) -> _Celdas:
    """The year's cells with their exact cents: territory department × NANDINA × destination, raked to the
    targets; elsewhere department × NANDINA (destinations drawn per line), and the lines without ubigeo."""
    cal = calibrar_aduanas()
    obj = cal.anios[anio]
    terr = cal.territorio_departamentos

    deps, prods, paises, pesos = _semilla(terr, True)
    deps_a, prods_a, pesos_a = np.array(deps), np.array(prods), np.array(pesos, dtype=float)
    total = float(obj.territorio)
    i_dep = np.searchsorted(np.array(terr), deps_a)
    obj_dep = np.array([float(obj.departamento_pct[d]) / 100 * total for d in terr])
    pesos_a = pesos_a * (obj_dep / np.bincount(i_dep, weights=pesos_a))[i_dep]  # seed at the department targets
    fijos = [*obj.destino_pct]
    libres = sorted(set(paises) - set(fijos))
    codigos = fijos + libres
    i_pais = np.array([codigos.index(c) for c in paises])
    semilla_pais = np.bincount(i_pais, weights=pesos_a, minlength=len(codigos))
    resto = 100 - sum(obj.destino_pct.values())
    libre = _con_tope(semilla_pais[len(fijos):] / semilla_pais[len(fijos):].sum() * float(resto),
                      TOPE_OTROS_DESTINOS * float(min(obj.destino_pct[c] for c in obj.seguidores)))
    obj_pais = np.concatenate([[float(obj.destino_pct[c]) for c in fijos], libre])
    obj_pais = obj_pais / 100 * total
    es_0729 = np.array([_clase_0729(NANDINAS[p]) for p in prods_a])
    obj_clase = np.array([1 - float(obj.clase_0729_pct) / 100, float(obj.clase_0729_pct) / 100]) * total
    w = _rastrillar(pesos_a, [(i_dep, obj_dep), (i_pais, obj_pais), (es_0729.astype(np.int64), obj_clase)])
    cent_dep = _centimos_exactos(obj.territorio, obj.departamento_pct, terr)
    cent = np.zeros(len(w), dtype=np.int64)
    for k, d in enumerate(terr):
        m = i_dep == k
        cent[m] = _reparto(cent_dep[d], w[m])

    otros = sorted(d for d in MEZCLA_DEPARTAMENTO if d != "sin" and d not in terr)
    deps_o, prods_o, paises_o, pesos_o = _semilla(otros, False)
    resto_total = obj.nacional - obj.territorio - obj.sin_ubigeo
    cent_otros = _reparto(resto_total, np.array([PESO_DEPARTAMENTO_EXPORTADOR[d] for d in otros]))
    deps_o_a, pesos_o_a = np.array(deps_o), np.array(pesos_o, dtype=float)
    cent_o = np.zeros(len(deps_o), dtype=np.int64)
    for d, c in zip(otros, cent_otros, strict=True):
        m = deps_o_a == d
        cent_o[m] = _reparto(int(c), pesos_o_a[m])
    deps_s, prods_s, paises_s, pesos_s = _semilla([""], False)
    cent_s = _reparto(obj.sin_ubigeo, np.array(pesos_s, dtype=float))

    dep = np.concatenate([deps_a, deps_o_a, np.array(deps_s)]).astype("U3")
    prod = np.concatenate([prods_a, np.array(prods_o), np.array(prods_s)]).astype(np.int64)
    pais = np.array(paises + paises_o + paises_s, dtype="U2")
    centimos = np.concatenate([cent, cent_o, cent_s])
    vivas = centimos > 0
    return _Celdas(dep[vivas], prod[vivas], pais[vivas], centimos[vivas])


def _clase_0729(nandina: str) -> bool:
    """Source note §5.5: HS headings 2603–2617 except 2612 are class 0729."""
    partida = int(nandina[:4])
    return 2603 <= partida <= 2617 and partida != 2612


def _centimos_exactos(total: int, pct: dict[str, Fraction], orden) -> dict[str, int]:
    """Cents per category at the exact share (largest remainder, summing to ``total``)."""
    cuotas = {k: Fraction(total) * pct[k] / 100 for k in orden}
    cuentas = {k: math.floor(q) for k, q in cuotas.items()}
    falta = total - sum(cuentas.values())
    if not 0 <= falta <= len(orden) or sum(pct.values()) != 100:
        raise ValueError("participaciones que no suman 100")
    for k in sorted(orden, key=lambda k: (-(cuotas[k] - cuentas[k]), k))[:falta]:
        cuentas[k] += 1
    return cuentas


# --------------------------------------------------------------------------------------------------------
# Exporters
# --------------------------------------------------------------------------------------------------------


@dataclass
class _Candidatos:
    mineros: np.ndarray  # population indices: Lima RUC-20 firms, medium/large
    lima: np.ndarray  # Lima and Callao RUC-20 firms outside ``mineros``
    local: dict[str, np.ndarray]  # department -> RUC-20 firms domiciled there


_CACHE_CANDIDATOS: list = [None, None]  # (weak reference to the universe, its candidates)


def _candidatos(uni: Universo) -> _Candidatos:
    """RUC-20 firms formal in every year of the window (they are in every year's cut, same domicile);
    remembered for the last universe seen (every year of a sample uses the same one)."""
    ref, cand = _CACHE_CANDIDATOS
    if ref is not None and ref() is uni:
        return cand
    cand = _calcular_candidatos(uni)
    _CACHE_CANDIDATOS[:] = [weakref.ref(uni), cand]
    return cand


def _calcular_candidatos(uni: Universo) -> _Candidatos:
    formal = np.ones(len(uni.ruc), dtype=bool)
    for a in ANIOS_ADUANAS:
        if a in uni.cal.anios:
            formal &= uni.formal(a)
    ok = np.flatnonzero(formal & (uni.ruc // 1_000_000_000 == 20) & (uni.geo >= 0))
    dep = uni.cat.geo_departamento.astype(np.int64)[uni.geo[ok]]
    estrato = uni.estrato[ok]
    mineros = ok[(dep == 15) & (estrato >= 2)]
    if len(mineros) < 40:
        mineros = ok[(dep == 15) & (estrato >= 1)]
    # goods exporters: farms, fisheries, factories and wholesalers (not restaurants or transport firms)
    sector = np.array([s or "" for s in uni.cat.texto_sector], dtype=object)[uni.act4[ok]]
    de_bienes = np.isin(sector.astype(str), ["agropecuario", "pesca", "manufactura", "comercio"])
    libres = ~np.isin(ok, mineros) & de_bienes
    lima = ok[libres & np.isin(dep, [15, 7])]
    local = {f"{d:02d}": filas for (d, _), filas in _grupos(np.where(libres, dep, -1), 1) if d >= 0}
    local = {d: ok[f] for d, f in local.items()}
    return _Candidatos(mineros, lima, local)


#: Integer code of the "department" of lines without ubigeo.
SIN_DEP = 99


def _codigo_dep(dep: np.ndarray) -> np.ndarray:
    """Department codes as integers ("" → ``SIN_DEP``), for grouping without string comparisons."""
    out = np.full(len(dep), SIN_DEP, dtype=np.int64)
    con = dep != ""
    out[con] = dep[con].astype(np.int64)
    return out


def _grupos(clave: np.ndarray, base: int):
    """((clave // base, clave % base), row indices) of each distinct integer key, in key order."""
    orden = np.argsort(clave, kind="stable")
    ordenada = clave[orden]
    cortes = np.flatnonzero(np.diff(ordenada)) + 1
    for filas in np.split(orden, cortes):
        if len(filas):
            k = int(clave[filas[0]])
            yield (k // base, k % base), filas


def _rng(seed: int, *claves: int) -> np.random.Generator:
    return np.random.default_rng([seed, 4040, *claves])


#: Size of each pool's fixed random list of candidate exporters; a year takes its first k, so the
#: exporters of a pool are nested across years instead of redrawn.
LISTA_EXPORTADORES = 4_000


def _primeros(rng: np.random.Generator, candidatos: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` of a fixed random ordering of (up to LISTA_EXPORTADORES) ``candidatos``."""
    if k <= 0 or not len(candidatos):
        return candidatos[:0]
    lista = rng.choice(len(candidatos), size=min(len(candidatos), LISTA_EXPORTADORES), replace=False)
    return candidatos[lista[:k]]


def _zipf(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    """``n`` draws among ``k`` ranked exporters, the first ones much more often (weights 1/rank)."""
    acumulado = np.cumsum(1.0 / np.arange(1, k + 1))
    return np.minimum(np.searchsorted(acumulado, rng.random(n) * acumulado[-1], "right"), k - 1)


# --------------------------------------------------------------------------------------------------------
# The year's plan: every line, every file, every count
# --------------------------------------------------------------------------------------------------------

SUCIO_NO = 0
_SUCIO = {t: i + 1 for i, t in enumerate(TIPOS_SUCIEDAD)}


@dataclass
class Lineas:
    """Every written line of a year (accepted lines first, then the dirty ones), as parallel arrays."""

    anio: int
    centimos: np.ndarray  # FOB, cents (dirty lines: the value written for negativo, else a small amount)
    prod: np.ndarray
    dep: np.ndarray  # "" = no ubigeo
    geo: np.ndarray  # district index in uni.cat.ubigeo; -1 blank, -2 "999999"
    pais: np.ndarray  # index into ``paises``
    exportador: np.ndarray  # index into ``rucs`` / ``nombres``
    dia: np.ndarray  # day of the year of FNUM (0-based)
    via: np.ndarray  # index into VIAS
    cadu: np.ndarray  # index into ADUANAS
    sucio: np.ndarray  # 0 or 1 + index into TIPOS_SUCIEDAD
    ndcl: np.ndarray = field(default=None)
    nser: np.ndarray = field(default=None)
    femb: np.ndarray = field(default=None)  # yyyymmdd, 0 = missing
    freg: np.ndarray = field(default=None)
    puerto: np.ndarray = field(default=None)  # index into ``puertos``
    agente: np.ndarray = field(default=None)  # CAGE code (int)
    peso_g: np.ndarray = field(default=None)  # net weight, grams (3 decimals of kg)
    bruto_g: np.ndarray = field(default=None)
    cantidad_m: np.ndarray = field(default=None)  # physical quantity, thousandths
    unidad: np.ndarray = field(default=None)  # index into ``unidades``
    paises: list[str] = field(default_factory=list)
    puertos: list[str] = field(default_factory=list)
    unidades: list[str] = field(default_factory=list)
    rucs: np.ndarray = field(default=None)
    nombres: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.centimos)

    def fnum(self) -> np.ndarray:
        return _yyyymmdd(self.anio, self.dia)


@lru_cache(maxsize=8)
def _tabla_fechas(anio: int) -> np.ndarray:
    """yyyymmdd of day 0, 1, … of ``anio`` and into the next year (shipping, regularization dates)."""
    inicio = date(anio, 1, 1)
    fechas = [inicio + timedelta(days=k) for k in range(366 + 120)]
    return np.array([f.year * 10_000 + f.month * 100 + f.day for f in fechas], dtype=np.int64)


def _yyyymmdd(anio: int, dias: np.ndarray) -> np.ndarray:
    return _tabla_fechas(anio)[np.asarray(dias, dtype=np.int64)]


@dataclass
class Archivo:
    """One file to write: its name and its records in order."""

    nombre: str
    formato: str  # "dbf" or "pipe"
    filas: np.ndarray  # line indices, in file order (repeats allowed)
    borrados: list[tuple[int, bytes | int]] = field(default_factory=list)  # (position, garbage | line copied)
    fecha: tuple[int, int, int] = (2000, 1, 1)  # DBF last-update date / zip timestamp


@dataclass
class PlanAnio:
    anio: int
    lineas: Lineas
    archivos: list[Archivo]
    aceptadas: np.ndarray  # indices of the accepted lines (unique keys)


def _escala(uni: Universo) -> str:
    escala = ESCALA_DE_CALIBRACION.get(uni.cal.escala, uni.cal.escala)
    if escala not in DIVISOR_ESCALA:
        raise ValueError(f"escala sin exportaciones: {escala!r}")
    return escala


def _semanas(anio: int) -> list[tuple[int, int, int]]:
    """(month, first day, last day) of the regular weekly files: 1–7, 8–14, 15–21, 22–28, 29–end."""
    out = []
    for m in range(1, 13):
        fin = calendar.monthrange(anio, m)[1]
        for ini in (1, 8, 15, 22, 29):
            if ini <= fin:
                out.append((m, ini, min(ini + 6, fin) if ini < 29 else fin))
    return out


def _dia_del_anio(anio: int, mes: int, dia: int) -> int:
    return (date(anio, mes, dia) - date(anio, 1, 1)).days


def planificar(uni: Universo, anio: int) -> PlanAnio:
    """Every line of ``anio`` and the files that carry them (deterministic for the universe's seed)."""
    if anio not in ANIOS_ADUANAS:
        raise ValueError(f"{anio} fuera de la ventana de exportaciones {ANIOS_ADUANAS}")
    escala = _escala(uni)
    seed = uni.seed
    rng = _rng(seed, anio)
    cal = calibrar_aduanas()
    terr = set(cal.territorio_departamentos)
    formato = FORMATO_ANIO[anio]
    cat = uni.cat
    n_dias = 366 if calendar.isleap(anio) else 365

    # ---- accepted lines: cells -> lines -> cents
    cel = celdas_anio(anio)
    n_lineas = LINEAS_NACIONAL[anio] // DIVISOR_ESCALA[escala]
    if n_lineas < 2 * len(cel.centimos):
        raise ValueError(f"{anio}: {n_lineas} líneas no alcanzan para {len(cel.centimos)} celdas")
    usd_linea = np.array([PRODUCTOS[p].usd_linea for p in NANDINAS])[cel.prod]
    natural = cel.centimos / 100 / usd_linea
    por_celda = 1 + _reparto(n_lineas - len(cel.centimos), natural)
    por_celda = np.minimum(por_celda, np.maximum(1, cel.centimos // 5_000))  # no line below US$ 50
    celda = np.repeat(np.arange(len(cel.centimos)), por_celda)
    n = len(celda)
    peso = rng.lognormal(0.0, 0.7, n)
    suma = np.bincount(celda, weights=peso)
    # a cent for each line, the rest of the cell by weight; the last line of the cell takes the remainder
    resto_celda = (cel.centimos - por_celda)[celda]
    cent = 1 + np.floor(resto_celda * (peso / suma[celda])).astype(np.int64)
    ultimo = np.cumsum(por_celda) - 1
    cent[ultimo] += cel.centimos - np.bincount(celda, weights=cent, minlength=len(cel.centimos)).astype(np.int64)
    if np.any(cent <= 0) or np.bincount(celda, weights=cent).astype(np.int64).tolist() != cel.centimos.tolist():
        raise AssertionError("reparto de celdas en líneas")
    prod = cel.prod[celda]
    dep = cel.dep[celda]
    dep_i = _codigo_dep(cel.dep)[celda]
    pais_cod = cel.pais[celda].astype("U2")
    for p in np.unique(prod[pais_cod == SORTEO]):
        filas = np.flatnonzero((pais_cod == SORTEO) & (prod == p))
        destinos = DESTINOS[NANDINAS[p]]
        codigos = np.array(list(destinos), dtype="U2")
        w = np.array(list(destinos.values()), dtype=float)
        pais_cod[filas] = codigos[rng.choice(len(codigos), size=len(filas), p=w / w.sum())]
    # the non-ISO SUNAT codes: a few small non-mining lines outside the territory
    grupo_cel = np.array(_GRUPOS)[_GRUPO_PRODUCTO[prod]]
    terr_i = [int(d) for d in cal.territorio_departamentos]
    candidatas = np.flatnonzero(~np.isin(dep_i, terr_i)
                                & np.isin(grupo_cel, ("agro", "pesca", "manufactura")))
    candidatas = candidatas[cent[candidatas] <= np.quantile(cent[candidatas], 0.5)]
    k_no_iso = LINEAS_NO_ISO[escala]
    elegidas = rng.choice(candidatas, size=k_no_iso * len(NO_ISO), replace=False)
    pais_cod[elegidas] = np.repeat(np.array(list(NO_ISO), dtype="U2"), k_no_iso)

    # ---- dirty lines: copies of accepted lines' attributes with a small amount
    cuantos = dict(SUCIEDAD_ADUANAS[escala])
    if formato == "dbf":
        cuantos.pop("campos_errados")
    tipos = np.concatenate([np.full(k, _SUCIO[t], dtype=np.int8) for t, k in cuantos.items()])
    plantillas = rng.choice(n, size=len(tipos), replace=False)
    n_total = n + len(tipos)
    sucio = np.concatenate([np.zeros(n, dtype=np.int8), tipos])
    pequenos = rng.integers(1_000, 250_000, len(tipos))
    pequenos[tipos == _SUCIO["negativo"]] *= -1
    cent = np.concatenate([cent, pequenos])
    prod = np.concatenate([prod, prod[plantillas]])
    dep = np.concatenate([dep, dep[plantillas]])
    dep_i = np.concatenate([dep_i, dep_i[plantillas]])
    pais_cod = np.concatenate([pais_cod, pais_cod[plantillas]])

    # ---- origin district
    geo = np.full(n_total, -1, dtype=np.int64)
    sin = dep_i == SIN_DEP
    geo[sin & (rng.random(n_total) < SIN_UBIGEO_999999)] = -2
    ubigeo_dep = cat.geo_departamento
    vraem_geo = cat.geo_vraem
    for (di, p), filas in _grupos(dep_i * 1000 + prod, 1000):
        if di == SIN_DEP:
            continue
        d = f"{di:02d}"
        distritos = np.flatnonzero(ubigeo_dep == d)
        grupo = PRODUCTOS[NANDINAS[int(p)]].grupo
        r = _rng(seed, 7, int(di), int(p))
        if grupo in ("mineria", "metal", "hidrocarburo"):
            fijos = r.choice(distritos, size=min(2, len(distritos)), replace=False)  # the mine, every year
            geo[filas] = fijos[rng.integers(0, len(fijos), len(filas))]
        else:
            geo[filas] = distritos[rng.integers(0, len(distritos), len(filas))]
            if d in terr and NANDINAS[int(p)] in ("0901119000", "1801001900"):
                valle = distritos[vraem_geo[distritos]]
                if len(valle):
                    m = rng.random(len(filas)) < 0.7
                    geo[filas[m]] = valle[rng.integers(0, len(valle), int(m.sum()))]

    # ---- exporters
    cand = _candidatos(uni)
    grupo_linea = _GRUPO_PRODUCTO[prod]
    minera = grupo_linea < _GRUPOS.index("agro")
    n_op, n_tr = (3, 6) if escala == "national" else (2, 2)
    perm_min = _rng(seed, 11).permutation(cand.mineros)
    traders = perm_min[:n_tr]
    deps_orden = sorted(MEZCLA_DEPARTAMENTO)  # "01".."25", "sin": pools keep their seed whatever the year
    exp_pob = np.zeros(n_total, dtype=np.int64)  # population index
    tipo_pob: dict[int, str] = {int(i): "comercializadora" for i in traders}
    grupos_dep = dict(_grupos(dep_i * 2 + minera, 2))
    vacio = np.array([], dtype=np.int64)
    for j, d in enumerate(deps_orden):
        di = SIN_DEP if d == "sin" else int(d)
        filas = grupos_dep.get((di, 1), vacio)
        if not len(filas):
            continue
        inicio = n_tr + j * n_op
        ops = np.take(perm_min, np.arange(inicio, inicio + n_op), mode="wrap")
        for i in ops:
            tipo_pob.setdefault(int(i), "minero")
        es_trader = (rng.random(len(filas)) < 0.12) | (d == "sin")
        exp_pob[filas] = np.where(es_trader, traders[_zipf(rng, len(traders), len(filas))],
                                  ops[_zipf(rng, len(ops), len(filas))])
    sector = np.array([s or "" for s in cat.texto_sector], dtype=object)
    for j, d in enumerate(deps_orden):
        filas = grupos_dep.get((SIN_DEP if d == "sin" else int(d), 0), vacio)
        if not len(filas):
            continue
        k = max(2, round(0.08 * len(filas) ** 0.85))
        local = cand.local.get(d, np.array([], dtype=np.int64))
        k_local = 0 if d in ("sin", "15", "07") or not len(local) else min(len(local), (k * 2 + 4) // 5)
        elegidos_l = _primeros(_rng(seed, 12, j), local, k_local)
        elegidos_lima = _primeros(_rng(seed, 13, j), cand.lima, k - k_local)
        usa_local = (rng.random(len(filas)) < 0.4) & (k_local > 0)
        exp_pob[filas] = np.where(usa_local, elegidos_l[_zipf(rng, max(k_local, 1), len(filas))] if k_local else 0,
                                  elegidos_lima[_zipf(rng, len(elegidos_lima), len(filas))])
        for i in np.unique(exp_pob[filas]):
            tipo_pob.setdefault(int(i), _SECTOR_A_TIPO.get(sector[uni.act4[i]], "comercio"))
    rucs_pob, exp = np.unique(exp_pob, return_inverse=True)
    rucs = uni.ruc[rucs_pob]
    nombres = [nombre_exportador(r, tipo_pob[int(i)]) for r, i in zip(rucs, rucs_pob, strict=True)]
    # a few exporters absent from the register (never on a dirty line)
    k_lin, k_ruc = RUC_AUSENTES[escala]
    ausentes = ruc_reservados(20, BLOQUE_RUC_AUSENTE, k_ruc, seed)
    elegibles = np.flatnonzero(~minera[:n] & (dep_i[:n] != SIN_DEP))
    filas = rng.choice(elegibles, size=min(k_lin, len(elegibles)), replace=False)
    exp[filas] = len(rucs) + rng.integers(0, k_ruc, len(filas))
    rucs = np.concatenate([rucs, ausentes])
    nombres += [nombre_exportador(r, "comercio") for r in ausentes]

    # ---- dates, mode of transport, customs office
    mes_peso = np.ones((len(NANDINAS), 12))
    for p, w in MESES_PRODUCTO.items():
        mes_peso[NANDINAS.index(p)] = w
    mes_acum = np.cumsum(mes_peso, axis=1)
    u = rng.random(n_total) * mes_acum[prod, -1]
    mes = (u[:, None] >= mes_acum[prod]).sum(axis=1)  # 0-based month
    largo = np.array([calendar.monthrange(anio, m)[1] for m in range(1, 13)])
    inicio_mes = np.concatenate([[0], np.cumsum(largo)[:-1]])
    dia = inicio_mes[mes] + (rng.random(n_total) * largo[mes]).astype(np.int64)

    # repeated weeks (DBF years): chosen first, so that dirty lines avoid them
    repetidas = []
    if formato == "dbf":
        meses = np.sort(rng.choice(12, size=REPETICION_ADUANAS[escala]["semanas_repetidas"], replace=False)) + 1
        for m in meses:
            ini = int(rng.choice([2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19, 20, 21]))
            repetidas.append((int(m), ini, ini + 6))
    cubiertos = np.zeros(n_dias, dtype=bool)
    for m, a, b in repetidas:
        cubiertos[_dia_del_anio(anio, m, a):_dia_del_anio(anio, m, b) + 1] = True
    es_sucio = sucio > 0
    libres = np.flatnonzero(~cubiertos)
    dia[es_sucio] = libres[rng.integers(0, len(libres), int(es_sucio.sum()))]
    fecha_mala = sucio == _SUCIO["fecha_imposible"]
    dia[fecha_mala] = _dia_del_anio(anio, 2, 26 if formato == "dbf" else 28)  # written as YYYY0231

    paises_a, pais = np.unique(pais_cod, return_inverse=True)
    paises = [str(c) for c in paises_a]
    iso_de = np.array([_grupo_pais(c) for c in paises])
    aereo = np.array([PRODUCTOS[p].aereo for p in NANDINAS])[prod]
    via = np.zeros(n_total, dtype=np.int64)
    via[rng.random(n_total) < aereo] = 1
    vecino = np.isin(iso_de, list(ADUANA_TERRESTRE))[pais]
    carretera = np.isin(np.array(_GRUPOS), GRUPOS_POR_CARRETERA)[grupo_linea]
    por_tierra = vecino & carretera & (via == 0)
    via[por_tierra & (rng.random(n_total) < 0.5)] = 2
    maritima = np.array([ADUANA_MARITIMA.get(f"{k:02d}", ADUANA_CALLAO) for k in range(SIN_DEP + 1)], dtype="U3")
    cadu_txt = maritima[dep_i]
    cadu_txt[via == 1] = ADUANA_AEREA
    for c, a in ADUANA_TERRESTRE.items():
        cadu_txt[(via == 2) & (pais == paises.index(c))] = a
    cadu = np.searchsorted(np.array(ADUANAS), cadu_txt)

    # ---- DAMs: one exporter, office, day, destination and mode; dirty lines alone
    aparte = np.where(es_sucio, np.cumsum(es_sucio), 0)
    clave_dam = cadu.astype(np.int64)
    for campo, tope in ((exp, len(rucs)), (dia, 512), (pais, len(paises)), (via, len(VIAS)), (aparte, n_total - n + 1)):
        clave_dam = clave_dam * int(tope) + campo
    if clave_dam.max() >= 2**62:
        raise AssertionError("clave de DAM fuera de int64")
    barajado = rng.permutation(n_total)  # series of a DAM in random order
    orden = barajado[np.argsort(clave_dam[barajado], kind="stable")]
    nuevo = np.ones(n_total, dtype=bool)
    nuevo[1:] = clave_dam[orden][1:] != clave_dam[orden][:-1]
    corrida = np.cumsum(nuevo) - 1
    pos = np.arange(n_total) - np.flatnonzero(nuevo)[corrida]
    nuevo |= pos % SERIES_MAX == 0
    dam_o = np.cumsum(nuevo) - 1
    inicio_dam = np.flatnonzero(nuevo)
    nser_o = np.arange(n_total) - inicio_dam[dam_o] + 1
    n_dam = len(inicio_dam)
    # numbering per office in date order, with small gaps (DAMs of other regimes, annulled ones)
    cadu_dam, dia_dam = cadu[orden][inicio_dam], dia[orden][inicio_dam]
    barajado = rng.permutation(n_dam)
    o_dam = barajado[np.argsort((cadu_dam * 512 + dia_dam)[barajado], kind="stable")]
    salto = rng.integers(1, 4, n_dam)
    primero = np.ones(n_dam, dtype=bool)
    primero[1:] = cadu_dam[o_dam][1:] != cadu_dam[o_dam][:-1]
    acum = np.cumsum(salto)
    base = np.maximum.accumulate(np.where(primero, acum - salto, 0))
    numero = np.empty(n_dam, dtype=np.int64)
    numero[o_dam] = acum - base
    if numero.max() > 999_999:
        raise AssertionError("NDCL de más de 6 dígitos")
    ndcl = np.empty(n_total, dtype=np.int64)
    nser = np.empty(n_total, dtype=np.int64)
    ndcl[orden] = numero[dam_o]
    nser[orden] = nser_o
    # shipping and regularization dates, port and agent: one per DAM
    emb = rng.geometric(0.25, n_dam) - 1
    femb_dia = dia_dam + np.minimum(emb, 20)
    femb_dam = _yyyymmdd(anio, femb_dia)
    femb_dam[rng.random(n_dam) < 0.003] = 0
    freg_dam = _yyyymmdd(anio, femb_dia + rng.integers(3, 30, n_dam))
    freg_dam[rng.random(n_dam) < 0.02] = 0
    iso_dam = iso_de[pais[orden][inicio_dam]]
    puertos = [""]
    puerto_dam = np.zeros(n_dam, dtype=np.int64)
    for c in np.unique(iso_dam):
        if c == "ZZ":
            continue  # no country, no port
        m = iso_dam == c
        opciones = PUERTOS.get(str(c), (f"{c}ZZZ" if len(str(c)) == 2 else "",))
        idx = [len(puertos) + i for i in range(len(opciones))]
        puertos.extend(opciones)
        puerto_dam[m] = np.array(idx)[rng.integers(0, len(idx), int(m.sum()))]
    exp_dam = exp[orden][inicio_dam]
    agentes = np.sort(_rng(seed, 14).choice(np.arange(1000, 9999), size=250 if escala == "national" else 40,
                                            replace=False))
    habitual = ((rucs[exp_dam] * 2_654_435_761) % (1 << 32)) >> 8  # each exporter's usual agent, by RUC
    otro = rng.random(n_dam) < 0.1
    agente_dam = agentes[np.where(otro, rng.integers(0, len(agentes), n_dam), habitual % len(agentes))]
    femb = np.empty(n_total, dtype=np.int64)
    freg = np.empty(n_total, dtype=np.int64)
    puerto = np.empty(n_total, dtype=np.int64)
    agente = np.empty(n_total, dtype=np.int64)
    femb[orden] = femb_dam[dam_o]
    freg[orden] = freg_dam[dam_o]
    puerto[orden] = puerto_dam[dam_o]
    agente[orden] = agente_dam[dam_o]

    # ---- weights and quantities
    usd_kg = np.array([PRODUCTOS[p].usd_kg for p in NANDINAS])[prod]
    kilos = np.abs(cent) / 100 / usd_kg * rng.uniform(0.85, 1.15, n_total)
    peso_g = np.maximum(1, np.round(kilos * 1000)).astype(np.int64)
    bruto_g = np.round(peso_g * rng.uniform(1.0, 1.06, n_total)).astype(np.int64)
    unidades = ["KG", "U", "kg"]
    por_unidad = np.array([PRODUCTOS[p].unidad == "U" for p in NANDINAS])[prod]
    kg_unidad = np.array([PRODUCTOS[p].kg_unidad for p in NANDINAS])[prod]
    unidad = np.where(por_unidad, 1, 0)
    unidad[(unidad == 0) & (rng.random(n_total) < 0.002)] = 2  # a typo seen in SUNAT data (§5.3)
    cantidad_m = np.where(por_unidad, np.round(peso_g / kg_unidad / 1000) * 1000, peso_g).astype(np.int64)

    lin = Lineas(anio=anio, centimos=cent, prod=prod, dep=dep, geo=geo, pais=pais, exportador=exp, dia=dia,
                 via=via, cadu=cadu, sucio=sucio, ndcl=ndcl, nser=nser, femb=femb, freg=freg, puerto=puerto,
                 agente=agente, peso_g=peso_g, bruto_g=bruto_g, cantidad_m=cantidad_m, unidad=unidad,
                 paises=paises, puertos=puertos, unidades=unidades, rucs=rucs, nombres=nombres)
    aceptadas = np.arange(n)

    # ---- files
    yy = anio % 100
    clave_orden = np.lexsort((nser, ndcl, cadu, dia))
    archivos: list[Archivo] = []
    if formato == "dbf":
        rep = REPETICION_ADUANAS[escala]
        semana_de_dia = np.zeros(n_dias, dtype=np.int64)
        semanas = _semanas(anio)
        for s, (m, a, b) in enumerate(semanas):
            semana_de_dia[_dia_del_anio(anio, m, a):_dia_del_anio(anio, m, b) + 1] = s
        semana = semana_de_dia[dia[clave_orden]]
        limites = np.searchsorted(semana, np.arange(len(semanas) + 1))
        for s, (m, a, b) in enumerate(semanas):
            filas = clave_orden[limites[s]:limites[s + 1]]
            archivos.append(Archivo(f"x{a:02d}{b:02d}{m:02d}{yy:02d}", "dbf", filas, fecha=_fecha_entrega(anio, m, b)))
        # deleted records, scattered over the regular files
        k_b = rep["borrados"]
        destino = rng.choice(len(archivos), size=k_b, replace=True)
        for f in destino:
            arch = archivos[f]
            posicion = int(rng.integers(0, len(arch.filas) + 1))
            vivas = arch.filas[~es_sucio[arch.filas]]
            if rng.random() < BORRADOS_COPIA and len(vivas):
                arch.borrados.append((posicion, int(rng.choice(vivas))))
            else:
                arch.borrados.append((posicion, _basura(rng)))
        for arch in archivos:
            arch.borrados.sort(key=lambda x: x[0])
        # the same weeks delivered again on other days
        for m, a, b in repetidas:
            d0, d1 = _dia_del_anio(anio, m, a), _dia_del_anio(anio, m, b)
            sel = clave_orden[(dia[clave_orden] >= d0) & (dia[clave_orden] <= d1)]
            if np.any(es_sucio[sel]):
                raise AssertionError("línea sucia en una semana repetida")
            archivos.append(Archivo(f"x{a:02d}{b:02d}{m:02d}{yy:02d}", "dbf", sel, fecha=_fecha_entrega(anio, m, b)))
        if anio == ANIO_PIPE_DICIEMBRE:
            dic = _dia_del_anio(anio, 12, 1)
            sel = clave_orden[(dia[clave_orden] >= dic) & ~es_sucio[clave_orden]]
            sel = sel[np.lexsort((nser[sel], ndcl[sel], cadu[sel]))]
            archivos.append(Archivo(f"exportaciones_{anio}_12.txt", "pipe", sel))
    else:
        sel = clave_orden[np.lexsort((nser[clave_orden], ndcl[clave_orden], cadu[clave_orden]))]
        k_r = REPETICION_ADUANAS[escala]["repetidas_pipe"]
        copias = rng.choice(aceptadas, size=k_r, replace=False)
        filas = list(sel)
        posiciones = {int(i): p for p, i in enumerate(sel)}
        insertos = sorted((int(rng.integers(posiciones[int(c)] + 1, len(sel) + 1)), int(c)) for c in copias)
        for desplazamiento, (p, c) in enumerate(insertos):
            filas.insert(p + desplazamiento, c)
        archivos.append(Archivo(f"exportaciones_{anio}.txt", "pipe", np.array(filas, dtype=np.int64)))
    plan = PlanAnio(anio, lin, archivos, aceptadas)
    _verificar_plan(plan)
    return plan


def _fecha_entrega(anio: int, mes: int, dia_fin: int) -> tuple[int, int, int]:
    f = date(anio, mes, dia_fin) + timedelta(days=3)
    return (f.year, f.month, f.day)


_ALFABETO_BASURA = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 *#?.-/", dtype=np.uint8)


def _basura(rng: np.random.Generator) -> bytes:
    """A deleted record's body that is no line at all (overwritten bytes)."""
    return rng.choice(_ALFABETO_BASURA, size=LONGITUD_REGISTRO - 1).tobytes()


# --------------------------------------------------------------------------------------------------------
# Figures and counts
# --------------------------------------------------------------------------------------------------------


def figuras(lin: Lineas, filas: np.ndarray) -> dict:
    """Export figures of the lines ``filas`` (accepted, unique): totals and territory breakdowns in cents."""
    cal = calibrar_aduanas()
    dep_i = _codigo_dep(lin.dep[filas])
    terr = np.isin(dep_i, [int(d) for d in cal.territorio_departamentos])
    cent = lin.centimos[filas]
    iso_de = np.array([_grupo_pais(c) for c in lin.paises])
    pais = lin.pais[filas]

    def por(codigos: np.ndarray, etiquetas) -> dict:
        # float sums are exact: every partial sum is an integer below 2**53 (checked by the caller)
        sumas = np.bincount(codigos, weights=cent[terr].astype(float), minlength=len(etiquetas))
        return {str(e): int(v) for e, v in zip(etiquetas, sumas, strict=True) if v}

    es_0729 = np.array([_clase_0729(p) for p in NANDINAS])[lin.prod[filas]]
    zz = iso_de[pais] == "ZZ"
    destino: dict[str, int] = {}
    for c, v in por(pais[terr], lin.paises).items():
        destino[_grupo_pais(c)] = destino.get(_grupo_pais(c), 0) + v
    return {
        "territorio": int(cent[terr].sum()), "nacional": int(cent.sum()),
        "sin_ubigeo": int(cent[dep_i == SIN_DEP].sum()), "destino": destino,
        "departamento": {f"{int(k):02d}": v for k, v in por(dep_i[terr], range(SIN_DEP + 1)).items()},
        "clase_0729": int(cent[terr & es_0729].sum()), "desconocido_nacional": int(cent[zz].sum()),
    }


def _verificar_plan(plan: PlanAnio) -> None:
    """The accepted lines must land on the year's targets (within a millionth of a point: cells are rounded to
    cents inside departments) and, in the published year, round to every published figure: fail here, not in
    a report."""
    cal = calibrar_aduanas()
    obj = cal.anios[plan.anio]
    f = figuras(plan.lineas, plan.aceptadas)
    if max(f["nacional"], f["territorio"]) >= 2**53:
        raise AssertionError("montos fuera de la precisión exacta de float64")
    if f["territorio"] != obj.territorio or f["nacional"] != obj.nacional or f["sin_ubigeo"] != obj.sin_ubigeo:
        raise AssertionError(f"{plan.anio}: totales distintos de la calibración")
    t = f["territorio"]
    tolerancia = Fraction(1, 1_000_000)
    obtenido = {("departamento", d): Fraction(f["departamento"][d] * 100, t) for d in obj.departamento_pct}
    obtenido |= {("destino", c): Fraction(f["destino"][c] * 100, t) for c in obj.destino_pct}
    obtenido[("clase", "0729")] = Fraction(f["clase_0729"] * 100, t)
    objetivo = {("departamento", d): p for d, p in obj.departamento_pct.items()}
    objetivo |= {("destino", c): p for c, p in obj.destino_pct.items()}
    objetivo[("clase", "0729")] = obj.clase_0729_pct
    for k, v in obtenido.items():
        if abs(v - objetivo[k]) > tolerancia:
            raise AssertionError(f"{plan.anio}: {k} = {float(v):.6f} % ≠ {float(objetivo[k]):.6f} %")
    ranking = sorted(f["destino"], key=lambda c: -f["destino"][c])
    if tuple(ranking[: len(cal.orden_destinos)]) != cal.orden_destinos:
        raise AssertionError(f"{plan.anio}: orden de destinos {ranking[:6]}")
    if Fraction(f["desconocido_nacional"] * 100, f["nacional"]) >= Fraction(1, 10):
        raise AssertionError(f"{plan.anio}: destino desconocido ≥ 0.1 % del FOB nacional")
    if plan.anio == cal.anio_publicado:
        for (tipo, k), pub in _publicados().items():
            if not redondea_a(obtenido[(tipo, k)], pub, _decimales(pub)):
                raise AssertionError(f"{plan.anio}: {tipo} {k} no redondea a {pub}")
        _, share = _publicado("exportaciones_participacion_nacional_pct")
        if not redondea_a(Fraction(t * 100, f["nacional"]), share, _decimales(share)):
            raise AssertionError(f"{plan.anio}: participación nacional")


def _decimales(valor: Decimal) -> int:
    return max(0, -valor.as_tuple().exponent)


def _publicados() -> dict[tuple[str, str], Decimal]:
    out = {("departamento", d): v for d, v in _publicado_por_categoria("exportaciones_por_departamento_pct").items()}
    out |= {("destino", c): v for c, v in _publicado_por_categoria("exportaciones_por_destino_pct").items()}
    out |= {("clase", c): v for c, v in _publicado_por_categoria("exportaciones_por_producto_pct").items()}
    return out


def conteo_plan(plan: PlanAnio) -> dict:
    """Accounting of one year's files; see :func:`conteo_aduanas`."""
    lin = plan.lineas
    sucio = lin.sucio
    clave = ((lin.cadu.astype(np.int64) * 10_000 + lin.anio) * 1_000_000 + lin.ndcl) * 10_000 + lin.nser
    todas = np.concatenate([a.filas for a in plan.archivos])
    limpias = todas[sucio[todas] == 0]
    _, veces = np.unique(clave[limpias], return_counts=True)
    veces_linea = np.zeros(lin.n, dtype=np.int64)
    np.add.at(veces_linea, limpias, 1)
    archivos = {}
    tot_suc = dict.fromkeys(TIPOS_SUCIEDAD, 0)
    for a in plan.archivos:
        s = sucio[a.filas]
        suc = {t: int((s == _SUCIO[t]).sum()) for t in TIPOS_SUCIEDAD}
        for t, k in suc.items():
            tot_suc[t] += k
        nombre = a.nombre + (".zip" if a.formato == "dbf" else "")
        archivos[nombre] = {
            "formato": a.formato,
            "miembro": (a.nombre.upper() + ".DBF") if a.formato == "dbf" else None,
            "registros": len(a.filas) + len(a.borrados),
            "vivas": len(a.filas),
            "borrados": len(a.borrados),
            "borrados_copia": sum(1 for _, b in a.borrados if isinstance(b, int)),
            "compartidas": int(np.sum(veces_linea[a.filas[s == 0]] > 1)),
            "suciedad": suc,
        }
    leidas = len(todas)
    aceptadas = len(veces)
    duplicadas = int(len(limpias) - aceptadas)
    fig = figuras(lin, plan.aceptadas)
    return {
        "formato": FORMATO_ANIO[plan.anio],
        "lineas_leidas": leidas,
        "borrados": sum(v["borrados"] for v in archivos.values()),
        "duplicadas": duplicadas,
        "suciedad": tot_suc,
        "rechazadas": sum(tot_suc.values()),
        "aceptadas": aceptadas,
        "fob_centimos": {"nacional": fig["nacional"], "territorio": fig["territorio"], "sin_ubigeo": fig["sin_ubigeo"]},
        "archivos": archivos,
    }


def conteo_aduanas(uni: Universo, anios=ANIOS_ADUANAS) -> dict[int, dict]:
    """What :func:`escribir_aduanas` writes for ``uni``, year by year (years outside the window are skipped).

    Per year: ``formato`` (dbf/pipe), ``lineas_leidas`` (live DBF records + pipe data lines, all files),
    ``borrados`` (deleted DBF records, skipped), ``duplicadas`` (well-formed lines whose key was already read:
    counted once), ``suciedad`` (lines per dirt kind), ``rechazadas`` (their sum), ``aceptadas`` (unique
    accepted lines), ``fob_centimos`` (national, territory and no-ubigeo FOB of the accepted lines) and
    ``archivos``: per file name, ``registros`` (DBF records incl. deleted / pipe data lines), ``vivas``,
    ``borrados``, ``borrados_copia`` (deleted records that are an older version of a live line),
    ``compartidas`` (its well-formed lines whose key is in more than one line read) and ``suciedad``.
    ``lineas_leidas = aceptadas + rechazadas + duplicadas``.
    """
    return {a: conteo_plan(planificar(uni, a)) for a in sorted(set(anios)) if a in ANIOS_ADUANAS}


# --------------------------------------------------------------------------------------------------------
# Rendering: DBF records
# --------------------------------------------------------------------------------------------------------


#: Aduanet's DBFs are cp850 with no code page declared (``shared/realdata/README.md``: a project that parsed
#: the real files reads them as cp850); the pipe delivery is latin-1.
CODIFICACION_DBF = "cp850"


def _tabla_texto(textos, ancho: int) -> np.ndarray:
    """(k, ancho) cp850 bytes, left-aligned, space-padded: a category table gathered by code."""
    m = np.full((len(textos), ancho), 32, dtype=np.uint8)
    for i, t in enumerate(textos):
        b = t.encode(CODIFICACION_DBF)[:ancho]
        m[i, : len(b)] = np.frombuffer(b, dtype=np.uint8)
    return m


def _numero(valores: np.ndarray, ancho: int, decimales: int = 0, ceros: bool = False) -> np.ndarray:
    """(n, ancho) ASCII of integers in units of 10**-decimales: right-aligned, '.' decimals, '-' sign;
    ``ceros`` pads with zeros instead of spaces (NDCL). Vectorized digit arithmetic, no formatting loop."""
    v = np.asarray(valores, dtype=np.int64)
    n = len(v)
    q = np.abs(v)
    out = np.empty((n, ancho), dtype=np.uint8)
    for k in range(decimales):
        out[:, ancho - 1 - k] = 48 + q % 10
        q //= 10
    if decimales:
        out[:, ancho - 1 - decimales] = ord(".")
    w = ancho - decimales - (1 if decimales else 0)
    cifras = np.ones(n, dtype=np.int64)
    for k in range(w):
        out[:, w - 1 - k] = 48 + q % 10
        q //= 10
        cifras += q > 0
    negativo = v < 0
    if np.any(q > 0) or np.any(negativo & (cifras >= w)) or (ceros and np.any(negativo)):
        raise ValueError(f"número que no cabe en {ancho} caracteres")
    if not ceros:
        blanco = np.arange(w)[None, :] < (w - cifras)[:, None]
        out[:, :w][blanco] = 32
        filas = np.flatnonzero(negativo)
        out[filas, w - cifras[filas] - 1] = ord("-")
    return out


def _registros(lin: Lineas, cat_ubigeo) -> np.ndarray:
    """(n, LONGITUD_REGISTRO) bytes of every line as a live DBF record (dirt included)."""
    n = lin.n
    r = np.full((n, LONGITUD_REGISTRO), 32, dtype=np.uint8)  # live flag, and the fields left blank

    def poner(campo: str, valores: np.ndarray) -> None:
        a, w = _POS[campo]
        r[:, a:a + w] = valores

    poner("CADU", _tabla_texto(ADUANAS, 3)[lin.cadu])
    poner("FANO", np.frombuffer(f"{lin.anio:04d}".encode(), dtype=np.uint8)[None, :])
    poner("NDCL", _numero(lin.ndcl, 6, ceros=True))
    poner("NSER", _numero(lin.nser, 4))
    poner("FNUM", _numero(lin.fnum(), 8))
    femb = _numero(lin.femb, 8)
    femb[lin.femb == 0] = 32
    poner("FEMB", femb)
    poner("NDOC", _numero(lin.rucs, 11)[lin.exportador])
    poner("DNOMBRE", _tabla_texto(lin.nombres, 60)[lin.exportador])
    ubigeos = _tabla_texto(["      ", "999999", *cat_ubigeo], 6)
    poner("UBIGEO", ubigeos[np.where(lin.geo == -1, 0, np.where(lin.geo == -2, 1, lin.geo + 2))])
    poner("PART_NANDI", _numero(np.array([int(p) for p in NANDINAS]), 10)[lin.prod])
    poner("CPAIDES", _tabla_texto(lin.paises, 2)[lin.pais])
    poner("CPUEDES", _tabla_texto(lin.puertos, 5)[lin.puerto])
    poner("CVIATRA", _tabla_texto(VIAS, 1)[lin.via])
    poner("VFOBSERDOL", _numero(lin.centimos, 15, 2))
    poner("VPESNET", _numero(lin.peso_g, 15, 3))
    poner("VPESBRU", _numero(lin.bruto_g, 15, 3))
    poner("QUNIFIS", _numero(lin.cantidad_m, 15, 3))
    poner("TUNIFIS", _tabla_texto(lin.unidades, 3)[lin.unidad])
    poner("DCOM", _tabla_texto([PRODUCTOS[p].descripcion for p in NANDINAS], 60)[lin.prod])
    poner("CAGE", _numero(lin.agente, 4))

    # dirt: written over the clean rendering
    a, w = _POS["VFOBSERDOL"]
    r[lin.sucio == _SUCIO["no_numerico"], a:a + w] = ord("*")  # numeric overflow as dBase writes it
    a, w = _POS["FNUM"]
    for i in np.flatnonzero(lin.sucio == _SUCIO["fecha_imposible"]):
        r[i, a:a + w] = np.frombuffer(f"{lin.anio}0231".encode(), dtype=np.uint8)
    a, w = _POS["PART_NANDI"]
    for i in np.flatnonzero(lin.sucio == _SUCIO["nandina_no_digito"]):
        texto = _nandina_con_letra(NANDINAS[lin.prod[i]]).lstrip("0").rjust(w)
        r[i, a:a + w] = np.frombuffer(texto.encode(), dtype=np.uint8)
    return r


def _nandina_con_letra(nandina: str) -> str:
    """The NANDINA with its 6th digit replaced by a letter: ``0804400000`` → ``08044A0000``."""
    return nandina[:5] + "A" + nandina[6:]


def _cabecera_dbf(n_registros: int, fecha: tuple[int, int, int]) -> bytes:
    """dBase III header: version 0x03, last update, record count, header and record length, no code page."""
    largo = 32 + 32 * len(CAMPOS_DBF) + 1
    h = struct.pack("<BBBBIHH20x", 0x03, fecha[0] - 1900, fecha[1], fecha[2], n_registros, largo, LONGITUD_REGISTRO)
    campos = b"".join(
        struct.pack("<11sc4xBB14x", nombre.encode("ascii"), tipo.encode("ascii"), largo_c, dec)
        for nombre, tipo, largo_c, dec in CAMPOS_DBF
    )
    return h + campos + b"\r"


def bytes_dbf(registros: np.ndarray, arch: Archivo) -> bytes:
    """The whole DBF of a weekly file: header, live records with the deleted ones inserted, EOF 0x1A."""
    filas = registros[arch.filas]
    if arch.borrados:
        extra = np.empty((len(arch.borrados), LONGITUD_REGISTRO), dtype=np.uint8)
        posiciones = []
        for j, (p, b) in enumerate(arch.borrados):
            if isinstance(b, int):
                extra[j] = registros[b]
                a, w = _POS["VFOBSERDOL"]
                texto = bytes(extra[j, a:a + w]).decode("ascii").strip()
                # the older version declared another FOB
                previo = int(round(float(texto) * 100 * 1.07)) + 137 if texto.replace(".", "").isdigit() else 13_700
                extra[j, a:a + w] = _numero(np.array([previo]), w, 2)[0]
            else:
                extra[j, 1:] = np.frombuffer(b, dtype=np.uint8)
            extra[j, 0] = ord("*")
            posiciones.append(p)
        filas = np.insert(filas, np.array(posiciones), extra, axis=0)
    return _cabecera_dbf(len(filas), arch.fecha) + filas.tobytes() + b"\x1a"


# --------------------------------------------------------------------------------------------------------
# Rendering: pipe lines
# --------------------------------------------------------------------------------------------------------


def _texto_decimal(valores: np.ndarray, decimales: int) -> pa.Array:
    v = np.asarray(valores, dtype=np.int64)
    escala = 10**decimales
    q, r = np.divmod(np.abs(v), escala)
    entero = pc.cast(pa.array(q), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(r), pa.string()), decimales, "0")
    signo = pa.array(np.where(v < 0, "-", ""))
    return pc.binary_join_element_wise(signo, entero, pa.scalar("."), frac, "").cast(pa.string())


def lineas_pipe(lin: Lineas, cat_ubigeo, filas: np.ndarray) -> list[bytes]:
    """The pipe lines (latin-1, no end of line) of ``filas`` in order; dirty lines carry their dirt."""
    def tabla(textos) -> pa.Array:
        return pa.array([t.encode("latin-1") for t in textos], type=pa.binary())

    def tomar(t: pa.Array, codigos: np.ndarray) -> pa.Array:
        return t.take(pa.array(np.asarray(codigos, dtype=np.int64)))

    def texto(a) -> pa.Array:
        return pc.cast(a, pa.string()).cast(pa.binary())

    f = np.asarray(filas, dtype=np.int64)
    sucio = lin.sucio[f]
    geo = lin.geo[f]
    n = len(f)
    fob = texto(_texto_decimal(lin.centimos[f], 2))
    fob = pc.if_else(pa.array(sucio == _SUCIO["no_numerico"]), pa.scalar(b"abc"), fob)
    fnum = lin.fnum()[f]
    fnum_txt = texto(pa.array(fnum))
    fnum_txt = pc.if_else(pa.array(sucio == _SUCIO["fecha_imposible"]), pa.scalar(f"{lin.anio}0231".encode()), fnum_txt)
    cnan_tabla = tabla([f"{p[:4]}.{p[4:6]}.{p[6:8]}.{p[8:]}" for p in NANDINAS])
    cnan = tomar(cnan_tabla, lin.prod[f])
    malas = np.flatnonzero(sucio == _SUCIO["nandina_no_digito"])
    if len(malas):
        reemplazo = [_nandina_con_letra(NANDINAS[lin.prod[f[i]]]) for i in malas]
        reemplazo = [f"{p[:4]}.{p[4:6]}.{p[6:8]}.{p[8:]}".encode() for p in reemplazo]
        mascara = np.zeros(n, dtype=bool)
        mascara[malas] = True
        cnan = pc.replace_with_mask(cnan, pa.array(mascara), pa.array(reemplazo, type=pa.binary()))
    ubigeos = tabla(["      ", "999999", *cat_ubigeo])
    cols = [
        pa.repeat(pa.scalar(REGIMEN.encode("latin-1"), pa.binary()), n),
        tomar(tabla(ADUANAS), lin.cadu[f]),
        pa.repeat(pa.scalar(str(lin.anio).encode(), pa.binary()), n),
        texto(pc.utf8_lpad(pc.cast(pa.array(lin.ndcl[f]), pa.string()), 6, "0")),
        texto(pa.array(lin.nser[f])),
        fnum_txt,
        texto(pa.array(lin.femb[f])),
        texto(pa.array(lin.freg[f])),
        texto(pa.array(lin.rucs[lin.exportador[f]])),
        tomar(tabla(lin.nombres), lin.exportador[f]),
        tomar(ubigeos, np.where(geo == -1, 0, np.where(geo == -2, 1, geo + 2))),
        cnan,
        tomar(tabla(lin.paises), lin.pais[f]),
        fob,
        texto(_texto_decimal(lin.peso_g[f], 3)),
        tomar(tabla(lin.unidades), lin.unidad[f]),
        texto(_texto_decimal(lin.cantidad_m[f], 3)),
    ]
    unidas = pc.binary_join_element_wise(*cols, pa.scalar(b"|", pa.binary())).to_pylist()
    for j, i in enumerate(np.flatnonzero(sucio == _SUCIO["campos_errados"])):
        partes = unidas[i].split(b"|")
        if j % 2 == 0:  # a name with the delimiter inside: one field too many
            partes[9] = partes[9][:12].rstrip() + b" | " + partes[9][12:].lstrip()
            unidas[i] = b"|".join(partes)
        else:  # a line cut before its last field: one field too few
            unidas[i] = b"|".join(partes[:-1])
    return unidas


# --------------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------------


def escribir_anio(uni: Universo, out_dir: Path, anio: int) -> list[Path]:
    """Write the export files of one year under ``out_dir/aduanas/<anio>/``; returns their paths."""
    plan = planificar(uni, anio)
    lin = plan.lineas
    carpeta = Path(out_dir) / "aduanas" / str(anio)
    carpeta.mkdir(parents=True, exist_ok=True)
    rutas = []
    registros = None
    for arch in plan.archivos:
        if arch.formato == "dbf":
            if registros is None:
                registros = _registros(lin, uni.cat.ubigeo)
            ruta = carpeta / f"{arch.nombre}.zip"
            info = zipfile.ZipInfo(f"{arch.nombre.upper()}.DBF", date_time=(*arch.fecha, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with zipfile.ZipFile(ruta, "w", compresslevel=NIVEL_ZIP) as zf:
                zf.writestr(info, bytes_dbf(registros, arch), compresslevel=NIVEL_ZIP)
        else:
            ruta = carpeta / arch.nombre
            lineas = lineas_pipe(lin, uni.cat.ubigeo, arch.filas)
            with open(ruta, "wb") as f:
                f.write(CABECERA_PIPE.encode("ascii") + b"\n")
                f.write(b"\n".join(lineas))
                f.write(b"\n")
        rutas.append(ruta)
    return rutas


def escribir_aduanas(uni: Universo, out_dir: Path, anios=ANIOS_ADUANAS) -> list[Path]:
    """Write the customs export files of ``anios`` ∩ 2021–2024 under ``out_dir/aduanas/<año>/``.

    ``uni`` is the firm population of the other SUNAT files (its seed and scale decide everything here);
    ``scale="real"`` writes the national exports.
    """
    rutas: list[Path] = []
    for anio in sorted(set(int(a) for a in anios)):
        if anio in ANIOS_ADUANAS:
            rutas.extend(escribir_anio(uni, out_dir, anio))
    return rutas


__all__ = [
    "ANIOS_ADUANAS",
    "CABECERA_PIPE",
    "CAMPOS_DBF",
    "FORMATO_ANIO",
    "LINEAS_NACIONAL",
    "LINEAS_NO_ISO",
    "NANDINAS",
    "NO_ISO",
    "PRODUCTOS",
    "REPETICION_ADUANAS",
    "RUC_AUSENTES",
    "SUCIEDAD_ADUANAS",
    "TIPOS_SUCIEDAD",
    "calibrar_aduanas",
    "conteo_aduanas",
    "conteo_plan",
    "departamentos_territorio",
    "escribir_aduanas",
    "escribir_anio",
    "figuras",
    "nombre_exportador",
    "planificar",
]
