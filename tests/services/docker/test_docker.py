"""The Docker boundary without a real engine: compose detection, engine errors, containers."""

import io
import subprocess

import docker.errors
import pytest

from weaviate_dev.core.errors import DevError
from weaviate_dev.services.docker import builds, containers, engine, local_images


def result(code):
    return subprocess.CompletedProcess([], code, stdout="")


def test_the_compose_plugin_is_preferred_when_it_answers():
    calls = []

    def run(argv, **kw):
        calls.append(argv)
        return result(0)

    found = containers.compose_command(run=run, which=lambda name: f"/usr/bin/{name}")
    assert found == containers.PLUGIN
    assert calls == [["docker", "compose", "version"]]


def test_standalone_compose_when_the_plugin_is_missing():
    found = containers.compose_command(run=lambda argv, **kw: result(1),
                                          which=lambda name: f"/usr/bin/{name}")
    assert found == containers.STANDALONE


def test_no_compose_at_all_is_a_clear_error():
    with pytest.raises(DevError, match="no Docker Compose found"):
        containers.compose_command(run=lambda argv, **kw: result(1), which=lambda name: None)


@pytest.fixture
def no_engine(monkeypatch):
    def refuse():
        raise docker.errors.DockerException("Error while fetching server API version")

    monkeypatch.setattr(engine, "_client", None)
    monkeypatch.setattr(engine.docker, "from_env", refuse)


def test_an_engine_that_does_not_answer_is_a_clear_error(no_engine):
    assert engine.answers() is False
    with pytest.raises(DevError, match="no Docker engine answers.*weaviate-dev setup engine"):
        engine.version()
    assert containers.port_holders() == {}  # nothing of Docker's can hold a port


class _Container:
    def __init__(self, name, service, ports, project="weaviate-dev"):
        self.name = name
        self.labels = {containers.COMPOSE_PROJECT_LABEL: project,
                       containers.COMPOSE_SERVICE_LABEL: service}
        self.attrs = {
            "Name": f"/{name}",
            "Config": {"Labels": self.labels},
            "State": {"Status": "running", "Health": {"Status": "healthy"}},
            "NetworkSettings": {"Ports": {
                f"{inner}/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(outer)}]
                for outer, inner in ports.items()} | {"9999/tcp": None}},
        }


class _Containers:
    def __init__(self, items):
        self.items = items
        self.filters = []

    def list(self, all=False, filters=None):
        self.filters.append(filters)
        return self.items


def test_containers_and_the_ports_they_hold(monkeypatch):
    listed = _Containers([_Container("wd-reranker-1", "reranker-transformers", {8009: 8080}),
                          _Container("other", "web", {8080: 80, 8443: 443}, project="x")])
    monkeypatch.setattr(engine, "_client", type("Client", (), {"containers": listed})())
    [state, _] = containers.project_containers("weaviate-dev")
    assert listed.filters[0] == {"label": "com.docker.compose.project=weaviate-dev"}
    assert (state.service, state.name, state.state, state.health) == (
        "reranker-transformers", "wd-reranker-1", "running", "healthy")
    assert state.ports == ("127.0.0.1:8009->8080/tcp",) and state.host_ports == (8009,)
    monkeypatch.setattr(engine, "answers", lambda: True)
    assert containers.port_holders() == {
        8009: "Docker container wd-reranker-1 (compose project weaviate-dev)",
        8080: "Docker container other (compose project x)",
        8443: "Docker container other (compose project x)"}


def test_remove_container_forces_and_tells_whether_there_was_one(monkeypatch):
    removed = []

    class Found:
        def remove(self, force):
            removed.append(force)

    class Containers:
        def get(self, name):
            if name != "weaviate-dev-run-node-0":
                raise engine.docker.errors.NotFound("no such container")
            return Found()

    monkeypatch.setattr(engine, "_client",
                        type("Client", (), {"containers": Containers()})())
    assert containers.remove_container("weaviate-dev-run-node-0") is True
    assert containers.remove_container("other") is False
    assert removed == [True]


class _FakeApi:
    def __init__(self, chunks):
        self.chunks = chunks
        self.kwargs = {}

    def build(self, **kwargs):
        self.kwargs = kwargs
        return iter(self.chunks)


class _FakeClient:
    def __init__(self, chunks):
        self.api = _FakeApi(chunks)


