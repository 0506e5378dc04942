"""Every figure of docs/performance.md, measured in one run, printed beside its target and its floor.

    uv run python benchmarks/table.py --small S --national N --real R --work W [--only small,national,…] [--suite]
                                      [--write docs/performance.md]

Runs the other benchmark scripts, each in a child process (`refresh.py`, `ingest_padron.py`, `sensor_tick.py`,
`dagster_steps.py`, the test suite), and reads the figures they print. The parts, in the order they run:

  sample    `vraem sample-data` at national scale (target ≤ 90 s): the generation of --national if that folder is
            missing, else a scratch one under --work, removed after
  small     full refresh of the small sample (≤ 5 s)
  national  full refresh of the national sample (≤ 60 s) and one year added to it (≤ 30 % of the full refresh)
  padron    one real-size cut, the 2024 December cut of --real: as published (zip) and extracted (plain CSV), the
            project's read → rules → quarantine → stage → blocking check beside DuckDB's own load of the same
            columns (≤ 2 × that load, ≤ 1.5 GB; floor: that load)
  floor     DuckDB's own load of each of the six real-size December cuts, summed: the floor of the real refresh
  real      full refresh of the six real-size years (≤ 3 min, ≤ 2 GB) and one year added (≤ 30 %)
  budget    the same under `VRAEM_MEMORIA=1500MB`, the setting for a 2 GB machine (≤ 2 GB)
  sensor    the sensor's first tick (empty cursor: every file hashed) and a quiet tick on --real
  dagster   Dagster's fixed cost per step and per run
  suite     (only with --suite, or named in --only) the whole test suite (≤ 8 min) and the quick loop (≤ 2 min)

A raw folder (--small, --national, --real) that does not exist is written first with `vraem sample-data --scale
small|national|real`, timed and reported in the table too; the given folders are only read. Warehouses, scratch
files and the children's logs go under --work (default: a temporary folder, removed at the end unless given).
Refreshes run with `VRAEM_MEMORIA=--memory` (2GB). Peak memory is the peak RSS of the child (`os.wait4`). Before,
during (sampled every 5 s) and after each part the 1-minute load average is recorded: on a shared machine the
wall clock moves with it. `--write PATH` regenerates the Markdown page: date, machine, this command, the table, and
for each missed target what bounds it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from refresh import Run, run_process  # noqa: E402  (a sibling script, not a package)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PARTS = ("sample", "small", "national", "padron", "floor", "real", "budget", "sensor", "dagster", "suite")
DEFAULT_PARTS = PARTS[:-1]
#: `VRAEM_MEMORIA` for a machine with 2 GB for the refresh (docs/settings-and-cli.md#settings), the `budget` part.
BUDGET_MEMORY = "1500MB"


# ------------------------------------------------------------------------------------------------ what is measured


@dataclass
class Load:
    """The 1-minute load average before a part, the highest sampled while it ran, and after it."""

    before: float
    peak: float = 0.0
    after: float = 0.0

    def text(self) -> str:
        return f"{self.before:.1f} / {self.peak:.1f} / {self.after:.1f}"


@dataclass
class Figure:
    """One row of the table."""

    name: str
    measured: str
    target: str = "—"
    floor: str = "—"
    met: str = "—"
    command: str = ""
    load: Load | None = None
    key: str = ""  # which "what bounds it" paragraph applies when the target is missed


@dataclass
class Measured:
    """Everything one run of this script measured: the rows, and each child's figures for the analysis."""

    figures: list[Figure] = field(default_factory=list)
    data: dict = field(default_factory=dict)


class Sampler:
    """Samples the 1-minute load average every few seconds while a part runs."""

    def __init__(self) -> None:
        self.load = Load(before=os.getloadavg()[0])
        self.load.peak = self.load.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(5):
            self.load.peak = max(self.load.peak, os.getloadavg()[0])

    def __enter__(self) -> Load:
        self._thread.start()
        return self.load

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.load.after = os.getloadavg()[0]
        self.load.peak = max(self.load.peak, self.load.after)


# ------------------------------------------------------------------------------------------------ formatting


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds:.2f} s"
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s ({seconds:.0f} s)"


def shown(argv: list[str]) -> str:
    """A command as typed from the repository folder: the venv's programs and paths relative to it."""
    words = list(argv)
    if words and words[0] == sys.executable:
        python = Path(sys.executable)
        words[0] = os.path.relpath(python, REPO) if python.is_relative_to(REPO) else python.name
        if words[1:3] == ["-m", "vraem_pipeline.cli"]:
            words[0:3] = [str(Path(words[0]).with_name("vraem"))]
    return shlex.join(os.path.relpath(w, REPO) if w.startswith(str(REPO) + "/") else w for w in words)


def verdict(*checks: tuple[str, bool]) -> str:
    """✓ when every check holds; else each check named with its mark."""
    if all(ok for _, ok in checks):
        return "✓"
    if len(checks) == 1:
        return "✗"
    return ", ".join(f"{name} {'✓' if ok else '✗'}" for name, ok in checks)


