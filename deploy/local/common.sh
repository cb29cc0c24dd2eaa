# shellcheck shell=bash disable=SC2034  # variables are used by the sourcing scripts
# Shared helpers for deploy/local/*.sh. Sourced, not executed.
# Everything here binds or connects to 127.0.0.1 only.

# Resolve repository paths from this file's location.
DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${DEPLOY_DIR}/../.." && pwd)"
CACHE_DIR="${NEWSWATCH_DEPLOY_CACHE:-${REPO_ROOT}/.cache/deploy}"
RUN_DIR="${NEWSWATCH_RUN_DIR:-${CACHE_DIR}/run}"
STOP_TIMEOUT="${NEWSWATCH_STOP_TIMEOUT:-30}"
LOCAL_HOST=127.0.0.1

log() { printf '[%s] %s\n' "${SERVICE:-deploy}" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "${SERVICE:-deploy}" "$*" >&2; exit 1; }

# now_ms: wall clock in milliseconds.
now_ms() { date +%s%3N; }

# require_cmd CMD...: fail clearly if a command is missing.
require_cmd() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || die "'$c' is required but not installed"
  done
}

# port_open PORT: true if something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  (exec 3<>"/dev/tcp/${LOCAL_HOST}/$1") >/dev/null 2>&1
}

# java_major JAVA_HOME: print the feature version of a JDK (17, 21, 25...), or nothing.
java_major() {
  local home="$1" v=""
  [[ -x "${home}/bin/java" ]] || return 0
  if [[ -r "${home}/release" ]]; then
    v="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "${home}/release")"
  fi
  if [[ -z "$v" ]]; then
    v="$("${home}/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9]*\).*/\1/p')"
  fi
  printf '%s' "$v"
}

