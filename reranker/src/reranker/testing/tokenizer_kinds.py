"""Tokenizers for the tiny test models, one of each kind real cross-encoders use, trained offline.

- WordPiece (BERT, DistilBERT, ELECTRA): a fixed vocabulary of characters, pieces and words.
- SentencePiece Unigram (XLM-RoBERTa, CamemBERT, DeBERTa-v2): trained with `sentencepiece`,
  as those models' own tokenizers were, on `corpus.lines()`; the pieces and their scores
  become the family's tokenizer in transformers (which adds the family's special tokens).
- Byte-level BPE (RoBERTa, ModernBERT): trained with `tokenizers`' BPE trainer.

Each function returns the same result for the same arguments (the trainers run on one thread
over fixed text), so test images built from these models stay cached.
"""

from __future__ import annotations

import io
import string

from reranker.testing.corpus import WORDS, lines

WORDPIECE_SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def wordpiece_vocabulary() -> list[str]:
    """The WordPiece vocabulary: special tokens, characters, continuation pieces, words."""
    characters = string.ascii_lowercase + string.digits + string.punctuation
    vocab = list(WORDPIECE_SPECIALS) + list(characters)
    vocab += ["##" + c for c in string.ascii_lowercase + string.digits]
    vocab += [w for w in WORDS if w not in vocab]
    return vocab


def unigram_pieces(vocab_size: int = 320, text: list[str] | None = None
                   ) -> list[tuple[str, float]]:
    """A SentencePiece Unigram model's pieces and log-probabilities, trained on `text` (default
    `corpus.lines()`), without its control symbols (each family puts its own special tokens
    around them), unknown piece first."""
    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(text or lines()), model_writer=model, model_type="unigram",
        vocab_size=vocab_size, character_coverage=1.0, num_threads=1, unk_id=0, bos_id=-1,
        eos_id=-1, pad_id=-1, minloglevel=2, seed_sentencepiece_size=100_000)
    processor = sentencepiece.SentencePieceProcessor(model_proto=model.getvalue())
    return [(processor.id_to_piece(i), float(processor.get_score(i)))
            for i in range(processor.get_piece_size())]


def byte_level_bpe(specials: tuple[str, ...], vocab_size: int = 400
                   ) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """A byte-level BPE vocabulary (specials first) and its merges, as RoBERTa's is made."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=list(specials),
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    tokenizer.train_from_iterator(lines(), trainer=trainer)
    model = tokenizer.to_str()
    import json

    state = json.loads(model)["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in state["merges"]]
    return dict(state["vocab"]), merges
