"""What is served over HTTP: the read-only dashboard (Starlette, Jinja templates, inline SVG
charts) and the Prometheus metrics and /healthz endpoint. Reads the store, never writes it.
May import `tasks` and everything below; imported only by the daemon and `serve`.
"""
