"""The product's decisions as pure functions, no I/O: the confidence rule, marking the queue,
the batch plan (and its byte-level fast path), taskHistory entries, the digest message every
channel renders, escaping, and the daily schedules' slot arithmetic. May import `core`,
`observability` and `settings`.
"""
