"""Profiles equal the original run_dev_server.sh, checked against an independent table.

ORIGINAL below is transcribed by hand from weaviate/weaviate tools/dev/run_dev_server.sh
(commit adcffc54): for each profile, the HTTP port, the read/write timeout ("-" when the
original passed none) and the variables its `case` branch sets, as the shell really applies
them (the last of a repeated assignment). $PWD stands for the checkout the original cd'ed to.
It covers every profile whose only changes are per-profile data directories or de-duplicated
assignments; profiles with a fixed defect are checked in test_profiles_defects.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from weaviate_dev.weaviate.profiles import ProfileCatalog

CHECKOUT = Path("/src/weaviate")
DATA_ROOT = Path("/state")

ALL_LABELS = """
debug local-single-node local-telemetry local-single-node-rbac local-first-rbac local-second-rbac
local-third-rbac local-development second-node third-node fourth-node local-transformers
local-transformers-passage-query local-qna local-sum local-image local-ner local-spellcheck
local-clip local-bind local-oidc local-apikey local-wcs-oidc-and-apikey local-multi-text
local-ollama local-openai local-deepseek local-qna-openai local-generative-openai local-all-openai
local-all-google local-all-openai-cohere-google local-all-openai-voyageai-google local-huggingface
local-no-modules local-centroid local-s3 local-minio local-node-with-offload
local-single-offload-node first-s3 second-s3 third-s3 local-gcs local-gcs-2 local-gcs-3
local-azure create-gcs-bucket local-usage-gcs create-s3-bucket local-usage-s3 local-cohere
local-all-cohere local-voyageai local-morph local-all-voyageai local-reranker-transformers
local-gpt4all local-bigram local-model2vec local-prometheus local-contextualai local-mcp
""".split()

HELPERS = {"local-minio", "local-prometheus", "create-gcs-bucket", "create-s3-bucket"}

COMMON = dict(token.split("=", 1) for token in """
GO111MODULE=on LOG_LEVEL=debug LOG_FORMAT=text PROMETHEUS_MONITORING_ENABLED=true
PROMETHEUS_MONITORING_PORT=2112 GO_PROFILING_PORT=6060 GO_BLOCK_PROFILE_RATE=20
GO_MUTEX_PROFILE_FRACTION=20 PERSISTENCE_DATA_PATH=./data ORIGIN=http://localhost:8080
QUERY_DEFAULTS_LIMIT=20 QUERY_MAXIMUM_RESULTS=10000 TRACK_VECTOR_DIMENSIONS=true
CLUSTER_HOSTNAME=weaviate-0 GPT4ALL_INFERENCE_API=http://localhost:8010 DISABLE_TELEMETRY=true
PERSISTENCE_HNSW_SNAPSHOT_INTERVAL_SECONDS=300 EXPERIMENTAL_HFRESH_ENABLED=true
DEBUG_ENDPOINTS_ENABLED=true
""".split())

ORIGINAL = """
debug 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary ENABLE_MODULES=text2vec-contextionary
local-single-node 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  PERSISTENCE_DATA_PATH=./data-weaviate-0 BACKUP_FILESYSTEM_PATH=$PWD/backups-weaviate-0
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary
  ENABLE_MODULES=text2vec-contextionary,backup-filesystem
  PROMETHEUS_MONITORING_METRIC_NAMESPACE=weaviate CLUSTER_IN_LOCALHOST=true
  CLUSTER_GOSSIP_BIND_PORT=7100 CLUSTER_DATA_BIND_PORT=7101 RAFT_BOOTSTRAP_EXPECT=1
  RUNTIME_OVERRIDES_ENABLED=true
  RUNTIME_OVERRIDES_PATH=$PWD/tools/dev/config.runtime-overrides.yaml
  RUNTIME_OVERRIDES_LOAD_INTERVAL=30s
