"""Benchmark: a whole national reporting cycle through the command line.

    .venv/bin/python benchmarks/national_cycle.py                    # 63 provinces, xlsx
    .venv/bin/python benchmarks/national_cycle.py --format csv
    .venv/bin/python benchmarks/national_cycle.py --provinces 38,87  # a smoke test in seconds

Outside the timing it generates the cycle's returns (pre-reform hierarchy: one return per
commune plus the district agencies' returns, with the usual share of problems), the district
offices' contacts and a local SMTP catcher. Then it times `cycle run CYCLE` as a user runs it,
prints returns per second for ingest, seconds per step and in total, peak memory (RSS of the
whole process tree) and the warehouse's size on disk; then the same for a re-run after one late
return. Last, a baseline a typical implementation would be (pandas + openpyxl, file by file) on
a sample of the files, and the ratio of our ingest to it.

Figures are printed, never asserted: see benchmarks/README.md for the latest ones.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STEPS = ("ingest", "transform", "validate", "report", "alert")


@dataclass
class RunFigures:
    wall_seconds: float
    steps: dict[str, float]
    files_in_inbox: int
    files_read: int
    peak_pss_bytes: int
    peak_rss_bytes: int
    warehouse_bytes: int
    output: str = field(repr=False, default="")


class PeakMemory:
    """Samples the memory of a process and all its children (worker pools included).

    Forked workers share their parent's pages until they write to them, so summing their RSS
    counts those pages several times; the proportional set size (PSS) splits each shared page
    among the processes that map it, so the sum is what the tree really holds. Both are kept."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        import psutil

        self._root = psutil.Process(pid)
        self._interval = interval
        self.peak_pss = 0
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                processes = [self._root, *self._root.children(recursive=True)]
            except psutil.Error:
                return
            pss = rss = 0
            for process in processes:
                try:
                    info = process.memory_full_info()
                except psutil.Error:
                    continue
                pss += info.pss
                rss += info.rss
            self.peak_pss, self.peak_rss = max(self.peak_pss, pss), max(self.peak_rss, rss)
            self._stop.wait(self._interval)

    def stop(self) -> tuple[int, int]:
        self._stop.set()
        self._thread.join()
        return self.peak_pss, self.peak_rss


class SmtpCatcher:
    """A real SMTP server on 127.0.0.1 that keeps a count of the messages it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages = 0

        catcher = self

        class Handler:
            async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
                catcher.messages += 1
                return "250 OK"

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    @property
    def uri(self) -> str:
        return (
            f"smtp://127.0.0.1:{self.port}?from_email=ct-treem%40example.gov.vn"
            "&disable_tls=true&disable_ssl=true&timeout=30"
        )

    def stop(self) -> None:
        self._controller.stop()


def directory_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def run_cycle(cycle: str, env: dict[str, str], work: Path, label: str) -> RunFigures:
    timings = work / f"timings-{label}.json"
    command = [str(ROOT / ".venv" / "bin" / "cycle"), "run", cycle, "--timings-json", str(timings)]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    sampler = PeakMemory(process.pid)
    output, _ = process.communicate()
    wall = time.perf_counter() - started
    peak_pss, peak_rss = sampler.stop()
    if process.returncode != 0:
        print(output[-4000:])
        raise SystemExit(f"cycle run failed ({label}), exit {process.returncode}")
    recorded = json.loads(timings.read_text(encoding="utf-8"))
    warehouse = Path(env["CYCLE_WAREHOUSE"])
    size = sum(directory_bytes(p) for p in warehouse.parent.glob(warehouse.name + "*"))
    return RunFigures(
        wall,
        recorded["steps"],
        recorded["files_in_inbox"],
        recorded["files_read"],
        peak_pss,
        peak_rss,
        size,
        output,
    )


def add_late_return(inbox: Path, cycle: str, seed: int) -> Path:
    """One commune's late, corrected return: a fresh file with one figure changed."""
    from core.cycles import Cycle
    from ingest.pipeline import check_path, list_inbox

    rng = random.Random(seed)
    files = list_inbox(inbox / cycle)
    rng.shuffle(files)
    for path in files:
        checked = check_path(path, Cycle.parse(cycle))
        if checked.status == "valid" and checked.reporter_code and "-" not in checked.reporter_code:
            break
    else:
        raise SystemExit("no valid commune return to correct")
    rows = ["cycle,reporter_code,unit_code,element_code,value,submitted_on"]
    late = f"{Cycle.parse(cycle).last_day.year + 1}-01-20"  # after the deadline
    for i, figure in enumerate(sorted(checked.figures, key=lambda f: f.element_code)):
        value = figure.value + (1 if i == 0 else 0)
        rows.append(
            f"{cycle},{checked.reporter_code},{figure.unit_code},"
            f"{figure.element_code},{value},{late}"
        )
    target = inbox / cycle / f"late_correction_{checked.reporter_code}_{cycle}.csv"
    target.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    return target


def baseline(paths: Sequence[Path]) -> float:
    """Seconds per file for what a typical implementation does: pandas + openpyxl, one by one."""
    import pandas as pd

    started = time.perf_counter()
    for path in paths:
        try:
            if path.suffix == ".xlsx":
                sheets = pd.read_excel(path, sheet_name=None, engine="openpyxl", dtype=str)
                sheets["SoLieu"].dropna(how="all")
            else:
                pd.read_csv(path, sep=None, engine="python", dtype=str, encoding="utf-8-sig")
        except Exception:  # the planted corrupt files: a typical loop would stop here
            continue
    return (time.perf_counter() - started) / max(len(paths), 1)


def mib(value: float) -> str:
    return f"{value / 2**20:,.0f} MiB"


