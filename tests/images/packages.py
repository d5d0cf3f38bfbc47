"""Print the distribution packages the roles install on a platform, for the ready test image (bake.sh).

Usage: python tests/images/packages.py Debian-12   (a roles/*/vars/<name>.yml stem, tests/images/platforms.sh)

Read from the roles' own per-platform vars files, so that the image carries what the roles would install
there and nothing that only the image knows about: PostgreSQL, the venv's and conda's OS packages and nginx.
Packages that are the same on every platform (curl, OpenSSH, ...) are listed in bake.sh.
"""

import sys
from pathlib import Path

import yaml

ROLES = Path(__file__).resolve().parents[2] / "roles"


def packages(stem):
    def role_vars(role):
        return yaml.safe_load((ROLES / role / "vars" / (stem + ".yml")).read_text())

    python_env = role_vars("python_env")["_mlflow_python_env_os_packages"]
    found = role_vars("postgresql")["_mlflow_postgresql_packages"] + python_env["venv"] + python_env["conda"]
    found.append(role_vars("proxy")["_mlflow_proxy_os_package"])
    return sorted(set(found))


if __name__ == "__main__":
    print(" ".join(packages(sys.argv[1])))
