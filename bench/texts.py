"""The benchmark corpus: English passages and short queries from Python's own docstrings.

Why docstrings: they ship with every CPython (any OS, any container with Python), are real
English prose of the length a reranker sees, and need no download. The modules are listed in
``modules.txt``; the same Python version gives byte-identical texts, and ``Corpus.fingerprint``
lets two runs check that they used the same texts.

A passage is 40-160 words (80 when the docstring has them) of docstring prose (code examples dropped); a query is the summary
line of a documented function or class (3-14 words). Each query gets 96 documents: the
passages of its own object first, then passages of the same module, then others, all chosen
with a seeded ``random.Random`` so the set is the same on every run.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import random
import re
from dataclasses import dataclass
from pathlib import Path

MODULES_FILE = Path(__file__).with_name("modules.txt")
MIN_WORDS = 40
MAX_WORDS = 160
TARGET_WORDS = 80  # paragraphs are joined until a passage has this many words
DOCS_PER_QUERY = 96


@dataclass(frozen=True)
class Passage:
    """One document: where it came from and its text."""

    source: str  # qualified name of the documented object
    text: str


@dataclass(frozen=True)
class Query:
    """One benchmark query and the documents sent with it."""

    text: str
    source: str
    documents: tuple[str, ...]
    # Relevance of each document, from where it came: 2 a passage of the query's own object,
    # 1 of the same module, 0 any other (graded labels for NDCG@10).
    grades: tuple[int, ...] = ()


@dataclass(frozen=True)
class Corpus:
    """All passages and queries; deterministic for a given Python version."""

    passages: tuple[Passage, ...]
    queries: tuple[Query, ...]

    @property
    def fingerprint(self) -> str:
        """A short hash of every query and document, to compare runs."""
        digest = hashlib.sha256()
        for query in self.queries:
            digest.update(query.text.encode())
            for doc in query.documents:
                digest.update(b"\0" + doc.encode())
        return digest.hexdigest()[:12]


def module_names() -> list[str]:
    """The module list from modules.txt (comments and blanks dropped)."""
    lines = MODULES_FILE.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _documented_objects(module) -> list[tuple[str, str]]:
    """(qualified name, docstring) for the module, its classes, functions and methods."""
    found = []
    if module.__doc__:
        found.append((module.__name__, module.__doc__))
    for name, obj in sorted(vars(module).items()):
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if obj.__doc__:
            found.append((f"{module.__name__}.{name}", obj.__doc__))
        if inspect.isclass(obj):
            for attr, member in sorted(vars(obj).items()):
                if attr.startswith("_") or not inspect.isfunction(member) or not member.__doc__:
                    continue
                found.append((f"{module.__name__}.{name}.{attr}", member.__doc__))
    return found


_PROSE = re.compile(r"[A-Za-z]")


def _is_prose(paragraph: str) -> bool:
    """True for a paragraph of sentences, False for code, tables and signatures."""
    lines = paragraph.splitlines()
    if any(line.lstrip().startswith((">>>", "...", "$ ", "|", "+-", "::")) for line in lines):
        return False
    if any(line.startswith(("    ", "\t")) for line in lines):
        return False
    letters = len(_PROSE.findall(paragraph))
    return letters > 0.7 * len(paragraph.replace(" ", "").replace("\n", "")) and "." in paragraph


def _words(text: str) -> list[str]:
    return text.split()


def _cut(words: list[str]) -> str:
    """At most MAX_WORDS words, ending at a sentence end when one is late enough."""
    words = words[:MAX_WORDS]
    for end in range(len(words), MIN_WORDS - 1, -1):
        if words[end - 1].endswith((".", "!", "?", ":")):
            return " ".join(words[:end])
    return " ".join(words)


def passages_of(source: str, docstring: str) -> list[Passage]:
    """Split one docstring into passages of MIN_WORDS..MAX_WORDS words of prose."""
    paragraphs = re.split(r"\n\s*\n", inspect.cleandoc(docstring))
    result, current = [], []
    for paragraph in paragraphs:
        if not _is_prose(paragraph):
            continue
        current.extend(_words(paragraph))
        if len(current) >= TARGET_WORDS:
            result.append(Passage(source, _cut(current)))
            current = []
    if len(current) >= MIN_WORDS:
        result.append(Passage(source, _cut(current)))
    return [p for p in result if MIN_WORDS <= len(_words(p.text)) <= MAX_WORDS]


def summary_query(docstring: str) -> str | None:
    """The docstring's first sentence as a query of 3-14 words, or None."""
    first = inspect.cleandoc(docstring).split("\n\n")[0]
    sentence = " ".join(first.split()).split(". ")[0].rstrip(".")
    words = sentence.split()
    if not 3 <= len(words) <= 14 or not _PROSE.match(sentence) or "(" in sentence:
        return None
    return sentence


def build_corpus(num_queries: int = 64, seed: int = 7) -> Corpus:
    """Passages from every listed module, then ``num_queries`` queries with 96 documents each."""
    passages: list[Passage] = []
    candidates: list[tuple[str, str]] = []
    for name in module_names():
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue  # e.g. removed in a newer Python; the fingerprint shows the difference
        for source, doc in _documented_objects(module):
            own = passages_of(source, doc)
            passages.extend(own)
            query = summary_query(doc)
            if own and query and source != name:
                candidates.append((source, query))
    seen, unique = set(), []
    for passage in passages:  # docstrings are inherited/copied in places: keep one of each
        if passage.text not in seen:
            seen.add(passage.text)
            unique.append(passage)
    passages = unique
    rng = random.Random(seed)
    chosen = rng.sample(candidates, min(num_queries, len(candidates)))
    queries = [_query_with_documents(source, text, passages, rng) for source, text in chosen]
    return Corpus(tuple(passages), tuple(queries))


def _query_with_documents(source: str, text: str, passages: list[Passage], rng) -> Query:
    module = source.rsplit(".", 2)[0]
    own = [p.text for p in passages if p.source == source][:4]
    near = [p.text for p in passages if p.source.startswith(module) and p.source != source]
    far = [p.text for p in passages if not p.source.startswith(module)]
    near = rng.sample(near, min(len(near), 28))
    graded = [(d, 2) for d in own] + [(d, 1) for d in near]
    graded += [(d, 0) for d in rng.sample(far, DOCS_PER_QUERY - len(graded))]
    rng.shuffle(graded)  # the same permutation as shuffling the texts alone
    return Query(text=text, source=source, documents=tuple(d for d, _ in graded),
                 grades=tuple(g for _, g in graded))
