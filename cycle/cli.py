"""`cycle`: run and inspect the reporting cycles of the programme of action for children.

Every subcommand takes the same options (--inbox, --warehouse, --reports, --archive,
--contacts), defaulting to the CYCLE_* environment variables, then to paths under the working
directory.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from core.cycles import Cycle
from core.errors import UserError
from core.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


def shared_options(command: F) -> F:
    """The options every subcommand shares; they become `settings`."""
    options = [
        click.option(
            "--inbox",
            envvar="CYCLE_INBOX",
            type=click.Path(path_type=Path),
            help="Inbox: one folder per cycle (env CYCLE_INBOX; default ./data/inbox).",
        ),
        click.option(
            "--warehouse",
            envvar="CYCLE_WAREHOUSE",
            help="DuckDB file or postgresql:// URL (env CYCLE_WAREHOUSE; "
            "default ./data/warehouse/warehouse.duckdb).",
        ),
        click.option(
            "--reports",
            envvar="CYCLE_REPORTS",
            type=click.Path(path_type=Path),
            help="Where reports are written (env CYCLE_REPORTS; default ./data/reports).",
        ),
        click.option(
            "--archive",
            envvar="CYCLE_ARCHIVE",
            type=click.Path(path_type=Path),
            help="Raw archive of every file received (env CYCLE_ARCHIVE; default ./data/archive).",
        ),
        click.option(
            "--contacts",
            envvar="CYCLE_CONTACTS",
            type=click.Path(path_type=Path),
            help="Office contacts CSV for alerts (env CYCLE_CONTACTS; "
            "default ./data/contacts.csv).",
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


class _Commands(click.Group):
    """The `cycle` group: a UserError from any step ends the command with its one-line message
    (click prints "Error: ..." and exits 1), not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
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
    from ingest.problems import printable

    results = check_files(files)
    bad = 0
    for result in results:
        status = (
            "OK"
            if not result.problems
            else ("BỊ TỪ CHỐI / REJECTED" if result.file_problem else "CÓ DÒNG LỖI / ROWS REJECTED")
        )
        click.echo(
            f"{printable(result.file_name)}: {status} — {len(result.figures)} số liệu hợp lệ / "
            f"valid figures, {len(result.rejected_rows)} dòng bị loại / rows rejected"
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
@click.argument("cycle", type=CYCLE)
@click.option("--full-refresh", is_flag=True, help="Rebuild every cycle, not only this one.")
@click.option(
    "--whole-cycle",
    is_flag=True,
    help="Rebuild CYCLE (and the next comparable one) whole, even if no return changed.",
)
@shared_options
def transform(cycle: Cycle, full_refresh: bool, whole_cycle: bool, settings: Settings) -> None:
    """Build the warehouse for CYCLE with dbt (staging, intermediate, marts) and test it.

    Only what changed since the last build is rebuilt: the cycles whose returns changed (and
    the next comparable ones), in the largest tables only the provinces concerned."""
    from cycle import steps

    summary = steps.transform(settings, cycle, full_refresh=full_refresh, whole_cycle=whole_cycle)
    click.echo(format_transform(summary))


@main.command()
@click.argument("cycle", type=CYCLE)
@click.option(
    "--whole-cycle",
    is_flag=True,
    help="Validate every province of CYCLE, even those whose check rows did not change.",
)
@shared_options
def validate(cycle: Cycle, whole_cycle: bool, settings: Settings) -> None:
    """Run the Great Expectations suites on CYCLE; findings go to marts.fct_quality_issues.

    Only the provinces whose check rows changed since the last validation are validated again;
    the findings are always the whole cycle's."""
    from cycle import steps

    click.echo(format_validate(steps.validate(settings, cycle, whole_cycle=whole_cycle)))


@main.command()
@click.argument("cycle", type=CYCLE)
@shared_options
def report(cycle: Cycle, settings: Settings) -> None:
    """Write the consolidated reports of CYCLE (xlsx and html) per district and province."""
    from cycle import steps

    click.echo(format_report(steps.report(settings, cycle)))


@main.command()
@click.argument("cycle", type=CYCLE)
@shared_options
def status(cycle: Cycle, settings: Settings) -> None:
    """Where each district and province of CYCLE stands: received, built, validated, reported,
    alerted (marts.fct_cycle_states); then its sign-off: open, validated, approved, locked,
    what blocks each unit and who is left (marts.fct_signoff_states)."""
    from cycle.signoff import SignoffNotAvailable, format_signoffs, unit_signoffs
    from cycle.status import format_states, read_states

    click.echo(format_states(cycle, read_states(settings, cycle)))
    try:
        units = unit_signoffs(settings, cycle)
    except SignoffNotAvailable:  # built before sign-off existed: `cycle transform` adds it
        return
    click.echo("")
    click.echo(format_signoffs(cycle, units))


@main.command("approve")
@click.argument("cycle", type=CYCLE)
@click.argument("unit")
@click.option("--by", required=True, help="Who approves (recorded).")
@click.option("--comment", help="A comment recorded with the approval.")
@click.option(
    "--report/--no-report",
    default=True,
    help="Write the reports it changes right away (default), as `cycle report` does.",
)
@shared_options
def approve_command(
    cycle: Cycle, unit: str, by: str, comment: str | None, report: bool, settings: Settings
) -> None:
    """Approve UNIT (a district before the reform, a province) for CYCLE: its figures become a
    new revision, which its reports show. Refused, with every reason, while returns are missing
    and not waived, error findings neither resolved nor accepted, or (a province before the
    reform) districts not approved."""
    from cycle.signoff import approve

    done = approve(settings, cycle, unit, by=by, comment=comment)
    if done.unchanged:
        click.echo(
            f"{done.label}: đã phê duyệt, không có gì mới / already approved (revision "
            f"{done.revision} by {done.approved_by}), nothing pending: nothing done"
        )
        return
    click.echo(
        f"{done.label}: đã phê duyệt / approved, revision {done.revision} by {done.approved_by}"
        f" ({cycle.id})"
    )
    if report:
        _rerender(settings, cycle)


@main.command("unapprove")
@click.argument("cycle", type=CYCLE)
@click.argument("unit")
@click.option("--by", required=True, help="Who withdraws the approval (recorded).")
@click.option("--reason", required=True, help="Why (recorded).")
@click.option(
    "--report/--no-report",
    default=True,
    help="Write the reports it changes right away (default), as `cycle report` does.",
)
@shared_options
def unapprove_command(
    cycle: Cycle, unit: str, by: str, reason: str, report: bool, settings: Settings
) -> None:
    """Withdraw UNIT's approval for CYCLE (its reports become drafts; every revision stays)."""
    from cycle.signoff import unapprove

    done = unapprove(settings, cycle, unit, by=by, reason=reason)
    click.echo(f"{done.label}: đã hủy phê duyệt / approval withdrawn ({cycle.id}, {done.state})")
    if report:
        _rerender(settings, cycle)


def _rerender(settings: Settings, cycle: Cycle) -> None:
    """The reports a sign-off changed (the unit's, the country's): approval is one of their
    inputs, so only those are written again."""
    from cycle import steps

    click.echo(format_report(steps.report(settings, cycle)))


@main.command("waive")
@click.argument("cycle", type=CYCLE)
@click.argument("reporters", nargs=-1, required=True)
@click.option("--by", required=True, help="Who waives (recorded).")
@click.option("--reason", required=True, help="Why (recorded).")
@shared_options
def waive_command(
    cycle: Cycle, reporters: tuple[str, ...], by: str, reason: str, settings: Settings
) -> None:
    """Waive the missing returns of REPORTERS (communes, agencies) for CYCLE: their units can
    be approved without them."""
    from cycle.signoff import waive

    done = waive(settings, cycle, reporters, by=by, reason=reason)
    click.echo(_recorded("Miễn / waived", done.recorded, done.already))


@main.command("accept")
@click.argument("cycle", type=CYCLE)
@click.argument("finding_keys", nargs=-1, required=True)
@click.option("--by", required=True, help="Who accepts (recorded).")
@click.option("--reason", required=True, help="Why the figures stand (recorded).")
@shared_options
def accept_command(
    cycle: Cycle, finding_keys: tuple[str, ...], by: str, reason: str, settings: Settings
) -> None:
    """Accept the findings FINDING_KEYS of CYCLE (marts.fct_quality_issues.finding_key, or a
    prefix of at least 6 characters naming one, as `cycle status` shows them): they no longer
    block approval."""
    from cycle.signoff import accept

    done = accept(settings, cycle, finding_keys, by=by, reason=reason)
    click.echo(_recorded("Chấp nhận / accepted", done.recorded, done.already))


@main.command("lock")
@click.argument("cycle", type=CYCLE)
@click.option("--by", required=True, help="Who locks (recorded).")
@click.option("--reason", help="Why (recorded).")
@shared_options
def lock_command(cycle: Cycle, by: str, reason: str | None, settings: Settings) -> None:
    """Lock CYCLE once every unit is approved: new returns are refused (archived and recorded
    `cycle_locked`) until `cycle unlock`."""
    from cycle.signoff import lock

    lock(settings, cycle, by=by, reason=reason)
    click.echo(f"{cycle.id}: đã khóa / locked by {by}")


@main.command("unlock")
@click.argument("cycle", type=CYCLE)
@click.option("--by", required=True, help="Who unlocks (recorded).")
@click.option("--reason", required=True, help="Why (recorded).")
@shared_options
def unlock_command(cycle: Cycle, by: str, reason: str, settings: Settings) -> None:
    """Unlock CYCLE: returns are taken again (`cycle run` then takes those refused while it
    was locked)."""
    from cycle.signoff import unlock

    unlock(settings, cycle, by=by, reason=reason)
    click.echo(f"{cycle.id}: đã mở khóa / unlocked by {by}")


def _recorded(what: str, recorded: tuple[str, ...], already: tuple[str, ...]) -> str:
    line = f"{what}: {', '.join(recorded) or '—'}"
    if already:
        line += f" (đã ghi trước / already recorded: {', '.join(already)})"
    return line


@main.command()
@click.argument("cycle", type=CYCLE)
@click.option("--dry-run", is_flag=True, help="Print the emails instead of sending them.")
@click.option(
    "--resend-uncertain",
    is_flag=True,
    help="Send again the alerts whose delivery is uncertain (the server took them but its "
    "reply was lost), under the same Message-ID.",
)
@shared_options
def alert(cycle: Cycle, dry_run: bool, resend_uncertain: bool, settings: Settings) -> None:
    """Email each district office (province office after the reform) its own quality alert,
    over the SMTP connection in AIRFLOW_CONN_SMTP_DEFAULT. Exits 1 when an office could not
    be alerted (offices missing from the contacts file are only reported)."""
    from alerts.queries import MartMissing
    from alerts.send import AlertsNotDelivered
    from cycle import steps

    try:
        summary = steps.alert(settings, cycle, dry_run=dry_run, resend_uncertain=resend_uncertain)
    except AlertsNotDelivered as exc:
        assert exc.summary is not None
        click.echo(exc.summary.format())
        click.echo(exc.headline, err=True)
        sys.exit(1)
    except MartMissing as exc:  # the quality step has not run: say so, no traceback
        click.echo(f"Cảnh báo / Alerts {cycle.id}: {exc}", err=True)
        sys.exit(1)
    click.echo(summary.format(show_messages=dry_run))


@main.command()
@click.argument("cycles", nargs=-1, required=True, type=CYCLE)
@click.option("--dry-run-alerts", is_flag=True, help="Print the alerts instead of sending them.")
@click.option(
    "--timings-json",
    type=click.Path(path_type=Path),
    help="Also write the seconds per step to this JSON file (benchmarks read it).",
)
@shared_options
def run(
    cycles: tuple[Cycle, ...], dry_run_alerts: bool, timings_json: Path | None, settings: Settings
) -> None:
    """Run whole CYCLES: ingest -> transform -> validate -> report -> alert (each idempotent).

    Exits 1, after every step of every cycle, when offices could not be alerted."""
    from cycle import steps

    result = steps.run(settings, cycles, dry_run_alerts=dry_run_alerts)
    click.echo(format_run(result))
    if timings_json:
        timings_json.write_text(
            json.dumps(
                {
                    "steps": result.step_seconds(),
                    "files_in_inbox": sum(
                        e.ingest.files_in_inbox for e in result.cycles if e.ingest
                    ),
                    "files_read": sum(e.ingest.new_files for e in result.cycles if e.ingest),
                },
                indent=1,
            ),
            encoding="utf-8",
        )
    _exit_if_undelivered(result)


@main.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Folder to write (default <reports>/dbt_docs).",
)
@shared_options
def docs(output: Path | None, settings: Settings) -> None:
    """Write the dbt documentation of the warehouse (every model and column) for analysts."""
    from cycle.transform import docs as dbt_docs

    folder = dbt_docs(settings, output)
    click.echo(f"dbt docs: {folder / 'static_index.html'} (open it in a browser)")


