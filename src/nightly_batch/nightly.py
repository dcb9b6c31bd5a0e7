"""The nightly-batch task: score the queue, consume doc changes, write the night's digest."""

from __future__ import annotations

import uuid
from typing import Any

import structlog

from nightly_batch.app import App
from nightly_batch.clock import iso_utc
from nightly_batch.digest import business_date, write_digest
from nightly_batch.history import append_history, owned_list
from nightly_batch.marking import Rule, digest_entries, mark_queue
from nightly_batch.state import paused_gc
from nightly_batch.task_result import RunInfo, TaskResult

TASK = "nightly-batch"
# Beyond this many, invalid leads are summed up in one line instead of one line each.
INVALID_LINES_MAX = 200

log = structlog.get_logger(__name__)


def run_nightly_batch(app: App, run: RunInfo) -> TaskResult:
    """One nightly batch: the state and the digest change together or not at all.

    The digest is written before the state. A crash between the two leaves the doc changes
    pending and the leads unmarked, so the next run redoes the same work and replaces the digest
    (keeping the first one); nothing is lost.
    """
    config = app.config
    now = app.clock.now()
    stamp = iso_utc(now)
    day = run.business_day or business_date(now, config.zone)
    rule = Rule(config.draft_score_threshold, config.confidence_weights, config.keyword_score_max)
    batch_id = str(uuid.uuid4())
    with paused_gc(), app.state.transaction() as transaction:
        state = transaction.read()
        queue = owned_list(state, "redditQueue", config.state_file)
        doc_changes = owned_list(state, "pendingDocChanges", config.state_file)
        owned_list(state, "taskHistory", config.state_file)  # checked before anything is written
        selection = mark_queue(queue, rule, stamp)
        entries = digest_entries(selection, config.confidence_weights)
        summary = {
            "docsProcessed": len(doc_changes),
            "queueTotal": len(queue),
            "markedForDraft": selection.marked,
            "selectedTotal": len(entries),
            "invalidItems": len(selection.invalid),
            "threshold": config.draft_score_threshold,
        }
        digest: dict[str, Any] = {
            "generatedAt": stamp,
            "batchId": batch_id,
            "digestDate": day.isoformat(),
            "timeZone": config.digest_time_zone,
            "summary": summary,
            "redditQueue": entries,
            "docChanges": list(doc_changes),
        }
        path, kept = write_digest(config.digests, day, digest, exact=transaction.exact)
        if "pendingDocChanges" in state:
            state["pendingDocChanges"] = []
        state["lastNightlyBatchAt"] = stamp
        message = (
            f"nightly batch: synced {len(doc_changes)} docs, marked {selection.marked} for draft"
        )
        append_history(
            state,
            task=TASK,
            handled_at=stamp,
            ok=True,
            message=message,
            limit=config.task_history_limit,
            path=config.state_file,
        )
        transaction.write(state)
    _log_invalid(selection.invalid)
    if kept is not None:
        log.info("digest.replaced", digest=str(path), kept=str(kept))
    app.store.set_fact("queue", {"total": len(queue), "selected": len(entries), "at": stamp}, stamp)
    if app.alerts is not None:
        if entries:
            app.alerts.resolve("empty_batch", TASK)
        else:
            app.alerts.fire(
                "empty_batch",
                TASK,
                "warning",
                f"the nightly batch selected no lead ({len(queue)} queued, {len(selection.invalid)} invalid)",
            )
    return TaskResult(
        message=message,
        details={**summary, "digest": str(path), "batchId": batch_id},
        history_written=True,
    )


def _log_invalid(invalid: list[tuple[str, str]]) -> None:
    for lead_id, reason in invalid[:INVALID_LINES_MAX]:
        log.warning("lead.invalid", lead=lead_id, reason=reason)
    if len(invalid) > INVALID_LINES_MAX:
        log.warning(
            "lead.invalid.more",
            count=len(invalid) - INVALID_LINES_MAX,
            reason="further invalid leads not logged one by one",
        )
