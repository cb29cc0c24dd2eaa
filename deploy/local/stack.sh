#!/usr/bin/env bash
# Local newswatch stack (Kafka + Elasticsearch) on 127.0.0.1.
# Usage: deploy/local/stack.sh fetch|up|down|status|reset [kafka|elasticsearch|es|all]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cmd="${1:-}"
target="${2:-all}"

case "$cmd" in
  fetch|up|down|status|reset) ;;
  *)
    echo "usage: $0 fetch|up|down|status|reset [kafka|elasticsearch|es|all]" >&2
    exit 2
    ;;
esac

case "$target" in
  kafka) services=(kafka) ;;
  es|elasticsearch) services=(elasticsearch) ;;
  all)
    # Stop in reverse order of start.
    if [[ "$cmd" == down || "$cmd" == reset ]]; then
      services=(elasticsearch kafka)
    else
      services=(kafka elasticsearch)
    fi
    ;;
  *) echo "unknown service '$target' (kafka, elasticsearch, all)" >&2; exit 2 ;;
esac

rc=0
for s in "${services[@]}"; do
  if [[ "$cmd" == status ]]; then
    "${here}/${s}.sh" status || rc=$?
  else
    "${here}/${s}.sh" "$cmd"
  fi
done
exit "$rc"