def _exit_if_undelivered(result: Any) -> None:
    """Every step has run; a cycle whose offices could not be alerted makes the command fail."""
    undelivered = result.alerts_undelivered()
    for reason in undelivered:
        click.echo(reason, err=True)
    if undelivered:
        sys.exit(1)


def format_run(result: Any, verbose: bool = True) -> str:
    lines: list[str] = []
    for entry in result.cycles:
        lines.append(f"== {entry.cycle} ==")
        if entry.ingest:
            lines.append(
                format_ingest(entry.ingest)
                if verbose
                else f"Ingest {entry.cycle}: {entry.ingest.loaded} loaded, "
                f"{entry.ingest.superseded} superseded, {entry.ingest.duplicate} "
                f"duplicate, {entry.ingest.rejected} rejected"
            )
        if entry.transform and entry is result.cycles[-1]:
            lines.append(format_transform(entry.transform))
        if entry.validate:
            lines.append(format_validate(entry.validate, verbose))
        if entry.report:
            lines.append(format_report(entry.report))
        if entry.alert:
            lines.append(entry.alert.format() if verbose else entry.alert.format().splitlines()[0])
    seconds = result.step_seconds()
    lines.append(
        "Seconds per step: "
        + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items())
        + f"; total {sum(seconds.values()):.1f}"
    )
    return "\n".join(lines)


