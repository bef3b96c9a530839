"""Pick the device a run trains on and describe it for people."""
from __future__ import annotations

import torch

from .config import ConfigError


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def resolve(name: str = "auto") -> torch.device:
    """auto = cuda, then mps, then cpu; a named device that is missing is a clear error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for, but no CUDA GPU is available here (use --device auto or cpu)")
    if name == "mps" and not _mps_available():
        raise ConfigError("device 'mps' was asked for, but Apple's Metal backend is not available here (use --device auto or cpu)")
    if name not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"unknown device {name!r}: use auto, cpu, cuda or mps")
    return torch.device(name)


def describe(device: torch.device | str | None = None) -> str:
    """A short human description: the GPU's name, or the CPU with its core count."""
    device = resolve("auto") if device is None else torch.device(device)
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "GPU: Apple Metal (mps)"
    import os

    return f"CPU ({os.cpu_count()} cores)"
