
import pytest

from weaviate_dev.core.errors import DevError
from weaviate_dev.core.settings import Settings
from weaviate_dev.services import images


def settings(**overrides):
    base = Settings.from_env({})
    return Settings(**{**base.__dict__, **overrides})


@pytest.mark.parametrize("text, expected", [
    ("Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n",
     "http://mirror.example/debian"),
])
def test_debian_mirror_from_deb822_sources(tmp_path, monkeypatch, text, expected):
    sources = tmp_path / "debian.sources"
    sources.write_text(text)
    real_path = images.Path

    def fake_path(p):
        return sources if str(p).endswith("debian.sources") else real_path(p)

    monkeypatch.setattr(images, "Path", fake_path)
    assert images.debian_mirror(settings(debian_mirror=None)) == expected


def test_debian_mirror_setting_wins():
    assert images.debian_mirror(settings(debian_mirror="http://m/d")) == "http://m/d"


class FakeImages:
    """Local images by name -> their platform; what a pull would bring, per platform."""

    def __init__(self, present=(), pullable=()):
        self.present = {ref: "linux/amd64" for ref in present}
        self.pullable, self.pulled = set(pullable), []

    def platform(self, ref):
        return self.present.get(ref)

    def pull(self, ref, platform=None):
        self.pulled.append((ref, platform))
        if ref in self.pullable:
            self.present[ref] = platform or "linux/amd64"
            return True
        return False


@pytest.fixture
def state(monkeypatch):
    state = FakeImages()
    monkeypatch.setattr(images.local_images, "image_platform", state.platform)
    monkeypatch.setattr(images.local_images, "pull", state.pull)
    monkeypatch.setattr(images.cross_build.engine, "native_platform", lambda: "linux/amd64")
    return state


def test_ensure_image_prefers_present_then_pull_then_local_build(state):
    built = []

    def build():
        built.append(1)
        state.present["local:1"] = "linux/amd64"

    assert images.ensure_image("real:1", "local:1", build) == "local:1"
    assert built == [1]
    assert images.ensure_image("real:1", "local:1", build) == "local:1"
    assert built == [1], "an existing stand-in is not built again"
    state.pullable.add("real:1")
    assert images.ensure_image("real:1", "local:1", build) == "real:1"


def test_an_image_the_user_named_is_pulled_when_missing_and_ours_never(state):
    """WEAVIATE_DEV_WEAVIATE_IMAGE=mirror:5000/weaviate:1.39.0 is its own fallback: pulled
    first all the same (a mirror, a registry of one's own); weaviate-dev/... is only ever
    built here."""
    state.pullable.add("mirror:5000/semitechnologies/weaviate:1.39.0")
    built = []
    assert images.ensure_image("mirror:5000/semitechnologies/weaviate:1.39.0",
                               "mirror:5000/semitechnologies/weaviate:1.39.0",
                               lambda: built.append(1)) == \
        "mirror:5000/semitechnologies/weaviate:1.39.0"
    assert built == []
    assert images.ensure_image("weaviate-dev/weaviate:1.39.0", "weaviate-dev/weaviate:1.39.0",
                               lambda: built.append(2)) == "weaviate-dev/weaviate:1.39.0"
    assert built == [2]
    assert [ref for ref, _ in state.pulled] == ["mirror:5000/semitechnologies/weaviate:1.39.0"]


def test_another_platforms_image_is_never_taken_for_this_one(state):
    """An amd64 python:3.11-slim here must not become the base of an arm64 build."""
    state.present["python:3.11-slim"] = "linux/amd64"
    built = []

    def build():
        built.append(1)
        state.present["local:arm64"] = "linux/arm64"

    assert images.ensure_image("python:3.11-slim", "local:arm64", build,
                               "linux/arm64") == "local:arm64"
    assert state.pulled == [("python:3.11-slim", "linux/arm64")] and built == [1]
    state.pullable.add("python:3.11-slim")  # a registry that has the arm64 variant
    assert images.ensure_image("python:3.11-slim", "local:arm64", build,
                               "linux/arm64") == "python:3.11-slim"
    assert state.present["python:3.11-slim"] == "linux/arm64"


def test_building_for_another_platform_without_its_tools_says_how_to_get_them(state,
                                                                             monkeypatch):
    monkeypatch.setattr(images.cross_build, "missing",
                        lambda platform: ["the buildx plugin (BuildKit)"])
    with pytest.raises(DevError, match=r"WEAVIATE_DEV_PLATFORM=linux/arm64.*buildx.*"
                                       r"weaviate-dev setup cross"):
        images.ensure_base_image(settings(platform="linux/arm64"))


@pytest.mark.parametrize("value", ["arm64", "linux", "linux/ARM64", "linux/arm64/v8/x"])
def test_a_platform_that_is_no_platform_is_refused(value):
    from weaviate_dev.core.errors import UsageError

    with pytest.raises(UsageError, match="WEAVIATE_DEV_PLATFORM"):
        Settings.from_env({"WEAVIATE_DEV_PLATFORM": value})
    assert Settings.from_env({"WEAVIATE_DEV_PLATFORM": "linux/arm64"}).platform == "linux/arm64"
