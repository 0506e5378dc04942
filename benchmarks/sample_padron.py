"""Generate the SUNAT firm sample at national scale, time it, and check it independently in DuckDB SQL.

    uv run python benchmarks/sample_padron.py                 # national scale, temp dir, removed after
    uv run python benchmarks/sample_padron.py --scale small   # the test scale, in a second
    uv run python benchmarks/sample_padron.py --scale real    # national, cuts padded to 10–12.5 M lines
    uv run python benchmarks/sample_padron.py --keep --out /tmp/raw

The check does not reuse the generator's code: it finds the latest cut of each year by its AAAAMM, sniffs
delimiter and encoding from the bytes, reads the files back with DuckDB's ``read_csv`` (rejecting lines
whose field count is not 16), applies the formal-firm rule in SQL (check digit, first of a duplicated RUC,
ACTIVO, business type, declared sales > 0, ubigeo with its leading zero restored) and classifies
activities with its own text→sector mapping built from the CIIU reference tables. Each figure is printed
next to the published one; the exit code is 1 if a published firm figure is missed at its rounding
(national and real scales only: the small scale is not calibrated to the publication). The real scale
must print the national scale's figures exactly: its filler lines are never formal firms.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
import unicodedata
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pandas as pd

import vraem_pipeline
from vraem_sample import write_empresas

REF = Path(vraem_pipeline.__file__).parent / "reference"
SHARED_REF = Path(vraem_pipeline.__file__).resolve().parents[2] / "shared" / "reference"
COLUMNS = (
    "RUC,Estado,Condicion,Tipo,Actividad_Economica_CIIU_revision3_Principal,"
    "Actividad_Economica_CIIU_revision3_Secundaria,Actividad_Economica_CIIU_revision4_Principal,NroTrab,"
    "TipoFacturacion,TipoContabilidad,ComercioExterior,UBIGEO,Departamento,Provincia,Distrito,PERIODO_PUBLICACION"
).split(",")


def ref(name: str) -> Path:
    return REF / name if (REF / name).is_file() else SHARED_REF / name


# ----------------------------------------------------------------------------------------------- helpers


def strip_accents(s: str) -> str:
    s = unicodedata.normalize("NFKD", s.upper())
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = re.sub(r"[^A-Z0-9]+", " ", s)  # punctuation and spaces collapse to one space
    return s.strip()


def sector_division(d: int) -> str:
    table = [
        ((1, 2), "agropecuario"),
        ((3, 3), "pesca"),
        ((5, 9), "mineria"),
        ((10, 33), "manufactura"),
        ((41, 43), "construccion"),
        ((45, 47), "comercio"),
    ]
    for (a, b), s in table:
        if a <= d <= b:
            return s
    return "servicios"


def text_table() -> pd.DataFrame:
    """Normalized activity text → sector, from the UN titles, the Peruvian upper-case titles and variants."""
    rows = []
    un = pd.read_csv(ref("ciiu_rev4.csv"), dtype=str)
    rows += [(strip_accents(t), c) for t, c in zip(un["titulo"], un["clase"], strict=True)]
    pe = pd.read_csv(ref("ciiu_rev4_titulos_mayusculas_pe.csv"), dtype=str)
    rows += [(strip_accents(t), c) for t, c in zip(pe["texto"], pe["clase"], strict=True)]
    if ref("ciiu_rev4_variantes_sunat.csv").is_file():
        va = pd.read_csv(ref("ciiu_rev4_variantes_sunat.csv"), dtype=str)
        rows += [(strip_accents(t), c) for t, c in zip(va["texto"], va["clase"], strict=True)]
    df = pd.DataFrame(rows, columns=["texto", "clase"]).drop_duplicates()
    df["sector"] = [sector_division(int(c[:2])) for c in df["clase"]]
    df = df.drop_duplicates(["texto", "sector"])
    if df["texto"].duplicated().any():
        raise SystemExit("texto CIIU con dos sectores")
    return df[["texto", "sector"]]


def sniff(path: Path) -> tuple[str, str, bool]:
    """(delimiter, encoding, has BOM) from the file's bytes."""
    with open(path, "rb") as f:
        sample = f.read(4 << 20)
    bom = sample.startswith(b"\xef\xbb\xbf")
    try:
        sample[: sample.rfind(b"\n")].decode("utf-8")
        encoding = "utf-8"
    except UnicodeDecodeError:
        encoding = "latin-1"
    header_row = sample.split(b"\n", 1)[0]
    delim = "|" if header_row.count(b"|") > header_row.count(b",") else ","
    return delim, encoding, bom


