"""Run a classifier's last encoder layer for the first token only: the same scores, less work.

A sequence classifier of the BERT family reads one position of the last layer: the first
([CLS] / <s>), through the pooler or the classification head. Every other position of that
layer is computed and thrown away. `first_token_only(model)` replaces the forward pass of the
last layer by one that still takes keys and values from every token but computes the query,
the attention output, the feed-forward block and both layer norms for position 0 only: about
10/12 of one layer, ~14 % of a 6-layer model, with the same arithmetic (float differences
~1e-6). Engines call it on their torch model; `onnx_export` exports the result and checks it
against the untouched model before keeping it.
"""

from __future__ import annotations

import logging
import types
from typing import Any

log = logging.getLogger("reranker.engines.first_token")

# Model types whose classifier reads position 0 of the last layer and whose layers are
# BERT-shaped (attention.self.query/key/value, attention.output, intermediate, output).
MODEL_TYPES = ("bert", "roberta", "xlm-roberta", "camembert", "electra")


def _row0_mask(mask: Any, scores: Any):
    """The additive attention mask for query position 0, broadcastable to `scores`."""
    import torch

    if mask is None:
        return None
    if mask.dim() == 2:  # (batch, keys): 1 = attend
        mask = mask[:, None, None, :]
    elif mask.dim() == 4:  # (batch, 1, queries, keys)
        mask = mask[:, :, :1, :]
    if mask.dtype == torch.bool or not torch.is_floating_point(mask):
        keep = mask.bool()
        zero = torch.zeros(keep.shape, dtype=scores.dtype, device=scores.device)
        return zero.masked_fill(~keep, torch.finfo(scores.dtype).min)
    return mask.to(scores.dtype)


def _first_token_forward(layer):
    import torch

    attention = layer.attention.self

    def forward(self, hidden_states, attention_mask=None, *args, **kwargs):
        batch, length, width = hidden_states.shape
        head = attention.attention_head_size
        first = hidden_states[:, :1]
        query = attention.query(first).view(batch, 1, -1, head).transpose(1, 2)
        key = attention.key(hidden_states).view(batch, length, -1, head).transpose(1, 2)
        value = attention.value(hidden_states).view(batch, length, -1, head).transpose(1, 2)
        scale = getattr(attention, "scaling", None) or head ** -0.5
        scores = torch.matmul(query, key.transpose(2, 3)) * scale
        mask = _row0_mask(attention_mask, scores)
        if mask is not None:
            scores = scores + mask
        context = torch.matmul(torch.softmax(scores, dim=-1), value)
        context = context.transpose(1, 2).reshape(batch, 1, width)
        attended = layer.attention.output(context, first)
        return layer.output(layer.intermediate(attended), attended)

    return forward


def supports(model) -> bool:
    """Whether `model` is a sequence classifier this rewrite knows."""
    config = getattr(model, "config", None)
    if getattr(config, "model_type", None) not in MODEL_TYPES:
        return False
    if getattr(config, "is_decoder", False) or getattr(config, "add_cross_attention", False):
        return False
    layers = getattr(getattr(model.base_model, "encoder", None), "layer", None)
    if not layers:
        return False
    last = layers[-1]
    return all(hasattr(last, name) for name in ("attention", "intermediate", "output")) and \
        all(hasattr(getattr(last.attention, "self", None), name)
            for name in ("query", "key", "value", "attention_head_size"))


def first_token_only(model) -> bool:
    """Rewrite `model`'s last layer in place; False (model untouched) when not supported."""
    if not supports(model):
        log.info("first-token last layer: not for model type %r, kept the full layer",
                 getattr(model.config, "model_type", None))
        return False
    last = model.base_model.encoder.layer[-1]
    last.forward = types.MethodType(_first_token_forward(last), last)
    return True