local-telemetry 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  PERSISTENCE_DATA_PATH=./data-weaviate-0 BACKUP_FILESYSTEM_PATH=$PWD/backups-weaviate-0
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary
  ENABLE_MODULES=text2vec-contextionary,backup-filesystem PROMETHEUS_MONITORING_PORT=2112
  PROMETHEUS_MONITORING_METRIC_NAMESPACE=weaviate CLUSTER_IN_LOCALHOST=true
  CLUSTER_GOSSIP_BIND_PORT=7100 CLUSTER_DATA_BIND_PORT=7101 RAFT_BOOTSTRAP_EXPECT=1
  RUNTIME_OVERRIDES_ENABLED=true
  RUNTIME_OVERRIDES_PATH=$PWD/tools/dev/config.runtime-overrides.yaml
  RUNTIME_OVERRIDES_LOAD_INTERVAL=30s DISABLE_TELEMETRY=false
  TELEMETRY_URL=http://localhost:9696/weaviate-telemetry TELEMETRY_PUSH_INTERVAL=5s
local-single-node-rbac 8080 600s
  AUTHENTICATION_APIKEY_ENABLED=true AUTHORIZATION_RBAC_ENABLED=true
  AUTHENTICATION_APIKEY_ALLOWED_KEYS=jane-secret-key,ian-secret-key,jp-secret-key
  AUTHENTICATION_APIKEY_USERS=jane@doe.com,ian-smith,jp-hwang AUTHORIZATION_RBAC_ROOT_USERS=jp-hwang
  PERSISTENCE_DATA_PATH=./data-weaviate-0 BACKUP_FILESYSTEM_PATH=$PWD/backups-weaviate-0
  ENABLE_MODULES=backup-filesystem CLUSTER_IN_LOCALHOST=true CLUSTER_GOSSIP_BIND_PORT=7100
  CLUSTER_DATA_BIND_PORT=7101 RAFT_BOOTSTRAP_EXPECT=1
local-first-rbac 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_APIKEY_ENABLED=true
  AUTHORIZATION_RBAC_ENABLED=true
  AUTHENTICATION_APIKEY_ALLOWED_KEYS=jane-secret-key,ian-secret-key,jp-secret-key
  AUTHENTICATION_APIKEY_USERS=jane@doe.com,ian-smith,jp-hwang AUTHORIZATION_RBAC_ROOT_USERS=jp-hwang
  PERSISTENCE_DATA_PATH=./data-weaviate-0 BACKUP_FILESYSTEM_PATH=$PWD/backups-weaviate-0
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary
  ENABLE_MODULES=text2vec-contextionary,backup-filesystem CLUSTER_IN_LOCALHOST=true
  CLUSTER_GOSSIP_BIND_PORT=7100 CLUSTER_DATA_BIND_PORT=7101
  RAFT_JOIN=weaviate-0:8300,weaviate-1:8302,weaviate-2:8304 RAFT_BOOTSTRAP_EXPECT=3
local-second-rbac 8081 600s
  GRPC_PORT=50052 CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_APIKEY_ENABLED=true
  AUTHORIZATION_RBAC_ENABLED=true
  AUTHENTICATION_APIKEY_ALLOWED_KEYS=jane-secret-key,ian-secret-key,jp-secret-key
  AUTHENTICATION_APIKEY_USERS=jane@doe.com,ian-smith,jp-hwang AUTHORIZATION_RBAC_ROOT_USERS=jp-hwang
  PERSISTENCE_DATA_PATH=./data-weaviate-1 BACKUP_FILESYSTEM_PATH=$PWD/backups-weaviate-1
  CLUSTER_HOSTNAME=weaviate-1 CLUSTER_IN_LOCALHOST=true CLUSTER_GOSSIP_BIND_PORT=7102
  CLUSTER_DATA_BIND_PORT=7103 CLUSTER_JOIN=localhost:7100 PROMETHEUS_MONITORING_PORT=2113
  GO_PROFILING_PORT=6061 RAFT_PORT=8302 RAFT_INTERNAL_RPC_PORT=8303
  RAFT_JOIN=weaviate-0:8300,weaviate-1:8302,weaviate-2:8304 RAFT_BOOTSTRAP_EXPECT=3
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary
  ENABLE_MODULES=text2vec-contextionary,backup-filesystem
local-development 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  PERSISTENCE_DATA_PATH=./data-weaviate-0 BACKUP_FILESYSTEM_PATH=$PWD/backups-weaviate-0
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary
  ENABLE_MODULES=text2vec-contextionary,backup-filesystem
  PROMETHEUS_MONITORING_METRIC_NAMESPACE=weaviate CLUSTER_IN_LOCALHOST=true
  CLUSTER_GOSSIP_BIND_PORT=7100 CLUSTER_DATA_BIND_PORT=7101
  RAFT_JOIN=weaviate-0:8300,weaviate-1:8302,weaviate-2:8304 RAFT_BOOTSTRAP_EXPECT=3
