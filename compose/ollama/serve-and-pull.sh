#!/bin/sh
# Runs `ollama serve`, then pulls each model named in OLLAMA_PULL_MODELS (comma-separated)
# once the server answers, and stays in the foreground with the server.
set -u
ollama serve &
server=$!
tries=0
until ollama list >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -gt 120 ]; then
    echo "ollama serve did not answer within 120s" >&2
    exit 1
  fi
  sleep 1
done
for model in $(echo "${OLLAMA_PULL_MODELS:-}" | tr ',' ' '); do
  echo "pulling $model"
  ollama pull "$model" || echo "could not pull $model" >&2
done
wait "$server"
