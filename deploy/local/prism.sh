#!/usr/bin/env bash
# Build Beam's Prism runner (the portable runner for unbounded pipelines) with Go,
# once, into an ignored cache folder; print the binary's path.
# Beam would download a release binary from GitHub, which is unreachable here;
# the Go module proxy is not. Usage: deploy/local/prism.sh [BEAM_VERSION]
# (default: the apache-beam version of $PYTHON, else of .venv/bin/python).
# The module source is patched first with deploy/local/prism-patches/*.patch (each
# says which upstream bug it works around); the cache folder is named after the
# patches' digest, so changing a patch builds anew.
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
patches=("${here}"/prism-patches/*.patch)
digest="$(cat "${patches[@]}" | sha256sum | cut -c1-12)"
dir="${NEWSWATCH_PRISM_CACHE:-${REPO_ROOT}/.cache/prism}/v${version}-${digest}"
bin="${dir}/prism"
if [[ -x "$bin" ]]; then
  printf '%s\n' "$bin"
  exit 0
fi
require_cmd go patch
mkdir -p "$dir"
log "building prism v${version} with $(go version | cut -d' ' -f3) (about 3 min on 2 cores, once)"
start=$(now_ms)
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
module="github.com/apache/beam/sdks/v2@v${version}"
if ! origin="$(go mod download -json "$module" 2>"${dir}/build.log" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" \
    || [[ -z "$origin" ]]; then
  tail -n 20 "${dir}/build.log" >&2
  die "go mod download of ${module} failed (log: ${dir}/build.log)"
fi
src="${dir}/src"
rm -rf "$src"
cp -r "$origin" "$src"
chmod -R u+w "$src"  # the module cache is read-only
for p in "${patches[@]}"; do
  patch -s -p1 -d "$src" <"$p" >>"${dir}/build.log" 2>&1 \
    || die "$(basename "$p") does not apply to prism v${version} (log: ${dir}/build.log)"
done
if ! (cd "$src" && go build -o "$bin" ./go/cmd/prism) >>"${dir}/build.log" 2>&1; then
  tail -n 20 "${dir}/build.log" >&2
  die "go build of prism v${version} failed (log: ${dir}/build.log)"
fi
rm -rf "$src"
log "built ${bin} (${#patches[@]} patch(es)) in $(( ($(now_ms) - start) / 1000 )) s"
printf '%s\n' "$bin"
