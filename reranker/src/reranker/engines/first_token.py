"""Run a classifier's last encoder layer for the first token only: the same scores, less work.

A sequence classifier of the BERT family (BERT, RoBERTa, XLM-RoBERTa, CamemBERT, ELECTRA) or
a DistilBERT reads one position of the last layer: the first ([CLS] / <s>), through the pooler
or the classification head. (DeBERTa's relative attention and ModernBERT's mean pooling do
not allow it: their whole graph is exported.) Every other position of that
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


def _attend(query, key, value, head: int, scale: float | None, mask):
    """Position 0's attention over every key: (batch, 1, width) from projected q, k, v."""
    import torch

    batch, length, width = key.shape
    query = query.view(batch, 1, -1, head).transpose(1, 2)
    key = key.view(batch, length, -1, head).transpose(1, 2)
    value = value.view(batch, length, -1, head).transpose(1, 2)
    scores = torch.matmul(query, key.transpose(2, 3)) * (scale or head ** -0.5)
    mask = _row0_mask(mask, scores)
    if mask is not None:
        scores = scores + mask
    context = torch.matmul(torch.softmax(scores, dim=-1), value)
    return context.transpose(1, 2).reshape(batch, 1, width)


def _bert_forward(layer):
    """BERT's layer (and RoBERTa's, XLM-RoBERTa's, CamemBERT's, ELECTRA's) for [CLS] only."""
    attention = layer.attention.self

    def forward(self, hidden_states, attention_mask=None, *args, **kwargs):
        first = hidden_states[:, :1]
        context = _attend(attention.query(first), attention.key(hidden_states),
                          attention.value(hidden_states), attention.attention_head_size,
                          getattr(attention, "scaling", None), attention_mask)
        attended = layer.attention.output(context, first)
        return layer.output(layer.intermediate(attended), attended)

    return forward


def _distilbert_forward(layer):
    """DistilBERT's transformer block for [CLS] only."""
    attention = layer.attention

    def forward(self, hidden_states, attention_mask=None, *args, **kwargs):
        first = hidden_states[:, :1]
        context = _attend(attention.q_lin(first), attention.k_lin(hidden_states),
                          attention.v_lin(hidden_states), attention.attention_head_size,
                          getattr(attention, "scaling", None), attention_mask)
        attended = layer.sa_layer_norm(attention.out_lin(context) + first)
        return layer.output_layer_norm(layer.ffn(attended) + attended)

    return forward


# model_type -> (where the layers are, the names the last layer must have, its rewrite)
REWRITES = {
    **{name: ("encoder", ("attention.self.query", "attention.self.key", "attention.self.value",
                          "attention.self.attention_head_size", "attention.output",
                          "intermediate", "output"), _bert_forward)
       for name in ("bert", "roberta", "xlm-roberta", "camembert", "electra")},
    "distilbert": ("transformer", ("attention.q_lin", "attention.k_lin", "attention.v_lin",
                                   "attention.out_lin", "attention.attention_head_size",
                                   "sa_layer_norm", "ffn", "output_layer_norm"),
                   _distilbert_forward),
}
MODEL_TYPES = tuple(REWRITES)


def _last_layer(model):
    config = getattr(model, "config", None)
    rewrite = REWRITES.get(getattr(config, "model_type", None))
    if rewrite is None or getattr(config, "is_decoder", False) \
            or getattr(config, "add_cross_attention", False):
        return None, None
    stack, names, make = rewrite
    layers = getattr(getattr(model.base_model, stack, None), "layer", None)
    if not layers:
        return None, None
    last = layers[-1]
    for dotted in names:
        node = last
        for part in dotted.split("."):
            node = getattr(node, part, None)
        if node is None:
            return None, None
    return last, make


def supports(model) -> bool:
    """Whether `model` is a sequence classifier this rewrite knows."""
    return _last_layer(model)[0] is not None


def first_token_only(model) -> bool:
    """Rewrite `model`'s last layer in place; False (model untouched) when not supported."""
    last, make = _last_layer(model)
    if last is None:
        log.info("first-token last layer: not for model type %r, kept the full layer",
                 getattr(model.config, "model_type", None))
        return False
    last.forward = types.MethodType(make(last), last)
    return True
