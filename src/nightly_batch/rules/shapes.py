"""The shape of the shared state as the rules see it: a JSON object (keys other programs own
are kept as they are)."""

from __future__ import annotations

from typing import Any

State = dict[str, Any]
