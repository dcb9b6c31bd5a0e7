"""What `status` reports: read from the runtime store and the digest folder, never the state file,
so it answers as fast for a million queued leads as for ten."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from nightly_batch import __version__
from nightly_batch.core.clock import iso_utc, parse_iso
from nightly_batch.core.names import RunResult
from nightly_batch.core.tasks import task_names
from nightly_batch.errors import DigestError
from nightly_batch.rules.digest_layout import listed_total
from nightly_batch.rules.heartbeat_age import heartbeat_age
from nightly_batch.rules.jobs import daily_jobs
from nightly_batch.settings.config import Config
from nightly_batch.storage.delivery_state import delivery_of
from nightly_batch.storage.digests import list_digests, read_digest_head
from nightly_batch.storage.port import RuntimeStore
from nightly_batch.storage.records import RunRecord
from nightly_batch.storage.run_liveness import RunLiveness


def _run(record: RunRecord | None, liveness: RunLiveness) -> dict[str, Any] | None:
    if record is None:
        return None
    result: str = record.result
    if result == RunResult.RUNNING and not liveness.alive(record):
        result = "interrupted"  # the process died mid-run (killed, crashed, power cut)
    return {
        "result": result,
        "trigger": record.trigger,
        "startedAt": record.started_at,
        "endedAt": record.ended_at,
        "durationSeconds": record.duration_s,
        "message": record.message,
        "runId": record.id,
    }


def gather_status(
    config: Config, store: RuntimeStore | None, now: datetime, node: str | None = None
) -> dict[str, Any]:
    """The status as plain data (what `status --json` prints); `store` is None on a fresh
    install, before the daemon made one. `node`: this host's name among the daemons that
    share a PostgreSQL store."""
    status: dict[str, Any] = {
        "version": __version__,
        "config": str(config.config_path),
        "timeZone": config.digest_time_zone,
        "tasks": dict.fromkeys(task_names()),
        "heartbeat": None,
        "lastDigest": None,
        "queue": None,
        "nextRuns": _next_runs(config, now),
        "alerts": [],
        "silences": [],
        "cluster": None,
    }
    if store is not None:
        status["cluster"] = cluster_status(store, node)
        last = store.last_runs()
        liveness = RunLiveness(store, node, config.leader_lease_seconds)
        status["tasks"] = {task: _run(last.get(task), liveness) for task in task_names()}
        beat = store.last_heartbeat()
        if beat:
            limit = timedelta(minutes=config.heartbeat_stale_minutes)
            age = heartbeat_age(parse_iso(beat), now, limit)
            status["heartbeat"] = {
                "at": beat,
                "ageSeconds": round(age.seconds, 1),
                "state": str(age.state),
                "text": age.text,
            }
        status["queue"] = store.fact("queue")
        status["alerts"] = [
            {
                "name": a.name,
                "task": a.task,
                "severity": a.severity,
                "since": a.started_at,
                "summary": a.summary,
            }
            for a in store.alerts.firing()
        ]
        status["silences"] = [
            {
                "id": s.id,
                "name": s.name,
                "task": s.task,
                "until": s.expires_at,
                "reason": s.reason,
            }
            for s in store.alerts.silences(iso_utc(now))
        ]
    status["lastDigest"] = _last_digest(config, store)
    return status


def cluster_status(store: RuntimeStore, node: str | None) -> dict[str, Any] | None:
    """This host's role among the daemons sharing a PostgreSQL store (None on one host):
    `leader` while the lease, unexpired by the database's clock, names this node."""
    if not store.shared_by_hosts:
        return None
    view = store.lease_view()
    if view is None:  # nobody has led yet
        return {
            "role": "standby",
            "node": node,
            "leader": None,
            "epoch": 0,
            "leaseAgeSeconds": None,
        }
    current = view.expires_in_s > 0
    return {
        "role": "leader" if current and view.holder == node else "standby",
        "node": node,
        "leader": view.holder if current else None,
        "epoch": view.epoch,
        "leaseAgeSeconds": round(view.age_s, 1),
    }


def _next_runs(config: Config, now: datetime) -> dict[str, dict[str, str]]:
    """Each daily job's next fire, computed as the daemon's triggers compute it."""
    runs = {}
    for job in daily_jobs(config):
        fire = job.next_after(now)
        runs[job.task] = {"local": fire.astimezone(job.zone).isoformat(), "utc": iso_utc(fire)}
    return runs


