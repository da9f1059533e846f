"""The inference engine: the one place that runs forward passes on a device.

``Engine`` is what the scheduler talks to. Two kinds exist: ``ProcessEngine`` runs the
models in a child process of their own (the server's default: the model's Python work then
never holds the API process's interpreter lock), and ``InlineEngine`` runs them on threads of
the calling process (tests that hand in already-loaded models, and the fallback
``ENGINE_PROCESS=false``). Both execute the same passes (``app.engine.passes``).
"""
