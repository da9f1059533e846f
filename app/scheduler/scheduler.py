"""The scheduler: admission, off-loop tokenization, per-model queues and the dispatcher that
feeds the inference engine. A request is admitted (or refused with 503 at once when its
kind's queue is full for its priority class), tokenized (on the loop when short, in a small
thread pool otherwise), split into jobs (one per model it needs) and queued in its lane
(class and tenant). The engine holds at most one batch per pass slot plus one ready behind
them; each is cut from everything waiting, interactive work first, up to the token budget
and as far as the model's measured pass cost makes growing worth it. Results are delivered
per item on the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from app.engine.base import Engine
from app.errors import InvalidInput, Overloaded
from app.models.base import (
    EmbeddingBackend,
    EmbedInput,
    Head,
    InputType,
    ItemEmbedding,
    RerankBackend,
    TokenizedPair,
    TokenizedText,
    TruncationSide,
)
from app.models.catalog import ModelSet
from app.models.chunk_passes import DocumentPasses
from app.scheduler.cache import EmbedCache, Lookup
from app.scheduler.dispatcher import Dispatcher
from app.scheduler.jobs import Job
from app.scheduler.outcomes import BatchLimits, EmbedOutcome, Kind, RerankOutcome
from app.scheduler.priorities import BATCH, DEFAULT_LANE, PRIORITIES, Lane, Priority, PriorityPolicy
from app.scheduler.queue import ModelQueue
from app.scheduler.refusals import (
    nothing,
    queue_full_message,
    refuse_truncated_pairs,
    refuse_truncated_texts,
)
from app.telemetry.recorder import Recorder

log = logging.getLogger("smart_embedder.scheduler")

T = TypeVar("T")

#: Texts up to this many characters in all are tokenized on the loop: for short texts the
#: hop to the tokenizer pool and back costs more than the tokenizer itself.
INLINE_TOKENIZE_CHARS = 2048
#: threads that tokenize long requests off the loop (TEI's /info reports it)
TOKENIZE_WORKERS = 2


class Scheduler:
    def __init__(
        self,
        models: ModelSet,
        engine: Engine,
        *,
        limits: BatchLimits,
        max_queue: dict[Kind, int],
        batch_max_queue: dict[Kind, int] | None = None,
        cross_request_batching: bool = True,
        recorder: Recorder | None = None,
        cache: EmbedCache | None = None,
        budgets: dict[int, int] | None = None,
        policy: PriorityPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``max_queue``: requests of the interactive class waiting per kind before 503;
        ``batch_max_queue``: the batch class's (default: the same). ``budgets``: model number
        -> its token budget, where one was measured (the engine's, unless MAX_BATCH_TOKENS is
        set); other models get ``limits.max_tokens``. ``clock``: when interactive work was last
        seen (``PriorityPolicy.bulk_max_cost``)."""
        self.models = models
        self.cache = cache
        self.engine = engine
        self.limits = limits
        self.recorder = recorder or Recorder()
        self.cross_request_batching = cross_request_batching
        self.policy = policy or PriorityPolicy()
        self._max_queue: dict[tuple[Kind, Priority], int] = {}
        for kind, bound in max_queue.items():
            self._max_queue[(kind, "interactive")] = bound
            self._max_queue[(kind, BATCH)] = (batch_max_queue or max_queue).get(kind, bound)
        self._pending: dict[tuple[Kind, Priority], int] = {
            (kind, p): 0 for kind in ("embed", "rerank") for p in PRIORITIES
        }
        self._queues: dict[int, ModelQueue] = {
            id(backend): ModelQueue(
                backend.name,
                "rerank" if backend is models.reranker else "embed",
                number,
                max_tokens=(budgets or {}).get(number, limits.max_tokens),
                max_items=limits.max_items,
                overhead_tokens=engine.overhead_tokens.get(number, limits.overhead_tokens),
                fill_cost_factor=self.policy.fill_cost_factor,
            )
            for number, backend in enumerate(models.backends())
        }
        self._tokenize_pool = ThreadPoolExecutor(TOKENIZE_WORKERS, thread_name_prefix="tokenize")
        self._idle = asyncio.Event()
        self._idle.set()
        self._dispatcher = Dispatcher(
            self._queues,
            engine,
            self.recorder,
            cross_request_batching=cross_request_batching,
            policy=self.policy,
            clock=clock,
        )
        self._dispatching: asyncio.Task[None] | None = None
        self.accepting = True

    def start(self) -> None:
        self._dispatching = asyncio.create_task(self._dispatcher.run(), name="dispatcher")

    async def drain(self, timeout: float) -> bool:
        """Refuse new work, then wait for every admitted request to finish."""
        self.accepting = False
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        if self._dispatching is not None:
            self._dispatching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatching
        self._tokenize_pool.shutdown(wait=False, cancel_futures=True)

    def pending(self, kind: Kind, priority: Priority | None = None) -> int:
        """Requests admitted and not yet answered, of one class or (None) of both."""
        if priority is not None:
            return self._pending[(kind, priority)]
        return sum(self._pending[(kind, p)] for p in PRIORITIES)

    def queue_bound(self, kind: Kind, priority: Priority) -> int:
        """Requests of this kind and class that may wait before 503."""
        return self._max_queue[(kind, priority)]

    def overhead_tokens(self) -> dict[str, int]:
        """Per model, the fixed pass cost its batches are cut with."""
        return {q.name: q.overhead_tokens for q in self._queues.values() if q.overhead_tokens}

    def budgets(self) -> dict[tuple[str, str], int]:
        """(queue, model) -> the padded token budget its batches are cut with now (lowered
        when a batch ran out of device memory)."""
        return {(q.kind, q.name): q.max_tokens for q in self._queues.values()}

    def queued_items(self, kind: Kind, priority: Priority | None = None) -> int:
        """Texts or pairs waiting to be cut into a batch, of one class or (None) of both."""
        return sum(
            len(q) if priority is None else q.waiting(priority)
            for q in self._queues.values()
            if q.kind == kind
        )

    @contextlib.contextmanager
    def _admitted(self, kind: Kind, lane: Lane) -> Iterator[None]:
        if not self.accepting:
            raise Overloaded("the server is shutting down; retry on another replica", retry_after=1)
        key = (kind, lane.priority)
        if self._pending[key] >= self._max_queue[key]:
            self.recorder.class_refused(kind, lane.priority)
            raise Overloaded(
                queue_full_message(kind, lane.priority, self._max_queue[key]), retry_after=1
            )
        self.recorder.class_admitted(kind, lane.priority)
        self._pending[key] += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._pending[key] -= 1
            if not any(self._pending.values()):
                self._idle.set()

    async def embed(
        self,
        texts: Sequence[EmbedInput],
        heads: frozenset[Head],
        input_type: InputType = "document",
        *,
        truncation_side: TruncationSide | None = None,
        truncate: bool = True,
        backend: EmbeddingBackend | None = None,
        lane: Lane = DEFAULT_LANE,
    ) -> EmbedOutcome:
        """``truncation_side``: which end an over-long text loses (None: the model's own);
        ``truncate=False`` refuses an over-long text (``InputTooLong``) before it is queued;
        ``backend``: every head from this model (else each head's configured model); ``lane``:
        the request's priority class and tenant. Texts the embedding cache holds
        (``EMBED_CACHE_MB``) are answered from it, unqueued. An item given as token ids
        (``TokenIds``) skips tokenization and the cache, and is batched as a text is."""
        plan = self._plan(heads, backend)
        lane = self.policy.lane(lane)
        with self._admitted("embed", lane):
            loop = asyncio.get_running_loop()
            backends = [b for b, _ in plan.values()]
            side = () if truncation_side is None else (truncation_side,)
            lookups = [
                Lookup(self.cache, b, frozenset(h), input_type, truncation_side, texts)
                for b, h in plan.values()
            ]
            # the side is passed only when asked for, so every backend keeps its own default
            computed = await self._tokenize_misses(backends, lookups, input_type, side)
            tokenized = [found.tokens(c) for found, c in zip(lookups, computed, strict=True)]
            if not truncate:
                for b, tokens in zip(backends, tokenized, strict=True):
                    refuse_truncated_texts(b, tokens)
            todo = [i for i, tokens in enumerate(computed) if tokens]
            jobs = [Job(computed[i], loop, frozenset(plan[id(backends[i])][1]), lane) for i in todo]
            results: list[list[ItemEmbedding]] = [[] for _ in backends]
            if jobs:
                finished = await self._run_jobs(jobs, [backends[i] for i in todo])
                for i, done in zip(todo, finished, strict=True):
                    results[i] = done
        # A batch runs the heads any of its requests asked for; each request keeps only its
        # own, so a dense-only request batched with a ColBERT one gets no ColBERT vectors.
        merged = [ItemEmbedding() for _ in texts]
        for (_, job_heads), found, done, tokens in zip(
            plan.values(), lookups, results, tokenized, strict=True
        ):
            for target, part in zip(merged, found.items(done, tokens), strict=True):
                for head in job_heads:
                    setattr(target, head.value, getattr(part, head.value))
        return EmbedOutcome(items=merged, tokenized=list(zip(backends, tokenized, strict=True)))

    async def _tokenize_misses(
        self,
        backends: Sequence[EmbeddingBackend],
        lookups: Sequence[Lookup],
        input_type: InputType,
        side: tuple[TruncationSide, ...],
    ) -> list[list[TokenizedText]]:
        """Each model's tokens of the texts its cache lookup missed."""
        chars = sum(len(t) for t in lookups[0].misses)
        if len(backends) == 1:  # the usual case: no gather (a future and callbacks) for it
            misses = lookups[0].misses
            if not misses:
                return [[]]
            tokenize = backends[0].tokenize_inputs
            return [await self._tokenize(chars, tokenize, misses, input_type, *side)]
        return list(
            await asyncio.gather(
                *(
                    self._tokenize(chars, b.tokenize_inputs, found.misses, input_type, *side)
                    if found.misses
                    else nothing()
                    for b, found in zip(backends, lookups, strict=True)
                )
            )
        )

    def _plan(
        self, heads: frozenset[Head], backend: EmbeddingBackend | None
    ) -> dict[int, tuple[EmbeddingBackend, set[Head]]]:
        """Which model computes which of ``heads``."""
        if backend is not None:
            missing = heads - backend.heads
            if missing:
                raise InvalidInput(f"{backend.name} does not give {sorted(missing)} vectors")
            return {id(backend): (backend, set(heads))}
        plan: dict[int, tuple[EmbeddingBackend, set[Head]]] = {}
        for head in heads:
            serving = self.models.by_head.get(head)
            if serving is None:
                raise InvalidInput(
                    f"{head.value} vectors are not available: no configured model gives them",
                    param=f"return_{head.value}",
                )
            plan.setdefault(id(serving), (serving, set()))[1].add(head)
        return plan

    async def rerank(
        self,
        query: str,
        passages: Sequence[str],
        *,
        truncation_side: TruncationSide | None = None,
        truncate: bool = True,
        lane: Lane = DEFAULT_LANE,
    ) -> RerankOutcome:
        """As ``embed``: ``truncation_side`` is the end an over-long passage loses,
        ``truncate=False`` refuses an over-long pair before it is queued."""
        reranker = self.models.reranker
        if reranker is None:
            raise InvalidInput("reranking is not available: no reranker model is configured")
        lane = self.policy.lane(lane)
        with self._admitted("rerank", lane):
            loop = asyncio.get_running_loop()
            chars = len(query) + sum(len(p) for p in passages)
            side = () if truncation_side is None else (truncation_side,)
            pairs = await self._tokenize(chars, reranker.tokenize_pairs, query, passages, *side)
            if not truncate:
                refuse_truncated_pairs(reranker, pairs)
            (scores,) = await self._run_jobs([Job(pairs, loop, lane=lane)], [reranker])
        return RerankOutcome(scores=np.asarray(scores, dtype=np.float32), pairs=pairs)

    async def rerank_pairs(
        self,
        pairs: Sequence[tuple[str, str | None]],
        *,
        truncation_side: TruncationSide | None = None,
        truncate: bool = True,
        lane: Lane = DEFAULT_LANE,
    ) -> RerankOutcome:
        """Score (query, passage) pairs whose queries differ: one request, one admission, its
        pairs batched as ``rerank``'s are; the scores come back in input order. A pair whose
        passage is None is a lone text, scored as a one-text input (``tokenize_texts``)."""
        reranker = self.models.reranker
        if reranker is None:
            raise InvalidInput("reranking is not available: no reranker model is configured")
        by_query: dict[str | None, list[int]] = {}
        for i, (query, passage) in enumerate(pairs):
            by_query.setdefault(None if passage is None else query, []).append(i)
        lane = self.policy.lane(lane)
        with self._admitted("rerank", lane):
            loop = asyncio.get_running_loop()
            chars = sum(len(q) + len(p or "") for q, p in pairs)
            side = () if truncation_side is None else (truncation_side,)
            tokenized: list[TokenizedPair | None] = [None] * len(pairs)
            for shared, indices in by_query.items():
                if shared is None:
                    lone = [pairs[i][0] for i in indices]
                    encoded = await self._tokenize(chars, reranker.tokenize_texts, lone, *side)
                else:
                    passages = [str(pairs[i][1]) for i in indices]
                    encoded = await self._tokenize(
                        chars, reranker.tokenize_pairs, shared, passages, *side
                    )
                for i, pair in zip(indices, encoded, strict=True):
                    tokenized[i] = pair
            ordered = [pair for pair in tokenized if pair is not None]
            if not truncate:
                refuse_truncated_pairs(reranker, ordered)
            (scores,) = await self._run_jobs([Job(ordered, loop, lane=lane)], [reranker])
        return RerankOutcome(scores=np.asarray(scores, dtype=np.float32), pairs=ordered)

    async def embed_documents(
        self,
        backend: EmbeddingBackend,
        heads: frozenset[Head],
        prepare: Callable[[], Sequence[DocumentPasses]],
        lane: Lane = DEFAULT_LANE,
    ) -> list[tuple[DocumentPasses, list[ItemEmbedding]]]:
        """Chunked documents (``app.models.chunk_passes``): ``prepare`` cuts them and gives
        their passes (in the tokenizer pool: a splitter's first use builds it); the passes of
        all of them go as one yielding job (a long document shares the device with the
        requests that come while it runs), and each document gets its chunks' embeddings, in
        order. Never answered from the embedding cache."""
        lane = self.policy.lane(lane)
        with self._admitted("embed", lane):
            loop = asyncio.get_running_loop()
            prepared = await loop.run_in_executor(self._tokenize_pool, prepare)
            payloads = [payload for passes in prepared for payload in passes.payloads]
            results: list[ItemEmbedding] = []
            if payloads:
                job = Job(payloads, loop, heads, lane, yields=True)
                (results,) = await self._run_jobs([job], [backend])
        out = []
        first = 0
        for passes in prepared:
            chunks = [results[first + payload].leaves()[place] for payload, place in passes.located]
            out.append((passes, chunks))
            first += len(passes.payloads)
        return out

    async def _tokenize(self, chars: int, tokenize: Callable[..., T], *args: Any) -> T:
        if chars <= INLINE_TOKENIZE_CHARS:
            return tokenize(*args)
        return await asyncio.get_running_loop().run_in_executor(
            self._tokenize_pool, tokenize, *args
        )

    async def _run_jobs(
        self, jobs: list[Job[Any]], backends: Sequence[EmbeddingBackend | RerankBackend]
    ) -> list[list[Any]]:
        for job, backend in zip(jobs, backends, strict=True):
            self._queues[id(backend)].push(job)
        self._dispatcher.wake()
        try:
            if len(jobs) == 1:  # the usual case: no gather (a future and callbacks) for it
                return [await jobs[0].future]
            return list(await asyncio.gather(*(job.future for job in jobs)))
        except BaseException:
            for job in jobs:
                job.cancel()
            raise
