"""Synthetic SUNAT definitive-export lines (``aduanas/<año>/``), calibrated to the published export figures.

Two deliveries of the same kind of line (docs/sources.md#aduanas-semanales,
docs/sources.md#aduanas-entrega-produce), one per year of the report's window:

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
  department × NANDINA × destination: a plausible seed (:data:`DEPARTMENT_MIX` × :data:`DESTINATIONS`) is
  raked until its department, destination and class-0729 margins equal the targets, each department's cents
  are apportioned exactly over its cells, and each cell's cents over its lines (the last line of a cell takes
  the remainder). Totals and department figures are exact to the cent; destination and class figures are
  within a few cents of their targets (cells are rounded inside departments), i.e. at the centre of their
  print-rounding interval. Destinations the publication does not give keep the seed's mix, capped below the
  last ranked one (:data:`OTHER_DESTINATIONS_CAP`). The rest of Peru and the lines without ubigeo are
  department × NANDINA cells (exact cents too) whose lines draw their destination from :data:`DESTINATIONS`;
  the non-ISO SUNAT country codes sit on a few small lines outside the territory.
* **National in scope.** Every department exports; mining concentrates leave through Matarani, Callao, Ilo
  and Chimbote, gold by air, agro exports in season, textiles by road to the neighbours. A share of the FOB
  has a blank or ``999999`` ubigeo (Peru's total only).
* **Exporters from the firm population.** RUC-20 firms of :class:`~.padron.Universe` that are formal in every
  year of the window: mining operators and traders domiciled in Lima (the fiscal-domicile view of the mining
  departments is nearly empty), agro, fishing and manufacturing exporters from the production department or
  from Lima/Callao; a few RUCs absent from the register. Names carry Ñ and accents (cp850 in the DBFs, latin-1
  in the pipe files), stable by RUC.
* **Dirt in known counts** (:data:`ADUANAS_DIRT`): negative FOB, non-numeric FOB (``*****`` overflow in a
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

from .calibration import (
    CALIBRATION_SCALE,
    _published,
    _published_by_category,
    _published_cache,
    read_reference,
    rounds_to,
)
from .padron import ZIP_LEVEL, Universe, reserved_rucs

#: The report's window: the years that get export files (``write_sample`` may ask for more).
ADUANAS_YEARS = (2021, 2022, 2023, 2024)
#: Delivery of each year: Aduanet weekly DBF zips or the administrative pipe file.
YEAR_FORMAT = {2021: "pipe", 2022: "dbf", 2023: "pipe", 2024: "dbf"}
#: A DBF year that also gets its December lines as a pipe delivery (``exportaciones_<año>_12.txt``).
PIPE_DECEMBER_YEAR = 2024

REGIME = "Exportación Definitiva"
PIPE_HEADER = (
    "regimen|cadu|fano|ndcl|nser|fnum|femb|freg|ndoc|dnombre|ubigeo|cnan|cpaides|vfobserdol|vpesnet|tunifis|qunifis"
)

#: Aduanet export DBF fields in the real files' order (the 44 names of docs/sources.md#aduanas-semanales, from a project
#: that parsed the real weekly files); the lengths of the fields the pipeline does not read are plausible choices,
#: and those fields stay blank. (name, type, length, decimals)
DBF_FIELDS = (
    ("CADU", "C", 3, 0),
    ("FANO", "C", 4, 0),
    ("NDCL", "C", 6, 0),
    ("FNUM", "D", 8, 0),
    ("FEMB", "D", 8, 0),
    ("FECH_RECEP", "D", 8, 0),
    ("NDCLREG", "C", 6, 0),
    ("FREG", "D", 8, 0),
    ("FANOREG", "C", 4, 0),
    ("CAGE", "C", 4, 0),
    ("TDOC", "C", 1, 0),
    ("NDOC", "C", 11, 0),
    ("DNOMBRE", "C", 60, 0),
    ("CPAIDES", "C", 2, 0),
    ("CPUEDES", "C", 5, 0),
    ("CVIATRA", "C", 1, 0),
    ("CUNITRA", "C", 1, 0),
    ("CEMPTRA", "C", 4, 0),
    ("DMAT", "C", 20, 0),
    ("NCON", "C", 20, 0),
    ("CENTFIN", "C", 3, 0),
    ("CALM", "C", 4, 0),
    ("DNOMPRO", "C", 60, 0),
    ("DDIRPRO", "C", 60, 0),
    ("DK", "C", 1, 0),
    ("DK2", "C", 1, 0),
    ("NSER", "N", 4, 0),
    ("PART_NANDI", "N", 10, 0),
    ("DCOM", "C", 60, 0),
    ("DMER2", "C", 60, 0),
    ("DMER3", "C", 60, 0),
    ("DMER4", "C", 60, 0),
    ("DMER5", "C", 60, 0),
    ("CEST", "C", 2, 0),
    ("VFOBSERDOL", "N", 15, 2),
    ("VPESNET", "N", 15, 3),
    ("VPESBRU", "N", 15, 3),
    ("QUNIFIS", "N", 15, 3),
    ("TUNIFIS", "C", 3, 0),
    ("QUNICOM", "N", 15, 3),
    ("TUNICOM", "C", 3, 0),
    ("UBIGEO", "C", 6, 0),
    ("DNOMCON", "C", 60, 0),
    ("DDIRCON", "C", 60, 0),
)
RECORD_LENGTH = 1 + sum(c[2] for c in DBF_FIELDS)
_POS = {}
_p = 1
for _c in DBF_FIELDS:
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
    usd_line: float
    unidad: str = "KG"  # TUNIFIS
    kg_per_unit: float = 1.0  # kg per physical unit when unidad != KG
    air: float = 0.0  # share of the series shipped by air (Aduana Aérea del Callao)


PRODUCTS: dict[str, Producto] = {
    # ores and concentrates: class 0729 (2603–2617 except 2612); iron ore is 0710
    "2603000000": Producto("CONCENTRADO DE COBRE", "mineria", 2.6, 6_000_000),
    "2608000010": Producto("CONCENTRADO DE ZINC", "mineria", 1.1, 2_000_000),
    "2607000000": Producto("CONCENTRADO DE PLOMO CON CONTENIDO DE PLATA", "mineria", 1.8, 1_500_000),
    "2613100000": Producto("CONCENTRADO DE MOLIBDENO TOSTADO", "mineria", 40.0, 2_500_000),
    "2616100000": Producto("MINERAL DE PLATA Y SUS CONCENTRADOS", "mineria", 8.0, 1_500_000),
    "2616901000": Producto("MINERAL DE ORO Y SUS CONCENTRADOS", "mineria", 20.0, 1_200_000),
    "2601110000": Producto("MINERAL DE HIERRO SIN AGLOMERAR", "mineria", 0.11, 5_000_000),
    # metals: class 2420
    "7108120000": Producto("ORO EN BRUTO (BULLÓN DORÉ)", "metal", 70_000.0, 1_500_000, air=1.0),
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
    "0810400000": Producto("ARÁNDANOS FRESCOS", "agro", 6.5, 60_000, air=0.15),
    "0709200000": Producto("ESPÁRRAGOS FRESCOS O REFRIGERADOS", "agro", 3.8, 25_000, air=0.6),
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
    "3004902900": Producto("MEDICAMENTOS PARA USO HUMANO DOSIFICADOS", "manufactura", 30.0, 15_000, air=0.5),
    "4407290000": Producto("MADERA ASERRADA TROPICAL", "manufactura", 0.9, 30_000),
    # hydrocarbons
    "2711110000": Producto("GAS NATURAL LICUADO", "hidrocarburo", 0.45, 25_000_000),
    "2709000000": Producto("ACEITES CRUDOS DE PETRÓLEO", "hidrocarburo", 0.5, 10_000_000),
    # NANDINA codes of no HS subheading (chapter 98, special treatment): `sin_clasificar`, tiny FOB
    "9801000000": Producto("ENVÍOS DE SOCORRO Y DONACIONES", "especial", 5.0, 80_000),
    "9810000000": Producto("MUESTRAS SIN VALOR COMERCIAL", "especial", 5.0, 60_000),
}
NANDINAS = tuple(PRODUCTS)

#: Destination mix of each product (relative weights, ISO codes). Territory lines are cells with an exact
#: destination; the other lines draw theirs from this mix.
_GENERIC = {
    "US": 30,
    "CL": 12,
    "EC": 10,
    "CO": 10,
    "BO": 8,
    "MX": 5,
    "BR": 4,
    "AR": 3,
    "ES": 3,
    "PA": 2,
    "GT": 2,
    "CR": 1.5,
    "DO": 1,
    "CA": 2,
    "DE": 1,
    "GB": 1,
    "FR": 1,
    "IT": 1,
}
DESTINATIONS: dict[str, dict[str, float]] = {
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
    "0901119000": {
        "US": 26,
        "DE": 21,
        "BE": 15,
        "CA": 7,
        "SE": 5,
        "GB": 5,
        "KR": 3,
        "JP": 3,
        "NL": 4,
        "FR": 4,
        "IT": 2,
        "AU": 2,
    },
    "1801001900": {"NL": 30, "BE": 20, "IT": 15, "US": 10, "DE": 8, "ES": 6, "MY": 5, "MX": 6},
    "0804400000": {"NL": 35, "ES": 20, "US": 20, "GB": 8, "CL": 5, "CN": 3, "JP": 2, "HK": 2, "CA": 3, "FR": 2},
    "0806100000": {
        "US": 35,
        "NL": 12,
        "CN": 10,
        "HK": 8,
        "MX": 6,
        "GB": 6,
        "CA": 5,
        "TH": 5,
        "KR": 4,
        "TW": 4,
        "RU": 3,
        "ID": 2,
    },
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
    "3920100000": _GENERIC,
    "2523290000": {"CL": 40, "BO": 20, "US": 20, "EC": 10, "CO": 10},
    "1905310000": _GENERIC,
    "2203000000": {"CL": 30, "US": 20, "BO": 15, "EC": 15, "ES": 10, "CO": 10},
    "4818100000": {"BO": 30, "EC": 25, "CL": 20, "CO": 15, "US": 10},
    "3004902900": {"EC": 25, "BO": 20, "CO": 15, "VE": 15, "CL": 10, "PA": 10, "GT": 5},
    "4407290000": {"CN": 35, "MX": 20, "DO": 15, "US": 15, "FR": 10, "BE": 5},
    "2711110000": {"ES": 30, "JP": 20, "KR": 15, "CN": 15, "FR": 10, "GB": 10},
    "2709000000": {"US": 50, "CL": 20, "PA": 15, "CN": 15},
    "9801000000": _GENERIC,
    "9810000000": _GENERIC,
}
#: SUNAT codes that are not ISO 3166-1 alpha-2, and the country (or ``ZZ``: no country) they stand for
#: (docs/sources.md#aduanas-codigos; ``UM`` is ISO — US Minor Outlying Islands — but SUNAT uses it for the United
#: States). Planted on a few small lines outside the territory (:data:`NON_ISO_LINES`), never in the territory.
NON_ISO = {"FX": "FR", "AN": "NL", "1G": "GB", "1M": "DE", "1K": "CI", "99": "ZZ", "YU": "ZZ", "1C": "ZZ", "": "ZZ"}
#: Lines per year carrying each code of ``NON_ISO``, by scale (chosen among the smaller non-mining lines).
NON_ISO_LINES = {"national": 6, "small": 1}

#: Product mix (relative FOB weights) by department of origin; ``"sin"`` = lines without a usable ubigeo.
#: The territory's mining departments are dominated by copper concentrate (Apurímac, Cusco, Junín), Ayacucho
#: and Huancavelica by gold, zinc, lead and silver; coffee and cocoa come from the valleys.
DEPARTMENT_MIX: dict[str, dict[str, float]] = {
    "01": {"0901119000": 70, "1801001900": 20, "1008509000": 5, "6109100031": 5},
    "02": {
        "2603000000": 55,
        "2608000010": 25,
        "2613100000": 5,
        "2607000000": 4,
        "2301201100": 6,
        "1504201000": 2,
        "0709200000": 2,
        "0804400000": 1,
    },
    "03": {
        "2603000000": 95,
        "2613100000": 2.5,
        "7108120000": 1.2,
        "2616901000": 0.8,
        "0804400000": 0.6,
        "1008509000": 0.1,
    },
    "04": {
        "2603000000": 78,
        "7108120000": 7,
        "2613100000": 4,
        "2616100000": 1,
        "0804400000": 2,
        "0904211090": 2,
        "5105391000": 2,
        "2005700000": 1,
        "1008509000": 1,
        "2523290000": 2,
    },
    "05": {
        "7108120000": 45,
        "2608000010": 14,
        "2607000000": 10,
        "2616100000": 10,
        "2603000000": 5,
        "0804400000": 7,
        "1801001900": 3,
        "0901119000": 3,
        "1008509000": 3,
    },
    "06": {"7108120000": 70, "2603000000": 20, "0901119000": 9, "0709200000": 1},
    "07": {
        "6109100031": 12,
        "6110200090": 8,
        "3920100000": 15,
        "1905310000": 10,
        "2203000000": 8,
        "4818100000": 12,
        "3004902900": 10,
        "2301201100": 10,
        "0307430000": 5,
        "7408110000": 10,
    },
    "08": {
        "2603000000": 84,
        "7108120000": 4,
        "2613100000": 1.5,
        "2616901000": 1,
        "0901119000": 5,
        "1801001900": 2,
        "1008509000": 0.5,
        "5105391000": 0.5,
    },
    "09": {
        "2608000010": 26,
        "2607000000": 20,
        "2616100000": 12,
        "2603000000": 12,
        "7108120000": 22,
        "2616901000": 6,
        "5105391000": 1,
        "1008509000": 1,
    },
    "10": {"2608000010": 40, "0901119000": 30, "1801001900": 30},
    "11": {
        "0806100000": 25,
        "0709200000": 12,
        "0804400000": 8,
        "8001100000": 10,
        "2601110000": 25,
        "0810400000": 5,
        "2301201100": 10,
        "1504201000": 3,
        "0904211090": 2,
    },
    "12": {
        "2603000000": 64,
        "2608000010": 10,
        "2607000000": 4,
        "2616100000": 2,
        "2613100000": 1.5,
        "7403110000": 3,
        "7108120000": 3,
        "0901119000": 8,
        "1801001900": 1.5,
        "0910110000": 1.5,
        "0804400000": 0.5,
        "1008509000": 0.5,
        "6110200090": 0.5,
    },
    "13": {
        "7108120000": 35,
        "0810400000": 20,
        "0709200000": 12,
        "0804400000": 10,
        "2301201100": 6,
        "2603000000": 5,
        "0806100000": 6,
        "6109100031": 3,
        "0804502000": 3,
    },
    "14": {"0804400000": 25, "0810400000": 20, "0904211090": 15, "0804502000": 20, "0709200000": 10, "1905310000": 10},
    "15": {
        "2711110000": 14,
        "7901120000": 12,
        "7408110000": 6,
        "7106911000": 6,
        "6109100031": 9,
        "6110200090": 5,
        "3920100000": 8,
        "1905310000": 5,
        "2203000000": 4,
        "4818100000": 5,
        "3004902900": 6,
        "2301201100": 6,
        "0805211000": 5,
        "0804400000": 3,
        "2523290000": 2,
        "0306179900": 1,
        "9801000000": 0.05,
        "9810000000": 0.05,
    },
    "16": {"2709000000": 70, "4407290000": 20, "1801001900": 10},
    "17": {"7108120000": 75, "0801220000": 20, "4407290000": 5},
    "18": {"2603000000": 68, "7403110000": 17, "2613100000": 6, "7108120000": 3, "0804400000": 3, "2005700000": 3},
    "19": {"2608000010": 45, "2607000000": 25, "2616100000": 15, "2603000000": 10, "0901119000": 5},
    "20": {
        "0806100000": 20,
        "0804502000": 15,
        "2301201100": 20,
        "0803901100": 10,
        "0307430000": 15,
        "2709000000": 10,
        "0810400000": 5,
        "1504201000": 5,
    },
    "21": {"7108120000": 70, "5105391000": 10, "2616901000": 10, "0901119000": 5, "1008509000": 5},
    "22": {"0901119000": 45, "1801001900": 35, "1511100000": 12, "0803901100": 8},
    "23": {"2603000000": 62, "7403110000": 20, "2613100000": 8, "2005700000": 6, "0804400000": 4},
    "24": {"0306179900": 70, "0803901100": 10, "0307430000": 20},
    "25": {"1511100000": 40, "4407290000": 35, "1801001900": 25},
    "sin": {
        "6109100031": 10,
        "3920100000": 8,
        "1905310000": 6,
        "7108120000": 15,
        "2603000000": 15,
        "2301201100": 10,
        "0806100000": 6,
        "0810400000": 6,
        "0804400000": 6,
        "0901119000": 6,
        "2608000010": 6,
        "9801000000": 0.1,
        "9810000000": 0.1,
    },
}
#: Weights of the departments outside the territory in their FOB (Áncash, Arequipa and Lima lead; the
#: southern copper mines, La Libertad's gold and berries, Ica's grapes and iron ore follow). The territory's
#: departments have a weight too, used only if a territory file leaves them out.
EXPORTER_DEPARTMENT_WEIGHT: dict[str, float] = {
    "02": 13.5,
    "04": 13.0,
    "15": 13.0,
    "13": 8.5,
    "18": 7.5,
    "11": 7.0,
    "23": 5.5,
    "20": 5.0,
    "07": 4.0,
    "06": 3.5,
    "19": 2.5,
    "21": 2.0,
    "14": 1.8,
    "22": 1.6,
    "17": 1.3,
    "24": 0.8,
    "16": 0.6,
    "25": 0.5,
    "10": 0.4,
    "01": 0.4,
    "03": 1.0,
    "05": 1.0,
    "08": 1.0,
    "09": 1.0,
    "12": 1.0,
}
#: Share of national FOB declared without a usable ubigeo (blank or 999999): Peru's total, no department.
NO_UBIGEO_PCT = 2.3
#: Of those lines, the share written ``999999`` (the rest blank).
NO_UBIGEO_999999 = 0.4

# ---- territory targets besides the published ones (all in % of the territory's FOB) ---------------------

#: Shares of the destinations the publication ranks 4th and 5th without giving their share (Corea del Sur,
#: Japón): below the 3rd and above every other destination.
FOLLOWERS_PCT = (2.9, 2.4)
#: Every other territory destination stays below this fraction of the last ranked one (the seed's mix,
#: capped), so that the published order holds whatever the product mix.
OTHER_DESTINATIONS_CAP = 0.85
#: Split of the territory departments without a published share (Ayacucho, Huancavelica): weights of what
#: the published three leave.
REST_DEPARTMENTS_SPLIT = {"05": 6.6, "09": 5.0}
#: Years before the published one: changes of the territory's FOB (%), its share of national FOB (%), and
#: shifts (percentage points) of the published shares. 2022: Las Bambas' road blockades and weaker copper.
TERRITORY_VAR_PCT = {2022: -2.4, 2023: 4.1}
NATIONAL_SHARE_PCT = {2021: 14.9, 2022: 13.7, 2023: 14.2}
DEPARTMENT_DRIFT_PP = {
    2021: {"03": -2.6, "12": 1.3, "08": 0.9},
    2022: {"03": -4.1, "12": 2.2, "08": 1.2},
    2023: {"03": -0.7, "12": 0.4, "08": 0.2},
}
DESTINATION_DRIFT_PP = {
    2021: {"CN": -2.6, "CH": 0.9, "IN": 0.4},
    2022: {"CN": -1.9, "CH": 0.6, "IN": 0.3},
    2023: {"CN": -0.5, "CH": 0.2, "IN": 0.1},
}
CLASS_DRIFT_PP = {2021: -1.2, 2022: -1.8, 2023: -0.4}

#: Live lines per year at national scale (~Peru's definitive-export series); ``small`` has a hundredth.
NATIONAL_LINES = {2021: 281_000, 2022: 296_000, 2023: 302_000, 2024: 318_000}
SCALE_DIVISOR = {"national": 1, "small": 100}

#: Planted dirt per year (each kind a separate line with a key of its own and a small FOB).
ADUANAS_DIRT = {
    "national": {"negativo": 6, "no_numerico": 5, "fecha_imposible": 4, "nandina_no_digito": 4, "campos_errados": 4},
    "small": {"negativo": 2, "no_numerico": 1, "fecha_imposible": 1, "nandina_no_digito": 1, "campos_errados": 2},
}
DIRT_KINDS = ("negativo", "no_numerico", "fecha_imposible", "nandina_no_digito", "campos_errados")
#: Weekly files delivered a second time on other days, deleted DBF records, and (pipe years) lines repeated
#: inside the delivery, per year.
ADUANAS_REPETITION = {
    "national": {"semanas_repetidas": 4, "borrados": 320, "repetidas_pipe": 25},
    "small": {"semanas_repetidas": 2, "borrados": 6, "repetidas_pipe": 3},
}
#: Share of deleted records that are an older version of a live line (same key, other FOB); the rest garbage.
DELETED_COPY_SHARE = 0.6
#: Lines whose exporter RUC is absent from the register, per year, and how many such RUCs.
ABSENT_RUCS = {"national": (80, 8), "small": (3, 2)}
#: Reserved RUC block (see ``padron.reserved_rucs``) of the exporters absent from the register.
ABSENT_RUC_BLOCK = 100

# ---- logistics -----------------------------------------------------------------------------------------

#: Maritime customs office by department of origin (Matarani/Mollendo 145 for the southern mines, Ilo 163,
#: Chimbote 091, Salaverry 082, Paita 046, Pisco 127, Tumbes 019, Iquitos 226, else Callao 118).
CUSTOMS_SEA = {
    "03": "145",
    "08": "145",
    "04": "145",
    "21": "145",
    "18": "163",
    "23": "163",
    "02": "091",
    "13": "082",
    "20": "046",
    "06": "046",
    "01": "046",
    "22": "046",
    "14": "055",
    "11": "127",
    "24": "019",
    "16": "226",
}
CUSTOMS_CALLAO, CUSTOMS_AIR = "118", "235"
#: Road exports to the neighbours: customs office at the border.
CUSTOMS_LAND = {"EC": "019", "CL": "172", "BO": "262"}
ROAD_GROUPS = ("manufactura", "agro")
CUSTOMS_OFFICES = ("019", "046", "055", "082", "091", "118", "127", "145", "163", "172", "226", "235", "262")
TRANSPORT_MODES = ("1", "4", "7")  # CVIATRA: sea, air, road
PORTS = {
    "CN": ("CNSHA", "CNQDG", "CNNGB", "CNTXG", "CNLYG"),
    "JP": ("JPTYO", "JPOSA", "JPNGO"),
    "KR": ("KRPUS", "KRINC"),
    "IN": ("INMAA", "INBOM", "INNSA"),
    "CH": ("CHZRH", "CHGVA"),
    "US": ("USMIA", "USLAX", "USNYC", "USPHL", "USHOU"),
    "CA": ("CAVAN", "CATOR", "CAMTR"),
    "DE": ("DEHAM", "DEBRV"),
    "NL": ("NLRTM",),
    "BE": ("BEANR",),
    "ES": ("ESVLC", "ESALG", "ESBCN"),
    "IT": ("ITGOA", "ITLIV"),
    "GB": ("GBFXT", "GBLGP"),
    "FR": ("FRLEH",),
    "CL": ("CLSAI", "CLVAP", "CLARI"),
    "EC": ("ECGYE",),
    "CO": ("COBUN", "COCTG"),
    "BO": ("BOLPB",),
    "BR": ("BRSSZ", "BRRIG"),
    "MX": ("MXZLO", "MXMZT"),
    "BG": ("BGBOJ",),
    "FI": ("FIHMN",),
    "PH": ("PHMNL",),
}
PRODUCT_MONTHS = {  # month weights (Jan…Dec) of seasonal products; the rest ship all year
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
_GROUPS = ("mineria", "metal", "hidrocarburo", "agro", "pesca", "manufactura", "especial")  # mining-like first
_PRODUCT_GROUP = np.array([_GROUPS.index(p.grupo) for p in PRODUCTS.values()])

# ---- exporter names --------------------------------------------------------------------------------------

_TEMPLATES = {
    "minero": (
        "COMPAÑÍA MINERA {a} S.A.",
        "MINERA {a} S.A.A.",
        "SOCIEDAD MINERA {a} S.A.",
        "{a} MINING COMPANY S.A.C.",
        "MINERA {a} {b} S.A.C.",
        "EMPRESA MINERA {a} S.A.",
    ),
    "comercializadora": ("{a} TRADING PERÚ S.A.C.", "COMERCIALIZADORA DE MINERALES {a} S.A.C.", "{a} METALES S.A."),
    "agro": (
        "AGRÍCOLA {a} S.A.C.",
        "AGROEXPORTADORA {a} S.A.C.",
        "COOPERATIVA AGRARIA CAFETALERA {a} LTDA.",
        "FUNDO {a} S.A.C.",
        "AGRO {a} E.I.R.L.",
        "CORPORACIÓN AGRÍCOLA {a} {b} S.A.C.",
    ),
    "pesca": ("PESQUERA {a} S.A.C.", "CORPORACIÓN PESQUERA {a} S.A.", "{a} SEAFOODS PERÚ S.A.C."),
    "manufactura": (
        "INDUSTRIAS {a} S.A.C.",
        "TEXTIL {a} S.A.",
        "CORPORACIÓN {a} {b} S.A.C.",
        "FÁBRICA DE {p} {a} S.A.C.",
        "NEGOCIACIONES {a} S.R.L.",
    ),
    "comercio": ("CORPORACIÓN {a} S.A.C.", "{a} EXPORT S.A.C.", "INVERSIONES {a} {b} S.A.C.", "NEGOCIOS {a} E.I.R.L."),
}
_WORDS_A = (
    "ANDINA",
    "SEÑOR DE HUANCA",
    "SANTA ROSA",
    "LOS ÁNGELES",
    "PEÑA BLANCA",
    "CHANCHAMAYO",
    "ACOBAMBA",
    "QUISPICANCHI",
    "MUÑANI",
    "VIRÚ",
    "OLMOS",
    "CHAVÍN",
    "COLQUIJIRCA",
    "SAN JOSÉ",
    "MONTAÑA VERDE",
    "CORDILLERA",
    "LOS ANDES",
    "PACÍFICO SUR",
    "ALTO PERÚ",
    "CÓNDOR",
    "YANQUE",
    "ÑAUPA",
    "EL PIÑAL",
    "HUAMANGA",
    "PICHARI",
    "KIMBIRI",
    "AYMARÁ",
    "TÚPAC",
    "INTI",
    "QORI",
    "CHALHUANCA",
    "PAMPAS",
    "TAMBO",
    "URUBAMBA",
    "SAÑO",
    "ACHAMAYO",
    "HUAYTAPALLANA",
    "PARIACACA",
    "COTAHUASI",
    "MARAÑÓN",
    "ORIÓN",
    "LA CANTUTA",
    "NIÑO JESÚS",
    "SAN CRISTÓBAL",
    "BELÉN",
    "CRUZ DEL SUR",
    "NUEVA ESPERANZA",
    "SOL DE ORO",
    "AGUA DULCE",
    "PUÑUN",
    "CORIHUASI",
    "ILLIMANI",
    "SALKANTAY",
    "VILCANOTA",
    "ÁNCASH",
)
_WORDS_B = ("DEL SUR", "DEL CENTRO", "DEL NORTE", "PERÚ", "ANDES", "INTERNACIONAL", "GLOBAL", "HERMANOS")
_WORDS_P = ("CONFECCIONES", "ENVASES", "PLÁSTICOS", "CALZADO", "TEJIDOS", "CONSERVAS")
_SECTOR_TO_KIND = {"agropecuario": "agro", "pesca": "pesca", "manufactura": "manufactura"}


def exporter_name(ruc: int, tipo: str) -> str:
    """A company name with Ñ and accents, a function of the RUC and the kind of exporter only (stable across years)."""
    h = (int(ruc) * 2_654_435_761) % (1 << 32)
    templates = _TEMPLATES[tipo]
    texto = templates[h % len(templates)].format(
        a=_WORDS_A[(h >> 4) % len(_WORDS_A)],
        b=_WORDS_B[(h >> 12) % len(_WORDS_B)],
        p=_WORDS_P[(h >> 16) % len(_WORDS_P)],
    )
    return texto[:60]


# --------------------------------------------------------------------------------------------------------
# Calibration: targets in cents per year
# --------------------------------------------------------------------------------------------------------


def _f(x) -> Fraction:
    return Fraction(Decimal(str(x)))


@dataclass(frozen=True)
class YearTarget:
    """Targets of one year, in cents (totals) and exact fractions of 100 (territory shares)."""

    anio: int
    territorio: int
    nacional: int
    without_ubigeo: int
    department_pct: dict[str, Fraction]
    destination_pct: dict[str, Fraction]  # published + followers; the other destinations follow the seed
    followers: tuple[str, ...]
    class_0729_pct: Fraction


@dataclass(frozen=True)
class AduanasCalibration:
    published_year: int
    territorio_departamentos: tuple[str, ...]
    destination_order: tuple[str, ...]
    anios: dict[int, YearTarget]


@lru_cache(maxsize=1)
def territory_departments() -> tuple[str, ...]:
    """The departments of the territory's districts (``vraem_distritos.csv``), sorted."""
    return tuple(sorted(set(read_reference("vraem_distritos.csv")["ubigeo"].str[:2])))


