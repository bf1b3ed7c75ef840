"""`python -m devtools`: the demonstration and the generated inbox, for trials, tests and
benchmarks. They take the `cycle` command's options (--inbox, --warehouse, ...)."""

from __future__ import annotations

import os

import click

from core.cycles import Cycle
from core.settings import Settings
from cycle.cli import _Commands, _exit_if_undelivered, format_run, shared_options


@click.group(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
def main() -> None:
    """Development tools of the reporting warehouse (not part of the `cycle` product)."""


@main.command()
@click.option(
    "--cycles",
    default=",".join(("2024-H1", "2024-Y")),
    show_default=True,
    help="Comma-separated cycle ids to generate.",
)
@click.option("--districts", help="Pre-reform district codes (default: the five plans' districts).")
@click.option("--provinces", help="Pre-reform province codes, or 'all' for the whole country.")
@click.option("--seed", default=1, show_default=True, type=int)
@click.option(
    "--format",
    "file_format",
    default="mixed",
    show_default=True,
    type=click.Choice(["xlsx", "csv", "mixed"]),
)
@click.option("--clean", is_flag=True, help="Plant no problem at all.")
@shared_options
def generate(
    cycles: str,
    districts: str | None,
    provinces: str | None,
    seed: int,
    file_format: str,
    clean: bool,
    settings: Settings,
) -> None:
    """Write realistic generated returns into the inbox (for trials, tests and benchmarks)."""
    from devtools.generator import ProblemRates, generate_inbox

    cycle_ids = [c.strip() for c in cycles.split(",") if c.strip()]
    for cycle_id in cycle_ids:
        try:
            Cycle.parse(cycle_id)
        except ValueError as exc:  # a usage error, not a traceback
            raise click.BadParameter(str(exc), param_hint="--cycles") from None
    result = generate_inbox(
        settings.inbox,
        cycle_ids,
        districts=districts.split(",") if districts else None,
        provinces=provinces.split(",") if provinces else None,
        seed=seed,
        file_format=file_format,
        rates=ProblemRates.clean() if clean else None,
    )
    click.echo(
        f"Wrote {result.files_written} returns for {', '.join(result.cycles)} into "
        f"{settings.inbox} ({len(result.planted)} planted problems listed in "
        f"{settings.inbox / 'planted.json'})."
    )


DEMO_SEED = 15
"""A seed whose inbox plants every kind of finding the generator can, the over-time ones on the
post-reform cycles (2025-Y, 2026-H1), whose communes' history is carried across the reform."""


@main.command()
@click.option("--seed", default=DEMO_SEED, show_default=True, type=int)
@shared_options
def demo(seed: int, settings: Settings) -> None:
    """Write the demonstration inbox (the five plans' districts, 2021-H1 to 2026-H1, with the
    usual share of problems) and run every cycle on it."""
    from alerts.contacts import write_demo_contacts
    from cycle import steps
    from devtools.generator import DEMO_CYCLES, generate_inbox

    click.echo(
        f"Demonstration: writing returns for {len(DEMO_CYCLES)} cycles into {settings.inbox}"
    )
    generated = generate_inbox(settings.inbox, DEMO_CYCLES, file_format="mixed", seed=seed)
    click.echo(
        f"  {generated.files_written} returns, {len(generated.planted)} planted problems "
        f"({settings.inbox / 'planted.json'})"
    )
    offices = demo_offices(generated.expected_reporters)
    write_demo_contacts(settings.contacts, offices)
    click.echo(f"  contacts of {len(offices)} offices: {settings.contacts}")
    dry_run = not os.environ.get("AIRFLOW_CONN_SMTP_DEFAULT")
    if dry_run:
        click.echo(
            "  no mail server configured (AIRFLOW_CONN_SMTP_DEFAULT): alerts are printed, not sent"
        )
    result = steps.run(settings, [Cycle.parse(c) for c in DEMO_CYCLES], dry_run_alerts=dry_run)
    click.echo(format_run(result, verbose=False))
    click.echo(f"\nReports: {settings.reports / 'index.html'}  —  warehouse: {settings.warehouse}")
    _exit_if_undelivered(result)


def demo_offices(expected_reporters: dict[str, list[str]]) -> list[str]:
    """The offices alerts go to: districts before the reform, provinces after it."""
    from core.reference import reference

    offices: set[str] = set()
    for cycle_id, reporters in expected_reporters.items():
        hierarchy = Cycle.parse(cycle_id).hierarchy
        for code in reporters:
            reporter = reference().reporter(code, hierarchy)
            if reporter and reporter.kind == "agency":
                offices.add(reporter.unit.code)
    return sorted(offices)


if __name__ == "__main__":
    main()
