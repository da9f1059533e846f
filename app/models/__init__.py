"""Model backends: one class per architecture family, each tokenizing and running its own
forward pass and heads. Nothing here knows about HTTP, queues or processes."""
