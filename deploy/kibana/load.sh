#!/usr/bin/env bash
# Load the newswatch data views, visualisations and dashboard into Kibana.
# Usage: deploy/kibana/load.sh [file.ndjson]
# Env: KIBANA_URL (default http://127.0.0.1:5601), KIBANA_SPACE (optional space id),
#      KIBANA_API_KEY, or KIBANA_USER + KIBANA_PASSWORD (never printed).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
file="${1:-${here}/newswatch.ndjson}"
url="${KIBANA_URL:-http://127.0.0.1:5601}"
url="${url%/}"
[[ -n "${KIBANA_SPACE:-}" ]] && url="${url}/s/${KIBANA_SPACE}"

if [[ ! -r "$file" ]]; then
  echo "load.sh: ${file}: cannot read saved objects" >&2
  exit 2
fi

# Credentials go to curl as a config file on a pipe, so they never appear in the process list.
auth_config() {
  if [[ -n "${KIBANA_API_KEY:-}" ]]; then
    printf 'header = "Authorization: ApiKey %s"\n' "$KIBANA_API_KEY"
  elif [[ -n "${KIBANA_USER:-}" ]]; then
    printf 'user = "%s:%s"\n' "$KIBANA_USER" "${KIBANA_PASSWORD:-}"
  fi
}

# overwrite=true: re-running replaces the objects by id, so the load is idempotent.
response="$(curl --silent --show-error --fail-with-body --max-time 60 \
  -X POST "${url}/api/saved_objects/_import?overwrite=true" \
  -H 'kbn-xsrf: true' --config <(auth_config) \
  --form "file=@${file}" 2>&1)" || {
  echo "load.sh: ${url}: import failed: ${response//$'\n'/ }" >&2
  exit 1
}

# Kibana answers 200 even when single objects fail; success must be true.
if [[ "$response" != *'"success":true'* ]]; then
  echo "load.sh: ${url}: import reported errors: ${response}" >&2
  exit 1
fi
echo "load.sh: imported $(basename "$file") into ${url}"
