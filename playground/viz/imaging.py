"""Small pictures from numpy arrays: PNG files, enlargement and attention overlays (no imaging library needed)."""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from .. import atomic


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """(H, W, C) -> (H*factor, W*factor, C), every pixel a factor x factor block (crisp, no blur)."""
    return image.repeat(factor, axis=0).repeat(factor, axis=1)


def attention_overlay(image: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """An (S, S, 3) uint8 image dimmed where a (rows, cols) attention map is low and tinted where it peaks.

    Each grid cell covers an S/rows x S/cols block of pixels; weights are scaled by their maximum,
    so the brightest block is where the decoder looked most."""
    rows, cols = weights.shape
    if image.shape[0] % rows or image.shape[1] % cols or image.shape[0] // rows != image.shape[1] // cols:
        raise ValueError(f"a {rows}x{cols} attention grid does not tile a {image.shape[0]}x{image.shape[1]} image")
    strength = enlarge(weights[..., None] / max(float(weights.max()), 1e-12), image.shape[0] // rows)  # (S, S, 1)
    tint = np.array([255, 230, 80], dtype=np.float32)  # warm yellow where attention is high
    out = image.astype(np.float32) * (0.2 + 0.8 * strength) + tint * 0.35 * strength
    return np.clip(out, 0, 255).astype(np.uint8)


def strip(images: list[np.ndarray], gap: int = 2, background: int = 255) -> np.ndarray:
    """Images of the same height side by side, `gap` pixels apart."""
    height = images[0].shape[0]
    spacer = np.full((height, gap, 3), background, dtype=np.uint8)
    parts = []
    for i, image in enumerate(images):
        parts += [spacer, image] if i else [image]
    return np.concatenate(parts, axis=1)


def png_bytes(image: np.ndarray) -> bytes:
    """An (H, W, 3) uint8 array as a PNG file (8-bit RGB, no interlacing)."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    height, width, channels = image.shape
    if channels != 3:
        raise ValueError("png_bytes writes RGB images (H, W, 3)")
    rows = np.concatenate([np.zeros((height, 1), dtype=np.uint8), image.reshape(height, width * 3)], axis=1)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, RGB, deflate, no filter, no interlace
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
            + chunk(b"IEND", b""))


def write_png(path: str | Path, image: np.ndarray) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_bytes(path, png_bytes(image))  # whole or not at all
    return path
