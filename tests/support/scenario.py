"""A hand-worked two-year firm scenario: every row exercises one branch of the formal-firm rule.

Expected figures are worked out by hand in the comments and asserted by the integration tests.
UIT 2024 = 5,150 soles: 150 UIT = 772,500; 1,700 UIT = 8,755,000; 2,300 UIT = 11,845,000.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.builders import (
    COMMERCE,
    CONSTRUCTION,
    SERVICES,
    bad_ruc,
    padron_row,
    ruc,
    write_padron,
    write_ventas,
)

# 2024 ------------------------------------------------------------------------------------------------------------
R = {i: ruc("20", 10_000_000 + i) for i in range(1, 30)}
P10 = ruc("10", 41_234_567)

PADRON_2024 = [
    padron_row(R[1], ubigeo="050401", actividad=COMMERCE),  # in, micro, Ayacucho
    padron_row(P10, tipo="PERSONA NATURAL CON NEGOCIO", ubigeo="080910", actividad=COMMERCE),  # in, micro at 150 UIT
    padron_row(R[3], ubigeo="090701", actividad=SERVICES),  # in, pequeña just above 150 UIT
    padron_row(R[4], ubigeo="120604", actividad=SERVICES),  # in, pequeña at 1,700 UIT
    padron_row(R[5], ubigeo="050501", actividad=CONSTRUCTION),  # in, mediana at 2,300 UIT
    padron_row(R[6], ubigeo="030202", actividad="ACTIVIDAD QUE NO EXISTE"),  # in, grande, sin_clasificar
    padron_row(R[7], ubigeo="150101"),  # in, national only (Lima)
    padron_row(R[8], ubigeo="050401", estado="BAJA DE OFICIO"),  # out: not active
    padron_row(R[9], ubigeo="050401", tipo="PERSONA NATURAL SIN NEGOCIO"),  # out: not a business
    padron_row(R[10], ubigeo="050401", tipo="ASOCIACION"),  # out: non-profit
    padron_row(R[11], ubigeo="050401"),  # out: sales 0
    padron_row(R[12], ubigeo="050401"),  # out: sales not declared
    padron_row(R[13], ubigeo="050401"),  # out: no sales row
    padron_row(bad_ruc("20", 10_000_014), ubigeo="050401"),  # quarantine: check digit
    padron_row(R[1], ubigeo="050401"),  # quarantine: duplicate RUC
    padron_row(R[15], ubigeo="-"),  # in, national only (no ubigeo)
    padron_row(R[16], ubigeo="50402"),  # in, lost zero → 050402 Ayahuanco
]
MALFORMED_2024 = {3: padron_row(R[20]) + ["EXTRA"]}  # quarantine: 17 fields

VENTAS_2024 = [
    (R[1], 2024, "500000.00"),
    (P10, 2024, "772500.00"),
    (R[3], 2024, "772500.01"),
    (R[4], 2024, "8755000"),
    (R[5], 2024, "11845000.00"),
    (R[6], 2024, "11845000.01"),
    (R[7], 2024, "100.00"),
    (R[8], 2024, "900.00"),
    (R[9], 2024, "900.00"),
    (R[10], 2024, "900.00"),
    (R[11], 2024, "0.00"),
    (R[12], 2024, None),
    (R[15], 2024, "50.00"),
    (R[16], 2024, "1000.50"),
    (R[17], 2023, "10.00"),  # quarantine: another fiscal year in the 2024 file
    (R[18], 2024, "1.234,50"),  # quarantine: not a number
]

# Territory formal firms 2024: R1, P10, R3, R4, R5, R6, R16 = 7; national = those + R7 + R15 = 9.
# strata: micro R1, P10, R16 (3); pequena R3, R4 (2); mediana R5 (1); grande R6 (1)
# sector: comercio R1, P10, R16 (3); servicios R3, R4 (2); construccion R5 (1); sin_clasificar R6 (1)
# departments: 05 R1, R5, R16 (3); 08 P10 (1); 09 R3 (1); 12 R4 (1); 03 R6 (1)
# sales territory = 500000 + 772500 + 772500.01 + 8755000 + 11845000 + 11845000.01 + 1000.50 = 34,491,000.52
EXPECTED_2024 = {
    "territorio": 7,
    "nacional": 9,
    "estrato": {"micro": 3, "pequena": 2, "mediana": 1, "grande": 1},
    "sector": {"comercio": 3, "servicios": 2, "construccion": 1, "sin_clasificar": 1},
    "departamento": {"05": 3, "08": 1, "09": 1, "12": 1, "03": 1},
    "ventas_millones": 34.49100052,
    "padron": {"leidas": 18, "aceptadas": 15, "rechazadas": 3},
    "ventas": {"leidas": 16, "aceptadas": 14, "rechazadas": 2},
}

# A mid-year cut of 2024 that must be ignored (it would give 1 firm).
PADRON_2024_06 = [padron_row(R[1], periodo="202406")]

# 2023 ------------------------------------------------------------------------------------------------------------
PADRON_2023 = [
    padron_row(R[1], ubigeo="050401", periodo="202312"),
    padron_row(R[3], ubigeo="090701", periodo="202312"),
    padron_row(R[4], ubigeo="120604", periodo="202312"),
    padron_row(R[5], ubigeo="050501", periodo="202312"),
    padron_row(R[7], ubigeo="150101", periodo="202312"),
]
VENTAS_2023 = [
    (R[1], 2023, "1000"),
    (R[3], 2023, "1000"),
    (R[4], 2023, "1000"),
    (R[5], 2023, "1000"),
    (R[7], 2023, "1000"),
]
# Territory 2023 = 4, national = 5 → 2024 change = 7/4 − 1 = 75 %.
EXPECTED_2023 = {"territorio": 4, "nacional": 5}


def write_scenario(raw: Path) -> None:
    write_padron(raw, 2024, 12, PADRON_2024, dialect="comma", zipped=True, extra_lines=MALFORMED_2024)
    write_padron(raw, 2024, 6, PADRON_2024_06, dialect="pipe", zipped=True)
    write_ventas(raw, 2024, VENTAS_2024)
    write_padron(raw, 2023, 12, PADRON_2023, dialect="pipe", zipped=False)
    write_ventas(raw, 2023, VENTAS_2023)