def latest_cut(folder_path: Path) -> tuple[Path, list[Path]]:
    cuts = []
    for p in folder_path.iterdir():
        m = re.fullmatch(r"padronruc_(\d{6})\.(zip|csv)", p.name.lower())
        if m:
            cuts.append((m.group(1), p))
    cuts.sort()
    return cuts[-1][1], [p for _, p in cuts]


def count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 24):
            n += block.count(b"\n")
    return n


def round_half_up(x: float, decimal_places: int) -> Decimal:
    return Decimal(str(x)).quantize(Decimal(1).scaleb(-decimal_places), rounding=ROUND_HALF_UP)


# ------------------------------------------------------------------------------------------------ check


def load_cut(con: duckdb.DuckDBPyConnection, path: Path, tmp: Path) -> dict:
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as zf:
            member = zf.namelist()[0]
            zf.extract(member, tmp)
        csv = tmp / member
    else:
        csv = path
    delim, encoding, bom = sniff(csv)
    quote = '"' if delim == "," else ""
    column_names = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in COLUMNS) + "}"
    con.execute("DROP TABLE IF EXISTS padron_rechazos")
    con.execute(
        f"""CREATE OR REPLACE TABLE padron AS SELECT * FROM read_csv(
            '{csv}', delim='{delim}', quote='{quote}', escape='{quote}', header=true, encoding='{encoding}',
            columns={column_names}, auto_detect=false, ignore_errors=true, store_rejects=true,
            rejects_table='padron_rechazos', rejects_scan='padron_scan', null_padding=false, strict_mode=true)"""
    )
    lines = count_lines(csv) - 1
    read_rows = con.execute("SELECT count(*) FROM padron").fetchone()[0]
    rejected_rows = con.execute("SELECT count(DISTINCT line) FROM padron_rechazos").fetchone()[0]
    if csv != path:
        csv.unlink()
    return {
        "archivo": path.name,
        "delim": delim,
        "encoding": encoding,
        "bom": bom,
        "lineas": lines,
        "aceptadas_csv": read_rows,
        "rechazadas_campos": rejected_rows,
    }


SQL_FORMAL_FIRMS = """
CREATE OR REPLACE TABLE formales AS
WITH p AS (
    SELECT rowid AS rn, * REPLACE (
        CASE WHEN regexp_full_match(UBIGEO, '[0-9]{5}') THEN '0' || UBIGEO ELSE UBIGEO END AS UBIGEO)
    FROM padron
),
dv AS (
    SELECT *,
        regexp_full_match(RUC, '[0-9]{11}') AND
        (11 - (5*substr(RUC,1,1)::INT + 4*substr(RUC,2,1)::INT + 3*substr(RUC,3,1)::INT + 2*substr(RUC,4,1)::INT
             + 7*substr(RUC,5,1)::INT + 6*substr(RUC,6,1)::INT + 5*substr(RUC,7,1)::INT + 4*substr(RUC,8,1)::INT
             + 3*substr(RUC,9,1)::INT + 2*substr(RUC,10,1)::INT) % 11) % 10 = substr(RUC,11,1)::INT AS ruc_ok
    FROM p WHERE regexp_full_match(RUC, '[0-9]{11}')
),
unicos AS (
    SELECT * FROM dv WHERE ruc_ok QUALIFY row_number() OVER (PARTITION BY RUC ORDER BY rn) = 1
),
v AS (
    SELECT RUC, sum(TRY_CAST(VENTAS_NETAS AS DECIMAL(18, 2))) AS ventas
    FROM ventas WHERE EJERCICIO = $anio GROUP BY RUC
)
SELECT u.RUC, u.UBIGEO, substr(u.UBIGEO, 1, 2) AS dep, d.ubigeo IS NOT NULL AS vraem, v.ventas,
       CASE WHEN v.ventas / $uit <= 150 THEN 'micro' WHEN v.ventas / $uit <= 1700 THEN 'pequena'
            WHEN v.ventas / $uit <= 2300 THEN 'mediana' ELSE 'grande' END AS estrato,
       coalesce(t.sector, 'sin_clasificar') AS sector
FROM unicos u
JOIN tipos ON tipos.tipo = u.Tipo AND tipos.es_negocio = 'si'
JOIN v ON v.RUC = u.RUC AND v.ventas > 0
LEFT JOIN distritos d ON d.ubigeo = u.UBIGEO
LEFT JOIN mapa_textos t ON t.crudo = u.Actividad_Economica_CIIU_revision4_Principal
WHERE u.Estado = 'ACTIVO'
"""


