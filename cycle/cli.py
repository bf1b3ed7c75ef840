"""`cycle`: run and inspect the reporting cycles of the programme of action for children.

Every subcommand takes the same options (--inbox, --warehouse, --reports, --archive,
--contacts), defaulting to the CYCLE_* environment variables, then to paths under the working
directory.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from core.cycles import Cycle
from core.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def shared_options(command: F) -> F:
    """The options every subcommand shares; they become `settings`."""
    options = [
        click.option(
            "--inbox",
            envvar="CYCLE_INBOX",
            type=click.Path(path_type=Path),
            help="Inbox: one folder per cycle (env CYCLE_INBOX; default ./inbox).",
        ),
        click.option(
            "--warehouse",
            envvar="CYCLE_WAREHOUSE",
            help="DuckDB file or postgresql:// URL (env CYCLE_WAREHOUSE; "
            "default ./warehouse/warehouse.duckdb).",
        ),
        click.option(
            "--reports",
            envvar="CYCLE_REPORTS",
            type=click.Path(path_type=Path),
            help="Where reports are written (env CYCLE_REPORTS; default ./reports).",
        ),
        click.option(
            "--archive",
            envvar="CYCLE_ARCHIVE",
            type=click.Path(path_type=Path),
            help="Raw archive of every file received (env CYCLE_ARCHIVE; default ./archive).",
        ),
        click.option(
            "--contacts",
            envvar="CYCLE_CONTACTS",
            type=click.Path(path_type=Path),
            help="Office contacts CSV for alerts (env CYCLE_CONTACTS; default ./contacts.csv).",
        ),
    ]

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        inbox: Path | None,
        warehouse: str | None,
        reports: Path | None,
        archive: Path | None,
        contacts: Path | None,
        **kwargs: Any,
    ) -> Any:
        settings = Settings.from_env(
            inbox=inbox, warehouse=warehouse, reports=reports, archive=archive, contacts=contacts
        )
        return command(*args, settings=settings, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper  # type: ignore[return-value]


class CycleParam(click.ParamType):  # type: ignore[type-arg]
    name = "CYCLE"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Cycle:
        if isinstance(value, Cycle):
            return value
        try:
            return Cycle.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


CYCLE = CycleParam()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def main() -> None:
    """Reporting cycles of Vietnam's programme of action for children."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@shared_options
def check(files: tuple[Path, ...], settings: Settings) -> None:
    """Check return FILES against the contract without loading them.

    Prints every problem with file, sheet, row and reason (Vietnamese / English); exits 1 if a
    file would be rejected or has rejected rows."""
    from ingest.pipeline import check_files

    results = check_files(files)
    bad = 0
    for result in results:
        status = (
            "OK"
            if not result.problems
            else ("BỊ TỪ CHỐI / REJECTED" if result.file_problem else "CÓ DÒNG LỖI / ROWS REJECTED")
        )
        click.echo(
            f"{result.file_name}: {status} — {len(result.figures)} số liệu hợp lệ / valid "
            f"figures, {len(result.rejected_rows)} dòng bị loại / rows rejected"
        )
        for found in result.problems:
            click.echo(f"  {found}")
        bad += bool(result.problems)
    click.echo(f"\n{len(results)} tệp / files checked, {bad} có vấn đề / with problems.")
    sys.exit(1 if bad else 0)


@main.command()
@click.argument("reporter_code")
@click.argument("cycle", type=CYCLE)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="File to write (default ./return_<REPORTER>_<CYCLE>.xlsx).",
)
@shared_options
def template(reporter_code: str, cycle: Cycle, output: Path | None, settings: Settings) -> None:
    """Write the pre-filled .xlsx return for REPORTER_CODE and CYCLE."""
    from core.reference import reference
    from ingest.template import template_rows, write_template

    reporter = reference().reporter(reporter_code, cycle.hierarchy)
    if reporter is None:
        raise click.BadParameter(
            f"'{reporter_code}' names no commune (5 digits) or agency (<unit>-health|education|"
            f"police) in the hierarchy in force for {cycle.id}",
            param_hint="REPORTER_CODE",
        )
    target = output or Path(f"return_{reporter.code}_{cycle.id}.xlsx")
    write_template(target, reporter, cycle, reference())
    click.echo(
        f"Wrote {target} for {reporter.code} ({reporter.name_vi}), {cycle.id}: "
        f"{len(template_rows(reporter, reference()))} figures to fill in."
    )


