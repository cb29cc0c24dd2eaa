#!/usr/bin/env bash
# Build Beam's Prism runner (the portable runner for unbounded pipelines) with Go,
# once, into an ignored cache folder; print the binary's path.
# Beam would download a release binary from GitHub, which is unreachable here;
# the Go module proxy is not. Usage: deploy/local/prism.sh [BEAM_VERSION]
# (default: the apache-beam version of $PYTHON, else of .venv/bin/python).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVICE=prism
# shellcheck source=deploy/local/common.sh
source "${here}/common.sh"

python="${PYTHON:-${REPO_ROOT}/.venv/bin/python}"
version="${1:-${NEWSWATCH_BEAM_VERSION:-}}"
if [[ -z "$version" ]]; then
  version="$("$python" -c 'import importlib.metadata as m; print(m.version("apache-beam"))')"
fi
dir="${NEWSWATCH_PRISM_CACHE:-${REPO_ROOT}/.cache/prism}/v${version}"
bin="${dir}/prism"
if [[ -x "$bin" ]]; then
  printf '%s\n' "$bin"
  exit 0
fi
require_cmd go
mkdir -p "$dir"
log "building prism v${version} with $(go version | cut -d' ' -f3) (about 3 min on 2 cores, once)"
start=$(now_ms)
if ! GOBIN="$dir" GOFLAGS="${GOFLAGS:--buildvcs=false}" \
    go install "github.com/apache/beam/sdks/v2/go/cmd/prism@v${version}" >"${dir}/build.log" 2>&1; then
  tail -n 20 "${dir}/build.log" >&2
  die "go install of prism v${version} failed (log: ${dir}/build.log)"
fi
log "built ${bin} in $(( ($(now_ms) - start) / 1000 )) s"
printf '%s\n' "$bin"