@lru_cache(maxsize=1)
def calibrate_aduanas() -> AduanasCalibration:
    """Per-year export targets: the published year from ``publicado_vraem_2024.csv``, earlier years from the
    published one and the named choices above. Independent of the scale (only the number of lines changes)."""
    pub_year, millones = _published("exportaciones_millones_usd")
    _, share = _published("exportaciones_participacion_nacional_pct")
    _, var = _published("exportaciones_var_anual_pct")
    destination_pub = _published_by_category("exportaciones_por_destino_pct")
    dept_pub = _published_by_category("exportaciones_por_departamento_pct")
    class_pub = _published_by_category("exportaciones_por_producto_pct")
    df = _published_cache()
    row = df[df["indicador"] == "exportaciones_destinos_principales_orden"]
    if len(row) != 1:
        raise ValueError("se esperaba una fila exportaciones_destinos_principales_orden")
    orden = tuple(row["categoria"].iloc[0].split(","))
    if set(class_pub) != {"0729"}:
        raise ValueError(f"clases publicadas inesperadas: {sorted(class_pub)}")
    if list(orden[: len(destination_pub)]) != sorted(destination_pub, key=lambda c: -destination_pub[c]):
        raise ValueError("el orden publicado de destinos no coincide con sus participaciones")
    followers = orden[len(destination_pub) :]
    if len(followers) != len(FOLLOWERS_PCT):
        raise ValueError("PCT_SEGUIDORES debe tener un valor por destino ordenado sin participación publicada")
    territorio = territory_departments()
    rest_depts = [d for d in territorio if d not in dept_pub]
    if set(rest_depts) != set(REST_DEPARTMENTS_SPLIT) or not set(dept_pub) <= set(territorio):
        raise ValueError(f"REPARTO_DEPARTAMENTOS_RESTO debe cubrir {rest_depts}")

    t_pub = int(millones * 1_000_000 * 100)
    totals = {pub_year: t_pub, pub_year - 1: round(Fraction(t_pub) / (1 + _f(var) / 100))}
    if not rounds_to(_var(totals[pub_year], totals[pub_year - 1]), var):
        raise ValueError("el año anterior no reproduce la variación publicada")
    for a in sorted(TERRITORY_VAR_PCT, reverse=True):
        totals[a - 1] = round(Fraction(totals[a]) / (1 + _f(TERRITORY_VAR_PCT[a]) / 100))
    anios = {}
    for a in ADUANAS_YEARS:
        t = totals[a]
        participacion = _f(share) if a == pub_year else _f(NATIONAL_SHARE_PCT[a])
        n = round(Fraction(t) * 100 / participacion)
        without = round(Fraction(n) * _f(NO_UBIGEO_PCT) / 100)
        drift_d = DEPARTMENT_DRIFT_PP.get(a, {})
        dept = {d: _f(v) + _f(drift_d.get(d, 0)) for d, v in dept_pub.items()}
        rest = 100 - sum(dept.values())
        w = sum(_f(x) for x in REST_DEPARTMENTS_SPLIT.values())
        dept |= {d: rest * _f(REST_DEPARTMENTS_SPLIT[d]) / w for d in rest_depts}
        drift_c = DESTINATION_DRIFT_PP.get(a, {})
        des = {c: _f(v) + _f(drift_c.get(c, 0)) for c, v in destination_pub.items()}
        des |= {c: _f(p) for c, p in zip(followers, FOLLOWERS_PCT, strict=True)}
        clase = _f(class_pub["0729"]) + _f(CLASS_DRIFT_PP.get(a, 0))
        anios[a] = YearTarget(a, t, n, without, dept, des, followers, clase)
    return AduanasCalibration(pub_year, territorio, orden, anios)