@main.command()
@click.argument("cycle", type=CYCLE)
@shared_options
def ingest(cycle: Cycle, settings: Settings) -> None:
    """Load <inbox>/CYCLE/ into the warehouse's raw layer."""
    from cycle import steps

    summary = steps.ingest(settings, cycle)
    click.echo(format_ingest(summary))


@main.command()
@click.option("--cycles", default=",".join(("2024-H1", "2024-Y")), show_default=True,
              help="Comma-separated cycle ids to generate.")
@click.option("--districts", help="Pre-reform district codes (default: the five plans' districts).")
@click.option("--provinces", help="Pre-reform province codes, or 'all' for the whole country.")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--format", "file_format", default="mixed", show_default=True,
              type=click.Choice(["xlsx", "csv", "mixed"]))
@click.option("--clean", is_flag=True, help="Plant no problem at all.")
@shared_options
def generate(cycles: str, districts: str | None, provinces: str | None, seed: int,
             file_format: str, clean: bool, settings: Settings) -> None:
    """Write realistic generated returns into the inbox (for trials, tests and benchmarks)."""
    from generator import ProblemRates, generate_inbox

    result = generate_inbox(
        settings.inbox, [c.strip() for c in cycles.split(",") if c.strip()],
        districts=districts.split(",") if districts else None,
        provinces=provinces.split(",") if provinces else None,
        seed=seed, file_format=file_format, rates=ProblemRates.clean() if clean else None)
    click.echo(f"Wrote {result.files_written} returns for {', '.join(result.cycles)} into "
               f"{settings.inbox} ({len(result.planted)} planted problems listed in "
               f"{settings.inbox / 'planted.json'}).")


@main.command()
@click.option("--seed", default=1, show_default=True, type=int)
@shared_options
def demo(seed: int, settings: Settings) -> None:
    """Write the demonstration inbox (the five plans' districts, 2021-H1 to 2025-Y, with the
    usual share of problems) and run every cycle on it."""
    from cycle import steps
    from generator import DEMO_CYCLES, generate_inbox

    click.echo(f"Demonstration: writing returns for {len(DEMO_CYCLES)} cycles into {settings.inbox}")
    generated = generate_inbox(settings.inbox, DEMO_CYCLES, file_format="mixed", seed=seed)
    click.echo(f"  {generated.files_written} returns, {len(generated.planted)} planted problems "
               f"({settings.inbox / 'planted.json'})")
    result = steps.run(settings, [Cycle.parse(c) for c in DEMO_CYCLES], demo=True)
    click.echo(format_run(result))


def format_run(result: Any) -> str:
    lines = [format_ingest(s) for s in result.ingests]
    return "\n".join(lines)


def format_ingest(summary: Any) -> str:
    lines = [
        f"Ingest {summary.cycle}: {summary.files_in_inbox} files in {summary.inbox}",
        f"  new {summary.new_files} (already ingested {summary.already_ingested}): "
        f"loaded {summary.loaded}, superseded {summary.superseded}, "
        f"duplicate {summary.duplicate}, rejected {summary.rejected}",
        f"  figures loaded {summary.rows_loaded}, rows rejected {summary.rows_rejected}",
        f"  archive: {summary.archive}",
        f"  warehouse: {summary.warehouse} (tables raw.received_files, raw.return_values, "
        f"raw.rejected_rows)",
    ]
    file_problems = [p for p in summary.problems if p.scope == "file"]
    if file_problems:
        lines.append("  rejected files:")
        lines.extend(f"    {p}" for p in file_problems[:20])
        if len(file_problems) > 20:
            lines.append(f"    … and {len(file_problems) - 20} more (see raw.received_files)")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
