"""The three tasks and the one runner every run goes through (locks, run records, history,
alerts on failure): nightly-batch, send-digest, heartbeat. May import `alerts`, `delivery` and
everything below them.
"""