def machine() -> dict:
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").is_file() else []:
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    ram = 0.0
    for line in Path("/proc/meminfo").read_text().splitlines() if Path("/proc/meminfo").is_file() else []:
        if line.startswith("MemTotal:"):
            ram = int(line.split()[1]) / 1024 / 1024
    versions = {}
    for package in ("duckdb", "dagster", "pandas", "pytest"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "—"
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True)
    return {
        "cpus": os.cpu_count(),
        "model": model,
        "ram_gb": round(ram, 1),
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
        "commit": git.stdout.strip() or "—",
        "uncommitted": len([line for line in dirty.stdout.splitlines() if line.strip()]),
    }


def machine_text(m: dict) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    dirty = f" with {m['uncommitted']} uncommitted files" if m["uncommitted"] else ""
    return (
        f"{m['cpus']} CPU ({m['model']}), {m['ram_gb']} GB RAM, {m['kernel']}; Python {m['python']}, {versions}; "
        f"commit {m['commit']}{dirty}"
    )


# ------------------------------------------------------------------------------------------------ running the parts


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.work: Path = args.work
        self.logs = self.work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "VRAEM_MEMORIA": args.memory}
        self.out = Measured()
        self.generated: dict[str, Path] = {}

    # -- children

    def child(self, label: str, argv: list[str], env: dict | None = None) -> Run:
        print(f"\n== {label}: {shown(argv)}", flush=True)
        measured = run_process(argv, env or self.env)
        (self.logs / f"{label}.log").write_text(measured.output)
        print(
            f"   {measured.seconds:.1f} s, CPU {measured.cpu:.1f} s, peak {measured.peak_gb:.2f} GB, "
            f"exit {measured.code}"
            f"; log {self.logs / (label + '.log')}",
            flush=True,
        )
        return measured

    def script(self, label: str, name: str, *args: str) -> tuple[Run, dict | None, str]:
        """A benchmark script with `--json`: its run, its figures (None if it failed) and its command."""
        argv = [sys.executable, str(HERE / name), *args, "--json"]
        measured = self.child(label, argv)
        figures = None
        if measured.code == 0:
            for line in reversed(measured.output.splitlines()):
                if line.startswith("{"):
                    figures = json.loads(line)
                    break
        self.out.data[label] = figures
        return measured, figures, shown(argv[:-1])

    def failed(self, name: str, measured: Run, command: str, load: Load) -> None:
        last = measured.output.strip().splitlines()[-1:] or [""]
        self.out.figures.append(
            Figure(name, f"failed (exit {measured.code}): {last[0][:200]}", command=command, load=load)
        )

    # -- inputs

    def raw(self, scale: str) -> Path:
        """The raw folder of a scale, written first (timed) when it does not exist."""
        folder = {"small": self.args.small, "national": self.args.national, "real": self.args.real}[scale].resolve()
        if folder.exists():
            return folder
        with Sampler() as load:
            argv = [sys.executable, "-m", "vraem_pipeline.cli", "sample-data", "--out", str(folder), "--scale", scale]
            measured = self.child(f"sample-data-{scale}", argv)
        self.generated[scale] = folder
        self.sample_figure(scale, folder, measured, shown(argv), load)
        if measured.code != 0:
            raise SystemExit(f"vraem sample-data --scale {scale} failed; see {self.logs}")
        return folder

    def sample_figure(self, scale: str, folder: Path, measured: Run, command: str, load: Load) -> None:
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
        text = (
            f"{duration(measured.seconds)}, CPU {duration(measured.cpu)}, peak {measured.peak_gb:.2f} GB; "
            f"{size / 1e9:.2f} GB written"
        )
        if measured.code != 0:
            self.failed(f"`vraem sample-data --scale {scale}`", measured, command, load)
            return
        target = "≤ 90 s" if scale == "national" else "—"
        met = verdict(("time", measured.seconds <= 90)) if scale == "national" else "—"
        self.out.figures.append(
            Figure(f"`vraem sample-data --scale {scale}`", text, target, "—", met, command, load, f"sample_{scale}")
        )
        self.out.data[f"sample-data-{scale}"] = {**measured.figures(), "gb_written": round(size / 1e9, 2)}

    # -- parts

    def part_sample(self) -> None:
        if "national" in self.generated:
            return  # generating --national was this figure
        target = self.args.national.resolve()
        if not target.exists():
            self.raw("national")
            return
        scratch = self.work / "sample_national"
        shutil.rmtree(scratch, ignore_errors=True)
        with Sampler() as load:
            argv = [
                sys.executable,
                "-m",
                "vraem_pipeline.cli",
                "sample-data",
                "--out",
                str(scratch),
                "--scale",
                "national",
            ]
            measured = self.child("sample-data-national", argv)
        self.sample_figure("national", scratch, measured, shown(argv), load)
        shutil.rmtree(scratch, ignore_errors=True)

    def refresh(
        self, label: str, scale: str, memory: str | None = None, folder: str | None = None
    ) -> tuple[Run, dict | None, str, Load]:
        raw = self.raw(scale)
        keep = self.work / (folder or f"warehouse_{scale}")
        shutil.rmtree(keep, ignore_errors=True)
        with Sampler() as load:
            measured, figures, command = self.script(
                label, "refresh.py", "--raw", str(raw), "--memory", memory or self.args.memory, "--keep", str(keep)
            )
        return measured, figures, command, load

    def refresh_text(self, run: dict) -> str:
        return f"{duration(run['seconds'])}, CPU {duration(run['cpu'])}, peak {run['peak_gb']:.2f} GB" + (
            f" (exit {run['code']})" if run["code"] else ""
        )

    def one_year_added(self, one: dict, warehouse: str, load: Load, key: str) -> None:
        """The figure of a refresh's second run: the last year again on the warehouse the full refresh published."""
        self.out.figures.append(
            Figure(
                f"one year ({one['year']}) added to that {warehouse} warehouse",
                f"{self.refresh_text(one)} = {100 * one['share_of_full']:.0f} % of the full refresh",
                "≤ 30 % of the full refresh",
                "—",
                verdict(("time", one["share_of_full"] <= 0.30)) if not one["code"] else "✗",
                "same run",
                load,
                key,
            )
        )

    def full_refresh(
        self,
        label: str,
        scale: str,
        name: str,
        target: str,
        judge,
        key: str,
        floor: str = "—",
        memory: str | None = None,
        folder: str | None = None,
        detail=lambda full: "",
    ) -> tuple[dict | None, Load]:
        """A `refresh.py` run and the figure of its full refresh, judged by `judge(full)`; returns the run's figures
        (None when it failed) for the parts that also report its second run."""
        measured, figures, command, load = self.refresh(label, scale, memory, folder)
        if figures is None or figures["full"]["code"]:
            self.failed(name, measured, command, load)
            return None, load
        full = figures["full"]
        self.out.figures.append(
            Figure(name, self.refresh_text(full) + detail(full), target, floor, judge(full), command, load, key)
        )
        return figures, load

    def part_small(self) -> None:
        self.full_refresh(
            "refresh-small",
            "small",
            "small sample (2019–2024), full refresh",
            "≤ 5 s",
            lambda full: verdict(("time", full["seconds"] <= 5)),
            "small",
        )

    def part_national(self) -> None:
        figures, load = self.full_refresh(
            "refresh-national",
            "national",
            "national sample (2019–2024, every source), full refresh",
            "≤ 60 s",
            lambda full: verdict(("time", full["seconds"] <= 60)),
            "national",
        )
        if figures:
            self.one_year_added(figures["one_year"], "national", load, "national_one")

    def december_cuts(self) -> dict[int, Path]:
        """Each year's latest Padrón cut in --real (the one a refresh reads)."""
        folder = self.raw("real") / "sunat" / "padron"
        cuts = {}
        for year in sorted(p for p in folder.iterdir() if p.name.isdigit()):
            files = sorted(p for p in year.iterdir() if p.name.lower().startswith("padronruc_"))
            if files:
                cuts[int(year.name)] = files[-1]
        return cuts

    def part_padron(self) -> None:
        cut = self.december_cuts()[2024]
        scratch = self.work / "padron"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        if zipfile.is_zipfile(cut):
            with zipfile.ZipFile(cut) as zf:
                member = zf.namelist()[0]
                zf.extract(member, scratch / "plain")
            plain = scratch / "plain" / member
            variants = [("zip", cut, "as published (zip)"), ("csv", plain, "the same, extracted (plain CSV)")]
        else:
            variants = [("csv", cut, "plain CSV")]
        for kind, path, how in variants:
            with Sampler() as load:
                measured, figures, command = self.script(
                    f"padron-{kind}",
                    "ingest_padron.py",
                    str(path),
                    "--memory",
                    self.args.memory,
                    "--workdir",
                    str(scratch),
                )
            name = f"one real-size Padrón cut, `{path.name}`, {how}: read → rules → quarantine → stage → check"
            if figures is None:
                self.failed(name, measured, command, load)
                continue
            ours, base = figures["pipeline"], figures["baseline"]
            text = (
                f"{duration(ours['seconds'])} = **{figures['ratio']:.1f} ×** DuckDB's load "
                f"({', '.join(str(r['seconds']) for r in figures['baseline_runs'])} s, best kept); "
                f"CPU {duration(ours['cpu'])} = {figures['cpu_ratio']:.1f} ×; peak {ours['peak_gb']:.2f} GB; "
                f"{ours['rows_read']:,} lines ({figures['size_gb']:.2f} GB)"
            )
            self.out.figures.append(
                Figure(
                    name,
                    text,
                    "≤ 2 × DuckDB's load, ≤ 1.5 GB",
                    f"{duration(base['seconds'])} (DuckDB's own load of the same columns; "
                    f"peak {base['peak_gb']:.2f} GB)",
                    verdict(("time", figures["ratio"] <= 2), ("memory", ours["peak_gb"] <= 1.5)),
                    command,
                    load,
                    f"padron_{kind}",
                )
            )
        shutil.rmtree(scratch, ignore_errors=True)

    def part_floor(self) -> None:
        scratch = self.work / "floor"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir(parents=True)
        loads, commands = {}, []
        with Sampler() as load:
            for year, cut in self.december_cuts().items():
                measured, figures, command = self.script(
                    f"floor-{year}", "ingest_padron.py", str(cut), "--baseline-only", "--workdir", str(scratch)
                )
                commands.append(command)
                if figures is None:
                    self.failed(f"DuckDB's own load of {cut.name}", measured, command, load)
                    return
                loads[year] = figures["baseline"]
        shutil.rmtree(scratch, ignore_errors=True)
        total = sum(r["seconds"] for r in loads.values())
        each = ", ".join(f"{year}: {r['seconds']:.1f} s" for year, r in loads.items())
        self.out.data["floor"] = {"per_cut": loads, "seconds": round(total, 1), "load": load.__dict__}
        self.out.figures.append(
            Figure(
                f"DuckDB's own load of the six real-size December cuts ({min(loads)}–{max(loads)}), summed",
                f"{duration(total)} ({each}); {sum(r['rows'] for r in loads.values()):,} rows",
                "—",
                "—",
                "—",
                commands[0].replace(str(self.december_cuts()[min(loads)]), "<each cut>") + " (each cut)",
                load,
            )
        )

    def part_real(self) -> None:
        figures, load = self.full_refresh(
            "refresh-real",
            "real",
            "six real-size years (2019–2024), full refresh",
            "≤ 3 min, ≤ 2 GB",
            lambda full: verdict(("time", full["seconds"] <= 180), ("memory", full["peak_gb"] <= 2)),
            "real",
            floor="FLOOR",  # filled in once the floor part ran (or "—")
        )
        if figures:
            self.one_year_added(figures["one_year"], "real-size", load, "real_one")

    def part_budget(self) -> None:
        """The six real-size years again under the setting docs/settings-and-cli.md gives for a 2 GB machine:
        `VRAEM_MEMORIA` bounds DuckDB's buffer pool, the process adds Python's and pandas' memory to it."""
        self.full_refresh(
            "refresh-real-budget",
            "real",
            f"six real-size years (2019–2024), full refresh, `VRAEM_MEMORIA={BUDGET_MEMORY}` (a 2 GB machine)",
            "≤ 2 GB",
            lambda full: verdict(("memory", full["peak_gb"] <= 2)),
            "real_budget",
            memory=BUDGET_MEMORY,
            folder="warehouse_real_budget",
            detail=lambda full: f" (peak RSS {full['peak_gb'] * 1024:.0f} MB)",
        )

    def part_sensor(self) -> None:
        raw = self.raw("real")
        warehouse = self.work / "warehouse_real" / "vraem.duckdb"
        args = ["--raw", str(raw)] + (["--warehouse", str(warehouse)] if warehouse.is_file() else [])
        with Sampler() as load:
            measured, figures, command = self.script("sensor", "sensor_tick.py", *args)
        if figures is None:
            return self.failed("the sensor's tick on the real-size raw folder", measured, command, load)
        against = "the published real-size warehouse" if figures["warehouse"] else "no published warehouse"
        self.out.figures.append(
            Figure(
                f"the sensor's first tick on the real-size raw folder ({figures['files']} files, {figures['gb']} GB; "
                "empty cursor: every file hashed)",
                f"{duration(figures['first_s'])}, of it hashing {figures['first_hashing_s']:.1f} s; compared with "
                f"{against}; {figures['first_requests']} runs requested",
                command=command,
                load=load,
            )
        )
        self.out.figures.append(
            Figure(
                "the sensor's quiet tick (nothing moved: a stat per file)",
                f"{figures['quiet_s']:.3f} s (best of {figures['quiet_runs_s']}); the raw/ walk alone "
                f"{figures['walk_s']:.3f} s",
                command="same run",
                load=load,
            )
        )

    def part_dagster(self) -> None:
        with Sampler() as load:
            measured, figures, command = self.script("dagster", "dagster_steps.py")
        if figures is None:
            return self.failed("Dagster's fixed cost", measured, command, load)
        sq, eph = figures["sqlite"], figures["ephemeral"]
        self.out.figures.append(
            Figure(
                "Dagster's fixed cost per step (SQLite instance, what `vraem refresh` uses; ephemeral)",
                f"{sq['ms_per_step']:.0f} ms per step (one asset each); "
                f"{sq['ms_per_materialization_in_one_step']:.0f} ms per materialization within one step; "
                f"ephemeral instance {eph['ms_per_step']:.0f} ms / "
                f"{eph['ms_per_materialization_in_one_step']:.0f} ms",
                command=command,
                load=load,
            )
        )
        self.out.figures.append(
            Figure(
                "Dagster's fixed cost per run (a run of one trivial step)",
                f"{sq['s_per_run']:.2f} s (SQLite); {eph['s_per_run']:.2f} s (ephemeral)",
                command="same run",
                load=load,
            )
        )

    def part_suite(self) -> None:
        for label, extra, name, target in (
            ("suite", [], "the whole test suite", 480),
            ("quick-loop", ["-m", "not slow"], 'the quick loop (`-m "not slow"`)', 120),
        ):
            argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra]
            with Sampler() as load:
                measured = self.child(label, argv)
            summary = [line for line in measured.output.splitlines() if " in " in line and ("passed" in line)]
            slowest = _slowest(measured.output)
            self.out.data[label] = {**measured.figures(), "summary": summary[-1:] or None, "slowest": slowest}
            text = f"{duration(measured.seconds)}, CPU {duration(measured.cpu)}, peak {measured.peak_gb:.2f} GB"
            text += f"; {summary[-1].strip('= ')}" if summary else f"; exit {measured.code}"
            self.out.figures.append(
                Figure(
                    name,
                    text,
                    f"≤ {target // 60} min",
                    "—",
                    verdict(("time", measured.seconds <= target)) if measured.code == 0 else "✗ (failed)",
                    shown(argv),
                    load,
                    label,
                )
            )

    def run(self, parts: list[str]) -> Measured:
        for part in PARTS:
            if part in parts:
                getattr(self, f"part_{part}")()
        floor = self.out.data.get("floor")
        for figure in self.out.figures:
            if figure.floor == "FLOOR":
                figure.floor = (
                    f"{duration(floor['seconds'])} (DuckDB's own loads of the six cuts, row above)" if floor else "—"
                )
        return self.out


