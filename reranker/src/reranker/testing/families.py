"""The model families a drop-in reranker must serve, each as a tiny random cross-encoder.

`FAMILIES` maps a family name (its `model_type`) to how its tiny model is made: the tokenizer
of the family's kind (`tokenizer_kinds`) with the family's special tokens and pair template,
and a config of the family's architecture (2 layers, hidden 32) with the traits that matter
to an engine (docs: shared rerankers.md): no token_type_ids for the RoBERTa kin, DistilBERT
and ModernBERT; position ids after the padding id and 8,194 positions for XLM-RoBERTa (the
bge-reranker-v2-m3 shape); relative attention for DeBERTa-v2; rotary positions and
sliding-window layers for ModernBERT; an ELECTRA head of its own. `sigmoid` families configure
no activation (CrossEncoder applies a sigmoid to their one label, as for bge); the others
configure the identity, as the ms-marco models do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reranker.testing.tokenizer_kinds import byte_level_bpe, unigram_pieces, wordpiece_vocabulary

LAYERS = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
          "intermediate_size": 64, "num_labels": 1}


@dataclass(frozen=True)
class Family:
    """How one family's tiny cross-encoder is made."""

    name: str  # the config's model_type
    kind: str  # the tokenizer's kind: wordpiece, unigram or bpe
    tokenizer: Callable[[], Any]
    config: Callable[[Any], Any]  # the tokenizer -> the model's config
    sigmoid: bool = False  # no activation configured: CrossEncoder applies a sigmoid


def _wordpiece(cls_name: str, max_length: int = 512):
    def make():
        import transformers

        vocab = wordpiece_vocabulary()
        return getattr(transformers, cls_name)(
            vocab={token: i for i, token in enumerate(vocab)}, do_lower_case=True,
            model_max_length=max_length)
    return make


def _unigram(cls_name: str, before: list[str], after: list[str], max_length: int, **kw: Any):
    """A SentencePiece tokenizer: the family's special tokens `before` the trained pieces (its
    unknown token among them) and `after` them (the mask token, last as in the real models)."""
    def make():
        import transformers

        pieces = [p for p in unigram_pieces() if p[0] != "<unk>"]
        vocab = [(t, -100.0 if t.endswith("NOTUSED") and t.startswith("<unk>") else 0.0)
                 for t in before] + pieces + [(t, 0.0) for t in after]
        return getattr(transformers, cls_name)(vocab=vocab, model_max_length=max_length, **kw)
    return make


def _roberta_bpe():
    import transformers

    vocab, merges = byte_level_bpe(("<s>", "<pad>", "</s>", "<unk>", "<mask>"))
    return transformers.RobertaTokenizer(vocab=vocab, merges=merges, model_max_length=512)


def _modernbert_bpe():
    """ModernBERT's kind: byte-level BPE with BERT's special tokens and pair template, and no
    token_type_ids among the model's inputs."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ("[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]")
    vocab, merges = byte_level_bpe(specials)
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]",
        pad_token="[PAD]", mask_token="[MASK]", model_max_length=8192,
        model_input_names=["input_ids", "attention_mask"])


def _config(cls_name: str, **settings: Any):
    def make(tokenizer):
        import transformers

        ids = {f"{name}_token_id": getattr(tokenizer, f"{name}_token_id")
               for name in ("pad", "bos", "eos", "cls", "sep")
               if getattr(tokenizer, f"{name}_token_id", None) is not None}
        # Without bos/eos tokens of its own (ModernBERT's), a config takes [CLS] and [SEP].
        ids.setdefault("bos_token_id", ids.get("cls_token_id"))
        ids.setdefault("eos_token_id", ids.get("sep_token_id"))
        return getattr(transformers, cls_name)(vocab_size=len(tokenizer), **LAYERS,
                                               **{**ids, **settings})
    return make


ROBERTA_KIN = {"type_vocab_size": 1, "max_position_embeddings": 514}
FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("bert", "wordpiece", _wordpiece("BertTokenizer"),
           _config("BertConfig", initializer_range=0.5)),
    Family("distilbert", "wordpiece", _wordpiece("DistilBertTokenizer"),
           _config("DistilBertConfig", dim=32, n_layers=2, n_heads=2, hidden_dim=64,
                   initializer_range=0.2)),
    Family("electra", "wordpiece", _wordpiece("ElectraTokenizerFast"),
           _config("ElectraConfig", embedding_size=16, initializer_range=0.2)),
    # bge-reranker-v2-m3's architecture: 8,194 positions, 8,192 tokens.
    Family("xlm-roberta", "unigram",
           _unigram("XLMRobertaTokenizer", ["<s>", "<pad>", "</s>", "<unk>"], ["<mask>"], 8192),
           _config("XLMRobertaConfig", **{**ROBERTA_KIN, "max_position_embeddings": 8194},
                   initializer_range=0.2),
           sigmoid=True),
    Family("camembert", "unigram",
           _unigram("CamembertTokenizer", ["<s>NOTUSED", "<pad>", "</s>NOTUSED", "<unk>",
                                           "<unk>NOTUSED", "<s>", "</s>"], ["<mask>"], 512),
           _config("CamembertConfig", **ROBERTA_KIN, initializer_range=0.2)),
    Family("roberta", "bpe", _roberta_bpe,
           _config("RobertaConfig", **ROBERTA_KIN, initializer_range=0.2), sigmoid=True),
    # mxbai-rerank-*-v1's settings: relative positions only, no token type embeddings.
    Family("deberta-v2", "unigram",
           _unigram("DebertaV2Tokenizer", ["[PAD]", "[CLS]", "[SEP]", "[UNK]"], ["[MASK]"],
                    512),
           _config("DebertaV2Config", max_position_embeddings=512, relative_attention=True,
                   position_buckets=256, max_relative_positions=-1, pos_att_type=["p2c", "c2p"],
                   position_biased_input=False, type_vocab_size=0, norm_rel_ebd="layer_norm",
                   share_att_key=True, initializer_range=0.2),
           sigmoid=True),
    # gte-reranker-modernbert-base's architecture: rotary positions, a sliding-window layer
    # after each global one (window 16 here, so test texts cross it), mean pooling.
    Family("modernbert", "bpe", _modernbert_bpe,
           _config("ModernBertConfig", max_position_embeddings=8192, global_attn_every_n_layers=2,
                   local_attention=16, classifier_pooling="mean", initializer_range=0.2)),
)}
