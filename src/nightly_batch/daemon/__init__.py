"""The long-running service: APScheduler in UTC with Debian-cron triggers, slot claims and
catch-up, the clock guard, graceful stop and systemd's notify protocol. May import every
package but `cli`.
"""
