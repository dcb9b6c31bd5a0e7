"""The project's small error vocabulary; only the CLI turns these into exit codes."""

from __future__ import annotations


class NightlyBatchError(Exception):
    """Root of every error this project raises on purpose; its text is one clear sentence."""


class ConfigError(NightlyBatchError):
    """The configuration, the environment or the command line is wrong (exit code 2)."""


class StateError(NightlyBatchError):
    """The shared state file cannot be read or written safely (exit code 2: nothing was changed)."""


class DigestError(NightlyBatchError):
    """A digest file is missing, unreadable or malformed."""


class WriteError(NightlyBatchError):
    """A file could not be written (a full disk, a read-only mount); the old one is intact (exit 1)."""


class StoreError(NightlyBatchError):
    """The runtime store (SQLite, or PostgreSQL for two hosts) cannot be opened or written."""


class FencedError(StoreError):
    """This daemon no longer holds the leader lease it acted on: nothing was written, and the
    daemon must stop its jobs and exit so that systemd restarts it as a standby."""


class TaskError(NightlyBatchError):
    """A task ran and failed (exit code 1)."""


class BusyError(NightlyBatchError):
    """Another process holds a lock that this command needs."""


class ConflictError(BusyError):
    """Another program changed the state without the lock while a run was working (retried)."""


class InstanceError(ConfigError):
    """Another daemon already runs for the same state file (exit code 2)."""


class SignalledError(NightlyBatchError):
    """A signal stopped the run (SIGTERM to a `run-once`): recorded, then exit 128 + signal."""
