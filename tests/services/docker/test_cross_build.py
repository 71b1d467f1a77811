"""Building another platform's images: the emulator check, the BuildKit command line."""

from __future__ import annotations

import io

import pytest

from weaviate_dev.core.errors import DevError
from weaviate_dev.services.docker import cross_build
from weaviate_dev.services.docker import builds, local_images


@pytest.mark.parametrize("text, ready", [
    ("enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: PF\n", True),
    ("enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: OCF\n", True),
    ("enabled\ninterpreter /usr/bin/qemu-aarch64\nflags: P\n", False),  # not usable in builds
    ("disabled\nflags: PF\n", False),
    (None, False),  # not registered
])
def test_an_emulator_is_ready_when_registered_with_the_fixed_flag(tmp_path, monkeypatch, text,
                                                                  ready):
    monkeypatch.setattr(cross_build, "BINFMT", tmp_path)
    monkeypatch.setattr(cross_build, "_local_engine", lambda: True)
    if text is not None:
        (tmp_path / "qemu-aarch64").write_text(text)
    assert cross_build.emulator_ready("linux/arm64") is ready


def test_docker_desktop_emulates_in_its_own_vm(tmp_path, monkeypatch):
    monkeypatch.setattr(cross_build, "BINFMT", tmp_path)
    monkeypatch.setattr(cross_build, "_local_engine", lambda: False)
    assert cross_build.emulator_ready("linux/arm64")


def test_a_buildkit_build_sends_the_context_on_stdin_and_loads_the_tag(monkeypatch):
    """The build arguments go by name on buildx's command line (which any user of the machine
    can read) and by value in its environment."""
    runs = []
    monkeypatch.setattr(builds.process, "run_with_stdin",
                        lambda argv, stream, env: runs.append((argv, stream.read(), env)) or 0)
    monkeypatch.setattr(local_images, "image_id", lambda ref: "sha256:1")
    context = io.BytesIO(b"a tarball")
    secret = "http://user:s3cret@127.0.0.1:3141/simple"
    built = builds.build_for(context, tag="r:arm64",
                             buildargs={"B": "2", "A": "1", "PIP_INDEX_URL": secret},
                             platform="linux/arm64", labels={"l": "v"})
    assert (built.tag, built.image_id) == ("r:arm64", "sha256:1")
    [(argv, data, env)] = runs
    assert argv[:3] == ["docker", "buildx", "build"] and argv[-1] == "-" and data == b"a tarball"
    assert argv[argv.index("--label") + 1] == "l=v"
    assert argv[argv.index("--platform") + 1] == "linux/arm64" and "--load" in argv
    assert argv[argv.index("-t") + 1] == "r:arm64"
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "--build-arg"] == [
        "A", "B", "PIP_INDEX_URL"]
    assert "s3cret" not in " ".join(argv)
    assert (env["A"], env["B"], env["PIP_INDEX_URL"]) == ("1", "2", secret)
    assert env["PATH"]  # the caller's environment besides
    monkeypatch.setattr(builds.process, "run_with_stdin", lambda argv, data, env: 1)
    with pytest.raises(DevError, match="building r:arm64 for linux/arm64 failed"):
        builds.build_for(context, tag="r:arm64", buildargs={}, platform="linux/arm64")
