"""Where the passes run: the device, and on a CPU how its cores are split between the pass
threads. One function for both engines, called where the passes run (torch's thread count
belongs to the process)."""

from __future__ import annotations

from dataclasses import dataclass

from app.cpu import inference_workers, threads_per_worker, usable_cores
from app.settings import Settings


@dataclass(frozen=True)
class DeviceLayout:
    device: str
    #: what /health shows of a GPU (None on a CPU)
    gpu: dict[str, str | int | float | None] | None
    #: pass threads side by side: one on a GPU
    workers: int
    #: niceness of the pass threads (CPU only)
    niceness: int
    #: express passes run on a thread of their own beside the others (CPU only)
    express_thread: bool = False


def lay_out(settings: Settings) -> DeviceLayout:
    from app.models.runtime import configure_cpu_threads, describe_device, resolve_device

    device = resolve_device(settings.device)
    on_cpu = device.type == "cpu"
    cores = usable_cores(settings.cpu_threads)
    workers = inference_workers(settings.cpu_inference_workers, on_cpu, cores)
    if workers > 1:
        configure_cpu_threads(threads_per_worker(cores, workers))
    return DeviceLayout(
        device=str(device),
        gpu=describe_device(device),
        workers=workers,
        niceness=settings.worker_niceness if on_cpu else 0,
        express_thread=on_cpu and settings.priorities and settings.express_pass_thread,
    )