local-transformers 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-transformers
  TRANSFORMERS_INFERENCE_API=http://localhost:8000 ENABLE_MODULES=text2vec-transformers
local-transformers-passage-query 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-transformers
  TRANSFORMERS_PASSAGE_INFERENCE_API=http://localhost:8006
  TRANSFORMERS_QUERY_INFERENCE_API=http://localhost:8007 ENABLE_MODULES=text2vec-transformers
local-qna 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary QNA_INFERENCE_API=http://localhost:8001
  ENABLE_MODULES=text2vec-contextionary,qna-transformers
local-sum 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary SUM_INFERENCE_API=http://localhost:8008
  ENABLE_MODULES=text2vec-contextionary,sum-transformers
local-image 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary IMAGE_INFERENCE_API=http://localhost:8002
  ENABLE_MODULES=text2vec-contextionary,img2vec-neural
local-ner 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary NER_INFERENCE_API=http://localhost:8003
  ENABLE_MODULES=text2vec-contextionary,ner-transformers
local-spellcheck 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary
  SPELLCHECK_INFERENCE_API=http://localhost:8004
  ENABLE_MODULES=text2vec-contextionary,text-spellcheck
local-clip 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=multi2vec-clip CLIP_INFERENCE_API=http://localhost:8005
  ENABLE_MODULES=multi2vec-clip
local-bind 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=multi2vec-bind BIND_INFERENCE_API=http://localhost:8011
  ENABLE_MODULES=multi2vec-bind
local-oidc 8080 -
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=false
  AUTHENTICATION_OIDC_ENABLED=true
  AUTHENTICATION_OIDC_ISSUER=http://localhost:9090/auth/realms/weaviate
  AUTHENTICATION_OIDC_USERNAME_CLAIM=email AUTHENTICATION_OIDC_GROUPS_CLAIM=groups
  AUTHENTICATION_OIDC_CLIENT_ID=demo AUTHORIZATION_ADMINLIST_ENABLED=true
  AUTHORIZATION_ADMINLIST_USERS=john@doe.com DEFAULT_VECTORIZER_MODULE=text2vec-contextionary
local-apikey 8080 -
  AUTHENTICATION_APIKEY_ENABLED=true AUTHENTICATION_APIKEY_ALLOWED_KEYS=my-secret-key
  AUTHENTICATION_APIKEY_USERS=john@doe.com AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=false
  AUTHORIZATION_ADMINLIST_ENABLED=true AUTHORIZATION_ADMINLIST_USERS=john@doe.com
  DEFAULT_VECTORIZER_MODULE=none
local-wcs-oidc-and-apikey 8080 -
  AUTHENTICATION_APIKEY_ENABLED=true
  AUTHENTICATION_APIKEY_ALLOWED_KEYS=my-secret-key,my-secret-read-only-key
  AUTHENTICATION_APIKEY_USERS=etienne@semi.technology,etienne+read-only@semi.technology
  AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=false AUTHENTICATION_OIDC_ENABLED=true
  AUTHENTICATION_OIDC_ISSUER=https://auth.wcs.api.weaviate.io/auth/realms/SeMI
  AUTHENTICATION_OIDC_USERNAME_CLAIM=email AUTHENTICATION_OIDC_GROUPS_CLAIM=groups
  AUTHENTICATION_OIDC_CLIENT_ID=wcs AUTHORIZATION_ADMINLIST_ENABLED=true
  AUTHORIZATION_ADMINLIST_USERS=etienne@semi.technology
  AUTHORIZATION_ADMINLIST_READONLY_USERS=etienne+read-only@semi.technology
  DEFAULT_VECTORIZER_MODULE=none RUNTIME_OVERRIDES_ENABLED=true
  RUNTIME_OVERRIDES_PATH=$PWD/tools/dev/config.runtime-overrides.yaml
  RUNTIME_OVERRIDES_LOAD_INTERVAL=30s
local-multi-text 8080 -
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary TRANSFORMERS_INFERENCE_API=http://localhost:8000
  CLIP_INFERENCE_API=http://localhost:8005
  ENABLE_MODULES=text2vec-contextionary,text2vec-transformers,multi2vec-clip
