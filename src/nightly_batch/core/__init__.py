"""Foundations every other package may use: the clock seam, JSON in and out, crash-safe file
replacement, advisory locks, process facts and the vocabularies (task, channel and severity
names). May import only the standard library, msgspec, tenacity and `nightly_batch.errors`.
"""
