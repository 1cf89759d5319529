"""The controller runtime every Mini controller is built on: work queue, caches, expectations, API client.

Kopf watches the resources and feeds in-memory indexes (our informer caches); this package adds what
client-go gives a Go controller and Kopf does not: a coalescing, rate-limited work queue with one worker per
key at a time, level-triggered `sync(key)` workers, expectations, a shared API client with an optional QPS
limit, and an event recorder with upstream's spam filter.
"""
