"""How the process reports on itself: structured events (`get_logger`), the one logging setup
(file, journald, terminal) and secret redaction. May import `core` only, so every layer above
can log.
"""