def _var(new: int, old: int) -> Fraction:
    return (Fraction(new, old) - 1) * 100


# --------------------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------------------


def _country_group(codigo: str) -> str:
    return NON_ISO.get(codigo, codigo)


@dataclass
class _Cells:
    dept: np.ndarray  # department code, "" = without ubigeo
    prod: np.ndarray  # index into NANDINAS
    pais: np.ndarray  # ISO code; SORTEO = each line draws its destination from DESTINOS
    amount_cents: np.ndarray  # int64


#: Destination of a cell whose lines draw their own (outside the territory no destination is calibrated).
DRAW = "--"


def _seed_cells(departamentos, with_destination: bool) -> tuple[list, list, list, list]:
    """Seed cells (department, product[, destination]) with weights: product mix × destination mix."""
    deps, prods, paises, weight_values = [], [], [], []
    for d in departamentos:
        mix = DEPARTMENT_MIX["sin" if d == "" else d]
        wm = sum(mix.values())
        for p, wp in mix.items():
            destinos = DESTINATIONS[p] if with_destination else {DRAW: 1.0}
            wd = sum(destinos.values())
            for c, wc in destinos.items():
                deps.append(d)
                prods.append(NANDINAS.index(p))
                paises.append(c)
                weight_values.append(wp / wm * wc / wd)
    return deps, prods, paises, weight_values