def check(raw: Path, years: list[int]) -> tuple[pd.DataFrame, dict]:
    con = duckdb.connect()
    texts = text_table()

    def scalar(sql: str, params=None):
        return con.execute(sql, params).fetchone()[0]

    def map_texts() -> None:
        """Sector of each distinct activity text of the loaded cut (normalized in Python, joined in SQL)."""
        raw_texts = [
            r[0]
            for r in con.execute("SELECT DISTINCT Actividad_Economica_CIIU_revision4_Principal FROM padron").fetchall()
        ]
        text_map = pd.DataFrame({"crudo": raw_texts, "texto": [strip_accents(x or "") for x in raw_texts]})
        text_map = text_map.merge(texts, on="texto", how="left")[["crudo", "sector"]]
        con.register("mapa_df", text_map)
        con.execute("CREATE OR REPLACE TABLE mapa_textos AS SELECT * FROM mapa_df")
        con.unregister("mapa_df")

    con.execute(f"CREATE TABLE tipos AS SELECT * FROM read_csv('{ref('tipos_contribuyente.csv')}', all_varchar=true)")
    con.execute(f"CREATE TABLE distritos AS SELECT * FROM read_csv('{ref('vraem_distritos.csv')}', all_varchar=true)")
    uit = pd.read_csv(ref("uit.csv"), dtype={"anio": int, "uit_soles": int}).set_index("anio")["uit_soles"]
    rows, per_year = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for year in years:
            t0 = time.perf_counter()
            padron_cut, all_items = latest_cut(raw / "sunat" / "padron" / str(year))
            info = load_cut(con, padron_cut, Path(tmp))
            sales = raw / "sunat" / "ventas" / str(year) / f"ventas_{year}.txt"
            con.execute("DROP TABLE IF EXISTS ventas_rechazos")
            con.execute(
                f"""CREATE OR REPLACE TABLE ventas AS SELECT * FROM read_csv('{sales}', delim='|', quote='',
                    escape='', header=true, encoding='latin-1', auto_detect=false,
                    columns={{'RUC': 'VARCHAR', 'EJERCICIO': 'VARCHAR', 'VENTAS_NETAS': 'VARCHAR'}},
                    ignore_errors=true, store_rejects=true, rejects_table='ventas_rechazos',
                    rejects_scan='ventas_scan', null_padding=false, strict_mode=true)"""
            )
            info["ventas_lineas"] = count_lines(sales) - 1
            info["ventas_rechazadas_campos"] = scalar("SELECT count(DISTINCT line) FROM ventas_rechazos")
            info["ventas_no_numericas"] = scalar(
                "SELECT count(*) FROM ventas WHERE VENTAS_NETAS <> '' "
                "AND TRY_CAST(VENTAS_NETAS AS DECIMAL(18,2)) IS NULL"
            )
            info["ruc_dv_invalido"] = con.execute(
                """SELECT count(*) FROM padron WHERE NOT regexp_full_match(RUC, '[0-9]{11}') OR
                   (11 - (5*substr(RUC,1,1)::INT + 4*substr(RUC,2,1)::INT + 3*substr(RUC,3,1)::INT
                   + 2*substr(RUC,4,1)::INT + 7*substr(RUC,5,1)::INT + 6*substr(RUC,6,1)::INT
                   + 5*substr(RUC,7,1)::INT + 4*substr(RUC,8,1)::INT + 3*substr(RUC,9,1)::INT
                   + 2*substr(RUC,10,1)::INT) % 11) % 10 <> substr(RUC,11,1)::INT"""
            ).fetchone()[0]
            info["ruc_repetidos"] = con.execute("SELECT count(*) - count(DISTINCT RUC) FROM padron").fetchone()[0]
            info["ubigeo_guion"] = con.execute("SELECT count(*) FROM padron WHERE UBIGEO = '-'").fetchone()[0]
            info["ubigeo_5_digitos"] = con.execute(
                "SELECT count(*) FROM padron WHERE regexp_full_match(UBIGEO, '[0-9]{5}')"
            ).fetchone()[0]
            info["cortes"] = [p.name for p in all_items]
            map_texts()
            con.execute(SQL_FORMAL_FIRMS, {"anio": str(year), "uit": int(uit[year])})
            r = {"anio": year}
            r["nacional"] = con.execute("SELECT count(*) FROM formales").fetchone()[0]
            r["vraem"] = con.execute("SELECT count(*) FROM formales WHERE vraem").fetchone()[0]
            r["ventas_millones"] = float(scalar("SELECT sum(ventas) FROM formales WHERE vraem")) / 1e6
            for col in ("estrato", "sector", "dep"):
                for k, n in con.execute(f"SELECT {col}, count(*) FROM formales WHERE vraem GROUP BY 1").fetchall():
                    r[f"{col}:{k}"] = 100 * n / r["vraem"]
            r["estrato_nacional:micro"] = (
                100 * con.execute("SELECT avg((estrato = 'micro')::INT) FROM formales").fetchone()[0]
            )
            r["seg"] = round(time.perf_counter() - t0, 1)
            rows.append(r)
            per_year[year] = info
            # the superseded cut, read the same way, to show that picking it would be wrong
            if len(all_items) > 1:
                old = [p for p in all_items if p != padron_cut][-1]
                load_cut(con, old, Path(tmp))
                map_texts()
                con.execute(SQL_FORMAL_FIRMS, {"anio": str(year), "uit": int(uit[year])})
                info["corte_superado"] = {
                    "archivo": old.name,
                    "vraem": con.execute("SELECT count(*) FROM formales WHERE vraem").fetchone()[0],
                    "nacional": con.execute("SELECT count(*) FROM formales").fetchone()[0],
                }
    df = pd.DataFrame(rows).set_index("anio").sort_index()
    df["share_pct"] = 100 * df["vraem"] / df["nacional"]
    df["var_pct"] = 100 * df["vraem"].pct_change()
    return df, per_year


