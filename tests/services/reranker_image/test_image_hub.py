"""A hub model identified through huggingface_hub, against a fake hub that refuses as the real
one does: each refusal is one line of its own, the user's login is honoured, and a model once
had keeps working when the hub cannot be asked."""

from __future__ import annotations

import dataclasses
import socket

import pytest

from reranker.testing.fake_hub import FakeHub
from weaviate_dev.core.errors import DevError
from weaviate_dev.core.settings import Settings
from weaviate_dev.services.reranker_image import model as image_model


def settings(tmp_path, environ=None, **overrides) -> Settings:
    base = Settings.from_env({"XDG_CACHE_HOME": str(tmp_path / "cache"), **(environ or {})})
    return dataclasses.replace(base, **{"ca_bundle": None, **overrides})


@pytest.fixture
def repository(make_repository):
    return make_repository("repository")


@pytest.fixture
def hub(repository):
    with FakeHub({"org/open": repository, "org/gated": repository},
                 gated={"org/gated": "hf_ok"}) as hub:
        yield hub


def a_closed_port() -> str:
    """The address of a port nothing listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def refusal(wanted: Settings) -> str:
    with pytest.raises(DevError) as refused:
        image_model.resolve(wanted)
    message = str(refused.value)
    assert "\n" not in message and "Traceback" not in message
    return message


@pytest.mark.parametrize("token", [None, "hf_someone"], ids=["anonymous", "with-a-token"])
def test_a_mistyped_model_name_says_there_is_no_such_model(tmp_path, hub, token):
    """The real hub answers 401 to an anonymous request for a missing repository, 404 to one
    with a token: both are "no such model", never a hint to set HF_TOKEN."""
    message = refusal(settings(tmp_path, model_name="org/opne", hf_endpoint=hub.url,
                               hf_token=token))
    assert message.startswith(f"there is no model org/opne on {hub.url}")
    assert "WEAVIATE_DEV_MODEL_NAME" in message
    assert "HF_TOKEN" not in message and "gated" not in message


def test_a_gated_model_says_how_to_get_access(tmp_path, hub):
    without = settings(tmp_path, model_name="org/gated", hf_endpoint=hub.url)
    message = refusal(without)
    assert message.startswith("org/gated is a gated model: accept its conditions on "
                              f"{hub.url}/org/gated")
    assert "hf auth login" in message and "set HF_TOKEN" in message
    # Another account's token: the hub shows the model (403 only for its files), and the
    # check still stops before any build.
    other = refusal(dataclasses.replace(without, hf_token="hf_someone"))
    assert "org/gated is a gated model and the token" in other and "has no access" in other
    found = image_model.resolve(dataclasses.replace(without, hf_token="hf_ok"))
    assert found.revision == hub.commit("org/gated")


def test_the_token_a_login_saved_is_used(tmp_path, hub, monkeypatch):
    """No HF_TOKEN: the token `hf auth login` saved (huggingface_hub's token file) serves."""
    from huggingface_hub import constants

    token_file = tmp_path / "hf-home" / "token"
    token_file.parent.mkdir()
    token_file.write_text("hf_ok\n")
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(token_file))
    found = image_model.resolve(settings(tmp_path, model_name="org/gated",
                                         hf_endpoint=hub.url))
    assert found.revision == hub.commit("org/gated")
    assert "Bearer hf_ok" in hub.authorizations


def test_a_missing_revision_is_refused(tmp_path, hub):
    message = refusal(settings(tmp_path, model_name="org/open", hf_endpoint=hub.url,
                               model_revision="v9"))
    assert message.startswith("org/open has no revision 'v9' (WEAVIATE_DEV_MODEL_REVISION")


def test_a_commit_id_that_is_not_one_is_refused_before_it_becomes_a_path(tmp_path, hub):
    history = hub.repos["org/open"]
    repo, files, _ = history.commits[0]
    history.commits[0] = (repo, files, "../../elsewhere")
    message = refusal(settings(tmp_path, model_name="org/open", hf_endpoint=hub.url))
    assert "'../../elsewhere'" in message and "40 hex characters" in message
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("outage", ["connection refused", "503"])
def test_when_the_hub_cannot_be_asked_the_remembered_commit_serves(tmp_path, hub, capsys,
                                                                  outage):
    wanted = settings(tmp_path, model_name="org/open", hf_endpoint=hub.url)
    first = image_model.resolve(wanted)
    commit = hub.commit("org/open")
    hub.push("org/open", hub.repos["org/open"].commits[0][0].root)  # the same files
    if outage == "503":
        hub.outage = 503
        reason = "it answered 503"
    else:
        wanted = dataclasses.replace(wanted, hf_endpoint=a_closed_port())
        reason = "Connection refused"
    capsys.readouterr()
    again = image_model.resolve(wanted)
    assert again == first and again.revision == commit
    [line] = capsys.readouterr().err.strip().splitlines()
    assert f"could not be reached ({reason}): using org/open@{commit}, the commit main " \
           "pointed to when the hub was last reached, at " in line


