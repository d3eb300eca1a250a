# Sourced by the set-up scripts of the tools the tests need in a Python venv (scripts/emulator,
# scripts/moto, scripts/oracles).

# pinned_venv <venv> <requirements file> <stamp name> <executable>...: makes <venv> hold exactly the
# pins of <requirements file>. Returns at once, without the network, when every <executable> is there
# and the stamp (a copy of the requirements last installed) matches; otherwise creates the venv if
# needed, installs the pins and sets PINNED_VENV_INSTALLED=1.
pinned_venv() {
  local venv="$1" requirements="$2" stamp="$1/$3" ready=1 exe
  shift 3
  for exe in "$@"; do [[ -x "$venv/bin/$exe" ]] || ready=0; done
  if [[ "$ready" == 1 && -f "$stamp" ]] && cmp -s "$requirements" "$stamp"; then
    return 0
  fi
  if [[ ! -x "$venv/bin/python" ]]; then
    "${PYTHON:-$(command -v python3.11 || command -v python3)}" -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
  PINNED_VENV_INSTALLED=1
}
