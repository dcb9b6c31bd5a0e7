"""nightly-batch: scores a Reddit-lead queue every night and delivers the digest in the morning."""

__version__ = "0.1.0"