def _last_digest(config: Config, store: RuntimeStore | None) -> dict[str, Any] | None:
    found = list_digests(config.digests)
    if not found:
        return None
    newest = found[0]
    entry: dict[str, Any] = {"file": newest.path.name, "date": newest.day.isoformat()}
    try:
        digest = read_digest_head(newest.path)
    except DigestError as error:
        entry["error"] = str(error)
        return entry
    date = str(digest.get("digestDate") or newest.day.isoformat())
    channels = config.delivery_channels
    delivery = delivery_of(store, date, str(digest["batchId"]), channels) if store else None
    entry.update(
        batchId=digest["batchId"],
        generatedAt=digest["generatedAt"],
        leads=listed_total(digest["summary"], len(digest.get("redditQueue", []))),
        delivery=delivery.state if delivery else "not sent",
        deliveredAt=delivery.delivered_at if delivery else None,
        deliveries=[
            {
                "channel": channel.channel,
                "status": str(channel.state),
                "attempts": channel.record.attempts if channel.record else 0,
                "at": channel.record.updated_at if channel.record else None,
                "note": channel.record.note if channel.record else None,
            }
            for channel in (delivery.channels.values() if delivery else [])
        ],
    )
    if not entry["leads"] and not config.send_empty_digest and entry["delivery"] == "not sent":
        entry["unsent"] = "sendEmptyDigest is false"
    return entry


def render_status(status: dict[str, Any]) -> str:
    """The status as a short table for a terminal."""
    header = f"nightly-batch {status['version']}  config {status['config']}"
    lines = [f"{header}  time zone {status['timeZone']}", ""]
    for task, fire in status["nextRuns"].items():
        lines.append(f"next {task:<14} {fire['local']}  ({fire['utc']})")
    lines.append("")
    lines.append(f"{'task':<14} {'result':<12} {'started (UTC)':<25} {'duration':>9}  message")
    for task, run in status["tasks"].items():
        if run is None:
            lines.append(f"{task:<14} {'never run':<12}")
            continue
        duration = f"{run['durationSeconds']:.2f} s" if run["durationSeconds"] is not None else "-"
        lines.append(
            f"{task:<14} {run['result']:<12} {run['startedAt']:<25} {duration:>9}  {run['message'] or ''}"
        )
    lines.append("")
    beat = status["heartbeat"]
    lines.append(f"heartbeat: {beat['text']} ({beat['at']})" if beat else "heartbeat: none yet")
    cluster = status.get("cluster")
    if cluster is not None:
        leader = cluster["leader"] or "nobody (the lease has expired)"
        age = cluster["leaseAgeSeconds"]
        renewed = f", renewed {age:.0f} s ago" if age is not None else ""
        lines.append(
            f"cluster: this host ({cluster['node']}) is the {cluster['role']}; leader {leader}, "
            f"epoch {cluster['epoch']}{renewed}"
        )
    digest = status["lastDigest"]
    if digest is None:
        lines.append("last digest: none yet")
    elif "error" in digest:
        lines.append(f"last digest: {digest['file']} is unreadable: {digest['error']}")
    elif "unsent" in digest:  # by design: not a delivery that has yet to happen
        lines.append(f"last digest: {digest['file']} (0 leads: not sent, as {digest['unsent']})")
    else:
        each = ", ".join(f"{d['channel']} {d['status']}" for d in digest["deliveries"])
        lines.append(
            f"last digest: {digest['file']} ({digest['leads']} leads; {digest['delivery']}"
            + (f": {each}" if each else "")
            + ")"
        )
    lines.extend(
        f"ALERT {a['severity']}: {a['name']} ({a['task']}) since {a['since']}: {a['summary']}"
        for a in status["alerts"]
    )
    lines.extend(
        f"silence {s['id']}: {s['name']} ({s['task']}) until {s['until']}"
        for s in status["silences"]
    )
    queue = status["queue"]
    lines.append(
        f"queue: {queue['total']} leads at the last batch, {queue['selected']} selected ({queue['at']})"
        if queue
        else "queue: unknown until the first nightly batch"
    )
    return "\n".join(lines)


def health_problems(status: dict[str, Any]) -> list[str]:
    """What `status --check` fails on: an error or critical alert firing, or a heartbeat that
    is missing, stale or stamped in the future."""
    problems = [
        f"{alert['severity']} alert {alert['name']} ({alert['task']}): {alert['summary']}"
        for alert in status["alerts"]
        if alert["severity"] in ("error", "critical")
    ]
    beat = status["heartbeat"]
    if beat is None:
        problems.append("no heartbeat recorded yet")
    elif beat["state"] != "fresh":
        problems.append(beat["text"])
    return problems
