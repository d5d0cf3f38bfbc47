# shellcheck shell=bash disable=SC2034  # the variables are read by the scripts that source this file
# The tested platforms: one bare and one ready test image each (scripts/build-image.sh), the default scenario
# on each (scripts/test.sh), scripts/deploy-local.sh --platform. Sourced; `platform_vars NAME` sets:
#   suite      the release's codename (debootstrap suite)
#   script     debootstrap's script for it (Debian 12's debootstrap knows Ubuntu releases as "gutsy")
#   registry   the image to use when a registry answers (none does on the test machine)
#   mirror     the archive to bootstrap from (DEBIAN_MIRROR / UBUNTU_MIRROR override)
#   components archive components the image's apt uses
#   keyring    the OpenPGP keyring debootstrap verifies the archive's Release file with: Debian's from the
#              host's debian-archive-keyring; Ubuntu's from Debian 13's ubuntu-keyring package, installed by
#              apt in the (verified) Debian 13 image, so each key reaches us through a signature we check
#   python     the platform's Python (the wheelhouse holds wheels for each)
#   vars       the roles' vars file stem for it (roles/*/vars/<vars>.yml: ansible_facts distribution-major)
#   include    the archive's keyring package, installed into the image so that its apt verifies too
#   sources    the image's apt sources: the release with its updates and security pockets, as on an
#              installed host (debootstrap alone sets up the release pocket only)
# Adding a platform: a case here, a vars file per role for its ansible_facts (distribution-major version),
# then scripts/test.sh molecule default@NAME (docs/platforms.md).
PLATFORMS=(debian12 debian13 ubuntu2404)

platform_vars() {
  case $1 in
    debian12)   suite=bookworm script=bookworm registry=debian:bookworm python=3.11 vars=Debian-12 ;;
    debian13)   suite=trixie script=trixie registry=debian:trixie python=3.13 vars=Debian-13 ;;
    ubuntu2404) suite=noble script=gutsy registry=ubuntu:24.04 python=3.12 vars=Ubuntu-24 ;;
    *) echo "unknown platform '$1' (tested: ${PLATFORMS[*]})" >&2; return 2 ;;
  esac
  case $1 in
    debian*)
      mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian} components=main
      keyring=/usr/share/keyrings/debian-archive-keyring.gpg include=debian-archive-keyring
      sources="deb $mirror $suite main
deb $mirror $suite-updates main
deb ${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security} $suite-security main" ;;
    ubuntu*)
      mirror=${UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu} components=main,universe
      keyring=$MLFLOW_REPO/.cache/keyrings/ubuntu-archive-keyring.gpg include=ubuntu-keyring
      sources="deb $mirror $suite main universe
deb $mirror $suite-updates main universe
deb $mirror $suite-security main universe" ;;
  esac
}
