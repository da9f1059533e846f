"""The engine joins the batches that API processes (``API_WORKERS``) send it into one pass
when it runs one pass at a time, and drops the items a client withdrew before their pass
(``app/engine/coalescing.py``): a real engine loop with its wires, on tiny bge-m3 whose
transformer is the simulated device, held by the test while batches arrive."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from multiprocessing import Pipe
from multiprocessing.connection import Connection

import numpy as np
import pytest

from app.engine import wire
from app.engine.base import PassLimits
from app.engine.child import EngineLoop
from app.engine.layout import DeviceLayout
from app.engine.passes import run_pass
from app.models.base import Head, TokenizedText
from app.models.catalog import ModelSet
from app.models.loading import load_models
from app.settings import Settings
from app.testing.sim_device import SimDevice, install_sim_device, parse_cost

DENSE = frozenset({Head.DENSE})
ALL = frozenset({Head.DENSE, Head.SPARSE, Head.COLBERT})
ROOMY = PassLimits(tokens=10_000, items=100)
WAIT_S = 60  # a hang guard only: every wait below ends on an event


@pytest.fixture(scope="module")
def device_models(tiny_settings: Settings) -> tuple[SimDevice, ModelSet]:
    # a set of our own: the simulated device replaces its transformers
    models = load_models(tiny_settings.with_changes(reranker_model=None))
    return install_sim_device(models, parse_cost("0,0"), None), models


def texts(*lengths: int, first: int = 100) -> list[TokenizedText]:
    """Texts of these lengths, each of distinct ids (CLS ... SEP)."""
    out = []
    for n, length in enumerate(lengths):
        ids = np.asarray([0, *range(first + 10 * n, first + 10 * n + length - 2), 2], np.int32)
        out.append(TokenizedText(ids, length))
    return out


class Wire:
    """An API process's end of its wire to the engine."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._numbers = iter(range(1_000))

    def send(
        self,
        payloads: Sequence[TokenizedText],
        heads: frozenset[Head] = DENSE,
        limits: PassLimits = ROOMY,
        *,
        express: bool = False,
    ) -> int:
        batch = next(self._numbers)
        message = wire.pack_batch(batch, 0, payloads, heads, express=express, limits=limits)
        self.conn.send_bytes(wire.encode(message))
        return batch

    def withdraw(self, batch: int, positions: list[int]) -> None:
        self.conn.send_bytes(wire.encode(wire.Withdraw(batch, positions)))

    def receive(self) -> wire.BatchDone:
        assert self.conn.poll(WAIT_S), "the engine did not answer"
        message = wire.decode_from_engine(self.conn.recv_bytes())
        assert isinstance(message, wire.BatchDone), message
        return message

    def synced(self) -> None:
        """Returns once the engine has read everything sent before: a batch withdrawn whole
        is answered at once, after the frames ahead of it on this wire."""
        barrier = self.send(texts(3, first=900))
        self.withdraw(barrier, [0])
        done = self.receive()
        assert (done.batch, done.dropped) == (barrier, [0])


@contextmanager
def engine(models: ModelSet, *, wires: int, pass_threads: int = 1) -> Iterator[list[Wire]]:
    pipes = [Pipe(duplex=True) for _ in range(wires)]
    layout = DeviceLayout(device="cpu", gpu=None, workers=pass_threads, niceness=0)
    loop = EngineLoop([theirs for _, theirs in pipes], models, layout)
    ready = wire.Ready(models=b"", device="cpu", gpu=None, threads=pass_threads, overhead_tokens={})
    thread = threading.Thread(target=loop.run, args=(ready,), daemon=True)
    thread.start()
    ends = [Wire(ours) for ours, _ in pipes]
    for end in ends:
        assert isinstance(wire.decode_from_engine(end.conn.recv_bytes()), wire.Ready)
    try:
        yield ends
    finally:
        for end in ends:
            end.conn.send_bytes(wire.encode(wire.Shutdown()))
        thread.join(WAIT_S)


@contextmanager
def behind_a_pass(device: SimDevice, *ends: Wire) -> Iterator[None]:
    """The block's batches wait at the engine behind a pass that the device holds (a batch of
    one text from the first wire); the device runs once the engine has read them all."""
    with device.held():
        ends[0].send(texts(4))
        assert device.wait_for_passes(1, WAIT_S)
        yield
        for end in ends:
            end.synced()


def dense_rows(done: wire.BatchDone) -> np.ndarray:
    return np.stack([item.dense for item in wire.unpack_results(done)])