def _slowest(output: str) -> list[str]:
    """The slowest tests pytest lists at the end (`--durations`), the first five."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if "slowest" in line and "durations" in line:
            return [entry.strip() for entry in lines[i + 1 : i + 6] if entry.strip()]
    return []


def _tidy_duration(entry: str) -> str:
    """pytest's `266.91s call     tests/x.py::test_y` as `266.9 s tests/x.py::test_y` (a fixture's `setup` kept)."""
    found = re.match(r"^([\d.]+)s\s+(call|setup|teardown)\s+(\S.*)$", entry)
    if not found:
        return entry
    phase = "" if found.group(2) == "call" else f"{found.group(2)} of "
    return f"{float(found.group(1)):.1f} s {phase}`{found.group(3)}`"


# ------------------------------------------------------------------------------------------------ the table and page


def print_table(out: Measured, m: dict) -> None:
    print(f"\nmachine: {machine_text(m)}")
    print("load average: 1 min, before / highest sampled during / after each part\n")
    for f in out.figures:
        print(f"* {f.name}")
        print(f"    measured {f.measured}")
        print(f"    target {f.target} · floor {f.floor} · met? {f.met} · load {f.load.text() if f.load else '—'}")
        print(f"    command {f.command}")


def markdown_table(out: Measured) -> str:
    rows = ["| figure | measured | target | floor | met? | load | command |", "|---|---|---|---|---|---|---|"]
    for f in out.figures:
        command = f.command if f.command in ("same run", "") else f"`{f.command}`"
        cells = [f.name, f.measured, f.target, f.floor, f.met, f.load.text() if f.load else "—", command]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)


#: Processes of its own a measured figure runs side by side: the suite's and the quick loop's two xdist workers,
#: each with the refreshes it starts.
OWN_PROCESSES = {"suite": 2, "quick-loop": 2}


def shared(f: Figure, cpus: int) -> bool:
    """Whether other processes competed for the CPUs while `f` was measured: the load counts the measured
    process's own threads too (DuckDB runs one per CPU), so only a load beyond the CPUs plus one (per process of
    its own running side by side) says that others were running."""
    return bool(f.load) and f.load.peak > (cpus + 1) * OWN_PROCESSES.get(f.key, 1)


def _top(mapping: dict, n: int = 5) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in list(mapping.items())[:n])


def bounds(out: Measured, m: dict, memory: str = "2GB") -> list[tuple[str, str]]:
    """(figure, what bounds it) for each missed target, from the measured breakdown and the README's analysis."""
    data = out.data
    missed = [f for f in out.figures if f.met not in ("✓", "—") and f.key]
    paragraphs = []
    cpus = m["cpus"]

    def load_note(f: Figure) -> str:
        if shared(f, cpus):
            return f" (The load reached {f.load.peak:.1f} on {cpus} CPUs while it ran: the machine was shared.)"
        return ""

    for f in missed:
        text = ""
        if f.key.startswith("padron_"):
            fig = data.get(f"padron-{f.key.split('_')[1]}") or {}
            ours = fig.get("pipeline", {})
            steps = ", ".join(f"{k} {duration(v)}" for k, v in (ours.get("steps") or {}).items())
            text = (
                f"Measured here: `padron.load_cut` (reading, normalizing and judging every row, and writing it: the "
                f"one `INSERT`, via {ours.get('via')}) {duration(ours.get('read'))}; `stage_text_load` "
                f"{duration(ours.get('validate_and_write'))} ({steps}); the blocking check (`table_failures`) "
                f"{duration(ours.get('blocking_check'))}; {duration(ours.get('cpu'))} of CPU against DuckDB's "
                f"{duration(fig.get('baseline', {}).get('cpu'))} ({fig.get('cpu_ratio', 0):.1f} ×; wall clock "
                f"{fig.get('ratio', 0):.1f} ×). Where that time goes (the profile made when this path was last "
                "rewritten, on the plain file, CPU seconds, `perf` and per-statement timings; not re-measured by this "
                "command): the one `INSERT` that "
                "reads, normalizes, judges and writes the rows straight into staging 63 (DuckDB's own load of the "
                "same columns: 22–32), of which writing and compressing the strings (dict-FSST, statistics, the "
                "transaction's row groups) and DuckDB's UTF-8 check are about 20, `GLOB` tests 4, the RUC check "
                "digit 4–5, the thread counting line ends 3.4 (`bytes.count`, overlapped); numbering the lines "
                "(`UPDATE`) and committing 4; the duplicate keys 5.7; the blocking check 19 (every rule again, the "
                "RUC check digit half of it, on both CPUs; the uniqueness count per year 2.7); the rest "
                "(period check, quarantine, unhiding the year) under 2."
            )
            if f.key == "padron_zip":
                text += (
                    " A zip adds DuckDB's single-threaded gzip inflate (the parse keeps running on the other core) and "
                    "the ISA-L pass that checks the member (~2 s per GB inflated, in its own thread)."
                )
            text += (
                " What bounds it: the verdict and the normalization are work DuckDB's own load does not do, and the "
                "blocking check is an independent second validation by design — the loader writes exactly the rows "
                "it judged, so only judging them again notices a loader that writes something else "
                "(`tests/core/test_sqlrules.py::…corrupts_a_value_after_the_verdict`); counting them against "
                "`meta.fuentes` notices one that loses or doubles a row. Dropping the check to counts, types and "
                "uniqueness would save ~10 of that profile's ~95 s of CPU and lose that."
            )
        elif f.key in ("real", "national", "small"):
            fig = (data.get(f"refresh-{f.key}") or {}).get("full", {})
            per_source = fig.get("per_source", {})
            text = (
                f"Measured here: {fig.get('cpu', 0):.0f} CPU seconds in {fig.get('seconds', 0):.0f} s of wall clock; "
                f"Dagster's steps {fig.get('dagster_steps_total', 0):.0f} s in all "
                f"({_top(fig.get('dagster_steps', {}))}), "
                f"{fig.get('dagster_materializations', 0)} asset materializations in {fig.get('dagster_runs', 0)} "
                f"Dagster run{'' if fig.get('dagster_runs') == 1 else 's'}; the seconds `vraem refresh` prints per "
                "source, summed over the years: "
                f"{_top(per_source, 8)}; starting the process, loading the definitions and the run copy of the "
                f"operator database take the rest ({fig.get('seconds', 0) - fig.get('dagster_steps_total', 0):.0f} s "
                "outside the steps)."
            )
            if fig.get("cpu") and fig["cpu"] / cpus > {"real": 180, "national": 60, "small": 5}[f.key]:
                text += (
                    f" On {cpus} CPUs, {fig['cpu']:.0f} CPU seconds cannot take less than {fig['cpu'] / cpus:.0f} s "
                    "of wall clock even with every CPU busy throughout: the target needs less work, not more "
                    "parallelism."
                )
            if f.key == "real":
                floor = data.get("floor")
                if floor:
                    text += (
                        f" The six Padrón cuts alone take {per_source.get('padron_ruc', 0):.0f} s against a floor of "
                        f"{floor['seconds']:.0f} s (DuckDB's own loads): each cut is bounded as the single-cut "
                        "rows say."
                    )
                one = (data.get("refresh-real") or {}).get("one_year", {})
                cut = (data.get("padron-zip") or {}).get("pipeline", {})
                text += (
                    " Memory: `memory_limit` (`VRAEM_MEMORIA`) bounds DuckDB's buffer pool, not the process: Python, "
                    "pandas (ENAHO) and DuckDB's own allocations come on top of it (the peak here is "
                    f"{fig.get('peak_gb', 0):.2f} GB under `VRAEM_MEMORIA={memory}`"
                    + (
                        f", {budget['peak_gb']:.2f} GB under `VRAEM_MEMORIA={BUDGET_MEMORY}`"
                        if (budget := (data.get("refresh-real-budget") or {}).get("full"))
                        else ""
                    )
                    + "), so a "
                    f"2 GB machine budget means a lower setting (the `VRAEM_MEMORIA={BUDGET_MEMORY}` row measures it). "
                    f"The peak is not one cut's ({cut.get('peak_gb', 0):.2f} GB for the 2024 cut alone) nor the "
                    "report's Chromium (one year added, which prints the same report: "
                    f"{one.get('peak_gb', 0):.2f} GB): it comes with the six years, which the full refresh runs in "
                    "one step per topic (`empresas_anual` above)."
                )
            if f.key in ("real", "national"):
                text += (
                    f" `intermedio/empresas_formales` ({per_source.get('empresas_formales', 0):.0f} s here; on the "
                    "six national-sample years, 13.3 M formal firms, the earlier CPU profile: joining 15 M Padrón rows "
                    "with 13.5 M sales rows 5–7 s, writing the 13.3 M rows 12–13 s, the RUC column 4 of it, each "
                    "other text column ~1; joining on the RUC as a BIGINT instead of text gave nothing measurable). "
                    f"The export steps ({per_source.get('exportaciones', 0):.0f} s here): from the earlier profile "
                    "of one year of weekly DBFs (373,552 lines in 64 zips), inflating the zips 0.4 s, cutting the DBF "
                    "records into Arrow columns 0.8, the one normalized scratch table 0.9–1.1, the rules, the "
                    "duplicate search and the writes 1.1–1.4; a pipe year of 302 k lines ~2.5 s."
                )
            if f.key == "small":
                dagster = data.get("dagster") or {}
                sq = dagster.get("sqlite", {})
                text += (
                    " At this size the data is not what costs: the fixed costs are. Dagster's bookkeeping (measured "
                    f"in this run: {sq.get('ms_per_materialization_in_one_step', 0):.0f} ms per materialization "
                    f"within a step on a SQLite instance, {sq.get('ms_per_step', 0):.0f} ms per step) times the run's "
                    f"{fig.get('dagster_materializations', 0)} materializations and their checks; the report "
                    f"({per_source.get('informe', 0):.1f} s: HTML, workbook and PDF); "
                    "and the process itself: importing the libraries ~3.5 s, and at its exit ~1 s in which CPython's "
                    "final garbage collections walk the whole heap (`perf` on a one-year refresh of this sample; "
                    "`gc.freeze()` just before exiting cuts that to 0.1 s, but DuckDB 2.0's nanobind bindings then "
                    "print a leaked-instances report on every exit, and `os._exit` would skip every finalizer: "
                    "neither is used)."
                )
        elif f.key in ("real_one", "national_one"):
            fig = (data.get(f"refresh-{f.key.split('_')[0]}") or {}).get("one_year", {})
            text = (
                f"Measured here: {fig.get('seconds', 0):.0f} s, of it Dagster's steps: "
                f"{_top(fig.get('dagster_steps', {}))}. "
                "One year re-reads that year's files but rebuilds the marts over every year, publishes and writes "
                "the report: a fixed part that does not shrink with the year."
            )
        elif f.key.startswith("sample_"):
            fig = data.get(f"sample-data-{f.key.split('_')[1]}") or {}
            text = (
                f"Measured here: {fig.get('cpu', 0):.0f} CPU seconds in {fig.get('seconds', 0):.0f} s, "
                f"{fig.get('gb_written', 0):.2f} GB written (`vraem sample-data` prints only its total; "
                "`benchmarks/sample_padron.py` and `benchmarks/sample_aduanas.py` time its parts)."
            )
        elif f.key in ("suite", "quick-loop"):
            fig = data.get(f.key) or {}
            text = (
                f"The slowest tests of this run: {'; '.join(map(_tidy_duration, fig.get('slowest') or [])) or '—'}. "
                "The suite runs on two "
                "pytest-xdist workers (`-n 2 --dist loadfile`); the refreshing fixtures are built once per run."
            )
            if f.key == "suite" and fig.get("cpu") and fig.get("seconds"):
                text += (
                    f" It is bound by the CPUs, not by waiting: {fig['cpu']:.0f} CPU seconds (its processes and "
                    f"every process they started) in {fig['seconds']:.0f} s of wall clock keep "
                    f"{fig['cpu'] / (fig['seconds'] * cpus):.0%} of the {cpus} CPUs busy, so it cannot take less than "
                    f"{fig['cpu'] / cpus:.0f} s however its tests are spread over workers; the national test "
                    "(writing the national sample and refreshing it, what the quick start does) is about a third "
                    "of that CPU. Tried: the refreshing fixtures built once per run, two workers with the longest "
                    "modules first, one chain of killed refreshes instead of a killed and a whole refresh per kill "
                    "point, the sample's zips deflated with ISA-L, the customs sample test's reader decoding a "
                    "record once, the concurrency test's readers querying every 0.25 s instead of 0.05 s, "
                    "matplotlib imported only where the charts are drawn; three workers were slower (the "
                    "national test, the longest, then shares the two CPUs three ways and ends later). What is left is "
                    "the refreshes the tests need and their fixed cost (process start, definitions, Dagster's "
                    "bookkeeping, the report)."
                )
        paragraphs.append((f.name, text + load_note(f)))
    return paragraphs