def test_the_newest_remembered_commit_serves(tmp_path, hub, repository, capsys):
    wanted = settings(tmp_path, model_name="org/open", hf_endpoint=hub.url)
    image_model.resolve(wanted)
    (repository / "tokenizer.json").write_text('{"v": 2}')
    newer = hub.push("org/open", repository)
    assert image_model.resolve(wanted).revision == newer
    hub.outage = 502
    assert image_model.resolve(wanted).revision == newer


def test_with_nothing_remembered_an_unreachable_hub_stops_in_one_line(tmp_path):
    message = refusal(settings(tmp_path, model_name="org/open", hf_endpoint=a_closed_port()))
    assert message.startswith("the reranker image needs the model org/open, and it cannot be "
                              "found: the hub http://127.0.0.1:")
    assert "(Connection refused), and no commit of it at main is remembered here" in message
    assert "WEAVIATE_DEV_MODEL_DIR=/path/to/model" in message


def test_a_revision_that_is_a_commit_is_never_asked(tmp_path, hub):
    commit = hub.commit("org/open")
    found = image_model.resolve(settings(tmp_path, model_name="org/open", hf_endpoint=hub.url,
                                         model_revision=commit))
    assert (found.revision, hub.log) == (commit, [])
    assert found.files == ()  # not known here: a build asks for them (staging)


def test_hf_hub_offline_asks_nothing(tmp_path, hub, capsys):
    online = settings(tmp_path, model_name="org/open", hf_endpoint=hub.url)
    offline = settings(tmp_path, {"HF_HUB_OFFLINE": "1"}, model_name="org/open",
                       hf_endpoint=hub.url)
    assert offline.hf_hub_offline and not online.hf_hub_offline
    message = refusal(offline)
    assert "HF_HUB_OFFLINE=1: the hub is not asked, and no commit of it at main" in message
    first = image_model.resolve(online)
    asked = len(hub.log)
    capsys.readouterr()
    assert image_model.resolve(offline) == first and len(hub.log) == asked
    assert f"HF_HUB_OFFLINE=1: the hub is not asked: using org/open@{first.revision}," in \
        capsys.readouterr().err


def test_a_commit_the_hugging_face_cache_names_serves(tmp_path, hub, capsys):
    """A model another tool downloaded (its refs/main in the Hugging Face cache) works
    without the hub on the first run."""
    import huggingface_hub

    wanted = settings(tmp_path, model_name="org/open", hf_endpoint=a_closed_port())
    huggingface_hub.hf_hub_download("org/open", "config.json", endpoint=hub.url,
                                    cache_dir=wanted.hf_hub_cache)
    found = image_model.resolve(wanted)
    assert found.revision == hub.commit("org/open")
    assert f"the commit main points to in the Hugging Face cache {wanted.hf_hub_cache}" in \
        capsys.readouterr().err


def test_the_commit_of_an_image_here_serves_when_nothing_else_is_known(tmp_path, monkeypatch,
                                                                      capsys):
    from weaviate_dev.services.reranker_image import remembered

    commit = "a" * 40
    monkeypatch.setattr(remembered.local_images, "labelled", lambda label: [
        ({"weaviate-dev.reranker.model_key": f"org/open@{'b' * 40}"}, 1000.0),
        ({"weaviate-dev.reranker.model_key": f"org/open@{commit}"}, 2000.0),
        ({"weaviate-dev.reranker.model_key": f"org/other@{'c' * 40}"}, 3000.0),
        ({"weaviate-dev.reranker.model_key": "org/open@../../x"}, 4000.0)])
    found = image_model.resolve(settings(tmp_path, model_name="org/open",
                                         hf_endpoint=a_closed_port()))
    assert found.revision == commit
    assert "the newest commit of it in a reranker image on this machine" in capsys.readouterr().err


def test_a_hub_behind_a_tls_inspecting_proxy_needs_its_ca_bundle(tmp_path, repository):
    """WEAVIATE_DEV_CA_BUNDLE is trusted by the hub's client (the check and the download);
    without it the one line says which setting is missing."""
    import subprocess

    from weaviate_dev.services.reranker_image import staging

    certificate, key = tmp_path / "ca.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(certificate)],
                   check=True, capture_output=True)
    with FakeHub({"org/open": repository}, tls=(certificate, key)) as hub:
        assert hub.url.startswith("https://")
        wanted = settings(tmp_path, model_name="org/open", hf_endpoint=hub.url,
                          reranker_engine="torch")
        message = refusal(wanted)
        assert "TLS verification failed: set WEAVIATE_DEV_CA_BUNDLE" in message
        trusted = dataclasses.replace(wanted, ca_bundle=certificate)
        found = image_model.resolve(trusted)
        staged = dict(staging.model_files(trusted, found))
    assert staged["config.json"].read_bytes() == (repository / "config.json").read_bytes()
    assert found.revision == hub.commit("org/open")
