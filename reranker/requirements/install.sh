#!/bin/sh
# install.sh FILE...: install locked requirement files into /opt/venv, exactly (--require-hashes
# --no-deps), compiled to bytecode as pip would (the image runs with PYTHONDONTWRITEBYTECODE:
# without .pyc files every start would compile the imports again). uv does it several times
# faster than pip (parallel downloads; 26 s instead of 62 s for the torch extra). uv itself
# comes hash-pinned from uv.txt through the base image's own pip into a scratch directory, so
# neither uv nor pip ends up in the venv. Honours PIP_INDEX_URL / PIP_EXTRA_INDEX_URL and the
# CA bundle (PIP_CERT, SSL_CERT_FILE) that the Dockerfile's build.env sets.
# An index given as plain http (weaviate-dev's relay, see docs/reranker.md) is trusted as given:
# pip would otherwise skip it as insecure.
set -eu
here=$(dirname "$0")
venv=/opt/venv
trusted=""
for url in ${PIP_INDEX_URL:-} ${PIP_EXTRA_INDEX_URL:-}; do
    case "$url" in
        http://*) host=${url#http://}; host=${host%%/*}; trusted="$trusted --trusted-host ${host##*@}" ;;
    esac
done
bootstrap=$(mktemp -d)
# shellcheck disable=SC2086 # the options are words
python3 -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
    $trusted --target "$bootstrap" -r "$here/uv.txt"
indexes=""
if [ -n "${PIP_INDEX_URL:-}" ]; then indexes="--index-url $PIP_INDEX_URL"; fi
for url in ${PIP_EXTRA_INDEX_URL:-}; do indexes="$indexes --extra-index-url $url"; done
for file in "$@"; do
    # shellcheck disable=SC2086 # the index options are words
    UV_NO_CACHE=1 "$bootstrap/bin/uv" pip install --python "$venv/bin/python" --require-hashes \
        --no-deps --compile-bytecode $indexes -r "$file"
done
rm -rf "$bootstrap"