local-ollama 8080 600s
  AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true DEFAULT_VECTORIZER_MODULE=text2vec-ollama
  ENABLE_MODULES=text2vec-ollama
local-openai 8080 600s
  AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true DEFAULT_VECTORIZER_MODULE=text2vec-openai
  ENABLE_MODULES=text2vec-openai
local-qna-openai 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary QNA_INFERENCE_API=http://localhost:8001
  CLUSTER_HOSTNAME=weaviate-0 CLUSTER_IN_LOCALHOST=true
  ENABLE_MODULES=text2vec-contextionary,qna-openai
local-generative-openai 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary QNA_INFERENCE_API=http://localhost:8001
  CLUSTER_HOSTNAME=weaviate-0 CLUSTER_IN_LOCALHOST=true
  ENABLE_MODULES=text2vec-contextionary,generative-openai
local-all-openai 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary QNA_INFERENCE_API=http://localhost:8001
  CLUSTER_HOSTNAME=weaviate-0 CLUSTER_IN_LOCALHOST=true
  ENABLE_MODULES=text2vec-contextionary,qna-openai,generative-openai,text2vec-openai
local-all-google 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary QNA_INFERENCE_API=http://localhost:8001
  CLUSTER_HOSTNAME=weaviate-0 CLUSTER_IN_LOCALHOST=true
  ENABLE_MODULES=text2vec-contextionary,generative-google,text2vec-google
local-all-openai-cohere-google 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary QNA_INFERENCE_API=http://localhost:8001
  CLUSTER_HOSTNAME=weaviate-0 CLUSTER_IN_LOCALHOST=true
  ENABLE_MODULES=text2vec-contextionary,generative-google,text2vec-google,qna-openai,generative-openai,text2vec-openai,generative-cohere,text2vec-cohere,reranker-cohere
local-all-openai-voyageai-google 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary QNA_INFERENCE_API=http://localhost:8001
  CLUSTER_HOSTNAME=weaviate-0
  ENABLE_MODULES=text2vec-contextionary,generative-google,text2vec-google,qna-openai,generative-openai,text2vec-openai,text2vec-voyageai,reranker-voyageai,multi2vec-voyageai
local-huggingface 8080 600s
  AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true CLUSTER_IN_LOCALHOST=true
  DEFAULT_VECTORIZER_MODULE=text2vec-huggingface ENABLE_MODULES=text2vec-huggingface
local-no-modules 8080 3600s
  CLUSTER_GOSSIP_BIND_PORT=7100 CLUSTER_DATA_BIND_PORT=7101
  AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true CLUSTER_IN_LOCALHOST=true
  DEFAULT_VECTORIZER_MODULE=none RUNTIME_OVERRIDES_ENABLED=true
  RUNTIME_OVERRIDES_PATH=$PWD/tools/dev/config.runtime-overrides.yaml
  RUNTIME_OVERRIDES_LOAD_INTERVAL=5s
local-centroid 8080 3600s
  AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true ENABLE_MODULES=ref2vec-centroid
  CLUSTER_IN_LOCALHOST=true
local-s3 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary BACKUP_S3_ENDPOINT=localhost:9000
  BACKUP_S3_USE_SSL=false BACKUP_S3_BUCKET=weaviate-backups AWS_ACCESS_KEY_ID=aws_access_key
  AWS_SECRET_KEY=aws_secret_key ENABLE_MODULES=text2vec-contextionary,backup-s3
  CLUSTER_IN_LOCALHOST=true CLUSTER_GOSSIP_BIND_PORT=7100 CLUSTER_DATA_BIND_PORT=7101
local-node-with-offload 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary PERSISTENCE_DATA_PATH=./data-weaviate-0
  BACKUP_FILESYSTEM_PATH=$PWD/backups-weaviate-0 BACKUP_S3_BUCKET=weaviate-backups
  BACKUP_S3_USE_SSL=false BACKUP_S3_ENDPOINT=localhost:9000
  ENABLE_MODULES=backup-filesystem,text2vec-contextionary,offload-s3
  PROMETHEUS_MONITORING_METRIC_NAMESPACE=weaviate CLUSTER_IN_LOCALHOST=true
  CLUSTER_GOSSIP_BIND_PORT=7100 CLUSTER_DATA_BIND_PORT=7101 RAFT_BOOTSTRAP_EXPECT=1
  OFFLOAD_S3_BUCKET_AUTO_CREATE=true OFFLOAD_S3_ENDPOINT=http://localhost:9000
  AWS_ACCESS_KEY_ID=aws_access_key AWS_SECRET_KEY=aws_secret_key