def print_run(title: str, figures: RunFigures) -> None:
    print(f"\n{title}")
    ingest = figures.steps.get("ingest", 0.0)
    rate = figures.files_read / ingest if ingest and figures.files_read else 0.0
    print(
        f"  files in inbox {figures.files_in_inbox:,}, read {figures.files_read:,}; "
        f"ingest {rate:,.0f} returns/s"
    )
    print("  seconds per step: " + ", ".join(f"{s} {figures.steps.get(s, 0.0):.1f}" for s in STEPS))
    print(
        f"  total (sum of steps) {sum(figures.steps.values()):.1f} s; wall clock of the "
        f"command {figures.wall_seconds:.1f} s (with start-up)"
    )
    print(
        f"  peak memory of the process tree {mib(figures.peak_pss_bytes)} (PSS; summing RSS, "
        f"which counts pages shared by forked workers once per process: "
        f"{mib(figures.peak_rss_bytes)}); warehouse on disk {mib(figures.warehouse_bytes)}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cycle", default="2024-Y", help="a pre-reform cycle (default 2024-Y)")
    parser.add_argument(
        "--provinces",
        default="all",
        help="pre-reform province codes, comma separated (default: all 63)",
    )
    parser.add_argument("--format", dest="file_format", default="xlsx", choices=["xlsx", "csv"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--baseline-sample",
        type=int,
        default=600,
        help="files read by the pandas+openpyxl baseline (default 600)",
    )
    parser.add_argument("--workdir", type=Path, help="keep everything here (default: a temp dir)")
    parser.add_argument(
        "--growth-cycles",
        type=int,
        default=0,
        help="then run this many earlier annual cycles into the same warehouse "
        "and print its size after each (default 0)",
    )
    args = parser.parse_args(argv)

    from core.cycles import Cycle
    from devtools.generator import generate_inbox

    cycle = Cycle.parse(args.cycle)
    if not cycle.has_districts:
        parser.error("the benchmark runs a pre-reform cycle (ending before 2025-07-01)")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="national-cycle-"))
    if args.workdir and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    provinces = ["all"] if args.provinces == "all" else args.provinces.split(",")

    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; work dir {work}"
    )
    started = time.perf_counter()
    generated = generate_inbox(
        work / "inbox",
        [cycle.id],
        provinces=provinces,
        file_format=args.file_format,
        seed=args.seed,
    )
    offices = sorted({r.split("-")[0] for r in generated.expected_reporters[cycle.id] if "-" in r})
    from alerts.contacts import write_demo_contacts

    write_demo_contacts(work / "contacts.csv", offices)
    print(
        f"Setup (not timed): {generated.files_written:,} {args.file_format} returns for "
        f"{cycle.id} in {time.perf_counter() - started:.1f} s; "
        f"{len(generated.planted):,} planted problems; {len(offices)} district offices"
    )

    catcher = SmtpCatcher()
    env = {
        **os.environ,
        "CYCLE_INBOX": str(work / "inbox"),
        "CYCLE_WAREHOUSE": str(work / "warehouse" / "warehouse.duckdb"),
        "CYCLE_REPORTS": str(work / "reports"),
        "CYCLE_ARCHIVE": str(work / "archive"),
        "CYCLE_CONTACTS": str(work / "contacts.csv"),
        "AIRFLOW_CONN_SMTP_DEFAULT": catcher.uri,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    try:
        first = run_cycle(cycle.id, env, work, "first")
        print_run(f"cycle run {cycle.id} (first run)", first)
        print(f"  alerts received by the SMTP catcher: {catcher.messages}")
        late = add_late_return(work / "inbox", cycle.id, args.seed)
        sent_before = catcher.messages
        second = run_cycle(cycle.id, env, work, "late")
        print_run(f"cycle run {cycle.id} again after one late return ({late.name})", second)
        print(
            f"  alerts sent again: {catcher.messages - sent_before} (only to offices whose "
            f"missing returns or findings changed)"
        )
    finally:
        catcher.stop()

    if args.growth_cycles:
        print(
            "\nWarehouse size as cycles accumulate (after the late-return re-run above: "
            f"{mib(second.warehouse_bytes)}):"
        )
        for year in range(cycle.year - 1, cycle.year - 1 - args.growth_cycles, -1):
            earlier = Cycle(year, "Y")
            generate_inbox(
                work / "inbox",
                [earlier.id],
                provinces=provinces,
                file_format=args.file_format,
                seed=args.seed + year,
            )
            grown = run_cycle(earlier.id, env, work, earlier.id)
            print(
                f"  + {earlier.id}: {mib(grown.warehouse_bytes)} "
                f"(cycle run {sum(grown.steps.values()):.1f} s)"
            )

    from ingest.pipeline import list_inbox

    paths = list_inbox(work / "inbox" / cycle.id)
    sample = random.Random(args.seed).sample(paths, min(args.baseline_sample, len(paths)))
    per_file = baseline(sample)
    ours = first.steps["ingest"] / max(first.files_read, 1)
    print(
        f"\nBaseline (pandas + openpyxl, one file at a time, {len(sample)} files sampled): "
        f"{1 / per_file:,.0f} returns/s, {per_file * len(paths):.1f} s for the whole cycle "
        f"(reading only)"
    )
    print(
        f"Our ingest (read, check, archive, load): {1 / ours:,.0f} returns/s, "
        f"{first.steps['ingest']:.1f} s: {per_file / ours:.1f}x the baseline"
    )
    print(
        f"Outputs: reports {mib(directory_bytes(work / 'reports'))}, "
        f"archive {mib(directory_bytes(work / 'archive'))}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
