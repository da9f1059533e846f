"""What the API process knows of each model family, without torch.

A backend class is split in two. Its *front* (here) holds what tokenizing and describing a
model need: the family's kind, heads and limits, ``matches`` (which directories it serves,
read from the directory's config files), and its tokenization (prompts, pair templates).
The engine's backend (``app.models.<family>``) subclasses its front and adds the torch
modules and the forward pass. The engine sends the API process its loaded models as fronts
(``app.engine.child.without_weights``), so an API process never imports torch or
transformers' models: about 1 GB of RSS each, with ``API_WORKERS`` of them.
"""