def alone(models: ModelSet, payloads: Sequence[TokenizedText]) -> np.ndarray:
    result = run_pass(models.backends()[0], payloads, DENSE)
    return np.stack([item.dense for item in result.results])


@pytest.mark.parametrize(("pass_threads", "passes"), [(1, 2), (2, 3)])
def test_batches_of_two_api_processes_run_in_one_pass_on_a_one_pass_device(
    device_models: tuple[SimDevice, ModelSet], pass_threads: int, passes: int
) -> None:
    device, models = device_models
    mine, theirs = texts(5, 6, first=200), texts(7, 3, 9, first=300)
    with engine(models, wires=2, pass_threads=pass_threads) as (a, b):
        passes_before, texts_before = device.stats.passes, device.stats.texts
        with behind_a_pass(device, a, b):
            mine_batch = a.send(mine)
            b.send(theirs)
        answered = {done.batch: done for done in (a.receive(), a.receive())}
        theirs_done = b.receive()
    # the first pass, then the two batches that waited for it as one; with a pass thread
    # each side by side (a CPU), each batch its own pass
    assert device.stats.passes - passes_before == passes
    assert device.stats.texts - texts_before == 1 + 2 + 3
    # each API process gets its own items' vectors, as if they had run alone
    np.testing.assert_allclose(dense_rows(answered[mine_batch]), alone(models, mine), atol=1e-6)
    np.testing.assert_allclose(dense_rows(theirs_done), alone(models, theirs), atol=1e-6)


@pytest.mark.parametrize(
    ("theirs_limits", "theirs_express", "passes"),
    [
        (ROOMY, False, 2),
        (PassLimits(tokens=16, items=100), False, 3),  # 5 texts x 9 tokens: over their cap
        (PassLimits(tokens=10_000, items=4), False, 3),  # 5 texts: over their item cap
        (ROOMY, True, 3),  # an express batch joins express ones only
        (PassLimits(), False, 3),  # cut to run alone (CROSS_REQUEST_BATCHING=false)
    ],
)
def test_a_pass_stays_within_every_member_s_limits(
    device_models: tuple[SimDevice, ModelSet],
    theirs_limits: PassLimits,
    theirs_express: bool,
    passes: int,
) -> None:
    device, models = device_models
    with engine(models, wires=2) as (a, b):
        before = device.stats.passes
        with behind_a_pass(device, a, b):
            a.send(texts(5, 6))
            b.send(texts(7, 3, 9), limits=theirs_limits, express=theirs_express)
        a.receive(), a.receive(), b.receive()
    assert device.stats.passes - before == passes


def test_withdrawn_items_never_reach_a_pass(device_models: tuple[SimDevice, ModelSet]) -> None:
    device, models = device_models
    batch = texts(5, 6, 7, first=400)
    with engine(models, wires=1) as (a,):
        texts_before = device.stats.texts
        with behind_a_pass(device, a):
            partly = a.send(batch, ALL)
            whole = a.send(texts(8, 9))
            a.withdraw(partly, [1])  # its client left
            a.withdraw(whole, [0, 1])
            emptied = a.receive()  # answered at once: no pass will hold it
            assert (emptied.batch, emptied.dropped) == (whole, [0, 1])
            assert wire.unpack_results(emptied) == []
        a.receive()
        done = a.receive()
    assert device.stats.texts - texts_before == 1 + 2
    assert (done.batch, done.dropped) == (partly, [1])
    kept = [batch[0], batch[2]]
    results = wire.unpack_results(done)
    expected = run_pass(models.backends()[0], kept, ALL).results
    assert len(results) == 2
    for got, want in zip(results, expected, strict=True):
        np.testing.assert_allclose(got.dense, want.dense, atol=1e-6)
        np.testing.assert_allclose(got.colbert, want.colbert, atol=1e-6)


def test_a_dense_batch_joined_with_a_colbert_one_gets_dense_vectors_only(
    device_models: tuple[SimDevice, ModelSet],
) -> None:
    device, models = device_models
    with engine(models, wires=2) as (a, b):
        before = device.stats.passes
        with behind_a_pass(device, a, b):
            a.send(texts(5, 6), ALL)
            b.send(texts(7), DENSE)
        a.receive()
        rich, dense_only = a.receive(), b.receive()
    assert device.stats.passes - before == 2
    assert rich.embeddings is not None and rich.embeddings.colbert is not None
    assert dense_only.embeddings is not None and dense_only.embeddings.dense is not None
    assert dense_only.embeddings.colbert is None and dense_only.embeddings.sparse_counts is None
