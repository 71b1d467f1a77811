"""`--vectorizer none`: any profile without a default vectorizer and without contextionary,
and a note saying exactly what was dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from weaviate_dev.core.errors import UsageError
from weaviate_dev.weaviate.profiles import ProfileCatalog


@pytest.fixture(scope="module")
def catalog() -> ProfileCatalog:
    return ProfileCatalog.load()


def resolve(catalog, name, **kw):
    return catalog.resolve(name, data_root=Path("/s"), vectorizer="none", **kw)


def test_a_cluster_node_runs_without_contextionary(catalog):
    plain = catalog.resolve("second-node", data_root=Path("/s"))
    plan = resolve(catalog, "second-node")
    assert "CONTEXTIONARY_URL" not in plan.env
    assert plan.env["DEFAULT_VECTORIZER_MODULE"] == "none"
    assert plan.env["ENABLE_MODULES"] == "backup-filesystem"
    assert [n.what for n in plain.needs] == ["contextionary"] and plan.needs == ()
    # everything else is the profile's own
    changed = {"CONTEXTIONARY_URL", "DEFAULT_VECTORIZER_MODULE", "ENABLE_MODULES"}
    assert {k: v for k, v in plan.env.items() if k not in changed} == \
        {k: v for k, v in plain.env.items() if k not in changed}
    note = [n for n in plan.notes if n.startswith("--vectorizer none")]
    assert note == ["--vectorizer none: dropped CONTEXTIONARY_URL=localhost:9999, "
                    "text2vec-contextionary from ENABLE_MODULES, the need for contextionary "
                    "on localhost:9999; DEFAULT_VECTORIZER_MODULE text2vec-contextionary -> "
                    "none"]


def test_a_profile_left_without_modules_loses_enable_modules(catalog):
    plan = resolve(catalog, "debug")
    assert "ENABLE_MODULES" not in plan.env and "CONTEXTIONARY_URL" not in plan.env
    assert any("ENABLE_MODULES (it named only text2vec-contextionary)" in n for n in plan.notes)


def test_other_vectorizer_modules_stay_enabled(catalog):
    plan = resolve(catalog, "local-transformers")
    assert plan.env["ENABLE_MODULES"] == "text2vec-transformers"
    assert plan.env["DEFAULT_VECTORIZER_MODULE"] == "none"
    assert plan.env["TRANSFORMERS_INFERENCE_API"] == "http://localhost:8000"


def test_nothing_to_drop_says_so(catalog):
    plan = resolve(catalog, "local-reranker-transformers")
    assert plan.env == catalog.resolve("local-reranker-transformers",
                                       data_root=Path("/s")).env
    assert "--vectorizer none: nothing to drop" in plan.notes


def test_contradicting_the_contextionary_option_is_refused(catalog):
    with pytest.raises(UsageError, match="--contextionary and --vectorizer none"):
        resolve(catalog, "local-reranker-transformers", options=["contextionary"])


def test_only_none_is_a_vectorizer_choice(catalog):
    with pytest.raises(UsageError, match="--vectorizer: only 'none'"):
        catalog.resolve("local-development", data_root=Path("/s"), vectorizer="openai")
