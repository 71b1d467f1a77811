"""`weaviate-dev run --all-nodes` and `--vectorizer none` up to the point where something would
start: errors that list the cluster profiles, the printed plan of every node, what was dropped."""

from __future__ import annotations

import pytest

from tests.cli.test_run_cli import fake_binary, isolated, run  # noqa: F401 (isolated: autouse)


@pytest.mark.parametrize("profile, message", [
    ("local-single-node", "local-single-node is not a cluster profile"),
    ("no-such-profile", "unknown profile 'no-such-profile'"),
])
def test_all_nodes_needs_a_cluster_profile_and_lists_them(capsys, profile, message):
    code, _, err = run(capsys, profile, "--all-nodes", "--dry-run")
    assert code == 2 and message in err
    assert ("cluster profiles: local-development, local-first-rbac, first-s3, local-gcs, "
            "local-reranker-cluster") in err


def test_all_nodes_and_one_node_exclude_each_other(capsys):
    code, _, err = run(capsys, "local-development", "--all-nodes", "--node", "1")
    assert code == 2 and "--all-nodes starts every node; leave out --node" in err


def test_dry_run_prints_every_node_and_starts_nothing(capsys, tmp_path):
    data = tmp_path / "d"
    code, out, err = run(capsys, "local-development", "--all-nodes", "--vectorizer", "none",
                         "--dry-run", "--weaviate-bin", str(fake_binary(tmp_path)),
                         "--data-dir", str(data))
    assert code == 0
    headers = [line for line in out.splitlines() if line.startswith("# node ")]
    assert len(headers) == 4  # the development cluster lists four nodes; the 4th a non-voter
    assert headers[3].startswith("# node 3 (fourth-node): http://127.0.0.1:8083, gRPC 50054, "
                                 f"log {data / 'development-cluster' / 'weaviate-3' / 'weaviate.log'}")
    commands = [line for line in out.splitlines() if line.startswith(str(tmp_path / "bin"))]
    assert [c.split("--port ")[1].split()[0] for c in commands] == ["8080", "8081", "8082",
                                                                   "8083"]
    assert "CONTEXTIONARY_URL" not in out and out.count("ENABLE_MODULES=backup-filesystem\n") == 4
    assert err.count("note: --vectorizer none: dropped CONTEXTIONARY_URL=localhost:9999") == 1
    assert not data.exists()


def test_dry_run_from_a_source_tree_shows_the_one_build(capsys, tmp_path, weaviate_tree):
    root = weaviate_tree
    data = tmp_path / "d"
    code, out, _ = run(capsys, "local-reranker-cluster", "--all-nodes", "--nodes", "2",
                       "--dry-run", "--weaviate-src", str(root), "--data-dir", str(data))
    lines = out.splitlines()
    assert code == 0 and lines[0].startswith(f"cd {root} && go build -ldflags ... -o ")
    built = lines[0].split(" -o ")[1].split()[0]
    assert built.endswith("/release/weaviate-server") and "/builds/weaviate-" in built
    assert sum(line.startswith(f"{built} --scheme http") for line in lines) == 2


def test_print_env_of_every_node(capsys, tmp_path):
    code, out, _ = run(capsys, "local-reranker-cluster", "--all-nodes", "--nodes", "2",
                       "--print-env")
    blocks = out.split("# node ")[1:]
    assert code == 0 and len(blocks) == 2
    assert "RAFT_JOIN=weaviate-0:8300,weaviate-1:8302" in blocks[1].splitlines()
    assert "RERANKER_INFERENCE_API=http://localhost:8009" in blocks[0].splitlines()


def test_dry_run_a_cluster_with_one_node_under_delve(capsys, weaviate_tree):
    root = weaviate_tree
    code, out, _ = run(capsys, "local-reranker-cluster", "--all-nodes", "--nodes", "3",
                       "--debug", "--debug-node", "1", "--dry-run", "--weaviate-src", str(root))
    lines = out.splitlines()
    assert code == 0 and "-gcflags" not in lines[0] and " -gcflags 'all=-N -l' " in lines[1]
    release = lines[0].split(" -o ")[1].split()[0]
    debug = lines[1].split(" -o ")[1].split()[0]
    commands = [line for line in lines if line.split(" ", 1)[0].endswith(("weaviate-server",
                                                                          "/dlv"))]
    assert [c.split(" ", 1)[0].rsplit("/", 1)[1] for c in commands] == [
        "weaviate-server", "dlv", "weaviate-server"]
    assert commands[0].startswith(f"{release} --scheme http") and commands[2].startswith(release)
    assert f" exec {debug} --headless --listen 127.0.0.1:2345 " in commands[1]
    assert "--port 8081" in commands[1]  # node 1's own flags, unchanged


def test_debug_node_outside_the_cluster_is_refused(capsys, weaviate_tree):
    root = weaviate_tree
    code, _, err = run(capsys, "local-reranker-cluster", "--all-nodes", "--nodes", "2",
                       "--debug", "--debug-node", "5", "--dry-run", "--weaviate-src", str(root))
    assert code == 2 and "--debug-node 5: the cluster has nodes 0-1" in err
