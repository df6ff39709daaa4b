#!/usr/bin/env bash
# Runs partnerlift on the Open University Learning Analytics Dataset, module AAA 2013J.
#
#   examples/oulad/run.sh DATA_DIR WORKSPACE
#
# DATA_DIR contains studentInfo.csv, vle.csv and studentVle_head13905.csv (the copies in
# examples/oulad/data will do). WORKSPACE is created if missing; importing again adds
# nothing.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "Usage: $0 DATA_DIR WORKSPACE" >&2
  exit 2
fi
data=$1
workspace=$2
here=$(cd "$(dirname "$0")" && pwd)
# The command on PATH, else the one in the project's own virtual environment.
partnerlift=${PARTNERLIFT:-partnerlift}
if ! command -v "$partnerlift" >/dev/null 2>&1 && [ -x "$here/../../.venv/bin/partnerlift" ]; then
  partnerlift="$here/../../.venv/bin/partnerlift"
fi

"$partnerlift" init "$workspace" --timezone Europe/London --locale en \
  --model "$here/model.yaml" --study "$here/study.yaml"
"$partnerlift" --workspace "$workspace" import partners "$data/studentInfo.csv" \
  --mapping "$here/mappings/partners.yaml"
"$partnerlift" --workspace "$workspace" import assets "$data/vle.csv" \
  --mapping "$here/mappings/assets.yaml"
"$partnerlift" --workspace "$workspace" import events "$data/studentVle_head13905.csv" \
  --mapping "$here/mappings/events.yaml"
"$partnerlift" --workspace "$workspace" import deals "$data/studentInfo.csv" \
  --mapping "$here/mappings/deals.yaml"
"$partnerlift" --workspace "$workspace" analyze
