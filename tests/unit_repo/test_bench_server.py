"""scripts/bench-server.sh runs to its report with Docker and the MLflow client stood in for, and keeps its results.

No container and no server: a stand-in `docker` on PATH answers what the script asks the deploy-local container
(the container runs, the units start, memory, the in-container client's JSON) and logs every call; the host client
venv (scripts/lib/client-venv.sh) is replaced in a copy of the checkout by one that prints a stand-in interpreter
answering as bench_client.py does. What this checks is the script's own control flow under `set -euo pipefail`:
every variable it reads is set, it prints the report, the measurements and the report survive its EXIT trap, and
the trap removes only the throw-away client home, the guide's env file and the copied client.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What bench_client.py prints, per measurement (one JSON object on stdout).
CLIENT = r"""#!/usr/bin/env bash
# stand-in for bench_client.py: ARGS = [path of bench_client.py] KIND ...
[ "${1##*/}" != bench_client.py ] || shift
case $1 in
  latency) echo '{"calls": 200, "p50_ms": 10.0, "p90_ms": 12.5}' ;;
  load) echo "{\"clients\": $4, \"seconds\": $3, \"rps\": 80.0, \"errors\": 0}" ;;
  transfer|s3) echo "{\"mb\": $3, \"up_s\": 2.0, \"down_s\": 1.0}" ;;
  *) echo "stand-in client: unknown $1" >&2; exit 2 ;;
esac
"""

DOCKER = r"""#!/usr/bin/env bash
# stand-in for docker: the deploy-local container, running, with the collection's server deployed
printf '%s\n' "$*" >> "$BENCH_TEST_LOG"
case $1 in
  container) echo true ;;
  cp|ps) ;;
  exec)
    shift
    while [[ $1 == -* ]]; do case $1 in -i) shift ;; *) shift 2 ;; esac; done
    shift  # the container
    case "$*" in
      "bash -s"*) cat >/dev/null ;;
      "bash -c"*) ;;
      "systemctl show -p MemoryCurrent"*) echo 104857600 ;;
      systemctl*|cp*) ;;
      *"/bin/python /root/bench_client.py "*) shift; exec "$BENCH_TEST_CLIENT" "${@:2}" ;;
      *"/bin/python -c"*) echo "asyncio h11" ;;
      *) echo "stand-in docker: unexpected exec $*" >&2; exit 2 ;;
    esac ;;
  *) echo "stand-in docker: unexpected $*" >&2; exit 2 ;;
esac
"""


def executable(path, text):
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.fixture
def checkout(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "scripts", repo / "scripts")
    (repo / "roles/_common/defaults").mkdir(parents=True)
    shutil.copy(ROOT / "roles/_common/defaults/main.yml", repo / "roles/_common/defaults/main.yml")
    local = repo / ".cache/local"
    local.mkdir(parents=True)
    (local / "secrets.yml").write_text('mlflow_auth_admin_password: "not-a-real-password"\n')
    (local / "localhost.crt").write_text("stand-in certificate\n")
    client = executable(tmp_path / "client", CLIENT)
    executable(repo / "scripts/lib/client-venv.sh", '#!/usr/bin/env bash\necho "%s"\n' % client)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable(bin_dir / "docker", DOCKER)
    # a fresh shell: nothing env.sh exports (the harness running this test has sourced it)
    fresh = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "ANSIBLE_"))}
    env = dict(
        fresh,
        PATH="%s:%s" % (bin_dir, os.environ["PATH"]),
        BENCH_TEST_LOG=str(tmp_path / "docker.log"),
        BENCH_TEST_CLIENT=str(client),
        BENCH_SECONDS="1",
        BENCH_MB="10",
    )
    return repo, env, tmp_path / "docker.log"


@pytest.mark.parametrize("args", [[], ["--variants"]], ids=["sides", "variants"])
def test_bench_server_reports_and_keeps_its_results(checkout, args):
    repo, env, log = checkout
    result = subprocess.run(
        ["bash", str(repo / "scripts/bench-server.sh"), *args], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "unbound variable" not in result.stderr
    assert "| (b) collection, direct, auth on | 10.0 / 12.5 ms (1.00x) |" in result.stdout
    assert "MLflow client via the TLS proxy, from the host | 2.00 s" in result.stdout
    if args:
        assert "| variant: h11 parser |" in result.stdout
    (results,) = (repo / ".cache/local/bench").glob("*.jsonl")
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert {(r["server"], r["kind"]) for r in rows} >= {("guide", "latency"), ("proxy", "load16"), ("s3", "transfer")}
    assert results.with_suffix(".txt").read_text() in result.stdout
    assert str(results) in result.stderr
    # only the temporary files went: the client home under .cache/local, the guide's env file and the client
    assert not list((repo / ".cache/local").glob("bench.*"))
    assert "rm -f /root/bench-guide.env /root/bench_client.py" in log.read_text()


def test_bench_server_refuses_unknown_arguments(checkout):
    repo, env, log = checkout
    result = subprocess.run(
        ["bash", str(repo / "scripts/bench-server.sh"), "--bogus"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2 and "usage:" in result.stderr
    assert not log.exists(), "docker was called before the arguments were checked"
