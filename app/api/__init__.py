"""The HTTP API: one package per API family (``native``, ``openai``, ``cohere``, ``tei``,
``ops``), each with its routes, bodies and OpenAPI examples, over a small common core
(``common``: limits, waiting on the scheduler, error rendering, encoding) and the request
guards (``guards``: keys, rate limits, shedding)."""
