"""
### Reporting cycle of the programme of action for children

One run = one reporting cycle (`2024-H1` half-year, `2024-Y` annual), through the same steps as
`cycle run CYCLE` on the command line (`cycle/steps.py`):

1. **ingest** `<inbox>/<cycle>/` into the raw layer (every file archived; invalid files and rows
   rejected with a reason);
2. **transform**: dbt builds staging → intermediate → marts for the cycle and tests them;
3. **validate**: Great Expectations flags missing and implausible figures
   (`marts.fct_quality_issues`), with Data Docs under `<reports>/<cycle>/data_docs/`;
4. **report**: consolidated `.xlsx` and `.html` reports per district, province and the country in
   `<reports>/<cycle>/`;
5. **alert**: one email per district office (province office after the July 2025 reform) about
   its own communes and agencies, over the `smtp_default` connection.

Every step is idempotent: re-run the DAG after a late return and only what changed is redone.
It has no schedule: the `inbox_watch` DAG triggers it for each open cycle whose inbox holds new
or changed returns, and people trigger it by hand.

**Sign-off** (when the run's `signoff` param is on): after the draft reports and the alerts,

6. **approve_office**: one *Required action* (Airflow's human-in-the-loop `HITLOperator`, one
   mapped task per unit) for each consolidating office's unit (district before the July 2025
   reform, province after) that is ready for approval and not approved yet — or approved, with
   figures changed since (a new revision). Units approved already (e.g. by `cycle approve`),
   not ready (returns missing, errors not accepted) or locked get none; the task
   `offices_to_approve` logs why. The office answers **Phê duyệt / Approve** or **Chưa phê
   duyệt / Not approved**, with an optional comment, in the UI (*Browse → Required actions*)
   or through the REST API. Approve is recorded at once, and the unit's reports rewritten, as
   `cycle approve CYCLE UNIT --by USER --comment …` does, with the responder's Airflow user
   name as the approver and `via = 'airflow'` in the audit table; an answer for a unit
   approved meanwhile records nothing new; Not approved records nothing, and the task's log
   keeps who said it and why;
7. **report_approved**: the reports again, once every office has answered (only those whose
   inputs changed since are rewritten: units approved meanwhile on the command line);
8. **approve_province** (cycles before the reform): the same question for each province whose
   districts are all approved, then **publish**: the province and country reports.

One question per unit, not one `ApprovalOperator` nor one question listing every unit
(`multiple=True`): each office sees its own unit, its reports and its comment field, its own
user is the approver, and an answer is recorded when given; `ApprovalOperator`'s Reject would
skip the tasks after it, the final reports of every other unit included. A waiting question
(state `awaiting_input`, Airflow 3.3) holds no worker slot, pool slot or triggerer.

Each wave waits at most `signoff_wait_days` (default 14). An office that has not answered by
then gets Airflow's default answer, Not approved: nothing is recorded, the run ends with the
reports as they stand (drafts say so), and the next sign-off run asks again (`cycle approve`
works at any time). Without this default a timed-out question would fail, be retried and ask
again for weeks. While a run waits, `inbox_watch` starts no other run (one run at a time holds
the warehouse): late returns wait in the inbox, which is also what keeps the figures still
while the offices read them.

**Params**: `cycle` (default: the cycle the run's date falls in: January-June → H1, July-December
→ Y); `dry_run_alerts` to log the emails instead of sending them; `signoff` (default off: the
runs `inbox_watch` starts for late returns, and a run by hand, finish after the alerts; a data
engineer opens a cycle's sign-off by triggering a run with it on) and `signoff_wait_days`.
Paths come from the `CYCLE_INBOX`, `CYCLE_WAREHOUSE`, `CYCLE_REPORTS`, `CYCLE_ARCHIVE` and
`CYCLE_CONTACTS` environment variables, as for the command line.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import Param, dag, get_current_context, task

from core.cycles import CYCLE_ID_PATTERN
from cycle.steps import SIGNOFF_NOT_APPROVED, SIGNOFF_OPTIONS, SignoffWave


class SignoffQuestion(HITLOperator):
    """One unit's approval question (a Required action); the answer is recorded when it is
    given, by the same code as `cycle approve`, not when the other units have answered."""

    def __init__(self, *, cycle_id: str, unit_code: str, unit_label: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.cycle_id = cycle_id
        self.unit_code = unit_code
        self.unit_label = unit_label

    def execute_complete(self, context: Any, event: dict[str, Any]) -> str:
        from cycle import steps

        answer = super().execute_complete(context, event)
        user = answer["responded_by_user"]  # None: no answer, Airflow chose the default
        return steps.record_signoff_answer(
            steps.settings(),
            steps.cycle(self.cycle_id),
            self.unit_code,
            chosen=answer["chosen_options"],
            by=user["name"] if user else None,
            comment=(answer["params_input"] or {}).get("comment"),
        )


QUESTION = {
    "options": list(SIGNOFF_OPTIONS),
    "defaults": [SIGNOFF_NOT_APPROVED],  # the answer when the wait ends: nothing recorded
    "params": {
        "comment": Param(
            None,
            type=["null", "string"],
            title="Ghi chú / Comment",
            description="Kept with the approval; with Not approved, say why.",
        )
    },
    "map_index_template": "{{ task.unit_label }}",
}


@dag(
    dag_id="reporting_cycle",
    description="Ingest, transform, validate, report and alert for one reporting cycle",
    doc_md=__doc__,
    # No schedule of its own: `inbox_watch` triggers it when an open cycle's inbox holds new
    # returns, people trigger it by hand; a dated schedule would run cycles with nothing to do.
    schedule=None,
    start_date=pendulum.datetime(2021, 1, 1, tz="Asia/Ho_Chi_Minh"),
    catchup=False,
    max_active_runs=1,
    tags=["child-programme", "reporting-cycle", "dbt", "great-expectations"],
    default_args={
        "owner": "data-engineering",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
    },
    params={
        "cycle": Param(
            None,
            type=["null", "string"],
            pattern=CYCLE_ID_PATTERN,
            title="Cycle",
            description="YYYY-H1 or YYYY-Y; empty: the cycle the run's date falls in.",
        ),
        "dry_run_alerts": Param(False, type="boolean", title="Log alerts instead of sending"),
        "signoff": Param(
            False,
            type="boolean",
            title="Ask the offices to approve (sign-off)",
            description="After the alerts, ask each unit ready for approval, wait for the "
            "answers, then write the final reports.",
        ),
        "signoff_wait_days": Param(
            14,
            type="integer",
            minimum=1,
            maximum=90,
            title="Days each sign-off wave waits",
            description="Unanswered by then: nothing is recorded and the run ends.",
        ),
    },
    render_template_as_native_obj=True,
)
def reporting_cycle() -> None:
    @task
    def resolve_cycle() -> str:
        """The cycle this run is for: the `cycle` param, else the run date's cycle."""
        from core.cycles import Cycle

        context = get_current_context()
        given = context["params"].get("cycle")
        if given:
            return Cycle.parse(given).id
        from zoneinfo import ZoneInfo

        when = context.get("logical_date") or context["dag_run"].run_after
        return Cycle.containing(when.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()).id

    @task
    def ingest(cycle_id: str) -> dict[str, Any]:
        from cycle import steps

        return steps.as_xcom(steps.ingest(steps.settings(), steps.cycle(cycle_id)))

    @task
    def transform(cycle_id: str, _ingested: dict[str, Any]) -> dict[str, Any]:
        from cycle import steps

        return steps.as_xcom(steps.transform(steps.settings(), steps.cycle(cycle_id)))

    @task
    def validate(cycle_id: str, _transformed: dict[str, Any]) -> dict[str, Any]:
        from cycle import steps

        return steps.as_xcom(steps.validate(steps.settings(), steps.cycle(cycle_id)))

    @task
    def report(cycle_id: str, _validated: dict[str, Any]) -> dict[str, Any]:
        from cycle import steps

        return steps.as_xcom(steps.report(steps.settings(), steps.cycle(cycle_id)))

    @task
    def alert(cycle_id: str, _reported: dict[str, Any]) -> dict[str, Any]:
        from cycle import steps

        dry_run = bool(get_current_context()["params"].get("dry_run_alerts"))
        return steps.as_xcom(
            # the `smtp_default` connection, wherever Airflow keeps it (alerts.smtp reads it
            # through the SMTP provider's hook)
            steps.alert(steps.settings(), steps.cycle(cycle_id), dry_run=dry_run)
        )

    @task.short_circuit(ignore_downstream_trigger_rules=True)
    def signoff_requested(_alerted: dict[str, Any]) -> bool:
        """The `signoff` param: off, the run ends here (skipping the tasks below)."""
        return bool(get_current_context()["params"].get("signoff"))

    def questions(cycle_id: str, wave: SignoffWave) -> list[dict[str, Any]]:
        """Each unit's question as the mapped task's arguments."""
        from cycle import steps

        days = int(get_current_context()["params"]["signoff_wait_days"])
        requests = steps.signoff_requests(steps.settings(), steps.cycle(cycle_id), wave)
        return [
            {
                "cycle_id": cycle_id,
                "unit_code": r.unit_code,
                "unit_label": f"{r.unit_code} {r.unit_name_vi or ''}".strip(),
                "subject": r.subject,
                "body": r.body,
                "response_timeout": timedelta(days=days),
            }
            for r in requests
        ]

    @task
    def offices_to_approve(cycle_id: str, _requested: bool) -> list[dict[str, Any]]:
        """One question per consolidating office's unit awaiting approval (none: skipped)."""
        return questions(cycle_id, "offices")

    @task(trigger_rule="none_failed")
    def report_approved(cycle_id: str) -> dict[str, Any]:
        from cycle import steps

        return steps.as_xcom(steps.report(steps.settings(), steps.cycle(cycle_id)))

    @task(trigger_rule="none_failed")
    def provinces_to_approve(cycle_id: str, _reported: dict[str, Any]) -> list[dict[str, Any]]:
        """Before the reform: one question per province whose districts are all approved."""
        return questions(cycle_id, "provinces")

    @task(trigger_rule="none_failed")
    def publish(cycle_id: str) -> dict[str, Any]:
        """The province and country reports, after the provinces' answers."""
        from cycle import steps

        return steps.as_xcom(steps.report(steps.settings(), steps.cycle(cycle_id)))

    cycle_id = resolve_cycle()
    ingested = ingest(cycle_id)
    transformed = transform(cycle_id, ingested)
    validated = validate(cycle_id, transformed)
    reported = report(cycle_id, validated)
    requested = signoff_requested(alert(cycle_id, reported))
    approve_office = SignoffQuestion.partial(task_id="approve_office", **QUESTION).expand_kwargs(
        offices_to_approve(cycle_id, requested)
    )
    approved_reports = report_approved(cycle_id)
    approve_office >> approved_reports
    approve_province = SignoffQuestion.partial(
        task_id="approve_province", **QUESTION
    ).expand_kwargs(provinces_to_approve(cycle_id, approved_reports))
    approve_province >> publish(cycle_id)


reporting_cycle()
