"""The core every API family shares: text limits and checks, waiting on the scheduler,
error rendering, response encoding, model names, request accounting and the shared bodies."""