def page(out: Measured, m: dict, command: str, started: datetime.datetime, total: float, memory: str) -> str:
    missed = bounds(out, m, memory)
    loaded = [f for f in out.figures if shared(f, m["cpus"])]
    highest = max((f.load.peak for f in out.figures if f.load), default=0.0)
    lines = [
        "# Performance",
        "",
        "<!-- Generated by benchmarks/table.py: run it again rather than editing this page by hand. -->",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC in one run of {duration(total)}, from the repository folder:",
        "",
        "```bash",
        command,
        "```",
        "",
        f"**Machine**: {machine_text(m)}.",
        "",
        "Peak memory is the peak RSS of the measured child process (`os.wait4`: the process and what it waited "
        f"for); CPU is its user + system seconds. Refreshes run with `VRAEM_MEMORIA={memory}` in a new warehouse "
        "folder. "
        "**Load** is the 1-minute load average before / the highest sampled during (every 5 s) / after each part; "
        "it counts the measured process's own threads too (DuckDB runs one per CPU), so up to about "
        f"{m['cpus'] + 1} on these {m['cpus']} CPUs is the benchmark itself (twice that for the test suite and the "
        "quick loop, whose two workers each run their own refreshes), and beyond that other processes were "
        "competing for the CPUs"
        + (
            f" — they were during {len(loaded)} of the {len(out.figures)} figures, whose wall clock is therefore "
            "longer than an idle machine's (the CPU seconds move far less)."
            if loaded
            else f". The load never went above {highest:.1f} during this run: nothing else of weight ran beside it."
        ),
        "",
        markdown_table(out),
        "",
        "Each figure's command can be run on its own; `benchmarks/table.py --only PART` reruns a part "
        f"({', '.join(PARTS)}). Earlier figures are in this page's history (`git log -p docs/performance.md`) and, "
        "before this page existed, in the history of README.md's Performance section.",
        "",
        "## What bounds each missed figure",
        "",
    ]
    if not missed:
        lines.append("Every target was met.")
    for name, text in missed:
        lines += [f"**{name}.** {text}", ""]
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=Path, help="small raw folder (written if missing)")
    parser.add_argument("--national", type=Path, help="national raw folder (written if missing)")
    parser.add_argument("--real", type=Path, help="real-size raw folder (written if missing)")
    parser.add_argument("--work", type=Path, help="warehouses, scratch files, logs (default: a temp folder, removed)")
    parser.add_argument("--only", help=f"comma-separated parts among {', '.join(PARTS)}")
    parser.add_argument("--suite", action="store_true", help="also time the test suite and the quick loop")
    parser.add_argument("--memory", default="2GB", help="VRAEM_MEMORIA of the refreshes and the cut")
    parser.add_argument("--write", type=Path, help="regenerate this Markdown page (docs/performance.md)")
    parser.add_argument("--json", type=Path, help="also write the run (rows and the children's figures) as JSON")
    parser.add_argument("--render", type=Path, help="measure nothing: print and --write the run a --json file holds")
    args = parser.parse_args()
    if args.render:
        return render(args.render, args.write)
    parts = args.only.split(",") if args.only else [*DEFAULT_PARTS, *(["suite"] if args.suite else [])]
    if args.only and args.suite and "suite" not in parts:
        parts.append("suite")
    unknown = set(parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}; they are {', '.join(PARTS)}")
    temporary = args.work is None
    args.work = (args.work or Path(tempfile.mkdtemp(prefix="vraem_table_"))).resolve()
    for scale in ("small", "national", "real"):
        if getattr(args, scale) is None:
            setattr(args, scale, args.work / f"raw_{scale}")
    command = shown([sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]])
    started = datetime.datetime.now(datetime.UTC)
    t0 = time.perf_counter()
    m = machine()
    print(f"machine: {machine_text(m)}\nparts: {', '.join(parts)}; work folder {args.work}")
    try:
        out = Bench(args).run(parts)
    finally:
        if temporary:
            shutil.rmtree(args.work, ignore_errors=True)
    total = time.perf_counter() - t0
    print_table(out, m)
    print(f"\ntotal {duration(total)}")
    saved = {
        "machine": m,
        "command": command,
        "started": started.isoformat(),
        "total": total,
        "memory": args.memory,
        "figures": [asdict(f) for f in out.figures],
        "data": out.data,
    }
    if args.json:
        args.json.write_text(json.dumps(saved, indent=1, default=str))
    if args.write:
        args.write.write_text(page(out, m, command, started, total, args.memory))
        print(f"wrote {args.write}")
    return 0


def render(path: Path, write: Path | None) -> int:
    """The table and the page of a run saved with --json, measuring nothing (to reword the analysis)."""
    saved = json.loads(path.read_text())
    figures = [Figure(**{**f, "load": Load(**f["load"]) if f["load"] else None}) for f in saved["figures"]]
    out = Measured(figures, saved["data"])
    print_table(out, saved["machine"])
    if write:
        started = datetime.datetime.fromisoformat(saved["started"])
        write.write_text(page(out, saved["machine"], saved["command"], started, saved["total"], saved["memory"]))
        print(f"wrote {write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
