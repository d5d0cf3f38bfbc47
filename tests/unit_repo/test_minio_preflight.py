"""The site playbook refuses bad MinIO input in its first play, before any host is changed.

Runs ansible-playbook (check mode) against a localhost-only inventory: the hosts are local
connections, the first play gathers facts and runs the preflights, and nothing after it may start.
"""

import json
import shutil
from pathlib import Path

import pytest
from mlflow_checks import run_playbook

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {"mlflow_minio_root_user": "unit-minio-root", "mlflow_minio_root_password": "unit-minio-pw-Xk39vQ2m"}


def playbook(tmp_path, hosts, group_vars, play="playbooks/site.yml", extra=()):
    inventory = {
        "all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": shutil.which("python3")},
            "children": {"mlflow_artifacts": {"hosts": {h: {} for h in hosts}}},
        }
    }
    return run_playbook(
        ROOT / play,
        inventory,
        extra_vars={"mlflow_s3_server": "minio", **group_vars},
        check=True,
        env={"ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_RETRY_FILES_ENABLED": "0", **dict(extra)},
        cwd=ROOT,
        timeout=180,
    )


def assert_stopped_in_preflight(result, variable):
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert variable in out, out
    assert "PLAY [Object store" not in out, "a play after the preflight started:\n" + out


def test_missing_root_password_fails_naming_it(tmp_path):
    result = playbook(tmp_path, ["minio-a"], {"mlflow_minio_root_user": "unit-minio-root"})
    assert_stopped_in_preflight(result, "mlflow_minio_root_password")


@pytest.mark.parametrize("password", ["minioadmin", "short-pw"])
def test_weak_root_password_is_refused(tmp_path, password):
    result = playbook(tmp_path, ["minio-a"], dict(SECRETS, mlflow_minio_root_password=password))
    assert_stopped_in_preflight(result, "mlflow_minio_root_password")


@pytest.mark.parametrize(("mode", "hosts"), [("distributed", 3), ("auto", 2)])
def test_distributed_with_fewer_than_four_hosts_fails_naming_the_variable(tmp_path, mode, hosts):
    names = ["minio-%d" % i for i in range(1, hosts + 1)]
    result = playbook(tmp_path, names, dict(SECRETS, mlflow_minio_mode=mode))
    assert_stopped_in_preflight(result, "mlflow_minio_mode")
    assert "at least 4 hosts" in result.stdout


@pytest.mark.parametrize(
    ("extra", "shown"),
    [
        ({"mlflow_minio_binary_url": "https://mirror.example.test/minio"}, "mlflow_minio_binary_checksum ('')"),
        ({"mlflow_minio_version": "RELEASE.2024-12-18T13-15-44Z"}, "leave both empty for a mlflow_minio_version"),
    ],
    ids=["own URL without checksum", "a release the role has no checksum for"],
)
def test_a_download_without_a_known_checksum_is_refused(tmp_path, extra, shown):
    result = playbook(tmp_path, ["minio-a"], dict(SECRETS, **extra))
    assert_stopped_in_preflight(result, "mlflow_minio_binary_url")
    assert shown in " ".join(result.stdout.split()), result.stdout[-3000:]


def test_the_default_download_is_the_final_github_release(tmp_path):
    (tmp_path / "url.yml").write_text(
        RENDER.replace("_mlflow_minio_volumes", "[_mlflow_minio_binary_url, _mlflow_minio_binary_checksum]")
    )
    result = playbook(
        tmp_path,
        ["minio-a"],
        SECRETS,
        play=str(tmp_path / "url.yml"),
        extra={"ANSIBLE_STDOUT_CALLBACK": "json", "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    url, checksum = json.loads(result.stdout)["plays"][0]["tasks"][-1]["hosts"]["minio-a"]["msg"]
    release = "RELEASE.2025-09-07T16-13-09Z"
    assert url.startswith("https://github.com/minio/minio/releases/download/%s/minio.linux-" % release), url
    assert checksum.startswith("sha256:") and len(checksum) == 7 + 64, checksum


RENDER = """
- name: Render the MinIO volume list
  hosts: mlflow_artifacts
  # the distribution facts (every role's preflight checks the platform first) and the architecture (the download)
  gather_facts: true
  gather_subset: ["!all", "!min", "distribution", "platform"]
  tasks:
    - name: Preflight, exposing the role's vars
      ansible.builtin.include_role:
        name: mlops.mlflow.minio
        tasks_from: preflight.yml
        public: true
    - name: Show
      ansible.builtin.debug:
        msg: "{{ _mlflow_minio_volumes }}"
"""


@pytest.mark.parametrize(
    ("hosts", "dirs", "expected"),
    [
        (["minio1"], ["/data"], "/data"),
        (["minio1"], ["/d1", "/d2"], "/d1 /d2"),
        (
            ["mlflow-md-1", "mlflow-md-2", "mlflow-md-3", "mlflow-md-4"],
            ["/srv/data"],
            "http://mlflow-md-{1...4}:9000/srv/data",
        ),
        (
            ["s1.example.com", "s2.example.com", "s3.example.com", "s4.example.com"],
            ["/d1", "/d2"],
            "http://s{1...4}.example.com:9000/d{1...2}",
        ),
        (
            ["alpha", "beta", "gamma", "delta"],
            ["/data"],
            "http://alpha:9000/data http://beta:9000/data http://gamma:9000/data http://delta:9000/data",
        ),
        (
            ["n1", "n2", "n3", "n5"],
            ["/data"],
            "http://n1:9000/data http://n2:9000/data http://n3:9000/data http://n5:9000/data",
        ),
    ],
)
def test_volume_list(tmp_path, hosts, dirs, expected):
    (tmp_path / "render.yml").write_text(RENDER)
    result = playbook(
        tmp_path,
        hosts,
        dict(SECRETS, mlflow_minio_data_dirs=dirs),
        play=str(tmp_path / "render.yml"),
        extra={"ANSIBLE_STDOUT_CALLBACK": "json", "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    tasks = json.loads(result.stdout)["plays"][0]["tasks"]
    shown = {host: res["msg"] for host, res in tasks[-1]["hosts"].items()}
    assert shown == dict.fromkeys(hosts, expected)