def test_a_failing_build_names_its_step_and_shows_the_steps_last_lines(monkeypatch, capsys):
    long_run = "RUN set -eu; . /build/build.env; " + "x " * 300
    chunks = [{"stream": "Step 1/3 : FROM base\n"}, {"stream": " ---> abc123\n"},
              {"stream": "Step 2/3 : COPY a b\n"}, {"stream": "copied\n"},
              {"stream": f"Step 3/3 : {long_run}\n"},
              {"stream": " ---> Running in 5f3\n"},
              *({"stream": f"traceback line {i}\n"} for i in range(40)),
              {"stream": "httpx.ConnectError: [Errno -2] Name or service not known\n"},
              {"error": f"The command '/bin/sh -c {long_run}' returned a non-zero code: 1"}]
    monkeypatch.setattr(engine, "_client", _FakeClient(chunks))
    with pytest.raises(DevError) as raised:
        builds.build(io.BytesIO(), tag="me/x:1", buildargs={})
    message = str(raised.value)
    first, *tail = message.splitlines()
    assert first.startswith("building me/x:1 failed at Step 3/3 : RUN set -eu;")
    assert first.endswith("... (exit code 1); its last lines:") and len(first) < 160
    assert tail[-1] == "  | httpx.ConnectError: [Errno -2] Name or service not known"
    assert len(tail) == builds.BuildLog.TAIL_LINES and "traceback line 39" in tail[-2]
    assert "copied" not in message and "x " * 50 not in message
    assert "Step 3/3" in capsys.readouterr().err  # progress as the steps started


class _Image:
    id = "sha256:4fe1" + "0" * 60

    def __init__(self, tags):
        self.tags = tags

    def tag(self, repository, tag):
        self.tags.append(f"{repository}:{tag}")


def test_a_build_is_tagged_only_once_it_succeeded(monkeypatch):
    tags: list[str] = []
    images = type("Images", (), {"get": lambda self, ref: (ref == "4fe1", _Image(tags))[1]})()
    chunks = [{"stream": "Step 1/1 : FROM base\n"}, {"aux": {"ID": "4fe1"}},
              {"stream": "Successfully built 4fe1\n"}]
    client = _FakeClient(chunks)
    client.images = images
    monkeypatch.setattr(engine, "_client", client)
    built = builds.build(io.BytesIO(), tag="me/x:1", buildargs={},
                                labels={"weaviate-dev.reranker.engine": "onnx"})
    assert built.tag == "me/x:1" and built.image_id == _Image.id
    assert tags == ["me/x:1"] and "tag" not in client.api.kwargs  # the build itself: untagged
    assert client.api.kwargs["labels"] == {"weaviate-dev.reranker.engine": "onnx"}


def test_a_build_records_its_stages_images_from_the_engines_aux_messages(monkeypatch):
    """A multi-stage build's stage images come from the engine's structured `aux` messages
    (one as each stage ends, the final image last), never from its text: a step's " ---> id"
    line or a "Successfully built" line that says otherwise is not taken."""
    images = type("Images", (), {"get": lambda self, ref: _Image([])})()
    chunks = [{"stream": "Step 1/3 : FROM base AS model\n ---> aaa111aaa111\n"},
              {"aux": {"ID": "sha256:model"}},
              {"stream": "Step 2/3 : FROM base AS export\n ---> bbb222bbb222\n"},
              {"aux": {"ID": "sha256:export"}}, {"aux": {"ID": "sha256:model"}},
              {"stream": "Step 3/3 : LABEL x=y\n ---> ccc333ccc333\n"},
              {"aux": {"ID": _Image.id}},
              {"stream": "Successfully built ccc333ccc333\n"}]
    client = _FakeClient(chunks)
    client.images = images
    monkeypatch.setattr(engine, "_client", client)
    built = builds.build(io.BytesIO(), tag="me/x:1", buildargs={})
    assert built.image_id == _Image.id
    assert built.stages == ("sha256:model", "sha256:export")


def test_a_build_without_an_image_id_fails_in_one_line(monkeypatch):
    monkeypatch.setattr(engine, "_client",
                        _FakeClient([{"stream": "Successfully built ccc333ccc333\n"}]))
    with pytest.raises(DevError, match="building me/x:1: the engine did not say which image"):
        builds.build(io.BytesIO(), tag="me/x:1", buildargs={})


