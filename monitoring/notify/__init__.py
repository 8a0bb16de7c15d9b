"""Alert notifications: outbox rows written with the alert change, delivered after the commit.

``policy`` decides what to enqueue (inside the alert transaction), ``formatters`` turn
an alert event into each channel's payload, ``sender`` posts one payload, ``delivery``
claims due rows and retries with persisted backoff, and ``service`` is what the
settings page calls (channel status, test send, re-queue). Submodules are imported
directly; this package imports nothing, so ``monitoring.settings`` can use ``urls``
without pulling in the store or HTTP.
"""
