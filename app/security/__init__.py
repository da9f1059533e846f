"""Who may call the inference routes, and how often: API keys (API_TOKEN, API_KEYS_FILE) with
their own limits, per-client rate limits, and shedding while the queues are full."""
