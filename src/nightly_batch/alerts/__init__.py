"""Turning trouble into notices: the Alertmanager-like manager (fire, escalate, remind,
resolve, silence), the sender thread, the periodic health checks, the watchdog thread and the
dead man's switch pinger. May import `delivery` (alert channels) and everything below it.
"""
