"""The few KB of text the tiny test tokenizers are trained on, and the words they must know.

English like the rerankers' training data, and enough French, German, Spanish, Russian,
Japanese and Chinese that a multilingual (XLM-RoBERTa) tokenizer has pieces for them. Fixed
text, so that a tokenizer trained on it is the same every time.
"""

from __future__ import annotations

# The BERT WordPiece vocabulary's words (testing.make_tiny_cross_encoder's default family).
WORDS = (
    "the of and to in is was for on that with as by at from it an be are this who what which "
    "when where how why wrote write book books novel author dune frank herbert science fiction "
    "desert planet spice sand worm house story about city river mountain cat cats dog dogs "
    "food water music film data search vector database query document rank rerank score model "
    "weaviate paris france capital berlin germany london england red green blue big small new "
    "old good bad first last one two three year time day people world life"
).split()

SENTENCES = (
    "Frank Herbert wrote Dune, a science fiction novel about a desert planet.",
    "Dune is a story about spice, sand worms and the house of Atreides.",
    "Who wrote the book about the desert planet? The author of Dune is Frank Herbert.",
    "Paris is the capital of France; Berlin is the capital of Germany.",
    "London is a city in England on the river Thames.",
    "A vector database stores documents and searches them by meaning.",
    "Weaviate reranks the results of a query with a cross-encoder model.",
    "Cats and dogs are good friends, and the small cat sleeps all day.",
    "The first year of a new life; the last day of an old world.",
    "Music, film and food: what people love about the city.",
    "Rank one, two, three: the score of each document decides its place.",
    "Paris est la capitale de la France et une ville sur la Seine.",
    "Qui a écrit Dune ? Frank Herbert a écrit ce roman de science-fiction.",
    "Berlin ist die Hauptstadt Deutschlands und eine große Stadt.",
    "Wer hat das Buch über den Wüstenplaneten geschrieben?",
    "Madrid es la capital de España y una ciudad muy grande.",
    "¿Quién escribió Dune? Frank Herbert escribió la novela.",
    "Москва — столица России, большой и старый город.",
    "Кто написал роман «Дюна»? Фрэнк Герберт.",
    "東京は日本の首都です。大きな都市です。",
    "「デューン」を書いたのはフランク・ハーバートです。",
    "北京是中国的首都，也是一座古老的城市。",
    "谁写了《沙丘》？弗兰克·赫伯特写了这本小说。",
    "Numbers 0 1 2 3 4 5 6 7 8 9 10 100 2024, signs ! ? . , ; : - ( ) [ ] \" ' / & % $ #",
    "Emoji and symbols: 🎉 ★ © ® ™ € £ ¥ ° ± × ÷",
)


def lines() -> list[str]:
    """The training text: every sentence, the word list, and the sentences lower-cased."""
    return [*SENTENCES, " ".join(WORDS), *(s.lower() for s in SENTENCES)] * 4
