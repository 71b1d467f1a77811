"""The large benchmark model: a cross-encoder shaped exactly like BAAI/bge-reranker-v2-m3.

XLM-RoBERTa, 24 layers, hidden 1024, 16 heads, FFN 4096, a 250,002-token vocabulary and 8,194
positions: 568 M parameters, 2.27 GB in fp32 (its ONNX export keeps the weights in an external
data file). No hub is reachable and no package ships such weights, so the encoder is random
(seeded): its speed is the real model's, its scores mean nothing. Like the real model it
configures no activation, so CrossEncoder and our engines apply a sigmoid (scores 0..1).

Its tokenizer is a SentencePiece Unigram model (the real one's kind) trained on the benchmark
passages with `VOCAB` pieces, wrapped as XLM-RoBERTa's tokenizer (`<s> A </s></s> B </s>`, no
token_type_ids): about as many tokens per English pair as a 250,002-piece vocabulary gives
(the bench prints the mean). The head's output layer is fitted by ridge least squares, as the
MiniLM bench model's is (`bench.model`), on the [CLS] features of `FIT_QUERIES` queries, so
that scores spread (targets: the bi-encoder's cosine similarity, mapped to logits -3..+3).
Saved to ~/.cache/weaviate-dev/bench-model-bge-m3 ($BENCH_BGE_MODEL_DIR), never committed.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bench.model import STAMP, _cosines, _pairs, cache_dir, encoder_dir, ensure_built, fit_head
from bench.texts import Corpus

SHAPE = {"vocab_size": 250002, "hidden_size": 1024, "num_hidden_layers": 24,
         "num_attention_heads": 16, "intermediate_size": 4096, "max_position_embeddings": 8194,
         "type_vocab_size": 1, "num_labels": 1}
VOCAB = 3900  # the most the benchmark texts give SentencePiece (3,923)
MAX_LENGTH = 8192  # bge-reranker-v2-m3's tokenizer
FIT_QUERIES = 6
RIDGE = 1.0
TARGET_SCALE, TARGET_SHIFT = 12.0, -4.0  # cosine ~0..0.6 -> logits ~-4..+3
RECIPE_VERSION = 1


def default_cache_dir() -> Path:
    return cache_dir("BENCH_BGE_MODEL_DIR", "bench-model-bge-m3")


def ensure_model(corpus: Corpus, target: Path | None = None, log=print) -> Path:
    return ensure_built(corpus, target or default_cache_dir(), RECIPE_VERSION, build_model, log)


def tokenizer_for(corpus: Corpus):
    from transformers import XLMRobertaTokenizer

    from reranker.testing.tokenizer_kinds import unigram_pieces

    text = [p.text for p in corpus.passages] + [q.text for q in corpus.queries]
    pieces = [p for p in unigram_pieces(VOCAB, text) if p[0] != "<unk>"]
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), *pieces,
             ("<mask>", 0.0)]
    return XLMRobertaTokenizer(vocab=vocab, model_max_length=MAX_LENGTH)


def _features(model, tokenizer, queries, docs, batch: int = 16):
    """The classification head's input to its output layer: tanh(dense([CLS]))."""
    import torch

    chunks = []
    with torch.inference_mode():
        for start in range(0, len(queries), batch):
            enc = tokenizer(queries[start:start + batch], docs[start:start + batch],
                            padding=True, truncation=True, return_tensors="pt")
            hidden = model.roberta(**enc).last_hidden_state[:, 0]
            chunks.append(torch.tanh(model.classifier.dense(hidden)))
    return torch.cat(chunks).double()


def build_model(corpus: Corpus, target: Path, log=print) -> None:
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import XLMRobertaConfig, XLMRobertaForSequenceClassification

    log(f"building the bge-reranker-v2-m3-shaped bench model into {target} (random weights)")
    tokenizer = tokenizer_for(corpus)
    config = XLMRobertaConfig(**SHAPE, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                              architectures=["XLMRobertaForSequenceClassification"])
    torch.manual_seed(0)
    model = XLMRobertaForSequenceClassification(config).eval()
    fit_q, fit_d = _pairs(corpus, corpus.queries[:FIT_QUERIES])
    held_q, held_d = _pairs(corpus, corpus.queries[FIT_QUERIES:FIT_QUERIES + 2])
    log(f"fitting the head on {len(fit_q)} pairs (the encoder runs in torch fp32: minutes)")
    bi_encoder = SentenceTransformer(str(encoder_dir()), device="cpu")
    x, hx = _features(model, tokenizer, fit_q, fit_d), _features(model, tokenizer, held_q, held_d)
    y = TARGET_SCALE * _cosines(bi_encoder, fit_q, fit_d) + TARGET_SHIFT
    hy = TARGET_SCALE * _cosines(bi_encoder, held_q, held_d) + TARGET_SHIFT
    w = fit_head(x, y, hx, hy, RIDGE, log)
    with torch.no_grad():
        model.classifier.out_proj.weight.copy_(w[:-1].float().unsqueeze(0))
        model.classifier.out_proj.bias.copy_(w[-1:].float())
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    stamp = {"corpus": corpus.fingerprint, "recipe": RECIPE_VERSION, "shape": SHAPE}
    (target / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
    log(f"saved {target}")
