# STAND-IN, NOT CONDA. Installed by the stand-in Miniforge installer (tests/standins/conda) for the
# conda contract test of roles/python_env. It implements only what the role calls:
#   conda create --yes --quiet --name NAME SPEC... [--channel=C ...] [--override-channels]
#   conda --version
# The environment is solved and installed for real by py-rattler from the channels given (or the
# base's .condarc), into <prefix>/envs/NAME, as conda does.
import argparse
import asyncio
import os
import shutil
import sys
import traceback

import rattler

VERSION = "conda 0.0.0+standin"
PREFIX = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def default_channels():
    channels, in_list = [], False
    with open(os.path.join(PREFIX, ".condarc")) as rc:
        for line in rc:
            if line.startswith("channels:"):
                in_list = True
            elif in_list and line.strip().startswith("- "):
                channels.append(line.strip()[2:])
            elif line.strip() and not line.startswith("#"):
                in_list = False
    return channels


def create(args):
    if not args.name:
        sys.exit("CondaValueError: the stand-in needs --name")
    if not args.yes:
        sys.exit("CondaValueError: the stand-in cannot ask for confirmation: pass --yes")
    channels = list(args.channel) + ([] if args.override_channels else default_channels())
    if not channels:
        sys.exit("CondaValueError: no channels")
    target = os.path.join(PREFIX, "envs", args.name)
    specs = [rattler.MatchSpec(s) for s in args.specs]
    records = asyncio.run(
        rattler.solve([rattler.Channel(c) for c in channels], specs, platforms=["linux-64", "noarch"])
    )
    if os.path.exists(target):  # conda create --yes replaces an existing environment
        shutil.rmtree(target)
    asyncio.run(
        rattler.install(
            records,
            target_prefix=target,
            cache_dir=os.path.join(PREFIX, "pkgs"),
            show_progress=not args.quiet,
        )
    )
    with open(os.path.join(target, "conda-meta", "history"), "a") as history:
        history.write("# cmd: %s\n" % " ".join(sys.argv))
    if not args.quiet:
        for record in records:
            print("  %s-%s-%s" % (record.name.normalized, record.version, record.build))
    print("environment %s created at %s" % (args.name, target))


def main():
    parser = argparse.ArgumentParser(prog="conda", description="STAND-IN conda (tests only)")
    parser.add_argument("--version", action="version", version=VERSION)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("create")
    c.add_argument("--yes", "-y", action="store_true")
    c.add_argument("--quiet", "-q", action="store_true")
    c.add_argument("--name", "-n")
    c.add_argument("--channel", "-c", action="append", default=[])
    c.add_argument("--override-channels", action="store_true")
    c.add_argument("specs", nargs="+")
    args = parser.parse_args()
    if args.command == "create":
        create(args)


def run_without_finalizing(entry):
    """Run entry, then end the process without Python's finalization.

    py-rattler's Rust runtime threads can call into Python while the interpreter finalizes, which
    aborts it after the work is done ("Fatal Python error: PyGILState_Release ... finalizing", rc -6;
    about 1 run in 100 with an http channel, seen in CI). So the exit status is decided here, the
    output flushed, and the process ended with os._exit.
    """
    try:
        entry()
        code = 0
    except SystemExit as stop:
        code = stop.code
        if isinstance(code, str):
            print(code, file=sys.stderr)
            code = 1
        code = 0 if code is None else code
    except BaseException:  # noqa: BLE001 - reported, then the status says it failed
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


run_without_finalizing(main)