def compare(df: pd.DataFrame) -> list[tuple[str, str, str, bool]]:
    pub = pd.read_csv(ref("publicado_vraem_2024.csv"), dtype=str, keep_default_na=False)
    year = int(pub.loc[pub["indicador"] == "empresas_formales", "anio"].iloc[0])
    x = df.loc[year]
    mean_var = df["var_pct"].dropna().mean()
    results = []

    def row(name: str, computed_figure: float, published: str) -> None:
        dec = len(published.split(".")[1]) if "." in published else 0
        ok = round_half_up(computed_figure, dec) == Decimal(published)
        results.append((name, f"{computed_figure:,.4f}", published, ok))

    for _, p in pub.iterrows():
        ind, cat, val = p["indicador"], p["categoria"], p["valor"]
        if ind == "empresas_formales":
            row(ind, x["vraem"], val)
        elif ind == "empresas_participacion_nacional_pct":
            row(ind, x["share_pct"], val)
        elif ind == "empresas_var_anual_pct":
            row(ind, x["var_pct"], val)
        elif ind == "empresas_var_promedio_anual_pct":
            row(ind, mean_var, val)
        elif ind == "empresas_por_estrato_pct":
            row(f"{ind}:{cat}", x.get(f"estrato:{cat}", 0.0), val)
        elif ind == "empresas_por_sector_pct":
            row(f"{ind}:{cat}", x.get(f"sector:{cat}", 0.0), val)
        elif ind == "empresas_por_departamento_pct":
            row(f"{ind}:{cat}", x.get(f"dep:{cat}", 0.0), val)
        elif ind == "ventas_millones_soles":
            row(ind, x["ventas_millones"], val)
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="national", choices=["national", "small", "real"])
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--out", type=Path, help="raw folder to write (default: a temporary folder)")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--verify-only", action="store_true", help="only check the files already in --out")
    a = ap.parse_args()
    raw = a.out or Path(tempfile.mkdtemp(prefix="vraem_sample_"))
    years = list(range(2019, 2025))
    try:
        if not a.verify_only:
            print(f"== generación escala={a.scale} seed={a.seed} → {raw}")
            t0 = time.perf_counter()
            write_empresas(
                raw,
                seed=a.seed,
                scale=a.scale,
                years=years,
                progress=lambda stage, s: print(f"  {stage:>9}: {s:6.1f} s", flush=True),
            )
            print(f"  {'total':>9}: {time.perf_counter() - t0:6.1f} s")
            for p in sorted(raw.rglob("*")):
                if p.is_file():
                    print(f"  {p.relative_to(raw)}  {p.stat().st_size / 1e6:9.1f} MB")
        print("== verificación independiente (DuckDB)")
        t0 = time.perf_counter()
        df, per_year = check(raw, years)
        print(f"  leída y verificada en {time.perf_counter() - t0:.1f} s")
        for year, info in per_year.items():
            print(f"  {year}: {info}")
        pd.set_option("display.width", 250)
        pd.set_option("display.max_columns", 40)
        cols = ["vraem", "nacional", "share_pct", "var_pct", "ventas_millones", "estrato_nacional:micro"]
        print(df[cols].round(3).to_string())
        print(f"  media de las variaciones anuales {df.index[1]}–{df.index[-1]}: {df['var_pct'].dropna().mean():.4f} %")
        rest = sorted(c for c in df.columns if ":" in c and c not in cols)
        print(df[rest].round(2).T.to_string())
        print("== contra lo publicado")
        failures = 0
        for name, calc, pub, ok in compare(df):
            failures += not ok
            print(f"  {'OK ' if ok else 'NO '} {name:45} calculado {calc:>16}  publicado {pub}")
        if a.scale in ("national", "real") and failures:
            print(f"{failures} cifras no coinciden")
            return 1
        return 0
    finally:
        if a.out is None and not a.keep:
            shutil.rmtree(raw, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
