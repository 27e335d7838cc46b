"""BM25 tokens for Chinese text: jieba search mode plus the domain dictionary.

Search mode emits long words and their 2/3-character parts, so 重大行政决策 matches both the
whole term and 行政/决策. Only pure function words (data/function_words.txt) are dropped —
never domain words like 重大, 规定, 应当 that officials search for.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
_lock = threading.Lock()


def _read_list(path: Path) -> list[str]:
    """Lines of a data table, without comments and blanks, NFKC-normalised and lower-cased."""
    if not path.exists():
        raise FileNotFoundError(f"kb data table missing: {path}")
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(_norm(line))
    return out


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _squash(term: str) -> str:
    """A term as one token: punctuation and spaces removed (双随机、一公开 → 双随机一公开)."""
    return "".join(ch for ch in term if ch.isalnum())


def _trim(tok: str) -> str:
    """``tok`` without leading/trailing non-word characters ('' for pure punctuation)."""
    i, j = 0, len(tok)
    while i < j and not tok[i].isalnum():
        i += 1
    while j > i and not tok[j - 1].isalnum():
        j -= 1
    return tok[i:j]


@cache
def function_words() -> frozenset[str]:
    return frozenset(_read_list(DATA / "function_words.txt"))


@cache
def domain_terms() -> tuple[str, ...]:
    return tuple(dict.fromkeys(_read_list(DATA / "domain_dict.txt")))


@cache
def _tables() -> tuple[dict[str, tuple[str, ...]], tuple[tuple[str, str], ...]]:
    """(domain token → the words of 4+ characters inside it, [(term with punctuation, its token)]).

    Search mode emits only the 2- and 3-character words inside a long word, so without this
    执法监督 and 人民政府 would vanish inside 行政执法监督 and 县级以上人民政府."""
    freq = _jieba().FREQ
    nested = {}
    for tok in {_squash(t) for t in domain_terms()}:
        inner = tuple(dict.fromkeys(
            tok[i:j] for i in range(len(tok)) for j in range(i + 4, len(tok) + 1)
            if j - i < len(tok) and freq.get(tok[i:j])
        ))
        if inner:
            nested[tok] = inner
    punctuated = tuple((t, _squash(t)) for t in domain_terms() if _squash(t) != t)
    return nested, punctuated


_tokenizer = None


def _jieba():
    """A private jieba Tokenizer with the domain dictionary, built once and quietly."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tk = jieba.Tokenizer()
                tk.initialize()
                for term in domain_terms():
                    # add_word without a frequency lets jieba pick one just high enough to keep
                    # the term whole, without gluing unrelated neighbours together
                    tk.add_word(_squash(term))
                _tokenizer = tk
    return _tokenizer


def tokenize(text: str) -> list[str]:
    """BM25 tokens of ``text``: NFKC, lower-cased, no whitespace/punctuation/function words."""
    if not text:
        return []
    norm = _norm(text)
    stop = function_words()
    nested, punctuated = _tables()
    out: list[str] = []
    append = out.append
    for tok in _jieba().lcut_for_search(norm):
        if tok in stop:
            continue
        if not tok.isalnum():  # punctuation, or a token like 3.5 / covid-19 that keeps its inner marks
            tok = _trim(tok)
            if not tok or tok in stop:
                continue
        append(tok)
        inner = nested.get(tok)
        if inner:  # 重大执法决定法制审核 also counts as 法制审核
            out.extend(inner)
    for raw, tok in punctuated:  # jieba splits at 、, so 双随机、一公开 is found here
        if raw in norm:
            out.extend([tok] * norm.count(raw))
    return out
