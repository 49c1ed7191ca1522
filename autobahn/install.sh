#!/usr/bin/env bash
# Install Autobahn|Testsuite's `wstest` (Python 2.7 only) into a fixed prefix.
#
#   autobahn/install.sh     # installs into /opt/wstest (or $WSTEST_PREFIX)
#
# Result: $WSTEST_PREFIX/bin/wstest, a small wrapper that runs the suite with
# Debian's /usr/bin/python2.7 and the packages installed under the prefix
# (used as Python's "user base", so .pth files such as zope's namespace
# package are honoured; nothing is installed into the system python2.7).
#
# Idempotent and non-interactive: if the stamp file matches this script's
# pins and `wstest --help` runs, it does nothing.  Needs root (or passwordless
# sudo) for apt.  python2.7 comes from Debian bullseye, which is added as an
# apt source only for the duration of that install and removed afterwards.
set -Eeuo pipefail

PREFIX="${WSTEST_PREFIX:-/opt/wstest}"
PY2=/usr/bin/python2.7
STAMP="$PREFIX/.installed"
APT_LIST=/etc/apt/sources.list.d/wstest-bullseye.list

# Bootstrap tooling for Python 2.7 (the last versions that support it).
BOOTSTRAP_PINS=(pip==20.3.4 setuptools==44.1.1 wheel==0.37.1)

# autobahntestsuite 25.10.1's sdist lacks its requirements file, so its
# dependencies are named explicitly here.
PINS=(
  txaio==2.1.0 incremental==16.10.1 pyOpenSSL==19.1.0 cryptography==3.3.2
  Twisted==19.10.0 zope.interface==4.6.0 jinja2==2.11.3 markupsafe==1.1.1
  Werkzeug==1.0.1 klein==17.10.0 service_identity==18.1.0 unittest2==1.1.0
  six==1.16.0 'autobahn[accelerate,twisted]==0.10.9' autobahntestsuite==25.10.1
)
# Constraints for everything else pip pulls in (what pip 20.3.4 resolved on
# python2.7 when this was written), so every machine gets the same set.
# autobahntestsuite's metadata pins setuptools==44.0.0.
CONSTRAINT_PINS=(
  setuptools==44.0.0
  Automat==22.10.0 PyHamcrest==1.10.1 attrs==21.4.0 cffi==1.15.1
  constantly==15.1.0 enum34==1.1.10 hyperlink==21.0.0 idna==2.10
  ipaddress==1.0.23 linecache2==1.0.0 pyasn1==0.5.1 pyasn1-modules==0.3.0
  pycparser==2.21 traceback2==1.4.0 typing==3.10.0.0 ujson==2.0.3
  wsaccel==0.6.6
)

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
# This machine sets PIP_FIND_LINKS to a local wheel dir; the pins must come
# from the index, so clear it (and anything else that would redirect pip).
export PIP_FIND_LINKS='' PIP_NO_INDEX=''
unset PIP_REQUIRE_VIRTUALENV PIP_TARGET PIP_PREFIX PIP_USER PIP_CONSTRAINT \
      PIP_REQUIREMENT PYTHONPATH PYTHONHOME PYTHONNOUSERSITE || true

T0=$(date +%s)
log() { printf '[install.sh] %s\n' "$*" >&2; }
die() { printf '[install.sh] ERROR: %s\n' "$*" >&2; exit 1; }
# shellcheck disable=SC2154  # rc is set inside the trap string
trap 'rc=$?; printf "[install.sh] ERROR: command failed (exit %s) at line %s: %s\n" "$rc" "$LINENO" "$BASH_COMMAND" >&2; exit $rc' ERR

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo -n "$@"
  else die "need root (or passwordless sudo) to run: $*"
  fi
}