local-single-offload-node 8080 600s
  AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true PERSISTENCE_DATA_PATH=./data-weaviate-0
  BACKUP_FILESYSTEM_PATH=$PWD/backups-weaviate-0 ENABLE_MODULES=backup-s3,offload-s3
  BACKUP_S3_BUCKET=weaviate-backups BACKUP_S3_USE_SSL=false BACKUP_S3_ENDPOINT=localhost:9000
  PROMETHEUS_MONITORING_METRIC_NAMESPACE=weaviate CLUSTER_IN_LOCALHOST=true
  CLUSTER_GOSSIP_BIND_PORT=7100 CLUSTER_DATA_BIND_PORT=7101 RAFT_BOOTSTRAP_EXPECT=1
  OFFLOAD_S3_ENDPOINT=http://localhost:9000 OFFLOAD_S3_BUCKET_AUTO_CREATE=true
  AWS_ACCESS_KEY_ID=aws_access_key AWS_SECRET_KEY=aws_secret_key
second-s3 8081 600s
  GRPC_PORT=50052 CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  PERSISTENCE_DATA_PATH=././data-weaviate-1 BACKUP_S3_BUCKET=weaviate-backups
  BACKUP_S3_USE_SSL=false BACKUP_S3_ENDPOINT=localhost:9000 CLUSTER_HOSTNAME=weaviate-1
  CLUSTER_IN_LOCALHOST=true CLUSTER_GOSSIP_BIND_PORT=7102 CLUSTER_DATA_BIND_PORT=7103
  CLUSTER_JOIN=localhost:7100 PROMETHEUS_MONITORING_PORT=2113
  PROMETHEUS_MONITORING_METRIC_NAMESPACE=weaviate GO_PROFILING_PORT=6061 RAFT_PORT=8302
  RAFT_INTERNAL_RPC_PORT=8303 RAFT_JOIN=weaviate-0:8300,weaviate-1:8302,weaviate-2:8304
  RAFT_BOOTSTRAP_EXPECT=3 OFFLOAD_S3_BUCKET_AUTO_CREATE=true
  OFFLOAD_S3_ENDPOINT=http://localhost:9000 AWS_ACCESS_KEY_ID=aws_access_key
  AWS_SECRET_KEY=aws_secret_key DEFAULT_VECTORIZER_MODULE=text2vec-contextionary
  ENABLE_MODULES=text2vec-contextionary,backup-s3,offload-s3
local-azure 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary BACKUP_AZURE_CONTAINER=weaviate-container
  AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;
  ENABLE_MODULES=text2vec-contextionary,backup-azure CLUSTER_IN_LOCALHOST=true
  CLUSTER_GOSSIP_BIND_PORT=7100 CLUSTER_DATA_BIND_PORT=7101
local-usage-gcs 8080 600s
  CONTEXTIONARY_URL=localhost:9999 LOG_LEVEL=debug AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary STORAGE_EMULATOR_HOST=localhost:9090
  BACKUP_GCS_ENDPOINT=localhost:9090 BACKUP_GCS_BUCKET=weaviate-backups
  USAGE_GCS_BUCKET=weaviate-usage USAGE_GCS_PREFIX=billing-usage TRACK_VECTOR_DIMENSIONS=false
  USAGE_SCRAPE_INTERVAL=1s USAGE_POLICY_VERSION=2025-06-01
  ENABLE_MODULES=text2vec-contextionary,backup-gcs,usage-gcs CLUSTER_IN_LOCALHOST=true
  CLUSTER_GOSSIP_BIND_PORT=7100 CLUSTER_DATA_BIND_PORT=7101 RUNTIME_OVERRIDES_ENABLED=true
  RUNTIME_OVERRIDES_PATH=$PWD/tools/dev/config.runtime-overrides.yaml
  RUNTIME_OVERRIDES_LOAD_INTERVAL=30s