def _rake(w: np.ndarray, margins: list[tuple[np.ndarray, np.ndarray]], rounds: int = 5000) -> np.ndarray:
    """Iterative proportional fitting of cell weights ``w`` to each margin (group index per cell, target per
    group); raises when a target has no cell or the margins cannot all be met."""
    for idx, target in margins:
        if np.any((np.bincount(idx, weights=w, minlength=len(target)) == 0) & (target > 0)):
            raise ValueError("rastrillo: un objetivo positivo no tiene celdas")
    total = float(margins[0][1].sum())
    error = np.inf
    for _ in range(rounds):
        error = 0.0
        for idx, target in margins:
            s = np.bincount(idx, weights=w, minlength=len(target))
            error = max(error, float(np.max(np.abs(s - target))) / total)
            w = w * np.where(s > 0, target / np.where(s > 0, s, 1), 0.0)[idx]
        if error < 1e-13:
            return w
    raise ValueError(f"rastrillo sin convergencia (error relativo {error:.2e})")


def _capped(pct: np.ndarray, cap: float) -> np.ndarray:
    """Shares capped at ``tope``, what is cut spread over the uncapped ones in proportion (same sum)."""
    pct = np.asarray(pct, dtype=float).copy()
    capped = np.zeros(len(pct), dtype=bool)
    for _ in range(len(pct)):
        excess = pct > cap
        if not excess.any():
            return pct
        surplus = float((pct[excess] - cap).sum())
        pct[excess] = cap
        capped |= excess
        free_countries = ~capped
        if not free_countries.any():
            break
        pct[free_countries] += surplus * pct[free_countries] / pct[free_countries].sum()
    raise ValueError("tope de destinos imposible: demasiado poco que repartir")


def _split_total(total: int, weight_values: np.ndarray) -> np.ndarray:
    """Largest-remainder integers (int64) summing to ``total``, proportional to float ``pesos``."""
    weight_values = np.asarray(weight_values, dtype=float)
    quota = weight_values / weight_values.sum() * total
    base = np.floor(quota).astype(np.int64)
    rest = int(total - base.sum())
    if rest:
        orden = np.lexsort((np.arange(len(quota)), -weight_values, -(quota - base)))
        base[orden[:rest]] += 1
    return base


@lru_cache(maxsize=8)
def year_cells(anio: int) -> _Cells:
    """The year's cells with their exact cents: territory department × NANDINA × destination, raked to the
    targets; elsewhere department × NANDINA (destinations drawn per line), and the lines without ubigeo."""
    cal = calibrate_aduanas()
    obj = cal.anios[anio]
    terr = cal.territorio_departamentos

    deps, prods, paises, weight_values = _seed_cells(terr, True)
    deps_a, prods_a, weights_a = np.array(deps), np.array(prods), np.array(weight_values, dtype=float)
    total = float(obj.territorio)
    i_dep = np.searchsorted(np.array(terr), deps_a)
    obj_dep = np.array([float(obj.department_pct[d]) / 100 * total for d in terr])
    weights_a = weights_a * (obj_dep / np.bincount(i_dep, weights=weights_a))[i_dep]  # seed at the department targets
    fixed_destinations = [*obj.destination_pct]
    free_countries = sorted(set(paises) - set(fixed_destinations))
    codes = fixed_destinations + free_countries
    i_country = np.array([codes.index(c) for c in paises])
    country_seed = np.bincount(i_country, weights=weights_a, minlength=len(codes))
    rest = 100 - sum(obj.destination_pct.values())
    free_share = _capped(
        country_seed[len(fixed_destinations) :] / country_seed[len(fixed_destinations) :].sum() * float(rest),
        OTHER_DESTINATIONS_CAP * float(min(obj.destination_pct[c] for c in obj.followers)),
    )
    obj_country = np.concatenate([[float(obj.destination_pct[c]) for c in fixed_destinations], free_share])
    obj_country = obj_country / 100 * total
    is_0729 = np.array([_class_0729(NANDINAS[p]) for p in prods_a])
    obj_class = np.array([1 - float(obj.class_0729_pct) / 100, float(obj.class_0729_pct) / 100]) * total
    w = _rake(weights_a, [(i_dep, obj_dep), (i_country, obj_country), (is_0729.astype(np.int64), obj_class)])
    cent_dep = _exact_cents(obj.territorio, obj.department_pct, terr)
    cent = np.zeros(len(w), dtype=np.int64)
    for k, d in enumerate(terr):
        m = i_dep == k
        cent[m] = _split_total(cent_dep[d], w[m])

    other_ones = sorted(d for d in DEPARTMENT_MIX if d != "sin" and d not in terr)
    deps_o, prods_o, countries_o, weights_o = _seed_cells(other_ones, False)
    rest_total = obj.nacional - obj.territorio - obj.without_ubigeo
    cent_others = _split_total(rest_total, np.array([EXPORTER_DEPARTMENT_WEIGHT[d] for d in other_ones]))
    deps_o_a, weights_o_a = np.array(deps_o), np.array(weights_o, dtype=float)
    cent_o = np.zeros(len(deps_o), dtype=np.int64)
    for d, c in zip(other_ones, cent_others, strict=True):
        m = deps_o_a == d
        cent_o[m] = _split_total(int(c), weights_o_a[m])
    deps_s, prods_s, countries_s, weights_s = _seed_cells([""], False)
    cent_s = _split_total(obj.without_ubigeo, np.array(weights_s, dtype=float))

    dept = np.concatenate([deps_a, deps_o_a, np.array(deps_s)]).astype("U3")
    prod = np.concatenate([prods_a, np.array(prods_o), np.array(prods_s)]).astype(np.int64)
    pais = np.array(paises + countries_o + countries_s, dtype="U2")
    amount_cents = np.concatenate([cent, cent_o, cent_s])
    alive = amount_cents > 0
    return _Cells(dept[alive], prod[alive], pais[alive], amount_cents[alive])


def _class_0729(nandina: str) -> bool:
    """docs/sources.md#aduanas-producto: HS headings 2603–2617 except 2612 are class 0729."""
    heading = int(nandina[:4])
    return 2603 <= heading <= 2617 and heading != 2612


def _exact_cents(total: int, pct: dict[str, Fraction], orden) -> dict[str, int]:
    """Cents per category at the exact share (largest remainder, summing to ``total``)."""
    quotas = {k: Fraction(total) * pct[k] / 100 for k in orden}
    allotted = {k: math.floor(q) for k, q in quotas.items()}
    missing = total - sum(allotted.values())
    if not 0 <= missing <= len(orden) or sum(pct.values()) != 100:
        raise ValueError("participaciones que no suman 100")
    for k in sorted(orden, key=lambda k: (-(quotas[k] - allotted[k]), k))[:missing]:
        allotted[k] += 1
    return allotted


# --------------------------------------------------------------------------------------------------------
# Exporters
# --------------------------------------------------------------------------------------------------------


@dataclass
class _Candidates:
    mining_firms: np.ndarray  # population indices: Lima RUC-20 firms, medium/large
    lima: np.ndarray  # Lima and Callao RUC-20 firms outside ``mineros``
    local: dict[str, np.ndarray]  # department -> RUC-20 firms domiciled there


_CANDIDATES_CACHE: list = [None, None]  # (weak reference to the universe, its candidates)


def _candidates(uni: Universe) -> _Candidates:
    """RUC-20 firms formal in every year of the window (they are in every year's cut, same domicile);
    remembered for the last universe seen (every year of a sample uses the same one)."""
    ref, cand = _CANDIDATES_CACHE
    if ref is not None and ref() is uni:
        return cand
    cand = _compute_candidates(uni)
    _CANDIDATES_CACHE[:] = [weakref.ref(uni), cand]
    return cand


