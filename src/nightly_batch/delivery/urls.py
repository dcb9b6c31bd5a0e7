"""Where secrets may be sent: https on the service's own hosts, or hosts the operator listed.

A webhook URL is itself the credential, so a typo or a pasted look-alike host would hand it to a
stranger; and no redirect is ever followed, for the same reason.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from nightly_batch.errors import ConfigError

LOOPBACK = ("localhost", "127.0.0.1", "::1")


def check_url(name: str, url: str, hosts: tuple[str, ...] | None, extra: tuple[str, ...]) -> str:
    """`url` if it may carry a secret; else a ConfigError naming the variable (not the secret).
    `hosts` None: any host over https (the operator's own receiver, which gets a signature
    made with the secret, never the secret)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port
    listed = host in extra or (port is not None and f"{host}:{port}" in extra)
    shown = (
        f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/..." if parts.scheme else "(not a URL)"
    )
    if parts.scheme not in ("https", "http") or not host:
        raise ConfigError(f"{name} is not an http(s) URL: {shown}")
    if parts.scheme == "http" and not listed:
        raise ConfigError(
            f"{name} must use https (plain http only for hosts in allowedWebhookHosts): {shown}"
        )
    if hosts is not None and host not in hosts and not listed:
        raise ConfigError(
            f"{name} points at {host}, which is not one of {', '.join(hosts)}; "
            "add the host to allowedWebhookHosts for a compatible self-hosted endpoint."
        )
    return url
