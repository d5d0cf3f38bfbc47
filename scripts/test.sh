#!/usr/bin/env bash
# Run every test: lint, unit, sanity, and the molecule scenarios in Docker.
# On a fresh Debian 12 machine (as root) it installs what it needs: docker.io, debootstrap, rsync, shellcheck,
# python3-venv, the pinned tools in .venv, the test image and the wheelhouse.
#   scripts/test.sh                 everything
#   scripts/test.sh lint|units|sanity|molecule [scenario...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
source scripts/lib/env.sh
export NO_COLOR=1 PY_COLORS=0

stage=${1:-all}; shift || true
declare -a timings=()
timing() { printf '%-28s %4ds\n' "$1" "$2"; }  # timing NAME SECONDS: a line of the stage times
run() {  # run NAME CMD...: time a stage and record it
  local name=$1; shift
  local t0=$SECONDS
  echo "=== $name"
  "$@"
  timings+=("$(timing "$name" $((SECONDS - t0)))")
}
summary() { echo "=== stage times"; printf '%s\n' "${timings[@]}"; }
trap summary EXIT

need_debs() {
  local missing=()
  for cmd_pkg in "$@"; do command -v "${cmd_pkg%%:*}" >/dev/null 2>&1 || missing+=("${cmd_pkg##*:}"); done
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { echo "missing: ${missing[*]} (install them, or run as root)" >&2; exit 1; }
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

shell_scripts() {  # every shell script in the checkout, NUL-separated: *.sh, or a file whose #! line runs a shell
  # (not a Jinja template of one, *.j2: shell only once a role has rendered it)
  local f
  while IFS= read -r -d '' f; do
    [[ $f != *.j2 ]] || continue
    if [[ $f == *.sh ]] || head -n 1 "$f" | grep -qaE '^#! *(/usr)?/bin/(env +)?(ba|da)?sh( |$)'; then
      printf '%s\0' "$f"
    fi
  done < <(find . \( -path ./.git -o -path ./.venv -o -path ./.cache -o -path ./tests/output \) -prune -o -type f -print0)
}

changelog_lint() {  # fragments, the release history, and CHANGELOG.rst generated from that history
  antsibull-changelog lint
  antsibull-changelog lint-changelog-yaml --strict changelogs/changelog.yaml
  local tmp; tmp=$(mktemp -d)
  antsibull-changelog generate --output "$tmp/CHANGELOG.rst"
  if ! diff -u CHANGELOG.rst "$tmp/CHANGELOG.rst"; then
    rm -rf "$tmp"; echo "CHANGELOG.rst is not what changelogs/changelog.yaml gives: run antsibull-changelog generate" >&2
    return 1
  fi
  rm -rf "$tmp"
}

lint() {
  # molecule installs a copy of this collection under $ANSIBLE_HOME, found before the checkout's link: a copy
  # from an earlier run would be linted instead of the working tree (molecule installs it again each run).
  rm -rf "$ANSIBLE_HOME/collections/ansible_collections/mlops"
  yamllint -s .
  ansible-lint -q
  ruff check .
  ruff format --check --diff .
  python3 scripts/lib/role-readmes.py --check
  need_debs shellcheck:shellcheck
  local scripts; mapfile -d '' scripts < <(shell_scripts)
  shellcheck "${scripts[@]}"  # settings: .shellcheckrc
  echo "shellcheck: ${#scripts[@]} scripts"
  changelog_lint
}

build() {  # the tarball installs and its modules document themselves
  local tmp; tmp=$(mktemp -d)
  ansible-galaxy collection build --output-path "$tmp" . >/dev/null
  ANSIBLE_COLLECTIONS_PATH="$tmp/installed" \
    ansible-galaxy collection install --offline --no-deps -p "$tmp/installed" "$tmp"/mlops-mlflow-*.tar.gz >/dev/null
  for m in s3_bucket db_upgrade minio_user; do
    ANSIBLE_COLLECTIONS_PATH="$tmp/installed:$MLFLOW_REPO/.cache/collections" ansible-doc "mlops.mlflow.$m" | grep -q "RETURN VALUES"
  done
  ANSIBLE_COLLECTIONS_PATH="$tmp/installed:$MLFLOW_REPO/.cache/collections" ansible-doc -t role mlops.mlflow.server | grep -q mlflow_db_password
  echo "built and installed $(basename "$tmp"/mlops-mlflow-*.tar.gz) ($(tar tzf "$tmp"/mlops-mlflow-*.tar.gz | wc -l) files)"
  rm -rf "$tmp"
}

platform_of() {  # platform_of SCENARIO[@PLATFORM]: the platform it runs on (Debian 12 unless named)
  if [[ $1 == *@* ]]; then echo "${1#*@}"; else echo debian12; fi
}

molecule_test() {  # molecule_test SCENARIO[@PLATFORM]
  ( mlflow_platform "$(platform_of "$1")"
    # default on Debian 12 with Ansible's own linear strategy, as users run it; the others with Mitogen
    # (.config/molecule/config.yml, molecule/resources/plugins/strategy)
    if [ "${1%@*}" = default ] && [ "$MLFLOW_TEST_PLATFORM" = debian12 ]; then export MLFLOW_TEST_STRATEGY=linear; fi
    if [ "${1%@*}" = default ] && [ "$MLFLOW_TEST_PLATFORM" != debian12 ]; then
      platform_sequence "${1%@*}" 2>&1 | python3 scripts/lib/phase-times.py
    else
      molecule test -s "${1%@*}" 2>&1 | python3 scripts/lib/phase-times.py
    fi
    exit "${PIPESTATUS[0]}" )
}

# The default scenario on the platforms other than Debian 12: what depends on the platform (install from the
# platform's packages, verify). Its idempotence and check steps and its side effect (a package change, a schema
# upgrade) run on Debian 12 only (the tests that read their results skip): the suite must stay within CI's 90
# minutes on 2 cores (docs/testing.md, 2026-12-07).
platform_sequence() {  # platform_sequence SCENARIO
  local rc=0 action
  molecule destroy -s "$1"
  for action in syntax create prepare converge verify; do
    molecule "$action" -s "$1" || { rc=$?; break; }
  done
  molecule destroy -s "$1"
  return "$rc"
}

# A scenario runs on Debian 12 unless named SCENARIO@PLATFORM (tests/images/platforms.sh). The default scenario,
# the full check of one all-in-one host with its proxy and an outside client, runs on every tested platform; the
# others test what does not depend on the distribution (several hosts, failures, conda) on Debian 12.
molecule_scenarios() {
  need_debs rsync:rsync debootstrap:debootstrap
  scripts/lib/docker-engine.sh
  scripts/lib/wheelhouse.sh
  local scenarios=("$@")
  [ ${#scenarios[@]} -gt 0 ] || scenarios=(default default@debian13 default@ubuntu2404 upgrade sftp multi-host scale-out
    minio-distributed conda resilience)
  # conda-real needs the real Miniforge installer and conda-forge: opt-in, on online machines.
  [ "${MLFLOW_TEST_REAL_CONDA:-0}" != 1 ] || [ $# -gt 0 ] || scenarios+=(conda-real)
  local platforms=() s
  for s in "${scenarios[@]}"; do platforms+=("$(platform_of "$s")"); done
  mapfile -t platforms < <(printf '%s\n' "${platforms[@]}" | sort -u)
  run "test images" scripts/lib/build-image.sh --ready "${platforms[@]}"
  # conda: the STAND-IN installer and channel (tests/standins/conda), rebuilt when its sources change
  [[ " ${scenarios[*]} " != *" conda "* ]] || run "conda stand-in build" tests/standins/conda/build.sh
  local t0=$SECONDS rc
  echo "=== molecule: ${scenarios[*]} in ${MLFLOW_TEST_JOBS:-2} lanes"
  molecule_lanes "${scenarios[@]}" && rc=0 || rc=$?
  [ ! -f "$LOGS/times" ] || mapfile -t -O "${#timings[@]}" timings < "$LOGS/times"
  timings+=("$(timing "molecule, all lanes (wall)" $((SECONDS - t0)))")
  return "$rc"
}

# Seconds each scenario took in two lanes (clean-clone run of a18747f, 2026-12-08, docs/testing.md; the ones after
# `upgrade` with a third scenario run beside them, scaled back): lanes take the longest work first.
declare -A SCENARIO_SECONDS=([default]=2025 [default@debian13]=529 [default@ubuntu2404]=630 [upgrade]=2950 [sftp]=600
  [multi-host]=650 [scale-out]=1500 [minio-distributed]=250 [conda]=280 [resilience]=500)
LOGS="$MLFLOW_REPO/.cache/logs"

# The scenarios in MLFLOW_TEST_JOBS lanes (default 2) at once. A molecule run keeps about one core busy (the
# controller's Ansible, then the hosts' work in turn), so two lanes use the 2 cores CI has. Scenarios share no
# container, network or port; SCENARIO@PLATFORM runs of one scenario share their container names: one lane, in
# order. Each lane has its own ANSIBLE_HOME (molecule installs the collection there at each run) and apt cache.
# A scenario's whole output is printed when it ends, one at a time; after a failure no lane starts new work, and
# the failed scenarios' summaries (scripts/lib/phase-times.py) are printed again at the end.
molecule_lanes() {  # molecule_lanes SCENARIO...
  local jobs=${MLFLOW_TEST_JOBS:-2} s base i rc=0
  local -A unit=() cost=()
  local order=()
  for s; do
    base=${s%@*}
    [ -n "${unit[$base]+x}" ] || order+=("$base")
    unit[$base]+="$s "
    cost[$base]=$((${cost[$base]:-0} + ${SCENARIO_SECONDS[$s]:-300}))
  done
  rm -rf "$LOGS" && mkdir -p "$LOGS"
  for base in "${order[@]}"; do echo "${cost[$base]} ${unit[$base]}"; done | sort -rn | cut -d' ' -f2- > "$LOGS/queue"
  local pids=()
  for ((i = 1; i <= jobs; i++)); do lane "$i" & pids+=($!); done
  for i in "${pids[@]}"; do wait "$i" || rc=1; done
  if [ -f "$LOGS/failed" ]; then
    while read -r s; do echo "=== $s failed (its log: $LOGS/$s.log); its end:"; tail -n 80 "$LOGS/$s.log"; done < "$LOGS/failed"
    rc=1
  fi
  return "$rc"
}

lane() {  # lane N: take units from $LOGS/queue until it is empty or a scenario failed
  export ANSIBLE_HOME="$MLFLOW_REPO/.cache/ansible-home-lane-$1"
  local units s t0 rc
  while [ ! -f "$LOGS/failed" ]; do
    # shellcheck disable=SC2016  # $1 is the inner shell's
    units=$(flock "$LOGS/queue.lock" sh -c 'head -n 1 "$1"; sed -i 1d "$1"' _ "$LOGS/queue")
    [ -n "$units" ] || return 0
    for s in $units; do
      t0=$SECONDS
      echo "=== molecule $s (lane $1) started"
      MLFLOW_APT_CACHE_LANE=$1 molecule_test "$s" > "$LOGS/$s.log" 2>&1 && rc=0 || rc=$?
      timing "molecule $s" $((SECONDS - t0)) >> "$LOGS/times"
      # shellcheck disable=SC2016  # $1.. are the inner shell's
      flock "$LOGS/print.lock" sh -c 'echo "=== molecule $1 (lane $2), its output:"; cat "$3"' _ "$s" "$1" "$LOGS/$s.log"
      if [ "$rc" != 0 ]; then echo "$s" >> "$LOGS/failed"; return "$rc"; fi
    done
  done
}

# The stages that need no container (repo tests, ansible-test sanity and units), one after another; each one's
# time goes to $CHECKS/times.
checks() {
  local t0=$SECONDS
  python -m pytest -q -p no:cacheprovider -n 2 tests/unit_repo || return
  timing "repo tests (beside molecule)" $((SECONDS - t0)) >> "$CHECKS/times"; t0=$SECONDS
  scripts/lib/ansible-test.sh sanity || return
  timing "ansible-test sanity (beside)" $((SECONDS - t0)) >> "$CHECKS/times"; t0=$SECONDS
  scripts/lib/ansible-test.sh units || return
  timing "ansible-test units (beside)" $((SECONDS - t0)) >> "$CHECKS/times"
}

run bootstrap scripts/lib/bootstrap.sh
case "$stage" in
  all)
    run lint lint
    run build build
    # checks run beside the molecule lanes, at nice 10, and take what the lanes leave idle (their tails, tests'
    # waits); the machine is CPU-bound all along, so this moves their work more than it removes it
    # (docs/testing.md, Durations). Their output is printed when both are done.
    CHECKS="$MLFLOW_REPO/.cache/checks"
    rm -rf "$CHECKS" && mkdir -p "$CHECKS"
    ( renice -n 10 "$BASHPID" >/dev/null; checks ) > "$CHECKS/log" 2>&1 &
    checks_pid=$!
    molecule_scenarios "$@" && molecule_rc=0 || molecule_rc=$?
    wait "$checks_pid" && checks_rc=0 || checks_rc=$?
    echo "=== repo tests, ansible-test sanity and units (beside molecule), their output:"
    cat "$CHECKS/log"
    [ ! -f "$CHECKS/times" ] || mapfile -t -O "${#timings[@]}" timings < "$CHECKS/times"
    [ "$checks_rc" = 0 ] || echo "=== repo tests, ansible-test sanity or units failed (output above)" >&2
    [ "$molecule_rc" = 0 ] && [ "$checks_rc" = 0 ] || exit 1
    ;;
  lint) run lint lint; run build build ;;
  units) run "repo tests" python -m pytest -q -p no:cacheprovider -n 2 tests/unit_repo; run "ansible-test units" scripts/lib/ansible-test.sh units ;;
  sanity) run "ansible-test sanity" scripts/lib/ansible-test.sh sanity ;;
  molecule) molecule_scenarios "$@" ;;
  *) echo "unknown stage $stage" >&2; exit 2 ;;
esac
echo "=== all passed"