def _compute_candidates(uni: Universe) -> _Candidates:
    formal = np.ones(len(uni.ruc), dtype=bool)
    for a in ADUANAS_YEARS:
        if a in uni.cal.anios:
            formal &= uni.formal(a)
    ok = np.flatnonzero(formal & (uni.ruc // 1_000_000_000 == 20) & (uni.geo >= 0))
    dept = uni.cat.geo_department.astype(np.int64)[uni.geo[ok]]
    estrato = uni.estrato[ok]
    mining_firms = ok[(dept == 15) & (estrato >= 2)]
    if len(mining_firms) < 40:
        mining_firms = ok[(dept == 15) & (estrato >= 1)]
    # goods exporters: farms, fisheries, factories and wholesalers (not restaurants or transport firms)
    sector = np.array([s or "" for s in uni.cat.text_sector], dtype=object)[uni.act4[ok]]
    goods = np.isin(sector.astype(str), ["agropecuario", "pesca", "manufactura", "comercio"])
    free_countries = ~np.isin(ok, mining_firms) & goods
    lima = ok[free_countries & np.isin(dept, [15, 7])]
    local = {f"{d:02d}": filas for (d, _), filas in _groups(np.where(free_countries, dept, -1), 1) if d >= 0}
    local = {d: ok[f] for d, f in local.items()}
    return _Candidates(mining_firms, lima, local)


#: Integer code of the "department" of lines without ubigeo.
NO_DEPARTMENT = 99


def _department_code(dept: np.ndarray) -> np.ndarray:
    """Department codes as integers ("" → ``NO_DEPARTMENT``), for grouping without string comparisons."""
    out = np.full(len(dept), NO_DEPARTMENT, dtype=np.int64)
    con = dept != ""
    out[con] = dept[con].astype(np.int64)
    return out


def _groups(clave: np.ndarray, base: int):
    """((clave // base, clave % base), row indices) of each distinct integer key, in key order."""
    orden = np.argsort(clave, kind="stable")
    sorted_keys = clave[orden]
    cortes = np.flatnonzero(np.diff(sorted_keys)) + 1
    for filas in np.split(orden, cortes):
        if len(filas):
            k = int(clave[filas[0]])
            yield (k // base, k % base), filas


def _rng(seed: int, *key_list: int) -> np.random.Generator:
    return np.random.default_rng([seed, 4040, *key_list])


#: Size of each pool's fixed random list of candidate exporters; a year takes its first k, so the
#: exporters of a pool are nested across years instead of redrawn.
EXPORTER_LIST_SIZE = 4_000


def _first_k(rng: np.random.Generator, candidatos: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` of a fixed random ordering of (up to EXPORTER_LIST_SIZE) ``candidatos``."""
    if k <= 0 or not len(candidatos):
        return candidatos[:0]
    listing = rng.choice(len(candidatos), size=min(len(candidatos), EXPORTER_LIST_SIZE), replace=False)
    return candidatos[listing[:k]]


def _zipf(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    """``n`` draws among ``k`` ranked exporters, the first ones much more often (weights 1/rank)."""
    cumulative = np.cumsum(1.0 / np.arange(1, k + 1))
    return np.minimum(np.searchsorted(cumulative, rng.random(n) * cumulative[-1], "right"), k - 1)


# --------------------------------------------------------------------------------------------------------
# The year's plan: every line, every file, every count
# --------------------------------------------------------------------------------------------------------

NOT_DIRTY = 0
_DIRTY = {t: i + 1 for i, t in enumerate(DIRT_KINDS)}


@dataclass
class Lines:
    """Every written line of a year (accepted lines first, then the dirty ones), as parallel arrays."""

    anio: int
    amount_cents: np.ndarray  # FOB, cents (dirty lines: the value written for negativo, else a small amount)
    prod: np.ndarray
    dept: np.ndarray  # "" = no ubigeo
    geo: np.ndarray  # district index in uni.cat.ubigeo; -1 blank, -2 "999999"
    pais: np.ndarray  # index into ``paises``
    exportador: np.ndarray  # index into ``rucs`` / ``nombres``
    day_num: np.ndarray  # day of the year of FNUM (0-based)
    via: np.ndarray  # index into VIAS
    cadu: np.ndarray  # index into ADUANAS
    dirty: np.ndarray  # 0 or 1 + index into TIPOS_SUCIEDAD
    ndcl: np.ndarray = field(default=None)
    nser: np.ndarray = field(default=None)
    femb: np.ndarray = field(default=None)  # yyyymmdd, 0 = missing
    freg: np.ndarray = field(default=None)
    port_no: np.ndarray = field(default=None)  # index into ``puertos``
    agent: np.ndarray = field(default=None)  # CAGE code (int)
    weight_g: np.ndarray = field(default=None)  # net weight, grams (3 decimals of kg)
    gross_g: np.ndarray = field(default=None)
    quantity_m: np.ndarray = field(default=None)  # physical quantity, thousandths
    unidad: np.ndarray = field(default=None)  # index into ``unidades``
    paises: list[str] = field(default_factory=list)
    ports: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    rucs: np.ndarray = field(default=None)
    names: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.amount_cents)

    def fnum(self) -> np.ndarray:
        return _yyyymmdd(self.anio, self.day_num)


@lru_cache(maxsize=8)
def _date_table(anio: int) -> np.ndarray:
    """yyyymmdd of day 0, 1, … of ``anio`` and into the next year (shipping, regularization dates)."""
    inicio = date(anio, 1, 1)
    dates = [inicio + timedelta(days=k) for k in range(366 + 120)]
    return np.array([f.year * 10_000 + f.month * 100 + f.day for f in dates], dtype=np.int64)


def _yyyymmdd(anio: int, day_nums: np.ndarray) -> np.ndarray:
    return _date_table(anio)[np.asarray(day_nums, dtype=np.int64)]


@dataclass
class OutputFile:
    """One file to write: its name and its records in order."""

    nombre: str
    formatting: str  # "dbf" or "pipe"
    filas: np.ndarray  # line indices, in file order (repeats allowed)
    deleted: list[tuple[int, bytes | int]] = field(default_factory=list)  # (position, garbage | line copied)
    date_value: tuple[int, int, int] = (2000, 1, 1)  # DBF last-update date / zip timestamp


@dataclass
class YearPlan:
    anio: int
    lineas: Lines
    archivos: list[OutputFile]
    accepted_rows: np.ndarray  # indices of the accepted lines (unique keys)


def _scale_name(uni: Universe) -> str:
    scale_name = CALIBRATION_SCALE.get(uni.cal.scale_name, uni.cal.scale_name)
    if scale_name not in SCALE_DIVISOR:
        raise ValueError(f"escala sin exportaciones: {scale_name!r}")
    return scale_name


def _weeks(anio: int) -> list[tuple[int, int, int]]:
    """(month, first day, last day) of the regular weekly files: 1–7, 8–14, 15–21, 22–28, 29–end."""
    out = []
    for m in range(1, 13):
        fin = calendar.monthrange(anio, m)[1]
        for start_day in (1, 8, 15, 22, 29):
            if start_day <= fin:
                out.append((m, start_day, min(start_day + 6, fin) if start_day < 29 else fin))
    return out


def _day_of_year(anio: int, month_no: int, day_num: int) -> int:
    return (date(anio, month_no, day_num) - date(anio, 1, 1)).days


def plan_year(uni: Universe, anio: int) -> YearPlan:
    """Every line of ``anio`` and the files that carry them (deterministic for the universe's seed)."""
    if anio not in ADUANAS_YEARS:
        raise ValueError(f"{anio} fuera de la ventana de exportaciones {ADUANAS_YEARS}")
    scale_name = _scale_name(uni)
    seed = uni.seed
    rng = _rng(seed, anio)
    cal = calibrate_aduanas()
    terr = set(cal.territorio_departamentos)
    formatting = YEAR_FORMAT[anio]
    cat = uni.cat
    n_days = 366 if calendar.isleap(anio) else 365

    # ---- accepted lines: cells -> lines -> cents
    cel = year_cells(anio)
    n_lines = NATIONAL_LINES[anio] // SCALE_DIVISOR[scale_name]
    if n_lines < 2 * len(cel.amount_cents):
        raise ValueError(f"{anio}: {n_lines} líneas no alcanzan para {len(cel.amount_cents)} celdas")
    usd_line = np.array([PRODUCTS[p].usd_line for p in NANDINAS])[cel.prod]
    natural = cel.amount_cents / 100 / usd_line
    per_cell = 1 + _split_total(n_lines - len(cel.amount_cents), natural)
    per_cell = np.minimum(per_cell, np.maximum(1, cel.amount_cents // 5_000))  # no line below US$ 50
    cell = np.repeat(np.arange(len(cel.amount_cents)), per_cell)
    n = len(cell)
    weight = rng.lognormal(0.0, 0.7, n)
    summed = np.bincount(cell, weights=weight)
    # a cent for each line, the rest of the cell by weight; the last line of the cell takes the remainder
    rest_cell = (cel.amount_cents - per_cell)[cell]
    cent = 1 + np.floor(rest_cell * (weight / summed[cell])).astype(np.int64)
    last = np.cumsum(per_cell) - 1
    cent[last] += cel.amount_cents - np.bincount(cell, weights=cent, minlength=len(cel.amount_cents)).astype(np.int64)
    if np.any(cent <= 0) or np.bincount(cell, weights=cent).astype(np.int64).tolist() != cel.amount_cents.tolist():
        raise AssertionError("reparto de celdas en líneas")
    prod = cel.prod[cell]
    dept = cel.dept[cell]
    dep_i = _department_code(cel.dept)[cell]
    country_code = cel.pais[cell].astype("U2")
    for p in np.unique(prod[country_code == DRAW]):
        filas = np.flatnonzero((country_code == DRAW) & (prod == p))
        destinos = DESTINATIONS[NANDINAS[p]]
        codes = np.array(list(destinos), dtype="U2")
        w = np.array(list(destinos.values()), dtype=float)
        country_code[filas] = codes[rng.choice(len(codes), size=len(filas), p=w / w.sum())]
    # the non-ISO SUNAT codes: a few small non-mining lines outside the territory
    cell_group = np.array(_GROUPS)[_PRODUCT_GROUP[prod]]
    terr_i = [int(d) for d in cal.territorio_departamentos]
    candidate_rows = np.flatnonzero(~np.isin(dep_i, terr_i) & np.isin(cell_group, ("agro", "pesca", "manufactura")))
    candidate_rows = candidate_rows[cent[candidate_rows] <= np.quantile(cent[candidate_rows], 0.5)]
    k_no_iso = NON_ISO_LINES[scale_name]
    chosen = rng.choice(candidate_rows, size=k_no_iso * len(NON_ISO), replace=False)
    country_code[chosen] = np.repeat(np.array(list(NON_ISO), dtype="U2"), k_no_iso)

    # ---- dirty lines: copies of accepted lines' attributes with a small amount
    how_many = dict(ADUANAS_DIRT[scale_name])
    if formatting == "dbf":
        how_many.pop("campos_errados")
    tipos = np.concatenate([np.full(k, _DIRTY[t], dtype=np.int8) for t, k in how_many.items()])
    templates = rng.choice(n, size=len(tipos), replace=False)
    n_total = n + len(tipos)
    dirty = np.concatenate([np.zeros(n, dtype=np.int8), tipos])
    small = rng.integers(1_000, 250_000, len(tipos))
    small[tipos == _DIRTY["negativo"]] *= -1
    cent = np.concatenate([cent, small])
    prod = np.concatenate([prod, prod[templates]])
    dept = np.concatenate([dept, dept[templates]])
    dep_i = np.concatenate([dep_i, dep_i[templates]])
    country_code = np.concatenate([country_code, country_code[templates]])

    # ---- origin district
    geo = np.full(n_total, -1, dtype=np.int64)
    without = dep_i == NO_DEPARTMENT
    geo[without & (rng.random(n_total) < NO_UBIGEO_999999)] = -2
    ubigeo_dep = cat.geo_department
    vraem_geo = cat.geo_vraem
    for (di, p), filas in _groups(dep_i * 1000 + prod, 1000):
        if di == NO_DEPARTMENT:
            continue
        d = f"{di:02d}"
        districts = np.flatnonzero(ubigeo_dep == d)
        grupo = PRODUCTS[NANDINAS[int(p)]].grupo
        r = _rng(seed, 7, int(di), int(p))
        if grupo in ("mineria", "metal", "hidrocarburo"):
            fixed_destinations = r.choice(districts, size=min(2, len(districts)), replace=False)  # the mine, every year
            geo[filas] = fixed_destinations[rng.integers(0, len(fixed_destinations), len(filas))]
        else:
            geo[filas] = districts[rng.integers(0, len(districts), len(filas))]
            if d in terr and NANDINAS[int(p)] in ("0901119000", "1801001900"):
                valley = districts[vraem_geo[districts]]
                if len(valley):
                    m = rng.random(len(filas)) < 0.7
                    geo[filas[m]] = valley[rng.integers(0, len(valley), int(m.sum()))]

    # ---- exporters
    cand = _candidates(uni)
    line_group = _PRODUCT_GROUP[prod]
    mining_like = line_group < _GROUPS.index("agro")
    n_op, n_tr = (3, 6) if scale_name == "national" else (2, 2)
    perm_mining = _rng(seed, 11).permutation(cand.mining_firms)
    traders = perm_mining[:n_tr]
    deps_orden = sorted(DEPARTMENT_MIX)  # "01".."25", "sin": pools keep their seed whatever the year
    exp_pop = np.zeros(n_total, dtype=np.int64)  # population index
    pop_kind: dict[int, str] = {int(i): "comercializadora" for i in traders}
    dep_groups = dict(_groups(dep_i * 2 + mining_like, 2))
    is_empty = np.array([], dtype=np.int64)
    for j, d in enumerate(deps_orden):
        di = NO_DEPARTMENT if d == "sin" else int(d)
        filas = dep_groups.get((di, 1), is_empty)
        if not len(filas):
            continue
        inicio = n_tr + j * n_op
        ops = np.take(perm_mining, np.arange(inicio, inicio + n_op), mode="wrap")
        for i in ops:
            pop_kind.setdefault(int(i), "minero")
        is_trader = (rng.random(len(filas)) < 0.12) | (d == "sin")
        exp_pop[filas] = np.where(
            is_trader, traders[_zipf(rng, len(traders), len(filas))], ops[_zipf(rng, len(ops), len(filas))]
        )
    sector = np.array([s or "" for s in cat.text_sector], dtype=object)
    for j, d in enumerate(deps_orden):
        filas = dep_groups.get((NO_DEPARTMENT if d == "sin" else int(d), 0), is_empty)
        if not len(filas):
            continue
        k = max(2, round(0.08 * len(filas) ** 0.85))
        local = cand.local.get(d, np.array([], dtype=np.int64))
        k_local = 0 if d in ("sin", "15", "07") or not len(local) else min(len(local), (k * 2 + 4) // 5)
        chosen_local = _first_k(_rng(seed, 12, j), local, k_local)
        chosen_lima = _first_k(_rng(seed, 13, j), cand.lima, k - k_local)
        uses_local = (rng.random(len(filas)) < 0.4) & (k_local > 0)
        exp_pop[filas] = np.where(
            uses_local,
            chosen_local[_zipf(rng, max(k_local, 1), len(filas))] if k_local else 0,
            chosen_lima[_zipf(rng, len(chosen_lima), len(filas))],
        )
        for i in np.unique(exp_pop[filas]):
            pop_kind.setdefault(int(i), _SECTOR_TO_KIND.get(sector[uni.act4[i]], "comercio"))
    rucs_pop, exp = np.unique(exp_pop, return_inverse=True)
    rucs = uni.ruc[rucs_pop]
    names = [exporter_name(r, pop_kind[int(i)]) for r, i in zip(rucs, rucs_pop, strict=True)]
    # a few exporters absent from the register (never on a dirty line)
    k_lin, k_ruc = ABSENT_RUCS[scale_name]
    absent = reserved_rucs(20, ABSENT_RUC_BLOCK, k_ruc, seed)
    eligible = np.flatnonzero(~mining_like[:n] & (dep_i[:n] != NO_DEPARTMENT))
    filas = rng.choice(eligible, size=min(k_lin, len(eligible)), replace=False)
    exp[filas] = len(rucs) + rng.integers(0, k_ruc, len(filas))
    rucs = np.concatenate([rucs, absent])
    names += [exporter_name(r, "comercio") for r in absent]

    # ---- dates, mode of transport, customs office
    month_weight = np.ones((len(NANDINAS), 12))
    for p, w in PRODUCT_MONTHS.items():
        month_weight[NANDINAS.index(p)] = w
    month_cum = np.cumsum(month_weight, axis=1)
    u = rng.random(n_total) * month_cum[prod, -1]
    month_no = (u[:, None] >= month_cum[prod]).sum(axis=1)  # 0-based month
    length = np.array([calendar.monthrange(anio, m)[1] for m in range(1, 13)])
    month_start = np.concatenate([[0], np.cumsum(length)[:-1]])
    day_num = month_start[month_no] + (rng.random(n_total) * length[month_no]).astype(np.int64)

    # repeated weeks (DBF years): chosen first, so that dirty lines avoid them
    repeated = []
    if formatting == "dbf":
        months = np.sort(rng.choice(12, size=ADUANAS_REPETITION[scale_name]["semanas_repetidas"], replace=False)) + 1
        for m in months:
            start_day = int(rng.choice([2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19, 20, 21]))
            repeated.append((int(m), start_day, start_day + 6))
    covered = np.zeros(n_days, dtype=bool)
    for m, a, b in repeated:
        covered[_day_of_year(anio, m, a) : _day_of_year(anio, m, b) + 1] = True
    is_dirty = dirty > 0
    free_countries = np.flatnonzero(~covered)
    day_num[is_dirty] = free_countries[rng.integers(0, len(free_countries), int(is_dirty.sum()))]
    bad_date = dirty == _DIRTY["fecha_imposible"]
    day_num[bad_date] = _day_of_year(anio, 2, 26 if formatting == "dbf" else 28)  # written as YYYY0231

    countries_a, pais = np.unique(country_code, return_inverse=True)
    paises = [str(c) for c in countries_a]
    iso_de = np.array([_country_group(c) for c in paises])
    air = np.array([PRODUCTS[p].air for p in NANDINAS])[prod]
    via = np.zeros(n_total, dtype=np.int64)
    via[rng.random(n_total) < air] = 1
    neighbour = np.isin(iso_de, list(CUSTOMS_LAND))[pais]
    by_road_group = np.isin(np.array(_GROUPS), ROAD_GROUPS)[line_group]
    by_land = neighbour & by_road_group & (via == 0)
    via[by_land & (rng.random(n_total) < 0.5)] = 2
    sea_office = np.array([CUSTOMS_SEA.get(f"{k:02d}", CUSTOMS_CALLAO) for k in range(NO_DEPARTMENT + 1)], dtype="U3")
    cadu_txt = sea_office[dep_i]
    cadu_txt[via == 1] = CUSTOMS_AIR
    for c, a in CUSTOMS_LAND.items():
        cadu_txt[(via == 2) & (pais == paises.index(c))] = a
    cadu = np.searchsorted(np.array(CUSTOMS_OFFICES), cadu_txt)

    # ---- DAMs: one exporter, office, day, destination and mode; dirty lines alone
    aside = np.where(is_dirty, np.cumsum(is_dirty), 0)
    dam_key = cadu.astype(np.int64)
    for field_name, cap in (
        (exp, len(rucs)),
        (day_num, 512),
        (pais, len(paises)),
        (via, len(TRANSPORT_MODES)),
        (aside, n_total - n + 1),
    ):
        dam_key = dam_key * int(cap) + field_name
    if dam_key.max() >= 2**62:
        raise AssertionError("clave de DAM fuera de int64")
    shuffled = rng.permutation(n_total)  # series of a DAM in random order
    orden = shuffled[np.argsort(dam_key[shuffled], kind="stable")]
    new = np.ones(n_total, dtype=bool)
    new[1:] = dam_key[orden][1:] != dam_key[orden][:-1]
    running_index = np.cumsum(new) - 1
    pos = np.arange(n_total) - np.flatnonzero(new)[running_index]
    new |= pos % SERIES_MAX == 0
    dam_o = np.cumsum(new) - 1
    dam_start = np.flatnonzero(new)
    nser_o = np.arange(n_total) - dam_start[dam_o] + 1
    n_dam = len(dam_start)
    # numbering per office in date order, with small gaps (DAMs of other regimes, annulled ones)
    cadu_dam, dam_day = cadu[orden][dam_start], day_num[orden][dam_start]
    shuffled = rng.permutation(n_dam)
    o_dam = shuffled[np.argsort((cadu_dam * 512 + dam_day)[shuffled], kind="stable")]
    jump = rng.integers(1, 4, n_dam)
    first = np.ones(n_dam, dtype=bool)
    first[1:] = cadu_dam[o_dam][1:] != cadu_dam[o_dam][:-1]
    cumulative_jump = np.cumsum(jump)
    base = np.maximum.accumulate(np.where(first, cumulative_jump - jump, 0))
    numero = np.empty(n_dam, dtype=np.int64)
    numero[o_dam] = cumulative_jump - base
    if numero.max() > 999_999:
        raise AssertionError("NDCL de más de 6 dígitos")
    ndcl = np.empty(n_total, dtype=np.int64)
    nser = np.empty(n_total, dtype=np.int64)
    ndcl[orden] = numero[dam_o]
    nser[orden] = nser_o
    # shipping and regularization dates, port and agent: one per DAM
    emb = rng.geometric(0.25, n_dam) - 1
    femb_dia = dam_day + np.minimum(emb, 20)
    femb_dam = _yyyymmdd(anio, femb_dia)
    femb_dam[rng.random(n_dam) < 0.003] = 0
    freg_dam = _yyyymmdd(anio, femb_dia + rng.integers(3, 30, n_dam))
    freg_dam[rng.random(n_dam) < 0.02] = 0
    iso_dam = iso_de[pais[orden][dam_start]]
    ports = [""]
    dam_port = np.zeros(n_dam, dtype=np.int64)
    for c in np.unique(iso_dam):
        if c == "ZZ":
            continue  # no country, no port
        m = iso_dam == c
        options = PORTS.get(str(c), (f"{c}ZZZ" if len(str(c)) == 2 else "",))
        idx = [len(ports) + i for i in range(len(options))]
        ports.extend(options)
        dam_port[m] = np.array(idx)[rng.integers(0, len(idx), int(m.sum()))]
    exp_dam = exp[orden][dam_start]
    agents = np.sort(
        _rng(seed, 14).choice(np.arange(1000, 9999), size=250 if scale_name == "national" else 40, replace=False)
    )
    usual = ((rucs[exp_dam] * 2_654_435_761) % (1 << 32)) >> 8  # each exporter's usual agent, by RUC
    other = rng.random(n_dam) < 0.1
    dam_agent = agents[np.where(other, rng.integers(0, len(agents), n_dam), usual % len(agents))]
    femb = np.empty(n_total, dtype=np.int64)
    freg = np.empty(n_total, dtype=np.int64)
    port_no = np.empty(n_total, dtype=np.int64)
    agent = np.empty(n_total, dtype=np.int64)
    femb[orden] = femb_dam[dam_o]
    freg[orden] = freg_dam[dam_o]
    port_no[orden] = dam_port[dam_o]
    agent[orden] = dam_agent[dam_o]

    # ---- weights and quantities
    usd_kg = np.array([PRODUCTS[p].usd_kg for p in NANDINAS])[prod]
    kilos = np.abs(cent) / 100 / usd_kg * rng.uniform(0.85, 1.15, n_total)
    weight_g = np.maximum(1, np.round(kilos * 1000)).astype(np.int64)
    gross_g = np.round(weight_g * rng.uniform(1.0, 1.06, n_total)).astype(np.int64)
    units = ["KG", "U", "kg"]
    per_unit = np.array([PRODUCTS[p].unidad == "U" for p in NANDINAS])[prod]
    kg_per_unit = np.array([PRODUCTS[p].kg_per_unit for p in NANDINAS])[prod]
    unidad = np.where(per_unit, 1, 0)
    # a typo seen in SUNAT data (docs/sources.md#aduanas-codigos)
    unidad[(unidad == 0) & (rng.random(n_total) < 0.002)] = 2
    quantity_m = np.where(per_unit, np.round(weight_g / kg_per_unit / 1000) * 1000, weight_g).astype(np.int64)

    lin = Lines(
        anio=anio,
        amount_cents=cent,
        prod=prod,
        dept=dept,
        geo=geo,
        pais=pais,
        exportador=exp,
        day_num=day_num,
        via=via,
        cadu=cadu,
        dirty=dirty,
        ndcl=ndcl,
        nser=nser,
        femb=femb,
        freg=freg,
        port_no=port_no,
        agent=agent,
        weight_g=weight_g,
        gross_g=gross_g,
        quantity_m=quantity_m,
        unidad=unidad,
        paises=paises,
        ports=ports,
        units=units,
        rucs=rucs,
        names=names,
    )
    accepted_rows = np.arange(n)

    # ---- files
    yy = anio % 100
    sort_key = np.lexsort((nser, ndcl, cadu, day_num))
    archivos: list[OutputFile] = []
    if formatting == "dbf":
        rep = ADUANAS_REPETITION[scale_name]
        week_of_day = np.zeros(n_days, dtype=np.int64)
        weeks = _weeks(anio)
        for s, (m, a, b) in enumerate(weeks):
            week_of_day[_day_of_year(anio, m, a) : _day_of_year(anio, m, b) + 1] = s
        week = week_of_day[day_num[sort_key]]
        bounds = np.searchsorted(week, np.arange(len(weeks) + 1))
        for s, (m, a, b) in enumerate(weeks):
            filas = sort_key[bounds[s] : bounds[s + 1]]
            archivos.append(
                OutputFile(f"x{a:02d}{b:02d}{m:02d}{yy:02d}", "dbf", filas, date_value=_delivery_date(anio, m, b))
            )
        # deleted records, scattered over the regular files
        k_b = rep["borrados"]
        destination = rng.choice(len(archivos), size=k_b, replace=True)
        for f in destination:
            out_file = archivos[f]
            position = int(rng.integers(0, len(out_file.filas) + 1))
            alive = out_file.filas[~is_dirty[out_file.filas]]
            if rng.random() < DELETED_COPY_SHARE and len(alive):
                out_file.deleted.append((position, int(rng.choice(alive))))
            else:
                out_file.deleted.append((position, _garbage(rng)))
        for out_file in archivos:
            out_file.deleted.sort(key=lambda x: x[0])
        # the same weeks delivered again on other days
        for m, a, b in repeated:
            d0, d1 = _day_of_year(anio, m, a), _day_of_year(anio, m, b)
            sel = sort_key[(day_num[sort_key] >= d0) & (day_num[sort_key] <= d1)]
            if np.any(is_dirty[sel]):
                raise AssertionError("línea sucia en una semana repetida")
            archivos.append(
                OutputFile(f"x{a:02d}{b:02d}{m:02d}{yy:02d}", "dbf", sel, date_value=_delivery_date(anio, m, b))
            )
        if anio == PIPE_DECEMBER_YEAR:
            dic = _day_of_year(anio, 12, 1)
            sel = sort_key[(day_num[sort_key] >= dic) & ~is_dirty[sort_key]]
            sel = sel[np.lexsort((nser[sel], ndcl[sel], cadu[sel]))]
            archivos.append(OutputFile(f"exportaciones_{anio}_12.txt", "pipe", sel))
    else:
        sel = sort_key[np.lexsort((nser[sort_key], ndcl[sort_key], cadu[sort_key]))]
        k_r = ADUANAS_REPETITION[scale_name]["repetidas_pipe"]
        copias = rng.choice(accepted_rows, size=k_r, replace=False)
        filas = list(sel)
        positions = {int(i): p for p, i in enumerate(sel)}
        inserts = sorted((int(rng.integers(positions[int(c)] + 1, len(sel) + 1)), int(c)) for c in copias)
        for shift, (p, c) in enumerate(inserts):
            filas.insert(p + shift, c)
        archivos.append(OutputFile(f"exportaciones_{anio}.txt", "pipe", np.array(filas, dtype=np.int64)))
    plan = YearPlan(anio, lin, archivos, accepted_rows)
    _check_plan(plan)
    return plan


def _delivery_date(anio: int, month_no: int, end_day: int) -> tuple[int, int, int]:
    f = date(anio, month_no, end_day) + timedelta(days=3)
    return (f.year, f.month, f.day)


_GARBAGE_ALPHABET = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 *#?.-/", dtype=np.uint8)


def _garbage(rng: np.random.Generator) -> bytes:
    """A deleted record's body that is no line at all (overwritten bytes)."""
    return rng.choice(_GARBAGE_ALPHABET, size=RECORD_LENGTH - 1).tobytes()


# --------------------------------------------------------------------------------------------------------
# Figures and counts
# --------------------------------------------------------------------------------------------------------


def figures(lin: Lines, filas: np.ndarray) -> dict:
    """Export figures of the lines ``filas`` (accepted, unique): totals and territory breakdowns in cents."""
    cal = calibrate_aduanas()
    dep_i = _department_code(lin.dept[filas])
    terr = np.isin(dep_i, [int(d) for d in cal.territorio_departamentos])
    cent = lin.amount_cents[filas]
    iso_de = np.array([_country_group(c) for c in lin.paises])
    pais = lin.pais[filas]

    def by_label(codes: np.ndarray, labels) -> dict:
        # float sums are exact: every partial sum is an integer below 2**53 (checked by the caller)
        sums = np.bincount(codes, weights=cent[terr].astype(float), minlength=len(labels))
        return {str(e): int(v) for e, v in zip(labels, sums, strict=True) if v}

    is_0729 = np.array([_class_0729(p) for p in NANDINAS])[lin.prod[filas]]
    zz = iso_de[pais] == "ZZ"
    destination: dict[str, int] = {}
    for c, v in by_label(pais[terr], lin.paises).items():
        destination[_country_group(c)] = destination.get(_country_group(c), 0) + v
    return {
        "territorio": int(cent[terr].sum()),
        "nacional": int(cent.sum()),
        "sin_ubigeo": int(cent[dep_i == NO_DEPARTMENT].sum()),
        "destino": destination,
        "departamento": {f"{int(k):02d}": v for k, v in by_label(dep_i[terr], range(NO_DEPARTMENT + 1)).items()},
        "clase_0729": int(cent[terr & is_0729].sum()),
        "desconocido_nacional": int(cent[zz].sum()),
    }


def _check_plan(plan: YearPlan) -> None:
    """The accepted lines must land on the year's targets (within a millionth of a point: cells are rounded to
    cents inside departments) and, in the published year, round to every published figure: fail here, not in
    a report."""
    cal = calibrate_aduanas()
    obj = cal.anios[plan.anio]
    f = figures(plan.lineas, plan.accepted_rows)
    if max(f["nacional"], f["territorio"]) >= 2**53:
        raise AssertionError("montos fuera de la precisión exacta de float64")
    if f["territorio"] != obj.territorio or f["nacional"] != obj.nacional or f["sin_ubigeo"] != obj.without_ubigeo:
        raise AssertionError(f"{plan.anio}: totales distintos de la calibración")
    t = f["territorio"]
    tolerance = Fraction(1, 1_000_000)
    obtained = {("departamento", d): Fraction(f["departamento"][d] * 100, t) for d in obj.department_pct}
    obtained |= {("destino", c): Fraction(f["destino"][c] * 100, t) for c in obj.destination_pct}
    obtained[("clase", "0729")] = Fraction(f["clase_0729"] * 100, t)
    target = {("departamento", d): p for d, p in obj.department_pct.items()}
    target |= {("destino", c): p for c, p in obj.destination_pct.items()}
    target[("clase", "0729")] = obj.class_0729_pct
    for k, v in obtained.items():
        if abs(v - target[k]) > tolerance:
            raise AssertionError(f"{plan.anio}: {k} = {float(v):.6f} % ≠ {float(target[k]):.6f} %")
    ranking = sorted(f["destino"], key=lambda c: -f["destino"][c])
    if tuple(ranking[: len(cal.destination_order)]) != cal.destination_order:
        raise AssertionError(f"{plan.anio}: orden de destinos {ranking[:6]}")
    if Fraction(f["desconocido_nacional"] * 100, f["nacional"]) >= Fraction(1, 10):
        raise AssertionError(f"{plan.anio}: destino desconocido ≥ 0.1 % del FOB nacional")
    if plan.anio == cal.published_year:
        for (tipo, k), pub in _published_values().items():
            if not rounds_to(obtained[(tipo, k)], pub, _decimal_places(pub)):
                raise AssertionError(f"{plan.anio}: {tipo} {k} no redondea a {pub}")
        _, share = _published("exportaciones_participacion_nacional_pct")
        if not rounds_to(Fraction(t * 100, f["nacional"]), share, _decimal_places(share)):
            raise AssertionError(f"{plan.anio}: participación nacional")


def _decimal_places(valor: Decimal) -> int:
    return max(0, -valor.as_tuple().exponent)


def _published_values() -> dict[tuple[str, str], Decimal]:
    out = {("departamento", d): v for d, v in _published_by_category("exportaciones_por_departamento_pct").items()}
    out |= {("destino", c): v for c, v in _published_by_category("exportaciones_por_destino_pct").items()}
    out |= {("clase", c): v for c, v in _published_by_category("exportaciones_por_producto_pct").items()}
    return out


def tally_plan(plan: YearPlan) -> dict:
    """Accounting of one year's files; see :func:`conteo_aduanas`."""
    lin = plan.lineas
    dirty = lin.dirty
    clave = ((lin.cadu.astype(np.int64) * 10_000 + lin.anio) * 1_000_000 + lin.ndcl) * 10_000 + lin.nser
    every_row = np.concatenate([a.filas for a in plan.archivos])
    clean = every_row[dirty[every_row] == 0]
    _, times = np.unique(clave[clean], return_counts=True)
    line_times = np.zeros(lin.n, dtype=np.int64)
    np.add.at(line_times, clean, 1)
    archivos = {}
    dirt_total = dict.fromkeys(DIRT_KINDS, 0)
    for a in plan.archivos:
        s = dirty[a.filas]
        dirt_n = {t: int((s == _DIRTY[t]).sum()) for t in DIRT_KINDS}
        for t, k in dirt_n.items():
            dirt_total[t] += k
        nombre = a.nombre + (".zip" if a.formatting == "dbf" else "")
        archivos[nombre] = {
            "formato": a.formatting,
            "miembro": (a.nombre.upper() + ".DBF") if a.formatting == "dbf" else None,
            "registros": len(a.filas) + len(a.deleted),
            "vivas": len(a.filas),
            "borrados": len(a.deleted),
            "borrados_copia": sum(1 for _, b in a.deleted if isinstance(b, int)),
            "compartidas": int(np.sum(line_times[a.filas[s == 0]] > 1)),
            "suciedad": dirt_n,
        }
    read_rows = len(every_row)
    accepted_rows = len(times)
    duplicate_rows = int(len(clean) - accepted_rows)
    fig = figures(lin, plan.accepted_rows)
    return {
        "formato": YEAR_FORMAT[plan.anio],
        "lineas_leidas": read_rows,
        "borrados": sum(v["borrados"] for v in archivos.values()),
        "duplicadas": duplicate_rows,
        "suciedad": dirt_total,
        "rechazadas": sum(dirt_total.values()),
        "aceptadas": accepted_rows,
        "fob_centimos": {"nacional": fig["nacional"], "territorio": fig["territorio"], "sin_ubigeo": fig["sin_ubigeo"]},
        "archivos": archivos,
    }


def tally_aduanas(uni: Universe, anios=ADUANAS_YEARS) -> dict[int, dict]:
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
    return {a: tally_plan(plan_year(uni, a)) for a in sorted(set(anios)) if a in ADUANAS_YEARS}


# --------------------------------------------------------------------------------------------------------
# Rendering: DBF records
# --------------------------------------------------------------------------------------------------------


#: Aduanet's DBFs are cp850 with no code page declared (docs/sources.md#aduanas-semanales: a project that parsed
#: the real files reads them as cp850); the pipe delivery is latin-1.
DBF_ENCODING = "cp850"


def _text_table(texts, width: int) -> np.ndarray:
    """(k, ancho) cp850 bytes, left-aligned, space-padded: a category table gathered by code."""
    m = np.full((len(texts), width), 32, dtype=np.uint8)
    for i, t in enumerate(texts):
        b = t.encode(DBF_ENCODING)[:width]
        m[i, : len(b)] = np.frombuffer(b, dtype=np.uint8)
    return m


def _number_text(vals: np.ndarray, width: int, decimal_places: int = 0, zero_padded: bool = False) -> np.ndarray:
    """(n, ancho) ASCII of integers in units of 10**-decimales: right-aligned, '.' decimals, '-' sign;
    ``ceros`` pads with zeros instead of spaces (NDCL). Vectorized digit arithmetic, no formatting loop."""
    v = np.asarray(vals, dtype=np.int64)
    n = len(v)
    q = np.abs(v)
    out = np.empty((n, width), dtype=np.uint8)
    for k in range(decimal_places):
        out[:, width - 1 - k] = 48 + q % 10
        q //= 10
    if decimal_places:
        out[:, width - 1 - decimal_places] = ord(".")
    w = width - decimal_places - (1 if decimal_places else 0)
    digits = np.ones(n, dtype=np.int64)
    for k in range(w):
        out[:, w - 1 - k] = 48 + q % 10
        q //= 10
        digits += q > 0
    negative = v < 0
    if np.any(q > 0) or np.any(negative & (digits >= w)) or (zero_padded and np.any(negative)):
        raise ValueError(f"número que no cabe en {width} caracteres")
    if not zero_padded:
        blank = np.arange(w)[None, :] < (w - digits)[:, None]
        out[:, :w][blank] = 32
        filas = np.flatnonzero(negative)
        out[filas, w - digits[filas] - 1] = ord("-")
    return out


def _records(lin: Lines, cat_ubigeo) -> np.ndarray:
    """(n, LONGITUD_REGISTRO) bytes of every line as a live DBF record (dirt included)."""
    n = lin.n
    r = np.full((n, RECORD_LENGTH), 32, dtype=np.uint8)  # live flag, and the fields left blank

    def put(field_name: str, vals: np.ndarray) -> None:
        a, w = _POS[field_name]
        r[:, a : a + w] = vals

    put("CADU", _text_table(CUSTOMS_OFFICES, 3)[lin.cadu])
    put("FANO", np.frombuffer(f"{lin.anio:04d}".encode(), dtype=np.uint8)[None, :])
    put("NDCL", _number_text(lin.ndcl, 6, zero_padded=True))
    put("NSER", _number_text(lin.nser, 4))
    put("FNUM", _number_text(lin.fnum(), 8))
    femb = _number_text(lin.femb, 8)
    femb[lin.femb == 0] = 32
    put("FEMB", femb)
    put("NDOC", _number_text(lin.rucs, 11)[lin.exportador])
    put("DNOMBRE", _text_table(lin.names, 60)[lin.exportador])
    ubigeos = _text_table(["      ", "999999", *cat_ubigeo], 6)
    put("UBIGEO", ubigeos[np.where(lin.geo == -1, 0, np.where(lin.geo == -2, 1, lin.geo + 2))])
    put("PART_NANDI", _number_text(np.array([int(p) for p in NANDINAS]), 10)[lin.prod])
    put("CPAIDES", _text_table(lin.paises, 2)[lin.pais])
    put("CPUEDES", _text_table(lin.ports, 5)[lin.port_no])
    put("CVIATRA", _text_table(TRANSPORT_MODES, 1)[lin.via])
    put("VFOBSERDOL", _number_text(lin.amount_cents, 15, 2))
    put("VPESNET", _number_text(lin.weight_g, 15, 3))
    put("VPESBRU", _number_text(lin.gross_g, 15, 3))
    put("QUNIFIS", _number_text(lin.quantity_m, 15, 3))
    put("TUNIFIS", _text_table(lin.units, 3)[lin.unidad])
    put("DCOM", _text_table([PRODUCTS[p].descripcion for p in NANDINAS], 60)[lin.prod])
    put("CAGE", _number_text(lin.agent, 4))

    # dirt: written over the clean rendering
    a, w = _POS["VFOBSERDOL"]
    r[lin.dirty == _DIRTY["no_numerico"], a : a + w] = ord("*")  # numeric overflow as dBase writes it
    a, w = _POS["FNUM"]
    for i in np.flatnonzero(lin.dirty == _DIRTY["fecha_imposible"]):
        r[i, a : a + w] = np.frombuffer(f"{lin.anio}0231".encode(), dtype=np.uint8)
    a, w = _POS["PART_NANDI"]
    for i in np.flatnonzero(lin.dirty == _DIRTY["nandina_no_digito"]):
        texto = _nandina_with_letter(NANDINAS[lin.prod[i]]).lstrip("0").rjust(w)
        r[i, a : a + w] = np.frombuffer(texto.encode(), dtype=np.uint8)
    return r


def _nandina_with_letter(nandina: str) -> str:
    """The NANDINA with its 6th digit replaced by a letter: ``0804400000`` → ``08044A0000``."""
    return nandina[:5] + "A" + nandina[6:]


def _dbf_header(n_records: int, date_value: tuple[int, int, int]) -> bytes:
    """dBase III header: version 0x03, last update, record count, header and record length, no code page."""
    length = 32 + 32 * len(DBF_FIELDS) + 1
    h = struct.pack(
        "<BBBBIHH20x", 0x03, date_value[0] - 1900, date_value[1], date_value[2], n_records, length, RECORD_LENGTH
    )
    fields = b"".join(
        struct.pack("<11sc4xBB14x", nombre.encode("ascii"), tipo.encode("ascii"), length_c, dec)
        for nombre, tipo, length_c, dec in DBF_FIELDS
    )
    return h + fields + b"\r"


def dbf_bytes(record_list: np.ndarray, out_file: OutputFile) -> bytes:
    """The whole DBF of a weekly file: header, live records with the deleted ones inserted, EOF 0x1A."""
    filas = record_list[out_file.filas]
    if out_file.deleted:
        extra = np.empty((len(out_file.deleted), RECORD_LENGTH), dtype=np.uint8)
        positions = []
        for j, (p, b) in enumerate(out_file.deleted):
            if isinstance(b, int):
                extra[j] = record_list[b]
                a, w = _POS["VFOBSERDOL"]
                texto = bytes(extra[j, a : a + w]).decode("ascii").strip()
                # the older version declared another FOB
                previo = int(round(float(texto) * 100 * 1.07)) + 137 if texto.replace(".", "").isdigit() else 13_700
                extra[j, a : a + w] = _number_text(np.array([previo]), w, 2)[0]
            else:
                extra[j, 1:] = np.frombuffer(b, dtype=np.uint8)
            extra[j, 0] = ord("*")
            positions.append(p)
        filas = np.insert(filas, np.array(positions), extra, axis=0)
    return _dbf_header(len(filas), out_file.date_value) + filas.tobytes() + b"\x1a"


# --------------------------------------------------------------------------------------------------------
# Rendering: pipe lines
# --------------------------------------------------------------------------------------------------------


def _decimal_text(vals: np.ndarray, decimal_places: int) -> pa.Array:
    v = np.asarray(vals, dtype=np.int64)
    scale_name = 10**decimal_places
    q, r = np.divmod(np.abs(v), scale_name)
    entero = pc.cast(pa.array(q), pa.string())
    frac = pc.utf8_lpad(pc.cast(pa.array(r), pa.string()), decimal_places, "0")
    signo = pa.array(np.where(v < 0, "-", ""))
    return pc.binary_join_element_wise(signo, entero, pa.scalar("."), frac, "").cast(pa.string())


def pipe_lines(lin: Lines, cat_ubigeo, filas: np.ndarray) -> list[bytes]:
    """The pipe lines (latin-1, no end of line) of ``filas`` in order; dirty lines carry their dirt."""

    def tabla(texts) -> pa.Array:
        return pa.array([t.encode("latin-1") for t in texts], type=pa.binary())

    def lookup(t: pa.Array, codes: np.ndarray) -> pa.Array:
        return t.take(pa.array(np.asarray(codes, dtype=np.int64)))

    def texto(a) -> pa.Array:
        return pc.cast(a, pa.string()).cast(pa.binary())

    f = np.asarray(filas, dtype=np.int64)
    dirty = lin.dirty[f]
    geo = lin.geo[f]
    n = len(f)
    fob = texto(_decimal_text(lin.amount_cents[f], 2))
    fob = pc.if_else(pa.array(dirty == _DIRTY["no_numerico"]), pa.scalar(b"abc"), fob)
    fnum = lin.fnum()[f]
    fnum_txt = texto(pa.array(fnum))
    fnum_txt = pc.if_else(pa.array(dirty == _DIRTY["fecha_imposible"]), pa.scalar(f"{lin.anio}0231".encode()), fnum_txt)
    cnan_table = tabla([f"{p[:4]}.{p[4:6]}.{p[6:8]}.{p[8:]}" for p in NANDINAS])
    cnan = lookup(cnan_table, lin.prod[f])
    bad = np.flatnonzero(dirty == _DIRTY["nandina_no_digito"])
    if len(bad):
        replacement = [_nandina_with_letter(NANDINAS[lin.prod[f[i]]]) for i in bad]
        replacement = [f"{p[:4]}.{p[4:6]}.{p[6:8]}.{p[8:]}".encode() for p in replacement]
        mask = np.zeros(n, dtype=bool)
        mask[bad] = True
        cnan = pc.replace_with_mask(cnan, pa.array(mask), pa.array(replacement, type=pa.binary()))
    ubigeos = tabla(["      ", "999999", *cat_ubigeo])
    cols = [
        pa.repeat(pa.scalar(REGIME.encode("latin-1"), pa.binary()), n),
        lookup(tabla(CUSTOMS_OFFICES), lin.cadu[f]),
        pa.repeat(pa.scalar(str(lin.anio).encode(), pa.binary()), n),
        texto(pc.utf8_lpad(pc.cast(pa.array(lin.ndcl[f]), pa.string()), 6, "0")),
        texto(pa.array(lin.nser[f])),
        fnum_txt,
        texto(pa.array(lin.femb[f])),
        texto(pa.array(lin.freg[f])),
        texto(pa.array(lin.rucs[lin.exportador[f]])),
        lookup(tabla(lin.names), lin.exportador[f]),
        lookup(ubigeos, np.where(geo == -1, 0, np.where(geo == -2, 1, geo + 2))),
        cnan,
        lookup(tabla(lin.paises), lin.pais[f]),
        fob,
        texto(_decimal_text(lin.weight_g[f], 3)),
        lookup(tabla(lin.units), lin.unidad[f]),
        texto(_decimal_text(lin.quantity_m[f], 3)),
    ]
    joined = pc.binary_join_element_wise(*cols, pa.scalar(b"|", pa.binary())).to_pylist()
    for j, i in enumerate(np.flatnonzero(dirty == _DIRTY["campos_errados"])):
        parts = joined[i].split(b"|")
        if j % 2 == 0:  # a name with the delimiter inside: one field too many
            parts[9] = parts[9][:12].rstrip() + b" | " + parts[9][12:].lstrip()
            joined[i] = b"|".join(parts)
        else:  # a line cut before its last field: one field too few
            joined[i] = b"|".join(parts[:-1])
    return joined


# --------------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------------


def write_year(uni: Universe, out_dir: Path, anio: int) -> list[Path]:
    """Write the export files of one year under ``out_dir/aduanas/<anio>/``; returns their paths."""
    plan = plan_year(uni, anio)
    lin = plan.lineas
    folder_path = Path(out_dir) / "aduanas" / str(anio)
    folder_path.mkdir(parents=True, exist_ok=True)
    paths = []
    record_list = None
    for out_file in plan.archivos:
        if out_file.formatting == "dbf":
            if record_list is None:
                record_list = _records(lin, uni.cat.ubigeo)
            path = folder_path / f"{out_file.nombre}.zip"
            info = zipfile.ZipInfo(f"{out_file.nombre.upper()}.DBF", date_time=(*out_file.date_value, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with zipfile.ZipFile(path, "w", compresslevel=ZIP_LEVEL) as zf:
                zf.writestr(info, dbf_bytes(record_list, out_file), compresslevel=ZIP_LEVEL)
        else:
            path = folder_path / out_file.nombre
            lineas = pipe_lines(lin, uni.cat.ubigeo, out_file.filas)
            with open(path, "wb") as f:
                f.write(PIPE_HEADER.encode("ascii") + b"\n")
                f.write(b"\n".join(lineas))
                f.write(b"\n")
        paths.append(path)
    return paths


def write_aduanas(uni: Universe, out_dir: Path, anios=ADUANAS_YEARS) -> list[Path]:
    """Write the customs export files of ``anios`` ∩ 2021–2024 under ``out_dir/aduanas/<año>/``.

    ``uni`` is the firm population of the other SUNAT files (its seed and scale decide everything here);
    ``scale="real"`` writes the national exports.
    """
    paths: list[Path] = []
    for anio in sorted(set(int(a) for a in anios)):
        if anio in ADUANAS_YEARS:
            paths.extend(write_year(uni, out_dir, anio))
    return paths


__all__ = [
    "ADUANAS_YEARS",
    "PIPE_HEADER",
    "DBF_FIELDS",
    "YEAR_FORMAT",
    "NATIONAL_LINES",
    "NON_ISO_LINES",
    "NANDINAS",
    "NON_ISO",
    "PRODUCTS",
    "ADUANAS_REPETITION",
    "ABSENT_RUCS",
    "ADUANAS_DIRT",
    "DIRT_KINDS",
    "calibrate_aduanas",
    "tally_aduanas",
    "tally_plan",
    "territory_departments",
    "write_aduanas",
    "write_year",
    "figures",
    "exporter_name",
    "plan_year",
]
