"""The nightly-batch task: score the queue, consume doc changes, write the night's digest."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from nightly_batch.core.clock import iso_utc
from nightly_batch.observability.events import get_logger
from nightly_batch.rules.batch_plan import BatchInputs, BatchPlan, plan_from_bytes, plan_from_dicts
from nightly_batch.rules.fastmark import NotFast
from nightly_batch.rules.marking import Rule
from nightly_batch.runtime.app import App
from nightly_batch.storage.digest_sharing import share_digest
from nightly_batch.storage.digests import business_date, read_digest_head, write_digest
from nightly_batch.storage.state import paused_gc
from nightly_batch.tasks.result import RunInfo, TaskResult

TASK = "nightly-batch"
# Beyond this many, invalid leads are summed up in one line instead of one line each.
INVALID_LINES_MAX = 200

log = get_logger(__name__)

# How many days of digests the store of two hosts keeps for the host that did not write them.
SHARED_DIGEST_DAYS = 14


def run_nightly_batch(app: App, run: RunInfo) -> TaskResult:
    """One nightly batch: the state and the digest change together or not at all.

    The digest is written before the state. A crash between the two leaves the doc changes
    pending and the leads unmarked, so the next run redoes the same work and replaces the digest
    (keeping the first one); nothing is lost.
    """
    config = app.config
    now = app.clock.now()
    inputs = BatchInputs(
        stamp=iso_utc(now),
        batch_id=str(uuid.uuid4()),
        day=run.business_day or business_date(now, config.zone),
        zone=config.digest_time_zone,
        rule=Rule(
            config.draft_score_threshold,
            config.confidence_weights,
            config.keyword_score_max,
            near_miss_margin=config.near_miss_margin,
            precision_window_days=config.precision_window_days,
        ),
        weights=config.confidence_weights,
        history_limit=config.task_history_limit,
        state_path=config.state_file,
        near_miss_limit=config.near_miss_limit,
        max_lead_age_hours=config.max_lead_age_hours,
    )
    with paused_gc(), app.state.transaction() as transaction:
        data = transaction.read_bytes()
        plan = _fast_plan(data, inputs)
        written = None
        if plan is not None:
            try:
                written = write_digest(config.digests, inputs.day, plan.digest)
            except NotFast as reason:
                # A lead only the reference path reads, met as the digest was laid out: the
                # unfinished digest was removed and the day's digest is still the old one.
                log.debug("batch.reference_path", reason=str(reason))
                plan = None
        if plan is None:
            plan = plan_from_dicts(
                transaction.parse_exact(data),
                inputs,
                indent=transaction.indent,
                tail=transaction.tail,
            )
        del data  # the dict path no longer needs the old bytes while the new ones are written
        path, kept = written or write_digest(config.digests, inputs.day, plan.digest)
        transaction.write_bytes(plan.state)
    _log_invalid(plan.invalid)
    if kept is not None:
        log.info("digest.replaced", digest=str(path), kept=str(kept))
    summary = plan.summary
    stamp = inputs.stamp
    queue = {
        "total": summary["queueTotal"],
        "selected": summary["selectedTotal"],
        "marked": summary["markedForDraft"],
        "at": stamp,
    }
    app.store.set_fact("queue", queue, stamp)
    # Two hosts: a copy for the leader, which may be the other host (storage/digest_sharing).
    keep_after = (inputs.day - timedelta(days=SHARED_DIGEST_DAYS)).isoformat()
    share_digest(app.store, path, read_digest_head(path), stamp, keep_after)
    if app.alerts is not None:
        _watch_invalid(app, summary, plan.invalid)
        if summary["selectedTotal"]:
            app.alerts.resolve("empty_batch", TASK)
        else:
            app.alerts.fire(
                "empty_batch",
                TASK,
                "warning",
                f"the nightly batch selected no lead ({summary['queueTotal']} queued, "
                f"{summary['invalidItems']} invalid)",
            )
    return TaskResult(
        message=plan.message,
        details={**summary, "digest": str(path), "batchId": inputs.batch_id},
        history_written=True,
    )


def _fast_plan(data: bytes | None, inputs: BatchInputs) -> BatchPlan | None:
    if data is None:
        return None
    try:
        return plan_from_bytes(data, inputs)
    except NotFast as reason:
        log.debug("batch.reference_path", reason=str(reason))
        return None


def _watch_invalid(app: App, summary: dict[str, Any], invalid: list[tuple[str, str]]) -> None:
    """More invalid leads than invalidLeadAlertRatio allows: the sweeper is likely broken."""
    assert app.alerts is not None  # noqa: S101
    total, bad = int(summary["queueTotal"]), int(summary["invalidItems"])
    limit = app.config.invalid_lead_alert_ratio
    if total and bad / total > limit:
        first = f"; the first: {invalid[0][0]}: {invalid[0][1]}" if invalid else ""
        app.alerts.fire(
            "invalid_leads",
            TASK,
            "warning",
            f"{bad} of {total} leads are invalid ({bad / total:.0%}), above "
            f"invalidLeadAlertRatio ({limit:g}){first}",
        )
    else:
        app.alerts.resolve("invalid_leads", TASK)


def _log_invalid(invalid: list[tuple[str, str]]) -> None:
    for lead_id, reason in invalid[:INVALID_LINES_MAX]:
        log.warning("lead.invalid", lead=lead_id, reason=reason)
    if len(invalid) > INVALID_LINES_MAX:
        log.warning(
            "lead.invalid.more",
            count=len(invalid) - INVALID_LINES_MAX,
            reason="further invalid leads not logged one by one",
        )
