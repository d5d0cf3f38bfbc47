"""STAND-IN installer step (tests/standins/conda): install the base environment into PREFIX.

Run by installer.sh with a Python unpacked from the payload's python package. py-rattler solves
``python`` against the payload's channel and installs it into PREFIX (prefix placeholders rewritten,
conda-meta written), then the STAND-IN conda command and py-rattler go into the base environment.
"""

import asyncio
import glob
import os
import sys
import zipfile

prefix, payload = sys.argv[1], sys.argv[2]
wheel = glob.glob(os.path.join(payload, "py_rattler-*.whl"))[0]
boot_site = os.path.join(payload, "rattler-site")
zipfile.ZipFile(wheel).extractall(boot_site)
sys.path.insert(0, boot_site)

import rattler  # noqa: E402

channel = rattler.Channel("file://" + os.path.join(payload, "base-channel"))
records = asyncio.run(rattler.solve([channel], ["python"], platforms=["linux-64", "noarch"]))
asyncio.run(rattler.install(records, target_prefix=prefix, cache_dir=os.path.join(prefix, "pkgs"), show_progress=False))
site = glob.glob(os.path.join(prefix, "lib", "python3.*", "site-packages"))[0]
zipfile.ZipFile(wheel).extractall(site)
for sub in ("bin", "condabin"):
    os.makedirs(os.path.join(prefix, sub), exist_ok=True)
    target = os.path.join(prefix, sub, "conda")
    with open(os.path.join(payload, "conda.py")) as src, open(target, "w") as dst:
        dst.write("#!%s/bin/python3 -I\n" % prefix + src.read())
    os.chmod(target, 0o755)  # noqa: S103 - an executable, like conda's own bin/conda
with open(os.path.join(prefix, ".condarc"), "w") as rc:
    rc.write("# STAND-IN conda (tests/standins/conda): default channel as in Miniforge\nchannels:\n  - conda-forge\n")
with open(os.path.join(prefix, "conda-meta", "history"), "a") as history:
    history.write("# stand-in installer: base environment\n")
print("installed the base environment (python %s) and the stand-in conda into %s" % (records[0].version, prefix))
# End without Python's finalization: py-rattler's runtime threads can abort it after the work is done
# (see run_without_finalizing in conda.py). An exception above still exits the ordinary way, non-zero.
sys.stdout.flush()
sys.stderr.flush()
os._exit(0)
