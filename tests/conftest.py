"""Shared fixtures: tiny real models built once per session, and the app under test.

Tiny models (SPEC §9) use the real architecture classes and the real XLM-R tokenizer, with
seeded random weights; ``TINY_MODELS_DIR`` keeps them between runs (default: a temp dir).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient

from app.asgi import create_app
from app.models.catalog import ModelSet
from app.models.loading import load_models
from app.settings import Settings
from app.testing import tiny_models as tiny
from tests.helpers import wait_ready
from tests.scheduling import longest_first, refuse_lost_groups


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    longest_first(items)
    import torch

    if torch.cuda.is_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device; none is visible")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip_gpu)


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's controller, a worker's collection
def pytest_xdist_node_collection_finished(node: object, ids: list[str]) -> None:
    refuse_lost_groups(node, ids)


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("TINY_MODELS_DIR")
    if configured:
        return Path(configured)
    # One directory for every pytest-xdist worker of this run (a worker's base temp is a
    # folder of the run's): the builders lock each model, so each is built once per run.
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return shared / "tiny-models"


@pytest.fixture(scope="session")
def tiny_models(tiny_dir: Path) -> dict[str, Path]:
    """Paths of the tiny bge-m3 and bge reranker (max 512 tokens)."""
    return tiny.build_all(tiny_dir)


@pytest.fixture(scope="session")
def tiny_settings(tiny_models: dict[str, Path]) -> Settings:
    return Settings(
        bge_m3_model=str(tiny_models["bge-m3"]),
        reranker_model=str(tiny_models["bge-reranker"]),
        device="cpu",
        rate_limit_requests_per_minute=0,
    )


@pytest.fixture(scope="session")
def tiny_model_set(tiny_settings: Settings) -> ModelSet:
    """Loaded once; apps built from it share the weights (each app has its own worker)."""
    return load_models(tiny_settings)


@pytest.fixture(scope="session")
def make_client(tiny_settings: Settings, tiny_model_set: ModelSet) -> Callable[..., TestClient]:  # type: ignore[type-arg]
    """``make_client(**setting_overrides)``: a TestClient (use as a context manager) on the
    tiny models; the models are reused unless a model setting is overridden."""

    def build(**overrides: object) -> TestClient:  # type: ignore[type-arg]
        settings = tiny_settings.with_changes(**overrides)
        model_keys = {
            "bge_m3_model",
            "dense_embedding_model",
            "sparse_embedding_model",
            "reranker_model",
            "preset",
        }
        models = None if model_keys & overrides.keys() else tiny_model_set
        return TestClient(create_app(settings, models=models), timeout=60)

    return build


@pytest.fixture(scope="session")
def client(make_client: Callable[..., TestClient]) -> Iterator[TestClient]:  # type: ignore[type-arg]
    """The default app (tiny bge-m3 + tiny reranker, default limits), ready."""
    with make_client() as test_client:
        wait_ready(test_client)
        yield test_client