local-usage-s3 8080 600s
  CONTEXTIONARY_URL=localhost:9999 LOG_LEVEL=debug AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary AWS_ACCESS_KEY_ID=aws_access_key
  AWS_SECRET_ACCESS_KEY=aws_secret_key AWS_REGION=us-east-1 AWS_ENDPOINT=http://localhost:9000
  BACKUP_S3_ENDPOINT=localhost:9000 BACKUP_S3_BUCKET=weaviate-backups BACKUP_S3_USE_SSL=false
  TRACK_VECTOR_DIMENSIONS=false USAGE_S3_BUCKET=weaviate-usage USAGE_S3_PREFIX=billing-usage
  USAGE_SCRAPE_INTERVAL=1s USAGE_POLICY_VERSION=2025-06-01
  ENABLE_MODULES=text2vec-contextionary,backup-s3,usage-s3 CLUSTER_IN_LOCALHOST=true
  CLUSTER_GOSSIP_BIND_PORT=7100 CLUSTER_DATA_BIND_PORT=7101 RUNTIME_OVERRIDES_ENABLED=true
  RUNTIME_OVERRIDES_PATH=$PWD/tools/dev/config.runtime-overrides.yaml
  RUNTIME_OVERRIDES_LOAD_INTERVAL=30s
local-cohere 8080 600s
  AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true CLUSTER_IN_LOCALHOST=true
  DEFAULT_VECTORIZER_MODULE=text2vec-cohere ENABLE_MODULES=text2vec-cohere
local-all-cohere 8080 600s
  AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true CLUSTER_IN_LOCALHOST=true
  DEFAULT_VECTORIZER_MODULE=text2vec-cohere
  ENABLE_MODULES=text2vec-cohere,reranker-cohere,generative-cohere
local-voyageai 8080 600s
  AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true DEFAULT_VECTORIZER_MODULE=text2vec-voyageai
  ENABLE_MODULES=text2vec-voyageai
local-morph 8080 600s
  AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true DEFAULT_VECTORIZER_MODULE=text2vec-morph
  ENABLE_MODULES=text2vec-morph
local-all-voyageai 8080 600s
  AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true DEFAULT_VECTORIZER_MODULE=text2vec-voyageai
  ENABLE_MODULES=text2vec-voyageai,reranker-voyageai
local-reranker-transformers 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-contextionary CLUSTER_IN_LOCALHOST=true
  RERANKER_INFERENCE_API=http://localhost:8009
  ENABLE_MODULES=text2vec-contextionary,reranker-transformers
local-gpt4all 8080 600s
  AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true CLUSTER_IN_LOCALHOST=true
  DEFAULT_VECTORIZER_MODULE=text2vec-gpt4all GPT4ALL_INFERENCE_API=http://localhost:8010
  ENABLE_MODULES=text2vec-gpt4all
local-bigram 8080 600s
  AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true DEFAULT_VECTORIZER_MODULE=text2vec-bigram
  BACKUP_FILESYSTEM_PATH=$PWD/backups ENABLE_MODULES=text2vec-bigram,backup-filesystem
  CLUSTER_IN_LOCALHOST=true CLUSTER_GOSSIP_BIND_PORT=7100 CLUSTER_DATA_BIND_PORT=7101
  RAFT_BOOTSTRAP_EXPECT=1
local-model2vec 8080 600s
  CONTEXTIONARY_URL=localhost:9999 AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true
  DEFAULT_VECTORIZER_MODULE=text2vec-model2vec MODEL2VEC_INFERENCE_API=http://localhost:8012
  ENABLE_MODULES=text2vec-model2vec
local-contextualai 8080 600s
  AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED=true ENABLE_API_BASED_MODULES=true
  RAFT_BOOTSTRAP_TIMEOUT=300
local-mcp 8082 600s
  AUTOSCHEMA_ENABLED=false AUTHENTICATION_APIKEY_ENABLED=true AUTHORIZATION_RBAC_ENABLED=true
  AUTHENTICATION_APIKEY_ALLOWED_KEYS=admin-key,custom-key AUTHENTICATION_APIKEY_USERS=admin,custom-user
  AUTHORIZATION_RBAC_ROOT_USERS=admin MCP_SERVER_ENABLED=true MCP_SERVER_WRITE_ACCESS_ENABLED=true
  MCP_SERVER_CONFIG_PATH=$PWD/tools/dev/config.mcp.json
  DEFAULT_VECTORIZER_MODULE=text2vec-transformers TRANSFORMERS_INFERENCE_API=http://localhost:8000
  ENABLE_MODULES=text2vec-transformers
