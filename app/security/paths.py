"""Operations routes (SPEC §1.3) are never behind the token and never rate-limited."""

from __future__ import annotations

from app.api.ops import OPERATIONS_PATHS


def is_operations_path(path: str) -> bool:
    """``/docs`` and everything under it (Swagger, its schema) count as operations too."""
    trimmed = path.rstrip("/") or "/"
    return trimmed in OPERATIONS_PATHS or trimmed.startswith("/docs/")
