"""ModernBERT's mean pooling, summed in blocks for the ONNX export.

A ModernBERT classifier with `classifier_pooling: mean` (gte-reranker-modernbert-base's kind)
averages the last layer over every token. OpenVINO's CPU plugin sums the sequence axis row
after row: over 8,192 tokens its fp32 rounding reached 3e-4 in a logit of the tiny test model,
where torch and ONNX Runtime (pairwise sums) stayed within 1e-5. Summing blocks of `BLOCK`
tokens first, then the blocks, keeps each sum short for every runtime. The export traces
`logits(model, ...)` in place of the model's forward: the same layers, the same head, the
pooling written this way; `onnx_export` checks the result against the untouched model.
"""

from __future__ import annotations

BLOCK = 64


def supports(model) -> bool:
    config = getattr(model, "config", None)
    return (getattr(config, "model_type", None) == "modernbert"
            and getattr(config, "classifier_pooling", None) == "mean")


def blocked_sum(values):
    """values [batch, length, width] summed over length, `BLOCK` tokens at a time."""
    import torch

    batch, length, width = values.shape
    pad = (BLOCK - length % BLOCK) % BLOCK
    values = torch.nn.functional.pad(values, (0, 0, 0, pad))
    blocks = values.reshape(batch, -1, BLOCK, width).sum(dim=2)
    # The blocks summed by a product with ones: a runtime would merge a second ReduceSum
    # with the first into one long sum again (OpenVINO does).
    ones = torch.ones_like(blocks[:, :, :1]).transpose(1, 2)
    return torch.matmul(ones, blocks)[:, 0]


def logits(model, input_ids, attention_mask):
    """ModernBertForSequenceClassification's logits, its mean pooling summed in blocks."""
    hidden = model.model(input_ids=input_ids, attention_mask=attention_mask)[0]
    mask = attention_mask.to(hidden.dtype)
    pooled = blocked_sum(hidden * mask.unsqueeze(-1)) / mask.sum(dim=1, keepdim=True)
    return model.classifier(model.drop(model.head(pooled)))