STAMP_CONTENT="wstest-install v2 py2=$PY2 ${BOOTSTRAP_PINS[*]} ${PINS[*]} ${CONSTRAINT_PINS[*]}"
installed() {
  [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$STAMP_CONTENT" ] \
    && [ -x "$PREFIX/bin/wstest" ] && "$PREFIX/bin/wstest" --help >/dev/null 2>&1
}
if installed; then
  log "wstest already installed: $PREFIX/bin/wstest (rm $STAMP to force a reinstall)"
  exit 0
fi

as_root mkdir -p "$PREFIX"
[ -w "$PREFIX" ] || as_root chown "$(id -u):$(id -g)" "$PREFIX"
# Serialise concurrent installs.
exec 9>"$PREFIX/.lock"
if command -v flock >/dev/null 2>&1; then
  flock -w 1800 9 || die "timed out waiting for another install.sh (lock $PREFIX/.lock)"
  if installed; then log "wstest was installed by a concurrent run"; exit 0; fi
fi
log "installing wstest into $PREFIX"

# --------------------------------------------------------------------------
# 1. Build tools from bookworm (cffi/wsaccel/ujson compile C; cryptography
#    3.3.2 has a cp27mu wheel but may fall back to building).  libexpat1-dev
#    must come from bookworm *before* the bullseye step, otherwise
#    `-t bullseye python2.7-dev` picks bullseye's libexpat1-dev, which would
#    need a downgrade of libexpat1 and fails.
need_pkgs=()
for p in gcc libc6-dev libssl-dev libffi-dev libexpat1-dev ca-certificates; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "apt-get update && apt-get install ${need_pkgs[*]}"
  as_root apt-get update -qq || die "apt-get update failed"
  as_root apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null \
    || die "apt-get install ${need_pkgs[*]} failed"
fi

# --------------------------------------------------------------------------
# 2. python2.7 + headers from Debian bullseye (bookworm has no python2).
remove_bullseye() {
  if [ -f "$APT_LIST" ]; then
    log "removing $APT_LIST and running apt-get update"
    as_root rm -f "$APT_LIST"
    as_root apt-get update -qq || log "WARNING: apt-get update after removing the bullseye source failed"
  fi
}
if [ ! -x "$PY2" ] || [ ! -f /usr/include/python2.7/Python.h ]; then
  # Reuse the Debian mirror this machine already uses (deb822 or one-line).
  mirror=$(
    { grep -hE '^[[:space:]]*URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' || true
      grep -hE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
        | sed -E 's/\[[^]]*\]//' | awk '{print $2}' || true
    } | grep -E '/debian/?$' | head -n1 || true)
  mirror="${mirror:-http://deb.debian.org/debian}"
  mirror="${mirror%/}"
  keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  opts=""; [ -f "$keyring" ] && opts="[signed-by=$keyring] "
  trap 'remove_bullseye' EXIT
  log "adding temporary apt source: deb ${opts}$mirror bullseye main"
  echo "deb ${opts}$mirror bullseye main" | as_root tee "$APT_LIST" >/dev/null
  as_root apt-get update -qq || die "apt-get update (with bullseye) failed"
  log "apt-get install -t bullseye python2.7 python2.7-dev"
  as_root apt-get install -y -qq --no-install-recommends -t bullseye python2.7 python2.7-dev >/dev/null \
    || die "apt-get install -t bullseye python2.7 python2.7-dev failed"
  remove_bullseye
  trap - EXIT
fi
[ -x "$PY2" ] || die "$PY2 missing after install"
"$PY2" -c 'import ssl, zlib, ctypes' || die "$PY2 lacks ssl/zlib/ctypes"

# Everything python2.7 below uses $PREFIX as its user base:
# site-packages = $PREFIX/lib/python2.7/site-packages, scripts = $PREFIX/bin.
py2() { PYTHONUSERBASE="$PREFIX" "$PY2" "$@"; }
SITE=$(py2 -c 'import site; print(site.getusersitepackages())')
[ "${SITE#"$PREFIX"/}" != "$SITE" ] || die "unexpected user site dir: $SITE"
py2 -c 'import site, sys; sys.exit(0 if site.ENABLE_USER_SITE else 1)' \
  || die "python2.7 has the user site dir disabled (setuid, or -s/PYTHONNOUSERSITE?)"

# --------------------------------------------------------------------------
# 3. pip/setuptools/wheel for 2.7, bootstrapped from pip's own wheel.
if ! py2 -m pip --version 2>/dev/null | grep -q '^pip 20\.3\.4 '; then
  PY3=""
  for c in python3 /usr/bin/python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -m pip --version >/dev/null 2>&1; then PY3=$c; break; fi
  done
  [ -n "$PY3" ] || die "need python3 with pip to download the Python 2.7 pip wheel"
  BOOT="$PREFIX/.bootstrap"
  mkdir -p "$BOOT"
  if [ ! -f "$BOOT/pip-20.3.4-py2.py3-none-any.whl" ]; then
    log "downloading ${BOOTSTRAP_PINS[*]} (py2.7 wheels) with $PY3 -m pip"
    "$PY3" -m pip download -q --no-deps --python-version 2.7 --only-binary=:all: \
      -d "$BOOT" "${BOOTSTRAP_PINS[@]}" || die "pip download of the bootstrap wheels failed"
  fi
  log "bootstrapping pip 20.3.4 for python2.7 into $PREFIX"
  py2 "$BOOT/pip-20.3.4-py2.py3-none-any.whl/pip" install -q --user \
    --no-index --find-links "$BOOT" --no-warn-script-location \
    "${BOOTSTRAP_PINS[@]}" || die "bootstrapping pip for python2.7 failed"
fi
py2 -m pip --version 2>/dev/null | grep -q '^pip 20\.3\.4 ' \
  || die "pip 20.3.4 for python2.7 not found in $SITE after bootstrap"

# --------------------------------------------------------------------------
# 4. autobahntestsuite and its dependencies (pip prints a harmless Python 2.7
#    DEPRECATION notice).
log "pip install ${PINS[*]} (python2.7; takes ~30 s)"
CONSTRAINTS="$PREFIX/.constraints.txt"
printf '%s\n' "${CONSTRAINT_PINS[@]}" > "$CONSTRAINTS"
py2 -m pip install -q --user --no-warn-script-location -c "$CONSTRAINTS" "${PINS[@]}" \
  || die "pip install of autobahntestsuite and its dependencies failed (see pip output above)"

# --------------------------------------------------------------------------
# 5. Wrapper + launcher.  pip's own script has a bare #!/usr/bin/python2.7
#    and would not find the packages without PYTHONUSERBASE, so it is
#    replaced.  The launcher also makes every listening socket wstest opens
#    (fuzzingserver's WebSocket port, its embedded web server on -u PORT)
#    bind to 127.0.0.1 instead of all interfaces; set WSTEST_BIND_INTERFACE=
#    (empty) to get wstest's original behaviour.
mkdir -p "$PREFIX/libexec"
rm -f "$PREFIX/libexec/wstest.py"
cat > "$PREFIX/libexec/wstest-launch.py" <<'EOF'
# Generated by wsproto's autobahn/install.sh.
import os, sys
from autobahntestsuite.wstest import run  # installs the reactor first

IFACE = os.environ.get('WSTEST_BIND_INTERFACE', '127.0.0.1')
if IFACE:
    from twisted.internet import reactor
    _tcp, _ssl = reactor.listenTCP, reactor.listenSSL

    def listenTCP(port, factory, backlog=50, interface=''):
        return _tcp(port, factory, backlog, interface or IFACE)

    def listenSSL(port, factory, contextFactory, backlog=50, interface=''):
        return _ssl(port, factory, contextFactory, backlog, interface or IFACE)

    reactor.listenTCP, reactor.listenSSL = listenTCP, listenSSL

sys.argv[0] = 'wstest'
sys.exit(run())
EOF
cat > "$PREFIX/bin/wstest.tmp" <<EOF
#!/bin/sh
# Generated by wsproto's autobahn/install.sh: Autobahn|Testsuite on python2.7.
PYTHONUSERBASE='$PREFIX'
export PYTHONUSERBASE
unset PYTHONPATH PYTHONHOME PYTHONNOUSERSITE
exec '$PY2' '$PREFIX/libexec/wstest-launch.py' "\$@"
EOF
chmod 755 "$PREFIX/bin/wstest.tmp"
mv -f "$PREFIX/bin/wstest.tmp" "$PREFIX/bin/wstest"

# --------------------------------------------------------------------------
# 6. Verify.
if ! out=$("$PREFIX/bin/wstest" --help 2>&1); then
  printf '%s\n' "$out" >&2
  die "$PREFIX/bin/wstest --help failed"
fi
py2 -c '
import autobahn, autobahntestsuite, twisted, zope.interface, wsaccel, ujson
assert autobahn.__version__ == "0.10.9", autobahn.__version__
assert autobahntestsuite.__version__ == "25.10.1", autobahntestsuite.__version__
' || die "installed packages do not import or do not match the pins"
printf '%s' "$STAMP_CONTENT" > "$STAMP"
log "done in $(( $(date +%s) - T0 )) s: $PREFIX/bin/wstest"
