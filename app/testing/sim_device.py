"""A simulated device, for the benchmark and tests only: never a figure about a model.

With the engine's model hook pointed here (``sim_environment`` sets it), each model's
transformer is replaced by a ``SimModule`` whose forward pass is a wait of
``a + b x padded tokens`` seconds, one pass at a time across the engine (as on one GPU),
that holds no interpreter lock and spends no CPU (``time.sleep`` under a lock). It returns
what the real module returns, with its shapes and dtype (``last_hidden_state`` of
(rows, tokens, hidden), or a classifier's ``logits``), made cheaply and deterministically
from the token ids. Everything around the pass is the production path: tokenization,
admission, batching, the wire, the heads and their post-processing, response encoding. So on
a CPU the server's own cost can be seen beside a device that costs it nothing.

``SMART_EMBEDDER_SIM_DEVICE`` holds ``a_ms,b_us`` or a profile's name (``PROFILES``);
``SMART_EMBEDDER_SIM_DEVICE_STATS`` names a JSON file the engine rewrites after each pass
(``SimStats``): passes, padded tokens, device-busy seconds, the most passes ever running at
once. The benchmark reads it for the device's busy fraction, the tests for one pass at a time.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import msgspec
import torch

from app.engine.model_hook import MODEL_HOOK_ENV
from app.errors import ModelLoadError
from app.models.catalog import ModelSet

SIM_DEVICE_ENV = "SMART_EMBEDDER_SIM_DEVICE"
SIM_STATS_ENV = "SMART_EMBEDDER_SIM_DEVICE_STATS"

#: the attributes that hold each backend's transformer, first match wins
_MODULE_ATTRIBUTES = ("encoder", "model", "decoder")
#: rows of the table the outputs are drawn from
_TABLE_ROWS = 4096


@dataclass(frozen=True)
class PassCost:
    """One pass costs ``a_ms`` milliseconds plus ``b_us`` microseconds per padded token."""

    a_ms: float
    b_us: float

    def seconds(self, padded_tokens: int) -> float:
        return self.a_ms / 1e3 + self.b_us / 1e6 * padded_tokens

    def __str__(self) -> str:
        return f"a={self.a_ms:g} ms + b={self.b_us:g} us x padded tokens"


#: Estimates from first principles, to be replaced by measured figures after a first GPU run.
PROFILES: dict[str, PassCost] = {
    # bge-m3 (XLM-R large, about 0.57 B parameters) in fp16 on one H100 SXM, eager PyTorch:
    # b: a token costs 2 x 0.57e9 = 1.14 GFLOP (every parameter a multiply-add; the 0.26 B of
    #    embeddings are really a lookup, so this errs on the slow side); the H100 gives
    #    989 TFLOPS of dense fp16 at peak, about 40 % of it (~400 TFLOPS) to BERT-sized
    #    matmuls in eager mode: 1.14e9 / 4e14 = 2.9 us, so 3 us per padded token.
    # a: 24 layers x about 16 kernels each (layer norms, QKV, attention, softmax, output,
    #    the MLP's two matmuls and GELU, residual adds) is about 400 launches at 8-10 us of
    #    Python and launch overhead each, 3.5 ms, plus the heads and two host-device copies,
    #    about 0.5 ms: 4 ms per pass.
    "h100-bge-m3": PassCost(a_ms=4.0, b_us=3.0),
}


def parse_cost(spec: str) -> PassCost:
    """``a_ms,b_us`` (``2,1.5``) or a profile's name (``h100-bge-m3``)."""
    if spec in PROFILES:
        return PROFILES[spec]
    a_text, comma, b_text = spec.partition(",")
    try:
        cost = PassCost(float(a_text), float(b_text))
    except ValueError:
        cost = None
    if not comma or cost is None or cost.a_ms < 0 or cost.b_us < 0:
        raise ValueError(
            f"{spec!r} is no simulated device: give a_ms,b_us (two numbers >= 0, e.g. 2,1.5) "
            f"or a profile ({', '.join(PROFILES)})"
        )
    return cost


class SimStats(msgspec.Struct, kw_only=True):
    passes: int = 0
    #: rows (texts, or query-passage pairs) over every pass
    texts: int = 0
    padded_tokens: int = 0
    busy_seconds: float = 0.0
    #: the most passes ever inside the device at once: 1, as on one GPU
    max_running: int = 0
    #: the most passes ever waiting for the device or in it: above 1, it was contended
    max_wanting: int = 0


