"""How the process reports on itself: structured events (`get_logger`, structlog), the one
logging setup (file, journald, terminal) with its processors, and secret redaction. May import
`core` only, so every layer above can log.
"""
