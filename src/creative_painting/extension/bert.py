"""A BERT sentence encoder from torch alone: the cold-start path of the bundled MiniLM embedder.

A cold `extend` has 5 s on 2 cores; importing sentence-transformers takes 3.5 s of them and transformers'
model classes 1.7 s more. BERT's layer is torch's own post-norm `nn.TransformerEncoderLayer` (GELU, no
dropout), so the weights are mapped onto it, and the folder's `tokenizer.json` runs through `tokenizers`.
The vectors equal sentence-transformers' (tested against it).
"""

from __future__ import annotations

import json
from pathlib import Path


def is_plain_bert(path: Path) -> bool:
    """A BERT folder this module reads: absolute positions, GELU, a tokenizer.json and safetensors weights."""
    try:
        config = json.loads((path / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return (config.get("model_type") == "bert" and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and (path / "tokenizer.json").is_file() and (path / "model.safetensors").is_file())


def _layer_weights(w: dict, cat) -> dict:
    """One BERT layer's weights under `nn.TransformerEncoderLayer`'s names (q, k and v in one projection)."""
    return {
        "self_attn.in_proj_weight": cat([w[f"attention.self.{n}.weight"] for n in ("query", "key", "value")]),
        "self_attn.in_proj_bias": cat([w[f"attention.self.{n}.bias"] for n in ("query", "key", "value")]),
        "self_attn.out_proj.weight": w["attention.output.dense.weight"],
        "self_attn.out_proj.bias": w["attention.output.dense.bias"],
        "linear1.weight": w["intermediate.dense.weight"], "linear1.bias": w["intermediate.dense.bias"],
        "linear2.weight": w["output.dense.weight"], "linear2.bias": w["output.dense.bias"],
        "norm1.weight": w["attention.output.LayerNorm.weight"], "norm1.bias": w["attention.output.LayerNorm.bias"],
        "norm2.weight": w["output.LayerNorm.weight"], "norm2.bias": w["output.LayerNorm.bias"],
    }


class BertEncoder:
    """`(input_ids, attention_mask) -> last hidden states` of a BERT folder; `tokenize(texts, max_length)`."""

    def __init__(self, path: Path):
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer
        from torch import nn

        config = json.loads((path / "config.json").read_text())
        weights = load_file(path / "model.safetensors")
        self.dimension, eps = config["hidden_size"], config["layer_norm_eps"]
        self.words = weights["embeddings.word_embeddings.weight"]
        self.positions = weights["embeddings.position_embeddings.weight"]
        self.token_type = weights["embeddings.token_type_embeddings.weight"][0]
        self.norm = nn.LayerNorm(self.dimension, eps=eps)
        self.norm.load_state_dict({"weight": weights["embeddings.LayerNorm.weight"],
                                   "bias": weights["embeddings.LayerNorm.bias"]})
        layer = nn.TransformerEncoderLayer(self.dimension, config["num_attention_heads"], config["intermediate_size"],
                                           dropout=0.0, activation="gelu", layer_norm_eps=eps, batch_first=True)
        self.layers = nn.TransformerEncoder(layer, config["num_hidden_layers"], enable_nested_tensor=False).eval()
        for i, mine in enumerate(self.layers.layers):
            prefix = f"encoder.layer.{i}."
            mine.load_state_dict(_layer_weights(
                {k.removeprefix(prefix): v for k, v in weights.items() if k.startswith(prefix)}, torch.cat))
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id("[PAD]") or 0)

    def tokenize(self, texts: list[str], max_length: int):
        import torch

        self.tokenizer.enable_truncation(max_length)
        encoded = self.tokenizer.encode_batch(texts)
        return torch.tensor([e.ids for e in encoded]), torch.tensor([e.attention_mask for e in encoded])

    def __call__(self, input_ids, attention_mask):
        x = self.words[input_ids] + self.positions[: input_ids.shape[1]] + self.token_type
        return self.layers(self.norm(x), src_key_padding_mask=attention_mask == 0)
