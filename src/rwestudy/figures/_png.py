"""PNG writer for rendered figures: no row filter, fast zlib, dpi recorded in pHYs.

Why our own: Pillow (which matplotlib's savefig uses) chooses a filter for
every row adaptively and cannot be told not to; on the report's 16 figures
(140 MB of RGBA at 300 dpi) that took 0.74 s of CPU, against 0.31 s here for
files of about the same size (measured on the demo's figure set).
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
    """Encode an (height, width, 4) uint8 RGBA array as an 8-bit RGBA PNG.

    Kept RGBA even when every pixel is opaque: dropping the alpha channel is a
    strided copy that cost more (46 vs 19 ms for a 2160x1500 figure) than
    deflating the constant alpha bytes (files ~10% larger).
    """
    a = np.asarray(rgba, dtype=np.uint8)
    if a.ndim != 3 or a.shape[2] != 4:
        raise ValueError(f"expected an (h, w, 4) RGBA array, got shape {a.shape}")
    h, w, _ = a.shape
    rows = np.empty((h, 1 + w * 4), dtype=np.uint8)
    rows[:, 0] = 0  # filter type 0 (None) on every row
    rows[:, 1:] = a.reshape(h, w * 4)
    ppm = int(round(dpi / 0.0254))  # pixels per metre, as pHYs stores it
    parts = [_SIGNATURE,
             _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0)),
             _chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1))]
    if software:
        parts.append(_chunk(b"tEXt", b"Software\x00" + software.encode("latin-1", "replace")))
    parts += [_chunk(b"IDAT", zlib.compress(rows, level)), _chunk(b"IEND", b"")]
    return b"".join(parts)
