"""Who may call the inference routes, and how often: bearer auth and per-client rate limits."""
