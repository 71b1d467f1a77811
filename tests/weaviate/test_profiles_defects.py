"""One test per defect of run_dev_server.sh that the profile data fixes (profiles.yaml `changes`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from weaviate_dev.core.errors import DevError, UsageError
from weaviate_dev.weaviate.profiles import ProfileCatalog

CHECKOUT = Path("/src/weaviate")


@pytest.fixture(scope="module")
def catalog() -> ProfileCatalog:
    return ProfileCatalog.load()


def resolve(catalog, name, tmp="/state", **kw):
    return catalog.resolve(name, data_root=Path(tmp), checkout=CHECKOUT, **kw)


def test_every_change_is_used_and_every_fix_is_declared(catalog):
    used = {fix for name in catalog.names() for fix in catalog.get(name).fixes}
    assert used == set(catalog.changes)


@pytest.mark.parametrize("name, node, other", [("local-third-rbac", 2, "local-second-rbac"),
                                                ("third-s3", 2, "second-s3")])
def test_trailing_space_continuation_no_longer_drops_variables(catalog, name, node, other):
    env = resolve(catalog, name).env
    # What the original lost after `GO_PROFILING_PORT=... \<space>` (or PROMETHEUS_... in s3):
    assert env["GRPC_PORT"] == "50053"
    assert env["CONTEXTIONARY_URL"] == "localhost:9999"
    assert env["CLUSTER_IN_LOCALHOST"] == "true"
    assert env["CLUSTER_GOSSIP_BIND_PORT"] == "7104"
    assert env["CLUSTER_DATA_BIND_PORT"] == "7105"
    assert env["CLUSTER_JOIN"] == "localhost:7100"
    assert env["GO_PROFILING_PORT"] == "6062"  # no trailing space
    assert env["PROMETHEUS_MONITORING_PORT"] == "2114"
    assert env["RAFT_PORT"] == "8304" and env["RAFT_INTERNAL_RPC_PORT"] == "8305"
    # same cluster variables as its sibling, apart from the node's own values
    sibling = resolve(catalog, other).env
    per_node = {"GRPC_PORT", "CLUSTER_HOSTNAME", "CLUSTER_GOSSIP_BIND_PORT",
                "CLUSTER_DATA_BIND_PORT", "PROMETHEUS_MONITORING_PORT", "GO_PROFILING_PORT",
                "RAFT_PORT", "RAFT_INTERNAL_RPC_PORT", "PERSISTENCE_DATA_PATH",
                "BACKUP_FILESYSTEM_PATH"}
    assert set(env) == set(sibling)
    assert {k: v for k, v in env.items() if k not in per_node} == \
           {k: v for k, v in sibling.items() if k not in per_node}
    if name == "local-third-rbac":
        assert env["AUTHENTICATION_APIKEY_ENABLED"] == "true"
        assert env["AUTHORIZATION_RBAC_ROOT_USERS"] == "jp-hwang"
        assert "BACKUP_FILESYSTEM_PATH" in env
    else:
        assert env["BACKUP_S3_BUCKET"] == "weaviate-backups"
        assert env["AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED"] == "true"


def test_deepseek_variables_reach_the_server(catalog):
    env = resolve(catalog, "local-deepseek").env
    assert env["ENABLE_MODULES"] == "generative-deepseek"
    assert env["DEFAULT_VECTORIZER_MODULE"] == "none"
    assert env["AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED"] == "true"


def _listening(plan):
    return set(plan.ports.values())


def test_gcs_cluster_nodes_no_longer_collide(catalog):
    plans = [resolve(catalog, n) for n in ("local-gcs", "local-gcs-2", "local-gcs-3")]
    seen: set[int] = set()
    for plan in plans:
        ports = _listening(plan)
        assert len(ports) == 8 and not ports & seen
        seen |= ports
    # one raft cluster: node 0 bootstraps, the others join it
    # every node is named (non-voters after the one voter): non-voters-in-raft-join
    assert {p.env["RAFT_JOIN"] for p in plans} == {
        "weaviate-0:8300,weaviate-1:8302,weaviate-2:8304"}
    assert plans[0].env["RAFT_BOOTSTRAP_EXPECT"] == "1"
    assert "RAFT_BOOTSTRAP_EXPECT" not in plans[1].env
    assert [p.env["PROMETHEUS_MONITORING_PORT"] for p in plans] == ["2112", "2113", "2114"]
    assert [p.env.get("RAFT_PORT", "8300") for p in plans] == ["8300", "8302", "8304"]


def test_gossip_ports_are_the_same_scheme_in_every_cluster(catalog):
    for node, names in enumerate([("local-development", "local-first-rbac", "first-s3",
                                   "local-gcs"),
                                  ("second-node", "local-second-rbac", "second-s3",
                                   "local-gcs-2"),
                                  ("third-node", "local-third-rbac", "third-s3", "local-gcs-3")]):
        pairs = {(resolve(catalog, n).env["CLUSTER_GOSSIP_BIND_PORT"],
                  resolve(catalog, n).env["CLUSTER_DATA_BIND_PORT"]) for n in names}
        assert pairs == {(str(7100 + 2 * node), str(7101 + 2 * node))}
    env = resolve(catalog, "fourth-node").env
    assert (env["CLUSTER_GOSSIP_BIND_PORT"], env["CLUSTER_DATA_BIND_PORT"]) == ("7106", "7107")


def test_fourth_node_is_node_3_with_the_clusters_modules(catalog):
    plan = resolve(catalog, "fourth-node")
    assert plan.env["CLUSTER_HOSTNAME"] == "weaviate-3"
    assert plan.data_dir == Path("/state/development-cluster/weaviate-3/data")
    assert plan.env["ENABLE_MODULES"] == resolve(catalog, "local-development").env["ENABLE_MODULES"]
    assert "BACKUP_FILESYSTEM_PATH" in plan.env
    # still what the original meant: a 4th, non-voting node on port 8083 joining the 3 voters
    assert plan.port == 8083 and plan.env["GRPC_PORT"] == "50054"
    # named in RAFT_JOIN after the voters (non-voters-in-raft-join)
    assert plan.env["RAFT_JOIN"] == ("weaviate-0:8300,weaviate-1:8302,weaviate-2:8304,"
                                     "weaviate-3:8306")
    assert "RAFT_BOOTSTRAP_EXPECT" not in plan.env


def test_s3_cluster_exports_one_metric_namespace(catalog):
    values = {resolve(catalog, n).env.get("PROMETHEUS_MONITORING_METRIC_NAMESPACE")
              for n in ("first-s3", "second-s3", "third-s3")}
    assert values == {"weaviate"}


def test_repeated_keys_are_rejected_and_the_winning_values_kept(catalog, tmp_path):
    bad = tmp_path / "profiles.yaml"
    bad.write_text("profiles:\n  p:\n    env:\n      A: one\n      A: two\n")
    with pytest.raises(DevError, match="'A' repeated"):
        ProfileCatalog.load(bad)
    env = resolve(catalog, "local-node-with-offload").env
    assert env["ENABLE_MODULES"] == "backup-filesystem,text2vec-contextionary,offload-s3"
    assert env["OFFLOAD_S3_BUCKET_AUTO_CREATE"] == "true"
    for name in ("local-usage-gcs", "local-usage-s3"):
        assert resolve(catalog, name).env["RUNTIME_OVERRIDES_LOAD_INTERVAL"] == "30s"


def test_every_profile_and_node_has_its_own_data_directory(catalog):
    dirs = {}
    for name in catalog.names():
        if catalog.get(name).kind == "helper":
            continue
        plan = resolve(catalog, name)
        for key in ("PERSISTENCE_DATA_PATH", "BACKUP_FILESYSTEM_PATH"):
            if key in plan.env:
                path = plan.env[key]
                assert path not in dirs, f"{name} shares {path} with {dirs.get(path)}"
                assert path.startswith("/state/")
                dirs[path] = name


def test_absolute_data_path_override_stays_absolute(catalog):
    env = {"PERSISTENCE_DATA_PATH": "/big/disk/wv"}
    for name, node in (("first-s3", 0), ("second-s3", 1), ("local-development", 0)):
        plan = catalog.resolve(name, data_root=Path("/state"), environ=env, checkout=CHECKOUT)
        assert plan.env["PERSISTENCE_DATA_PATH"] == f"/big/disk/wv-weaviate-{node}"
    single = catalog.resolve("local-openai", data_root=Path("/state"), environ=env)
    assert single.env["PERSISTENCE_DATA_PATH"] == "/big/disk/wv"


def test_gcs_profiles_use_the_moved_emulator_port(catalog):
    for name in ("local-gcs", "local-gcs-2", "local-gcs-3", "local-usage-gcs"):
        env = resolve(catalog, name).env
        assert env["STORAGE_EMULATOR_HOST"] == env["BACKUP_GCS_ENDPOINT"] == "localhost:9092"


def test_reranker_profile_runs_without_contextionary_by_default(catalog):
    plan = resolve(catalog, "local-reranker-transformers")
    assert plan.env["DEFAULT_VECTORIZER_MODULE"] == "none"
    assert plan.env["ENABLE_MODULES"] == "reranker-transformers"
    assert plan.env["RERANKER_INFERENCE_API"] == "http://localhost:8009"
    assert "CONTEXTIONARY_URL" not in plan.env
    assert [n.port for n in plan.needs] == [8009]
    original = resolve(catalog, "local-reranker-transformers", options=["contextionary"])
    assert original.env["CONTEXTIONARY_URL"] == "localhost:9999"
    assert original.env["ENABLE_MODULES"] == "text2vec-contextionary,reranker-transformers"
    assert [n.port for n in original.needs] == [8009, 9999]


def test_prometheus_helper_is_replaced_by_restart(catalog):
    helper = catalog.get("local-prometheus")
    assert helper.kind == "helper" and helper.replacement == "weaviate-dev restart --prometheus"
    with pytest.raises(UsageError, match="restart --prometheus"):
        resolve(catalog, "local-prometheus")
