"""Queues, batching and the inference worker: everything between a validated request and
a model's forward pass. Nothing here imports the web framework."""
