"""`weaviate-dev run` flags: --list, --print-env, --dry-run, helpers, overrides, drop-in script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from weaviate_dev.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No Weaviate of the machine is found unless a test provides one."""
    for key in ("WEAVIATE_DEV_WEAVIATE_BIN", "PERSISTENCE_DATA_PATH", "LOG_LEVEL",
                "PROMETHEUS_MONITORING_PORT", "GO_PROFILING_PORT"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.chdir(tmp_path)


def fake_binary(tmp_path) -> Path:
    path = tmp_path / "bin" / "weaviate-server"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def run(capsys, *argv):
    code = main(["run", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_all_63_with_descriptions_and_ours_marked(capsys):
    code, out, _ = run(capsys, "--list")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 64  # the original's 63 and our reranker cluster
    ours = [line for line in lines if "[ours]" in line]
    assert len(ours) == 1 and ours[0].startswith("local-reranker-cluster ")
    names = [line.split()[0] for line in lines]
    assert "local-reranker-transformers" in names and "local-development" in names
    assert all(len(line.split(None, 1)) == 2 for line in lines)  # every name has a description
    assert any("local-minio" in l and "weaviate-dev restart --s3" in l for l in lines)


def test_print_env_is_sorted_key_value_lines_and_needs_no_weaviate(capsys, tmp_path):
    code, out, err = run(capsys, "local-reranker-transformers", "--print-env",
                         "--data-dir", str(tmp_path / "d"))
    lines = out.strip().splitlines()
    assert code == 0
    assert lines == sorted(lines) and all("=" in line for line in lines)
    env = dict(line.split("=", 1) for line in lines)
    assert env["RERANKER_INFERENCE_API"] == "http://localhost:8009"
    assert env["ENABLE_MODULES"] == "reranker-transformers"
    assert env["PERSISTENCE_DATA_PATH"] == str(tmp_path / "d" / "local-reranker-transformers"
                                                / "data")
    code, out, _ = run(capsys, "local-reranker-transformers", "--print-env", "--contextionary")
    assert "ENABLE_MODULES=text2vec-contextionary,reranker-transformers" in out.splitlines()


def test_default_profile_is_local_development(capsys):
    code, out, _ = run(capsys, "--print-env")
    env = dict(line.split("=", 1) for line in out.strip().splitlines())
    assert code == 0 and env["RAFT_BOOTSTRAP_EXPECT"] == "3"
    assert env["ENABLE_MODULES"] == "text2vec-contextionary,backup-filesystem"


def test_environment_overrides_where_the_original_had_defaults(capsys, monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", "info")
    monkeypatch.setenv("PROMETHEUS_MONITORING_PORT", "3112")
    monkeypatch.setenv("ENABLE_MODULES", "ignored")  # the original did not honour this one
    code, out, _ = run(capsys, "second-node", "--print-env")
    env = dict(line.split("=", 1) for line in out.strip().splitlines())
    assert env["LOG_LEVEL"] == "info"
    assert env["PROMETHEUS_MONITORING_PORT"] == "3113"
    assert env["ENABLE_MODULES"] == "text2vec-contextionary,backup-filesystem"
    code, out, _ = run(capsys, "local-usage-gcs", "--print-env")
    assert "LOG_LEVEL=debug" in out.splitlines()  # the profile's own value wins, as before


def test_dry_run_prints_env_and_exact_command_and_starts_nothing(capsys, tmp_path):
    binary = fake_binary(tmp_path)
    data = tmp_path / "d"
    code, out, _ = run(capsys, "third-node", "--dry-run", "--weaviate-bin", str(binary),
                       "--data-dir", str(data))
    lines = out.strip().splitlines()
    assert code == 0
    assert lines[-1] == (f"{binary} --scheme http --host 127.0.0.1 --port 8082 "
                         "--read-timeout=600s --write-timeout=600s")
    assert lines[-2] == f"cd {data / 'development-cluster' / 'weaviate-2'}"
    env_lines = lines[:-2]
    assert env_lines == sorted(env_lines) and "CLUSTER_HOSTNAME=weaviate-2" in env_lines
    assert not data.exists()  # nothing created, nothing started


def test_dry_run_with_generated_node(capsys, tmp_path):
    code, out, _ = run(capsys, "local-first-rbac", "--node", "6", "--nodes", "7", "--dry-run",
                       "--weaviate-bin", str(fake_binary(tmp_path)))
    assert code == 0
    assert "--port 8086" in out.strip().splitlines()[-1]
    assert "RAFT_BOOTSTRAP_EXPECT=7" in out.splitlines()


def test_dry_run_image(capsys, tmp_path):
    code, out, _ = run(capsys, "local-reranker-transformers", "--dry-run", "--image", "wv:test")
    last = out.strip().splitlines()[-1]
    assert code == 0 and last.startswith("docker run --rm --name ")
    assert "--network host" in last and " wv:test --scheme http" in last


def test_dry_run_source_checkout_is_compiled_with_build_info_then_run(capsys, monkeypatch,
                                                                       weaviate_tree):
    root = weaviate_tree
    monkeypatch.chdir(root / "cmd")
    code, out, _ = run(capsys, "local-single-node", "--dry-run")
    lines = out.strip().splitlines()
    assert code == 0 and lines[-2] == f"cd {root}"
    build = lines[-3]
    assert build.startswith(f"cd {root} && go build -ldflags ... -o ")
    binary = build.split(" -o ")[1].split()[0]
    assert binary.endswith("/release/weaviate-server") and "/builds/weaviate-" in binary
    assert lines[-1] == (f"{binary} --scheme http --host 127.0.0.1 --port 8080"
                         " --read-timeout=600s --write-timeout=600s")
    assert f"RUNTIME_OVERRIDES_PATH={root}/tools/dev/config.runtime-overrides.yaml" in lines


def test_dry_run_debug_is_a_debug_build_under_delve_headless(capsys, weaviate_tree):
    root = weaviate_tree
    code, out, _ = run(capsys, "local-reranker-transformers", "--dry-run", "--debug",
                       "--debug-port", "2399", "--weaviate-src", str(root))
    lines = out.strip().splitlines()
    assert code == 0 and " -gcflags 'all=-N -l' " in lines[-3]
    binary = lines[-3].split(" -o ")[1].split()[0]
    assert binary.endswith("/debug/weaviate-server")
    dlv, rest = lines[-1].split(" exec ", 1)
    assert dlv.endswith("/delve-v1.27.2/dlv")
    assert rest.startswith(f"{binary} --headless --listen 127.0.0.1:2399 --accept-multiclient "
                           "--continue --api-version 2 -- --scheme http --host 127.0.0.1")


@pytest.mark.parametrize("flag", ["--debug", "--watch"])
def test_the_loop_flags_need_a_source_tree(capsys, tmp_path, flag):
    code, _, err = run(capsys, "local-single-node", "--dry-run", flag,
                       "--weaviate-bin", str(fake_binary(tmp_path)))
    assert code == 2 and f"{flag} builds Weaviate from source" in err
    code, _, err = run(capsys, "debug", "--dry-run", flag,
                       "--weaviate-bin", str(fake_binary(tmp_path)))
    assert code == 2 and "runs `dlv debug` itself" in err


def test_without_checkout_checkout_files_are_left_out_with_a_note(capsys, tmp_path):
    code, out, err = run(capsys, "local-single-node", "--dry-run",
                         "--weaviate-bin", str(fake_binary(tmp_path)))
    assert code == 0 and "RUNTIME_OVERRIDES" not in out
    assert "left out RUNTIME_OVERRIDES_PATH, RUNTIME_OVERRIDES_ENABLED" in err


def test_helpers_point_at_their_replacement(capsys):
    code, out, err = run(capsys, "create-s3-bucket")
    assert code == 2 and "weaviate-dev restart --s3" in err and "s3 mb s3://weaviate-usage" in err


def test_unknown_profile_suggests(capsys):
    code, _, err = run(capsys, "local-reranker")
    assert code == 2 and "did you mean local-reranker-transformers" in err


def test_option_on_a_profile_without_it(capsys):
    code, _, err = run(capsys, "local-openai", "--contextionary", "--print-env")
    assert code == 2 and "has no option --contextionary" in err


def test_no_weaviate_anywhere_but_go_is_one_clear_error(capsys, tmp_path, monkeypatch):
    go = tmp_path / "go-bin" / "go"
    go.parent.mkdir()
    go.write_text("#!/bin/sh\nexit 1\n")
    go.chmod(0o755)
    monkeypatch.setenv("PATH", f"{go.parent}:/usr/bin:/bin")
    code, _, err = run(capsys, "local-openai", "--dry-run")
    assert code == 1 and "no Weaviate found" in err and "weaviate-dev setup" in err


def test_no_weaviate_and_no_go_runs_weaviates_image(capsys):
    """A machine with Docker and nothing to build Weaviate with: its image, said why."""
    from weaviate_dev.core.settings import Settings

    code, out, err = run(capsys, "local-reranker-transformers", "--dry-run")
    assert code == 0, err
    image = Settings.from_env().weaviate_image  # the pinned default, or CI's local one
    assert image.endswith(":1.39.0")
    assert f"image {image} (no Weaviate checkout, binary or Go toolchain here" in out + err
    assert "docker run --rm --name weaviate-dev-run-local-reranker-transformers" in out


def test_drop_in_script_works_from_any_directory(tmp_path):
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
    result = subprocess.run([str(ROOT / "tools" / "dev" / "run_dev_server"), "--print-env"],
                            cwd="/", env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "CLUSTER_GOSSIP_BIND_PORT=7100" in result.stdout.splitlines()
    result = subprocess.run([str(ROOT / "tools" / "dev" / "run_dev_server"), "--list"],
                            cwd="/", env=env, capture_output=True, text=True, timeout=60)
    assert len(result.stdout.strip().splitlines()) == 64


def test_python_m_entry_point(tmp_path):
    result = subprocess.run([sys.executable, "-m", "weaviate_dev", "run", "--help"],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert result.returncode == 0 and "--print-env" in result.stdout


@pytest.mark.parametrize("port", ["0", "70000", "x"])
def test_a_debug_port_must_be_a_tcp_port(capsys, weaviate_tree, port):
    with pytest.raises(SystemExit) as exited:
        main(["run", "local-single-node", "--dry-run", "--debug", "--debug-port", port,
              "--weaviate-src", str(weaviate_tree)])
    assert exited.value.code == 2
    assert "is not a TCP port (1-65535)" in capsys.readouterr().err
