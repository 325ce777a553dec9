#!/usr/bin/env bash
# check-docs.sh - build the documentation site with every MkDocs warning an error.
#
# Broken links, anchors that do not exist and pages left out of mkdocs.yml's nav fail the build
# (see `validation` in mkdocs.yml). Installs nothing: MkDocs and the Material theme come with
# the `docs` extra (the `test` extra includes it). Running the snippets is tests/test_docs.py.
#
# usage: scripts/check-docs.sh            env: MKDOCS (default: .venv/bin/mkdocs, else mkdocs)
set -euo pipefail
cd "$(dirname "$0")/.."

MKDOCS=${MKDOCS:-}
if [ -z "$MKDOCS" ]; then
  if [ -x .venv/bin/mkdocs ]; then MKDOCS=.venv/bin/mkdocs; else MKDOCS=mkdocs; fi
fi
if ! command -v "$MKDOCS" >/dev/null 2>&1; then
  echo "FAIL: $MKDOCS not found; install the docs extra: pip install -e '.[docs]'" >&2
  exit 1
fi

# Material prints a banner about MkDocs 2 on every build; it is not a finding.
export NO_MKDOCS_2_WARNING=1
"$MKDOCS" build --strict --clean -d build/site
echo "docs: built build/site with --strict"
