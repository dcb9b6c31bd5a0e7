"""Everything kept on disk: the shared state file (lock, atomic write, .bak), digest files, the
runtime store's port (`port.py`: the protocols callers use) and its SQLite implementation, and
the read model behind `status`. May import `rules`, `settings`, `observability` and `core`;
callers depend on `port`, never on `sqlite` (only the composition root builds one).
"""