# find_java MIN PREF [EXPLICIT]: print a JAVA_HOME with major >= MIN.
#   EXPLICIT (an env var's value) wins if set; otherwise candidates are $JAVA_HOME,
#   the 'java' on PATH, /usr/lib/jvm/* and /opt/*; PREF=low picks the lowest
#   qualifying major, PREF=high the highest.
find_java() {
  local min="$1" pref="$2" explicit="${3:-}" cand major best="" best_major=""
  if [[ -n "$explicit" ]]; then
    major="$(java_major "$explicit")"
    [[ -n "$major" ]] || die "no java at ${explicit}/bin/java"
    (( major >= min )) || die "${explicit} is Java ${major}; Java ${min}+ is needed"
    printf '%s' "$explicit"
    return 0
  fi
  local -a cands=()
  [[ -n "${JAVA_HOME:-}" ]] && cands+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    cands+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for cand in /usr/lib/jvm/* /opt/*; do
    [[ -d "$cand" && ! -L "$cand" ]] && cands+=("$cand")
  done
  for cand in "${cands[@]}"; do
    major="$(java_major "$cand")"
    [[ -n "$major" ]] || continue
    (( major >= min )) || continue
    if [[ -z "$best" ]] \
      || { [[ "$pref" == low ]] && (( major < best_major )); } \
      || { [[ "$pref" == high ]] && (( major > best_major )); }; then
      best="$cand"
      best_major="$major"
    fi
  done
  [[ -n "$best" ]] || die "no JDK ${min}+ found (looked in JAVA_HOME, PATH, /usr/lib/jvm, /opt)"
  printf '%s' "$best"
}

# pid_alive PIDFILE MARKER: true if the pid in PIDFILE runs and its command line
# contains MARKER (guards against a recycled pid).
pid_alive() {
  local pidfile="$1" marker="$2" pid
  [[ -s "$pidfile" ]] || return 1
  pid="$(tr -dc '0-9' <"$pidfile")"
  [[ -n "$pid" ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -qF -- "$marker"
}

# read_pid PIDFILE: print the pid stored in PIDFILE.
read_pid() { tr -dc '0-9' <"$1"; }

# stop_pid PIDFILE MARKER NAME: SIGTERM, wait STOP_TIMEOUT s, then SIGKILL; remove PIDFILE.
stop_pid() {
  local pidfile="$1" marker="$2" name="$3" pid waited=0 _
  if ! pid_alive "$pidfile" "$marker"; then
    if [[ -e "$pidfile" ]]; then
      log "${name} not running (removing stale pid file)"
      rm -f "$pidfile"
    else
      log "${name} not running"
    fi
    return 0
  fi
  pid="$(read_pid "$pidfile")"
  log "stopping ${name} (pid ${pid}, SIGTERM)"
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if (( waited >= STOP_TIMEOUT * 5 )); then
      log "${name} still running after ${STOP_TIMEOUT}s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      break
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
  rm -f "$pidfile"
  log "${name} stopped"
}

# stop_group PGID NAME: SIGTERM a whole process group (a launcher started with setsid
# and everything it spawned), SIGKILL after STOP_TIMEOUT s.
stop_group() {
  local pgid="$1" name="$2" waited=0 _
  kill -0 -- "-${pgid}" 2>/dev/null || return 0
  log "stopping ${name} process group ${pgid} (SIGTERM)"
  kill -TERM -- "-${pgid}" 2>/dev/null || true
  while kill -0 -- "-${pgid}" 2>/dev/null; do
    if (( waited >= STOP_TIMEOUT * 5 )); then
      log "${name} process group ${pgid} still running after ${STOP_TIMEOUT}s: SIGKILL"
      kill -KILL -- "-${pgid}" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 -- "-${pgid}" 2>/dev/null || break; sleep 0.1; done
      break
    fi
    sleep 0.2
    waited=$((waited + 1))
  done
}

# show_tail FILE...: print the last lines of each non-empty log file to stderr; if
# LAUNCH_STAMP names a file, skip logs not written since (left over from earlier runs).
show_tail() {
  local f
  for f in "$@"; do
    [[ -s "$f" ]] || continue
    if [[ -n "${LAUNCH_STAMP:-}" && -e "$LAUNCH_STAMP" && ! "$f" -nt "$LAUNCH_STAMP" ]]; then
      continue
    fi
    printf -- '----- last 40 lines of %s -----\n' "$f" >&2
    tail -n 40 "$f" >&2
  done
  printf -- '-----\n' >&2
}

# check_stamp FILE VALUE WHAT RESET_HINT: a run folder remembers what it was created
# with (version, controller port); refuse to reuse it with a different value.
check_stamp() {
  local file="$1" value="$2" what="$3" hint="$4"
  if [[ -f "$file" ]]; then
    [[ "$(cat "$file")" == "$value" ]] \
      || die "$(dirname "$file") was created with ${what} $(cat "$file"), now ${value}: run '${hint}' first (deletes its data)"
  else
    mkdir -p "$(dirname "$file")"
    printf '%s\n' "$value" >"$file"
  fi
}

# check_port_free PORT WHAT: fail if something already listens on 127.0.0.1:PORT.
check_port_free() {
  if port_open "$1"; then
    die "127.0.0.1:$1 (${2}) is already in use by another process; pick another port (see deploy/local/README.md)"
  fi
}

# The sub-command named by $1, run with the cmd_* functions the service script
# defines (every service script offers the same five).
dispatch() {
  case "${1:-}" in
    fetch | up | down | status | reset) "cmd_$1" ;;
    *) usage; exit 2 ;;
  esac
}

# others_can_reach DIR: every existing folder on the way to DIR lets other users
# through (o+x); folders still to be made get it from the usual umask.
others_can_reach() {
  local dir
  dir="$(realpath -m "$1")"
  while [[ "$dir" != "/" ]]; do
    if [[ -d "$dir" ]] && ! (( 8#$(stat -c %a "$dir") & 1 )); then
      return 1
    fi
    dir="$(dirname "$dir")"
  done
}
