"""STAND-IN, NOT PRODUCT CODE: build a conda installer and a local conda channel for the conda tests.

No conda channel, conda, mamba or micromamba can be downloaded on the machines these tests run on.
To test the python_env role's conda path anyway, this script builds, from Debian 12's own Python 3.11
interpreter and PyPI wheels:

- channel/   a real conda channel (repodata indexed by py-rattler) holding one package, ``python``
             3.11, made from /usr/bin/python3.11 + its standard library, with every shared library it
             needs (other than glibc) bundled and its RPATHs set with patchelf, plus pip;
- Miniforge3-standin-Linux-x86_64.sh
             a self-extracting installer that accepts Miniforge's ``-b -p PREFIX``; it installs the same
             python package as the base environment and a STAND-IN ``conda`` command (conda.py: only
             ``conda create``, solved and installed by py-rattler);
- Miniforge3-standin-Linux-x86_64.sh.sha256
             its checksum, which the test hands to the role (get_url verifies it).

Usage: python build.py OUT_DIR WHEELHOUSE
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE_PYTHON = "/usr/bin/python3.11"
SOURCE_STDLIB = "/usr/lib/python3.11"
PY = "python3.11"
# glibc's libraries come from the host, as with conda-forge's packages.
GLIBC = re.compile(r"^(libc|libm|libdl|libpthread|librt|libutil|libresolv|libnsl|ld-linux.*)\.so")
SKIP_STDLIB = {"__pycache__", "test", "EXTERNALLY-MANAGED", "sitecustomize.py", "dist-packages", "idlelib"}


def run(*argv, **kwargs):
    return subprocess.run(argv, check=True, text=True, capture_output=True, **kwargs).stdout


def python_version():
    return run(SOURCE_PYTHON, "-c", "import platform; print(platform.python_version())").strip()


def copy_stdlib(prefix: Path):
    dest = prefix / "lib" / PY
    shutil.copytree(
        SOURCE_STDLIB,
        dest,
        symlinks=False,
        ignore=lambda d, names: [
            n
            for n in names
            if n in SKIP_STDLIB or n.startswith("config-") or n.startswith("_test") or n.startswith("xx")
        ],
    )
    # Debian's patches install into <prefix>/local/lib/.../dist-packages; conda's python uses
    # <prefix>/lib/python3.11/site-packages. Undo them, and fail loudly if they change.
    replace_once(
        dest / "sysconfig.py",
        "            prefix_scheme = 'posix_local'\n",
        "            prefix_scheme = 'posix_prefix'  # conda layout (stand-in build)\n",
    )
    # Debian's site module (frozen into the interpreter, so site.py cannot be patched) only adds
    # dist-packages directories: add conda's site-packages from sitecustomize.
    (dest / "sitecustomize.py").write_text(
        "# STAND-IN python build (tests/standins/conda): conda's site-packages, not Debian's dist-packages.\n"
        "import os, site, sys\n"
        "site.addsitedir(os.path.join(sys.prefix, 'lib', 'python%d.%d' % sys.version_info[:2], 'site-packages'))\n"
    )
    (dest / "site-packages").mkdir()


def replace_once(path: Path, old: str, new: str):
    text = path.read_text()
    if text.count(old) != 1:
        sys.exit("%s: expected exactly one %r to patch; the Debian Python changed" % (path, old))
    path.write_text(text.replace(old, new))


def needed_libs(elf: Path):
    libs = {}
    for line in run("ldd", str(elf)).splitlines():
        match = re.match(r"\s*(\S+) => (/\S+)", line)
        if match and not GLIBC.match(match.group(1)):
            libs[match.group(1)] = match.group(2)
    return libs


def bundle_libraries(prefix: Path):
    """Copy every non-glibc shared library into <prefix>/lib and point RPATHs there (conda's layout)."""
    binary = prefix / "bin" / PY
    modules = sorted((prefix / "lib" / PY / "lib-dynload").glob("*.so"))
    libdir = prefix / "lib"
    wanted = {}
    for elf in [binary, *modules]:
        wanted.update(needed_libs(elf))
    for name, path in sorted(wanted.items()):
        shutil.copy2(os.path.realpath(path), libdir / name)
    for elf, rpath in [(binary, "$ORIGIN/../lib")] + [(m, "$ORIGIN/../..") for m in modules]:
        run("patchelf", "--set-rpath", rpath, str(elf))
    for name in wanted:
        run("patchelf", "--set-rpath", "$ORIGIN", str(libdir / name))
    return sorted(wanted)


def build_python_tree(prefix: Path, pip_wheel: str):
    (prefix / "bin").mkdir(parents=True)
    shutil.copy2(SOURCE_PYTHON, prefix / "bin" / PY)
    os.symlink(PY, prefix / "bin" / "python3")
    os.symlink(PY, prefix / "bin" / "python")
    copy_stdlib(prefix)
    libs = bundle_libraries(prefix)
    # no .pyc in the package: they would embed the build prefix in binary form
    env = {"PATH": "/usr/bin:/bin", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    # pip runs from its own wheel and installs itself into the new tree (no .pyc: they embed paths)
    run(str(prefix / "bin" / PY), pip_wheel + "/pip", "install", "-q", "--no-index", "--no-compile", pip_wheel, env=env)
    site = run(
        str(prefix / "bin" / PY), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", env=env
    ).strip()
    path = run(str(prefix / "bin" / PY), "-c", "import sys; print(sys.path)", env=env)
    if site != str(prefix / "lib" / PY / "site-packages") or site not in path or not (prefix / "bin" / "pip").exists():
        sys.exit("the python tree does not have conda's layout: purelib=%s, sys.path=%s" % (site, path))
    leftovers = list(prefix.rglob("__pycache__"))
    if leftovers:
        sys.exit("bytecode in the package tree: %s" % leftovers[:3])
    return libs


def conda_package(prefix: Path, out_dir: Path, name: str, version: str, depends=()):
    """Pack a tree built at `prefix` as a conda package (.tar.bz2); text files that mention the
    build prefix are recorded with it as their placeholder, so the installer rewrites them."""
    placeholder = str(prefix).encode()
    paths, has_prefix = [], []
    files = sorted(p for p in prefix.rglob("*") if p.is_file() or p.is_symlink())
    for path in files:
        rel = path.relative_to(prefix).as_posix()
        if path.is_symlink():
            paths.append({"_path": rel, "path_type": "softlink", "size_in_bytes": len(os.readlink(path))})
            continue
        data = path.read_bytes()
        entry = {
            "_path": rel,
            "path_type": "hardlink",
            "sha256": hashlib.sha256(data).hexdigest(),
            "size_in_bytes": len(data),
        }
        if placeholder in data:
            mode = "binary" if b"\0" in data else "text"
            entry.update(file_mode=mode, prefix_placeholder=str(prefix))
            has_prefix.append("%s %s %s" % (prefix, mode, rel))
        paths.append(entry)
    build = "0_standin"
    index = {
        "name": name,
        "version": version,
        "build": build,
        "build_number": 0,
        "depends": list(depends),
        "license": "PSF-2.0",
        "subdir": "linux-64",
        "arch": "x86_64",
        "platform": "linux",
        "timestamp": int(time.time() * 1000),
    }
    about = {"summary": "STAND-IN python package for tests, built from Debian 12's Python (tests/standins/conda)"}
    info = {
        "info/index.json": json.dumps(index, indent=2),
        "info/paths.json": json.dumps({"paths": paths, "paths_version": 1}, indent=2),
        "info/files": "\n".join(p["_path"] for p in paths) + "\n",
        "info/about.json": json.dumps(about),
    }
    if has_prefix:
        info["info/has_prefix"] = "\n".join(has_prefix) + "\n"
    subdir = out_dir / "linux-64"
    subdir.mkdir(parents=True, exist_ok=True)
    (out_dir / "noarch").mkdir(exist_ok=True)
    target = subdir / ("%s-%s-%s.tar.bz2" % (name, version, build))
    with tarfile.open(target, "w:bz2", compresslevel=1) as tar:
        for arcname, text in info.items():
            data = text.encode()
            member = tarfile.TarInfo(arcname)
            member.size, member.mtime, member.mode = len(data), int(time.time()), 0o644
            tar.addfile(member, io.BytesIO(data))
        for path in files:
            tar.add(path, arcname=path.relative_to(prefix).as_posix(), recursive=False)
    return target


def index_channel(channel: Path):
    import asyncio

    from rattler.index import index_fs

    asyncio.run(index_fs(channel, force=True))
    for subdir in ("linux-64", "noarch"):
        if not (channel / subdir / "repodata.json").exists():
            sys.exit("indexing %s wrote no %s/repodata.json" % (channel, subdir))


def make_installer(out: Path, channel: Path, rattler_wheel: str, version: str):
    payload_dir = out / "build" / "payload"
    shutil.rmtree(payload_dir, ignore_errors=True)
    payload_dir.mkdir(parents=True)
    shutil.copytree(channel, payload_dir / "base-channel")
    shutil.copy2(rattler_wheel, payload_dir / os.path.basename(rattler_wheel))
    shutil.copy2(HERE / "conda.py", payload_dir / "conda.py")
    shutil.copy2(HERE / "install_base.py", payload_dir / "install_base.py")
    payload = io.BytesIO()
    with tarfile.open(fileobj=payload, mode="w") as tar:
        tar.add(payload_dir, arcname=".")
    header = (HERE / "installer.sh").read_text().replace("@PYTHON_VERSION@", version)
    installer = out / "Miniforge3-standin-Linux-x86_64.sh"
    with open(installer, "wb") as handle:
        handle.write(header.encode())
        handle.write(payload.getvalue())
    digest = hashlib.sha256(installer.read_bytes()).hexdigest()
    (out / (installer.name + ".sha256")).write_text(digest + "\n")
    return installer, digest


def main():
    out, wheelhouse = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
    pip_wheel = sorted(glob.glob(str(wheelhouse / "pip-*.whl")))
    rattler_wheel = sorted(glob.glob(str(wheelhouse / "py_rattler-*.whl")))
    if not pip_wheel or not rattler_wheel:
        sys.exit("no pip or py_rattler wheel in %s: run scripts/lib/wheelhouse.sh" % wheelhouse)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():  # empty it, but keep the directory: a test container may have it mounted
        shutil.rmtree(old) if old.is_dir() and not old.is_symlink() else old.unlink()
    # A long build prefix, like conda-build's placeholder, so the installer can rewrite it anywhere.
    prefix = out / "build" / ("python_placehold" * 6)
    version = python_version()
    libs = build_python_tree(prefix, pip_wheel[-1])
    channel = out / "channel"
    package = conda_package(prefix, channel, "python", version)
    index_channel(channel)
    installer, digest = make_installer(out, channel, rattler_wheel[-1], version)
    shutil.rmtree(out / "build")
    print("conda stand-in: %s (%d MB, bundled %s)" % (package.name, package.stat().st_size >> 20, ", ".join(libs)))
    print("conda stand-in: %s sha256:%s" % (installer.name, digest))


if __name__ == "__main__":
    main()