class _RemovingApi:
    """images: id -> (parent, size, tags); a container uses "inuse"."""

    def __init__(self, images):
        self.images_by_id = images
        self.removed = []

    def images(self, all=False):
        return [{"Id": i, "ParentId": p, "Size": s} for i, (p, s, _) in self.images_by_id.items()]

    def inspect_image(self, ref):
        import docker.errors

        found = [i for i in self.images_by_id if i.startswith(ref) or ref in i]
        if not found:
            raise docker.errors.NotFound("no such image")
        return {"Id": found[0], "RepoTags": self.images_by_id[found[0]][2]}

    def remove_image(self, image_id, force, noprune):
        import docker.errors

        assert (force, noprune) == (False, False)
        if image_id == "sha256:inuse":
            raise docker.errors.APIError("conflict", response=type(
                "R", (), {"status_code": 409, "reason": "Conflict"})(),
                explanation="conflict: unable to delete (must be forced) - image is being "
                            "used by stopped container 1c2")
        if any(p == image_id for p, _, _ in self.images_by_id.values()):
            raise docker.errors.APIError("conflict", response=type(
                "R", (), {"status_code": 409, "reason": "Conflict"})(),
                explanation="conflict: unable to delete (cannot be forced) - image has "
                            "dependent child images")
        deleted, current = [], image_id
        while current and current in self.images_by_id:  # untagged parents go with it
            parent, _, tags = self.images_by_id.pop(current)
            deleted.append({"Deleted": current})
            children = [i for i, (p, _, _) in self.images_by_id.items() if p == parent]
            current = parent if parent and not children and \
                not self.images_by_id.get(parent, ("", 0, ["t"]))[2] else ""
        self.removed.append(image_id)
        return deleted


def test_remove_unused_frees_leftover_chains_and_keeps_what_is_tagged_or_used(monkeypatch,
                                                                             capsys):
    api = _RemovingApi({
        "sha256:base": ("", 100, ["base:1"]),
        "sha256:builder": ("sha256:base", 300, []),  # the final image builds on it
        "sha256:final": ("sha256:builder", 350, ["me/x:1"]),
        "sha256:model1": ("sha256:builder", 5300, []),  # the export stage: 5 GB of torch
        "sha256:model2": ("sha256:model1", 5310, []),
        "sha256:old": ("sha256:builder", 340, []),  # the replaced image, untagged now
        "sha256:inuse": ("sha256:builder", 345, []),
    })
    client = type("Client", (), {"api": api})()
    monkeypatch.setattr(engine, "_client", client)
    freed = local_images.remove_unused(["sha256:old", None, "model2", "model1", "final",
                                         "inuse", "gone"])
    assert freed == (5310 - 300) + (340 - 300)
    assert set(api.images_by_id) == {"sha256:base", "sha256:builder", "sha256:final",
                                     "sha256:inuse"}
    assert "kept image sha256:inuse" in capsys.readouterr().err
    assert local_images.remove_unused([]) == 0


@pytest.mark.parametrize("ref, expected", [("me/x:1", ("me/x", "1")), ("me/x", ("me/x", "latest")),
                                           ("host:5000/me/x", ("host:5000/me/x", "latest")),
                                           ("host:5000/me/x:2", ("host:5000/me/x", "2"))])
def test_split_tag(ref, expected):
    assert local_images.split_tag(ref) == expected


class _Network:
    def __init__(self, gateway):
        self.gateway = gateway

    def inspect_network(self, name):
        assert name == "bridge"
        return {"IPAM": {"Config": [{"Subnet": "172.17.0.0/16", "Gateway": self.gateway}]}}


@pytest.mark.parametrize("gateway, local, expected", [
    ("172.17.0.1", True, ("172.17.0.1", "172.17.0.1")),  # Linux: the gateway is the host's
    ("", True, ("172.17.0.1", "172.17.0.1")),  # no gateway given: the subnet's first address
    ("192.168.65.1", False, ("127.0.0.1", "host.docker.internal")),  # Docker Desktop's VM
])
def test_where_a_builds_containers_reach_the_host(monkeypatch, gateway, local, expected):
    from types import SimpleNamespace

    monkeypatch.setattr(engine, "_client", SimpleNamespace(api=_Network(gateway)))
    addresses = ["127.0.0.1"] + (["172.17.0.1"] if local else [])
    monkeypatch.setattr(engine.psutil, "net_if_addrs", lambda: {
        f"if{i}": [SimpleNamespace(address=a)] for i, a in enumerate(addresses)})
    assert engine.host_for_builds() == expected
