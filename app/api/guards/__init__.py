"""What runs around every route before its body is read: API keys and their quotas, the
per-client rate limit, shedding while the queues are full, request accounting and spans."""
