"""Time the SUNAT readers and row validation on national-scale files, one year at a time.

    uv run python benchmarks/readers.py                      # every year in /tmp/vraem_nat
    uv run python benchmarks/readers.py /tmp/raw 2023 2024   # another raw folder, some years
    uv run python benchmarks/readers.py --fuente ventas      # only the sales files

For each year it reads the Padrón cut that closes the year (`padron.latest_cut`) and the sales file, the same
way `vraem refresh` does (`read_cut` / `read_file`, then `ingest.validate_file` → `quality.split_valid`), and
prints: rows read and rejected; parse time (`textfiles.parse_delimited`: bytes → string columns, line numbers,
bad lines); norm time (the rest of `read_cut` / `read_file`: strip, null markers, ubigeo); split time
(`validate_file`: `split_valid` with its quarantine); rows/s of the whole; and the peak resident memory. Each
file runs in its own child process so that the peak memory is that file's alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_RAW = Path("/tmp/vraem_nat")


def _one(raw: Path, fuente: str, anio: int) -> dict:
    """Read and validate one file in this process; the figures as a dict (printed as JSON for the parent)."""
    from vraem_pipeline.ingest import validate_file
    from vraem_pipeline.schemas import empresas as schemas
    from vraem_pipeline.sources import padron, ventas

    parse_s = []

    def timed(fn):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                parse_s.append(time.perf_counter() - t)
        return wrapper

    padron.parse_delimited = timed(padron.parse_delimited)
    ventas.parse_delimited = timed(ventas.parse_delimited)
    t0 = time.perf_counter()
    if fuente == "padron":
        cut = padron.latest_cut(raw / "sunat" / "padron" / str(anio))
        if cut is None:
            return {}
        parsed = padron.read_cut(cut)
        schema = schemas.PADRON
    else:
        path = ventas.find_file(raw / "sunat" / "ventas" / str(anio), anio)
        if path is None:
            return {}
        parsed = ventas.read_file(path)
        schema = schemas.VENTAS
    t1 = time.perf_counter()
    load = validate_file(fuente, parsed, schema, anio)
    t2 = time.perf_counter()
    s = load.summary
    return {
        "archivo": Path(parsed.path).name, "leidas": s["leidas"], "aceptadas": s["aceptadas"],
        "rechazadas": s["rechazadas"], "malformadas": len(parsed.bad_lines), "parse_s": sum(parse_s),
        "norm_s": t1 - t0 - sum(parse_s), "split_s": t2 - t1, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("raw", nargs="?", type=Path, default=DEFAULT_RAW, help="carpeta raw (con sunat/padron, sunat/ventas)")
    ap.add_argument("anios", nargs="*", type=int, help="años (por defecto, todos los que haya)")
    ap.add_argument("--fuente", choices=["padron", "ventas", "ambas"], default="ambas")
    ap.add_argument("--one", nargs=2, metavar=("FUENTE", "ANIO"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.one:
        print(json.dumps(_one(args.raw, args.one[0], int(args.one[1]))))
        return 0

    sunat = args.raw / "sunat"
    years = args.anios or sorted(
        {int(p.name) for sub in ("padron", "ventas") for p in (sunat / sub).glob("*") if p.name.isdigit()}
    )
    fuentes = ["padron", "ventas"] if args.fuente == "ambas" else [args.fuente]
    print(f"{'año':>4} {'fuente':<7} {'archivo':<22} {'leídas':>10} {'rechaz.':>8} {'parse s':>8} {'norm s':>7} "
          f"{'split s':>8} {'total s':>8} {'filas/s':>10} {'pico MB':>8}", flush=True)
    for anio in years:
        for fuente in fuentes:
            out = subprocess.run(
                [sys.executable, __file__, str(args.raw), "--one", fuente, str(anio)],
                capture_output=True, text=True,
            )
            if out.returncode != 0:
                print(f"{anio:>4} {fuente:<7} ERROR: {out.stderr.strip().splitlines()[-1:]}", flush=True)
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            if not r:
                continue
            total = r["parse_s"] + r["norm_s"] + r["split_s"]
            print(f"{anio:>4} {fuente:<7} {r['archivo']:<22} {r['leidas']:>10,} {r['rechazadas']:>8,} "
                  f"{r['parse_s']:>8.1f} {r['norm_s']:>7.1f} {r['split_s']:>8.1f} {total:>8.1f} "
                  f"{r['leidas'] / total:>10,.0f} {r['rss_mb']:>8,.0f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
