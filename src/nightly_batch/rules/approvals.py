"""The leads a person approved for drafting, from the state's `approvals` (kept by the
drafting side; this project only reads it). Precision counts an approved lead as drafted:
someone judged it worth a reply, whether or not the draft record exists yet.

The shape is the drafting side's, so it is read leniently: a list of records, or an object
of them keyed by record id; a record counts when its `status` is "approved" (any case) and it
names a lead by `leadId`, `itemId`, `redditId` or `queueItemId`. Anything else is ignored,
never an error.
"""

from __future__ import annotations

from typing import Any

LEAD_KEYS = ("leadId", "itemId", "redditId", "queueItemId")
APPROVED = "approved"


def approved_leads(approvals: Any) -> frozenset[str]:
    """The ids of the leads `approvals` approves."""
    if isinstance(approvals, dict):
        records: Any = approvals.values()
    elif isinstance(approvals, list):
        records = approvals
    else:
        return frozenset()
    found = set()
    for record in records:
        if not isinstance(record, dict):
            continue
        status = record.get("status")
        if not isinstance(status, str) or status.strip().casefold() != APPROVED:
            continue
        for key in LEAD_KEYS:
            lead = record.get(key)
            if isinstance(lead, str) and lead:
                found.add(str(lead))
                break
    return frozenset(found)
