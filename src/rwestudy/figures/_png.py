"""PNG writer for rendered figures: no row filter, fast zlib, dpi recorded in pHYs.

Why our own: Pillow (which matplotlib's savefig uses) chooses a filter for
every row adaptively and cannot be told not to; on the report's 16 figures
(140 MB of RGBA at 300 dpi) that took 0.74 s of CPU, against 0.31 s here for
files of the same size (2.8 vs 2.9 MB; measured with benchmarks/bench_figures.py).
Figures are mostly flat white, so deflate alone compresses them well.
The format is the PNG specification (ISO/IEC 15948): signature, IHDR,
pHYs, tEXt, one IDAT, IEND; each chunk with its CRC-32.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(rgba: np.ndarray, dpi: float, software: str = "", level: int = 1) -> bytes:
    """Encode an (height, width, 4) uint8 RGBA array; RGB when every pixel is opaque (25% less data)."""
    a = np.asarray(rgba, dtype=np.uint8)
    if a.ndim != 3 or a.shape[2] != 4:
        raise ValueError(f"expected an (h, w, 4) RGBA array, got shape {a.shape}")
    h, w, _ = a.shape
    opaque = bool(a[..., 3].min() == 255) if a.size else True
    channels = 3 if opaque else 4
    rows = np.empty((h, 1 + w * channels), dtype=np.uint8)
    rows[:, 0] = 0  # filter type 0 (None) on every row
    rows[:, 1:] = (a[..., :3] if opaque else a).reshape(h, w * channels)
    ppm = int(round(dpi / 0.0254))  # pixels per metre, as pHYs stores it
    parts = [_SIGNATURE,
             _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2 if opaque else 6, 0, 0, 0)),
             _chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))]
    if software:
        parts.append(_chunk(b"tEXt", b"Software\x00" + software.encode("latin-1", "replace")))
    parts += [_chunk(b"IDAT", zlib.compress(rows.tobytes(), level)), _chunk(b"IEND", b"")]
    return b"".join(parts)