"""

# Options that reproduce the original profile exactly.
OPTIONS = {"local-reranker-transformers": ["contextionary"]}
# Changes applied to the table mechanically (documented in profiles.yaml `changes`).
GCS_PORT_MOVED = {"local-usage-gcs"}
# non-voters-in-raft-join: the development cluster's RAFT_JOIN also names fourth-node.
FOURTH_NODE_JOINS = ",weaviate-3:8306"
# Each profile has its own state directory, so these are checked by rule, not by value.
PATH_VARIABLES = {"PERSISTENCE_DATA_PATH", "BACKUP_FILESYSTEM_PATH"}


def parse_table(text: str) -> dict[str, tuple[int, str | None, dict[str, str]]]:
    table: dict[str, tuple[int, str | None, dict[str, str]]] = {}
    name = None
    for line in text.strip().splitlines():
        if not line.startswith(" "):
            name, port, timeout = line.split()
            table[name] = (int(port), None if timeout == "-" else timeout, {})
            continue
        for token in line.split():
            key, value = token.split("=", 1)
            table[name][2][key] = value.replace("$PWD", str(CHECKOUT))
    return table


TABLE = parse_table(ORIGINAL)


@pytest.fixture(scope="module")
def catalog() -> ProfileCatalog:
    return ProfileCatalog.load()


def test_all_63_labels_are_profiles(catalog):
    assert len(ALL_LABELS) == 63 and len(set(ALL_LABELS)) == 63
    theirs = [n for n in catalog.names() if not catalog.get(n).ours]
    assert sorted(theirs) == sorted(ALL_LABELS)
    helpers = {n for n in catalog.names() if catalog.get(n).kind == "helper"}
    assert helpers == HELPERS


def test_every_profile_resolves(catalog, tmp_path):
    for name in ALL_LABELS:
        if name in HELPERS:
            continue
        plan = catalog.resolve(name, data_root=tmp_path, checkout=CHECKOUT)
        assert plan.env["PERSISTENCE_DATA_PATH"].startswith(str(tmp_path)), name
        assert "{" not in "".join(plan.env.values()), name  # no placeholder left


def test_table_covers_every_profile_without_a_fixed_defect(catalog):
    allowed = {"shared-data-dirs", "duplicate-assignments", "gcs-emulator-port",
               "reranker-without-contextionary", "non-voters-in-raft-join"}
    unchanged = {n for n in catalog.names() if catalog.get(n).kind != "helper"
                 and not catalog.get(n).ours and set(catalog.get(n).fixes) <= allowed}
    assert unchanged == set(TABLE)
    assert len(TABLE) >= 45


@pytest.mark.parametrize("name", sorted(TABLE))
def test_environment_equals_the_original(catalog, name):
    port, timeout, own = TABLE[name]
    expected = {**COMMON, **own}
    if name in GCS_PORT_MOVED:
        expected = {k: v.replace("localhost:9090", "localhost:9092") for k, v in expected.items()}
    if "non-voters-in-raft-join" in catalog.get(name).fixes:
        expected["RAFT_JOIN"] += FOURTH_NODE_JOINS
    plan = catalog.resolve(name, data_root=DATA_ROOT, checkout=CHECKOUT,
                           options=OPTIONS.get(name, []))
    ours = {k: v for k, v in plan.env.items() if k not in PATH_VARIABLES}
    theirs = {k: v for k, v in expected.items() if k not in PATH_VARIABLES}
    assert ours == theirs
    assert ("BACKUP_FILESYSTEM_PATH" in plan.env) == ("BACKUP_FILESYSTEM_PATH" in expected)
    flags = ["--scheme", "http", "--host", "127.0.0.1", "--port", str(port)]
    if timeout:
        flags += [f"--read-timeout={timeout}", f"--write-timeout={timeout}"]
    assert list(plan.server_args) == flags


def test_debug_runs_under_dlv_and_the_rest_under_go(catalog):
    runners = {n: catalog.get(n).runner for n in TABLE}
    assert runners.pop("debug") == "dlv"
    assert set(runners.values()) == {"go"}
