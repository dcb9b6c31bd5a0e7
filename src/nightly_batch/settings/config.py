"""The configuration file: read, validated by the pydantic models of config_model, resolved.

Relative paths resolve against the directory that holds the config file, so a command behaves
the same whatever directory it is started from. Every refusal is a ConfigError of one line
(messages.py), and keys that look like misspellings of ours come back as warnings.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import ValidationError

from nightly_batch.core.jsonio import JsonSyntaxError, read_json_file
from nightly_batch.errors import ConfigError
from nightly_batch.settings.config_model import (
    DEFAULT_REPEATS,
    KNOWN_KEYS,
    ConfidenceWeights,
    Config,
)
from nightly_batch.settings.messages import describe_validation_error, near_miss_warnings

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG",
    "DEFAULT_REPEATS",
    "KNOWN_KEYS",
    "ConfidenceWeights",
    "Config",
    "check_directories",
    "config_path_from",
    "load_config",
]

CONFIG_ENV = "NIGHTLY_BATCH_CONFIG"
DEFAULT_CONFIG = Path("config/orchestrator_config.json")


def config_path_from(argument: str | None, environ: dict[str, str] | os._Environ[str]) -> Path:
    """The config file to use: the --config argument, else $NIGHTLY_BATCH_CONFIG, else the default."""
    return Path(argument or environ.get(CONFIG_ENV) or DEFAULT_CONFIG).absolute()


def load_config(path: Path) -> tuple[Config, list[str]]:
    """Read and validate the config file; returns it with warnings about likely misspelt keys."""
    try:
        raw = read_json_file(path, "the config file", ConfigError)
    except JsonSyntaxError as fault:
        raise ConfigError(f"{path}: the config file is {fault}.") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the config file must hold a JSON object of keys and values.")
    warnings = near_miss_warnings(path, raw, set(KNOWN_KEYS))
    try:
        config = Config.model_validate({**raw, "configPath": path})
    except ValidationError as error:
        raise ConfigError(describe_validation_error(path, raw, Config, error)) from None
    config = _resolve_paths(config)
    check_routes(config)
    check_directories(config)
    return config, warnings


def check_routes(config: Config) -> None:
    """A route for a channel no digest goes to would never apply: a mistake, said at once."""
    for channel in config.digest_routes:
        if channel not in config.delivery_channels:
            raise ConfigError(
                f"{config.config_path}: digestRoutes has a route for '{channel}', which is "
                "neither in digestNotificationChannel nor digestFallbackChannel: add the "
                "channel there, or remove its route."
            )


def _resolve_paths(config: Config) -> Config:
    base = config.config_path.parent

    def resolve(path: Path) -> Path:
        # normpath, not resolve(): "../logs" reads better than a followed symlink.
        return Path(os.path.normpath(path if path.is_absolute() else base / path))

    logs_dir = resolve(config.logs_dir)
    digest_dir = logs_dir / "digests" if config.digest_dir is None else resolve(config.digest_dir)
    # The values are already valid paths, so the copy need not be validated again.
    return config.model_copy(
        update={
            "state_file": resolve(config.state_file),
            "logs_dir": logs_dir,
            "digest_dir": digest_dir,
        }
    )


def check_directories(config: Config) -> None:
    """Every directory we write to must be writable, or creatable inside a writable parent."""
    places = {
        "logsDir": config.logs_dir,
        "digestDir": config.digests,
        "stateFile": config.state_file.parent,
    }
    for key, directory in places.items():
        problem = _unwritable(directory)
        if problem:
            raise ConfigError(
                f"{config.config_path}: {key} = '{directory}' is not usable: {problem}."
            )


def _unwritable(directory: Path) -> str | None:
    probe = directory
    while not probe.exists():
        if probe.parent == probe:
            return "no part of the path exists"
        probe = probe.parent
    if not probe.is_dir():
        return f"'{probe}' is not a directory"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"'{probe}' is not writable by this user"
    return None
