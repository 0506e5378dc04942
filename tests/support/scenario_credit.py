"""A hand-worked two-year credit scenario: every debtor line exercises one branch of reading, locating or counting.

Territory = the shipped VRAEM districts. Expected figures are worked out by hand in the comments and asserted
by the tests; nothing here comes from the sample-data generator.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.builders import bad_ruc, padron_row, ruc, write_delivery, write_padron

HEADER = "PERIODO|TIPO_DOCUMENTO|NUMERO_DOCUMENTO|CODIGO_ENTIDAD|TIPO_CREDITO|SALDO_SOLES"

A = ruc("20", 30_000_001)  # 030202 Andarapa (Apurímac, territory), ACTIVO
B = ruc("20", 30_000_002)  # 120604 Mazamari (Junín, territory), BAJA DE OFICIO: still located
C = ruc("20", 30_000_003)  # 120101 Huancayo (Junín, NOT a territory district)
Q = ruc("10", 41_234_567)  # RUC 10 with business, 050401 Huanta (Ayacucho, territory), reported as a RUC
S = ruc("20", 30_000_004)  # in the Padrón with UBIGEO "-": cannot be placed
H2 = ruc("20", 30_000_005)  # 090701 Pampas (Huancavelica, territory): business credit in 2023 only
OUT = ruc("20", 30_000_099)  # a valid RUC that is in no Padrón cut
DNI_P = "45215942"  # its RUC 10 (Tipo: persona natural SIN negocio) is in 080910 Pichari (Cusco)
DNI_Z = "05414828"  # leading zero; RUC 10 = 10054148289 (docs/sources.md#ruc-digito test vector), 120604 Mazamari
DNI_H = "47000001"  # RUC 10 in 090701 Pampas (Huancavelica): consumer and mortgage credit only
DNI_WITHOUT_RUC = "12345678"  # no RUC 10 in the Padrón
P10 = ruc("10", int(DNI_P))
Z10 = "10054148289"
H10 = ruc("10", int(DNI_H))

PADRON_2024 = [
    padron_row(A, ubigeo="030202"),
    padron_row(B, ubigeo="120604", estado="BAJA DE OFICIO"),
    padron_row(C, ubigeo="120101"),
    padron_row(Q, ubigeo="050401", tipo="PERSONA NATURAL CON NEGOCIO"),
    padron_row(S, ubigeo="-"),
    padron_row(P10, ubigeo="080910", tipo="PERSONA NATURAL SIN NEGOCIO"),
    padron_row(Z10, ubigeo="120604", tipo="PERSONA NATURAL CON NEGOCIO"),
    padron_row(H10, ubigeo="090701", tipo="PERSONA NATURAL SIN NEGOCIO"),
    padron_row(H2, ubigeo="090701"),
]

# line number in the file: line 1 is the header
DEUDORES_2024 = [
    f"202412|6|{A}|00002|09|100000.00",  # 2  Apurímac, pequenas_empresas 100,000
    f"202412|6|{A}|00003|10|20000.50",  # 3  Apurímac, microempresas 20,000.50
    f"202412|6|{B}|00002|08|300000.00",  # 4  Junín (baja), medianas_empresas 300,000
    f"202412|6|{C}|00002|07|5000000.00",  # 5  Junín but outside the territory's districts: out
    f"202412|1|{DNI_P}|00081|10|8300.00",  # 6  DNI → RUC 10 → Cusco, microempresas 8,300
    f"202412|1|{DNI_P}|00081|12|15000.00",  # 7  consumer credit of the same person: out
    f"202412|6|{Q}|00058|06|1000000.00",  # 8  RUC 10 as RUC → Ayacucho, corporativos 1,000,000
    f"202412|1|{DNI_H}|00002|13|90000.00",  # 9  mortgage in Huancavelica: out
    f"202412|1|{DNI_H}|00002|11|2500.00",  # 10 revolving consumer in Huancavelica: out
    f"202412|1|{DNI_WITHOUT_RUC}|00002|09|50000.00",  # 11 unlocated: DNI without RUC 10 in the Padrón
    f"202412|6|{OUT}|00002|09|40000.00",  # 12 unlocated: RUC not in the Padrón
    f"202412|6|{S}|00002|10|7000.00",  # 13 unlocated: no UBIGEO in the Padrón
    "202412|4|001234567|00002|09|3000.00",  # 14 unlocated: carné de extranjería
    "202412|7|AB123456|00002|12|1000.00",  # 15 passport, consumer: not business credit
    f"202412|6|{A}|00002|07|0.00",  # 16 Apurímac, grandes_empresas 0 (a zero balance is a balance)
    f"202412|1|{DNI_Z}|00081|10|1000.00",  # 17 DNI with leading zero → 10054148289 → Junín, micro 1,000
    # quarantine, one rule each (distinct entities, so that no line is a duplicate of another)
    f"202411|6|{A}|00101|09|100.00",  # 18 periodo_del_anio
    f"202412|X|{A}|00102|09|100.00",  # 19 tipo_documento_formato
    "202412|1|4521594|00103|09|100.00",  # 20 dni_8_digitos (7 digits)
    f"202412|6|{bad_ruc('20', 30_000_001)}|00104|09|100.00",  # 21 ruc_digito_verificador
    "202412|6|2030000001|00105|09|100.00",  # 22 ruc_formato (10 digits)
    f"202412|6|{A}||09|100.00",  # 23 valor_obligatorio (codigo_entidad)
    f"202412|6|{A}|00107|05|100.00",  # 24 tipo_credito_sbs
    f"202412|6|{A}|00108|09|1,250.00",  # 25 tipo_de_dato (saldo_soles)
    f"202412|6|{A}|00109|09|-150.00",  # 26 saldo_no_negativo
    f"202412|6|{A}|00110|09|1e400",  # 27 valor_finito
    f"202412|6|{A}|00111|09|",  # 28 valor_obligatorio (saldo_soles)
    f"202412|6|{A}|00002|09|999999.00",  # 29 clave_duplicada of line 2 (the first line wins)
    f"202412|6|{A}|00113",  # 30 numero_de_campos (4 fields)
    f"202412|6|{A}|00114|09|100.00|X",  # 31 numero_de_campos (7 fields)
]

EXPECTED_QUARANTINE_2024 = [
    (18, "periodo_del_anio"),
    (19, "tipo_documento_formato"),
    (20, "dni_8_digitos"),
    (21, "ruc_digito_verificador"),
    (22, "ruc_formato"),
    (23, "valor_obligatorio"),
    (24, "tipo_credito_sbs"),
    (25, "tipo_de_dato"),
    (26, "saldo_no_negativo"),
    (27, "valor_finito"),
    (28, "valor_obligatorio"),
    (29, "clave_duplicada"),
    (30, "numero_de_campos"),
    (31, "numero_de_campos"),
]

# Territory 2024 (soles): by type corporativos 1,000,000 (Q); grandes 0 (A); medianas 300,000 (B);
# pequenas 100,000 (A); micro 20,000.50 (A) + 8,300 (DNI_P) + 1,000 (DNI_Z) = 29,300.50.
# Total 1,429,300.50. By department: 05 1,000,000; 12 300,000 + 1,000 = 301,000; 03 120,000.50; 08 8,300; 09 0.
# Unlocated 2024: DNI_SIN_RUC 50,000, OUT 40,000, S 7,000, carné 3,000 = 4 debtors, 100,000.
# National business credit 2024 = 1,429,300.50 + C 5,000,000 + 100,000 = 6,529,300.50 (unlocated 1.53 %).
EXPECTED_2024 = {
    "total": 1_429_300.50,
    "tipo": {
        "corporativos": 1_000_000.0,
        "grandes_empresas": 0.0,
        "medianas_empresas": 300_000.0,
        "pequenas_empresas": 100_000.0,
        "microempresas": 29_300.50,
    },
    "departamento": {"05": 1_000_000.0, "12": 301_000.0, "03": 120_000.50, "08": 8_300.0, "09": 0.0},
    "sin_ubicar": {
        "deudores": 4,
        "saldo": 100_000.0,
        "motivos": {"fuera_del_padron": 2, "sin_ubigeo_en_padron": 1, "documento_no_ubicable": 1},
    },
    "nacional": 6_529_300.50,
    "lineas": {"leidas": 30, "aceptadas": 16, "rechazadas": 14},
}

PADRON_2023 = [
    padron_row(A, ubigeo="030202", periodo="202312"),
    padron_row(B, ubigeo="120604", periodo="202312"),
    padron_row(H2, ubigeo="090701", periodo="202312"),
    padron_row(P10, ubigeo="080910", tipo="PERSONA NATURAL SIN NEGOCIO", periodo="202312"),
]
DEUDORES_2023 = [
    f"202312|6|{A}|00002|09|80000.00",  # Apurímac, pequenas 80,000
    f"202312|6|{H2}|00002|10|20000.00",  # Huancavelica, micro 20,000
    f"202312|6|{Q}|00058|06|400000.00",  # Q is not in the 2023 cut: unlocated
    f"202312|1|{DNI_P}|00081|09|100000.00",  # Cusco, pequenas 100,000
]
# Territory 2023 = 200,000 (03 80,000; 09 20,000; 08 100,000); unlocated 400,000 of 600,000 = 66.7 % → warning.
# 2024 change = 1,429,300.50 / 200,000 − 1 = 614.65025 %.
EXPECTED_2023 = {"total": 200_000.0, "sin_ubicar_pct": 100 * 400_000 / 600_000}


def deudores_bytes(lines: list[str], crlf: bool = False) -> bytes:
    end = "\r\n" if crlf else "\n"
    return (end.join([HEADER, *lines]) + end).encode("latin-1")


def write_deudores(
    raw: Path, year: int, lines: list[str], *, month: int = 12, zipped: bool = False, crlf: bool = False
) -> Path:
    name = f"deudores_{year}{month:02d}"
    return write_delivery(
        raw / "sbs" / "deudores" / str(year), name, f"{name}.txt", deudores_bytes(lines, crlf), zipped
    )


def write_credit_scenario(raw: Path) -> None:
    write_padron(raw, 2024, 12, PADRON_2024, dialect="pipe", zipped=True)
    write_padron(raw, 2023, 12, PADRON_2023, dialect="comma", zipped=False)
    write_deudores(raw, 2024, DEUDORES_2024)
    write_deudores(raw, 2023, DEUDORES_2023, zipped=True, crlf=True)