def format_transform(summary: Any) -> str:
    if summary.up_to_date:
        return (
            f"Transform {summary.cycle}: up to date ({summary.reason} since the last build); "
            f"marts in {summary.warehouse} (schema marts)"
        )
    rebuilt = ", ".join(summary.cycles_rebuilt) if summary.cycles_rebuilt else "every cycle"
    if summary.provinces_rebuilt is not None:
        rebuilt += f" (provinces {', '.join(summary.provinces_rebuilt)})"
    return (
        f"Transform {summary.cycle}: dbt build of {rebuilt} — {summary.models_built} models, "
        f"{summary.tests_passed} tests and {summary.unit_tests_passed} unit tests passed "
        f"({summary.seconds:.1f} s); marts in {summary.warehouse} (schema marts)"
    )


def format_validate(summary: Any, verbose: bool = True) -> str:
    validated = summary.provinces_validated
    scope = (
        "every province"
        if validated is None
        else (f"provinces {', '.join(validated)}" if validated else "nothing changed")
    )
    lines = [
        f"Validate {summary.cycle} ({scope}): {summary.findings} findings ({summary.errors} "
        f"errors, {summary.warnings} warnings) in marts.fct_quality_issues"
    ]
    if verbose:
        lines += [f"  {c.rule_id}: {c.findings}" for c in summary.counts if c.findings]
    if summary.data_docs_index:
        lines.append(f"  Data Docs: {summary.data_docs_index}")
    return "\n".join(lines)


def format_report(summary: Any) -> str:
    if summary.nothing_received:
        return (
            f"Report {summary.cycle}: chưa nhận được báo cáo nào / nothing received yet for "
            f"{summary.cycle}; no report written; index {summary.index}"
        )
    counts = summary.counts
    return (
        f"Report {summary.cycle}: {counts['district']} district, {counts['province']} province "
        f"and {counts['country']} country reports (xlsx + html) in {summary.directory}; "
        f"index {summary.index}"
        + (f"; {summary.unchanged} unchanged since the last run" if summary.unchanged else "")
    )


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
    if not summary.files_in_inbox:
        lines.insert(
            1,
            f"  chưa nhận được báo cáo nào / nothing received yet for {summary.cycle} "
            f"({summary.inbox} is missing or empty)",
        )
    file_problems = [p for p in summary.problems if p.scope == "file"]
    if file_problems:
        lines.append("  rejected files:")
        lines.extend(f"    {p}" for p in file_problems[:20])
        if len(file_problems) > 20:
            lines.append(f"    … and {len(file_problems) - 20} more (see raw.received_files)")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
