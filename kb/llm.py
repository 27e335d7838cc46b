"""Generative answers through an OpenAI-compatible chat-completions endpoint (local Qwen or
DeepSeek servers): the numbered passages go in, [n] markers must come back, markers that
point at nothing are dropped. Any failure raises; kb/ask.py then falls back to extraction.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from kb.records import AskResult, Hit

if TYPE_CHECKING:
    import httpx

    from kb.settings import Settings

NOT_FOUND = "未找到相关依据。"
MARKER = re.compile(r"\[(\d+(?:\s*[,，、]\s*\d+)*)\]")


def _prompt(question: str, hits: list[Hit]) -> list[dict]:
    passages = "\n\n".join(
        f"[{n}] 《{h.title}》{' → '.join(h.section)}\n{h.text}" for n, h in enumerate(hits, 1)
    )
    system = (
        "你是法治政府文件助手。只能依据用户给出的编号材料回答，用中文作答，"
        "每句话末尾用方括号编号（如[1]）标明所依据的材料；材料中没有依据时只回答“未找到相关依据。”，不得编造。"
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"材料：\n{passages}\n\n问题：{question}"},
    ]


def generate(question: str, hits: list[Hit], settings: Settings, *, client: httpx.Client | None = None) -> AskResult:
    """Ask the configured chat-completions endpoint; raise on any failure or uncited answer."""
    import httpx

    url = settings.llm_base_url.rstrip("/") + "/chat/completions"
    headers = {"Authorization": f"Bearer {settings.llm_api_key}"} if settings.llm_api_key else {}
    body = {"model": settings.llm_model, "messages": _prompt(question, hits), "temperature": 0}
    own = client is None
    client = client or httpx.Client()
    try:
        resp = client.post(url, json=body, headers=headers, timeout=settings.llm_timeout)
        resp.raise_for_status()
        text = resp.json()["choices"][0]["message"]["content"]
    finally:
        if own:
            client.close()
    if not isinstance(text, str) or not text.strip():
        raise ValueError("empty answer")
    if NOT_FOUND.rstrip("。") in text:
        return AskResult(NOT_FOUND, False, mode="generative")
    text, cited = renumber(text.strip(), len(hits))
    if not cited:
        raise ValueError("answer cites no passage")
    return AskResult(text, True, [hits[n - 1] for n in cited], mode="generative")


def renumber(text: str, available: int) -> tuple[str, list[int]]:
    """Drop markers pointing at no passage; renumber the rest 1.. in order of first use.
    Returns the rewritten text and the original passage numbers, in new order."""
    order: list[int] = []

    def sub(m: re.Match) -> str:
        nums = [int(x) for x in re.split(r"\s*[,，、]\s*", m.group(1))]
        kept = []
        for n in nums:
            if 1 <= n <= available:
                if n not in order:
                    order.append(n)
                kept.append(order.index(n) + 1)
        return "".join(f"[{k}]" for k in dict.fromkeys(kept))

    return MARKER.sub(sub, text), order
