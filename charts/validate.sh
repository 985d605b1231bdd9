#!/usr/bin/env bash
# Validates charts/portal offline, without a `helm` binary or a cluster:
#   helm lint --strict, render (install and upgrade) with the default values and with every
#   charts/portal/ci/*.yaml, Kubernetes schema validation of every rendered object, our own rules
#   (charts/validate_chart.py), and values the chart must refuse.
# Tools, from PyPI into a venv (created once, reused while the pinned versions match):
#   helm-python-sdk  (Helm's Go SDK as a shared library: lint, render)
#   kubernetes-validate (Kubernetes OpenAPI schemas, validated with jsonschema)
# Usage: bash charts/validate.sh        (PORTAL_CHART_VENV=DIR to choose the venv's place)
# Exit status: 0 when everything passed.
set -euo pipefail
cd "$(dirname "$0")"

HELM_SDK_VERSION=0.2.2
KUBERNETES_VALIDATE_VERSION=1.37.0
venv="${PORTAL_CHART_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/portal-chart-venv}"
python="${PYTHON:-python3}"

stamp="$venv/.portal-chart-tools"
want="helm-python-sdk==$HELM_SDK_VERSION kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "== tools: $want into $venv =="
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $want
  echo "$want" > "$stamp"
fi

exec "$venv/bin/python" validate_chart.py