class SimDevice:
    """The one device every ``SimModule`` of the engine runs its passes on."""

    def __init__(self, cost: PassCost, stats_path: Path | None) -> None:
        self.cost = cost
        self.stats = SimStats()
        self._stats_path = stats_path
        self._device = threading.Lock()
        self._counters = threading.Lock()
        self._changed = threading.Condition(self._counters)
        self._writing = threading.Lock()
        self._running = 0
        self._wanting = 0

    def run_pass(self, padded_tokens: int, rows: int = 1) -> None:
        with self._counters:
            self._wanting += 1
            self.stats.max_wanting = max(self.stats.max_wanting, self._wanting)
            self._changed.notify_all()
        with self._device:
            with self._counters:
                self._running += 1
                self.stats.max_running = max(self.stats.max_running, self._running)
            started = time.perf_counter()
            time.sleep(self.cost.seconds(padded_tokens))  # no lock held, no CPU spent
            busy = time.perf_counter() - started
            with self._counters:
                self._running -= 1
                self._wanting -= 1
                self.stats.passes += 1
                self.stats.texts += rows
                self.stats.padded_tokens += padded_tokens
                self.stats.busy_seconds += busy
                snapshot = msgspec.json.encode(self.stats)
        if self._stats_path is not None:
            partial = self._stats_path.with_name(
                f".{self._stats_path.name}.{threading.get_ident()}"
            )
            partial.write_bytes(snapshot)
            partial.replace(self._stats_path)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold the device (tests): passes wait for it until the block ends."""
        with self._device:
            yield

    def wait_for_passes(self, wanting: int, timeout: float) -> bool:
        """Until ``wanting`` passes are waiting for the device or in it (tests)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._wanting >= wanting, timeout)


def _row_keys(ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """A key per token from its own id, the ids before it and the whole text's: each output
    row then differs by text and by token, and padding (either side) changes nothing."""
    real = ids.long() * mask.long()
    prefix = torch.cumsum(real, dim=1) % 1_000_003
    total = prefix[:, -1:]
    return (total * 7919 + prefix * 131 + real) % _TABLE_ROWS


class SimModule(torch.nn.Module):
    """Stands in for a transformer: waits on the device, answers with the real shapes."""

    def __init__(self, inner: torch.nn.Module, device: SimDevice) -> None:
        super().__init__()
        config: Any = inner.config
        self.config = config
        self.sim_device = device
        first = next(inner.parameters(), None)
        self.dtype_ = first.dtype if first is not None else torch.float32
        self.on = first.device if first is not None else torch.device("cpu")
        labels = int(config.num_labels) if _is_a(inner, "ForSequenceClassification") else None
        width = labels if labels is not None else int(config.hidden_size)
        generator = torch.Generator().manual_seed(0)
        table = torch.randn(_TABLE_ROWS, width, generator=generator)
        self.table = table.to(self.on, self.dtype_)
        self.classifier = labels is not None

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: Any
    ) -> SimpleNamespace:
        rows, tokens = int(input_ids.shape[0]), int(input_ids.shape[1])
        self.sim_device.run_pass(rows * tokens, rows)
        keys = _row_keys(input_ids, attention_mask)
        if self.classifier:
            return SimpleNamespace(logits=self.table[keys[:, -1]])
        return SimpleNamespace(last_hidden_state=self.table[keys])


def _is_a(module: torch.nn.Module, kind: str) -> bool:
    return type(module).__name__.endswith(kind)


def install_sim_device(models: ModelSet, cost: PassCost, stats_path: Path | None) -> SimDevice:
    device = SimDevice(cost, stats_path)
    for backend in models.backends():
        for attribute in _MODULE_ATTRIBUTES:
            module = getattr(backend, attribute, None)
            if isinstance(module, torch.nn.Module):
                if _is_a(module, "ForMaskedLM"):
                    # a vocabulary's logits per token are no cheap output to fake
                    raise ModelLoadError(f"{backend.name}: the simulated device has no masked LM")
                setattr(backend, attribute, SimModule(module, device))
                break
    return device


def install_from_environment(models: ModelSet) -> None:
    """The engine's model hook (``MODEL_HOOK_ENV``): the device ``SIM_DEVICE_ENV`` names."""
    try:
        cost = parse_cost(os.environ[SIM_DEVICE_ENV])
    except ValueError as exc:
        raise ModelLoadError(f"{SIM_DEVICE_ENV}: {exc}") from None
    stats = os.environ.get(SIM_STATS_ENV)
    install_sim_device(models, cost, Path(stats) if stats else None)


def sim_environment(spec: str, stats_path: Path) -> dict[str, str]:
    """The environment of a server whose engine runs on this simulated device."""
    parse_cost(spec)  # a bad spec fails here, not in the server's start-up
    return {
        MODEL_HOOK_ENV: f"{__name__}:{install_from_environment.__name__}",
        SIM_DEVICE_ENV: spec,
        SIM_STATS_ENV: str(stats_path),
    }


def read_stats(path: Path) -> SimStats:
    """The engine's counters so far (all zero before its first pass)."""
    try:
        return msgspec.json.decode(path.read_bytes(), type=SimStats)
    except FileNotFoundError:
        return SimStats()
