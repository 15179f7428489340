#!/bin/sh
# Stand-in for a periodic collection job: does "$2" for $JOB_SECONDS seconds (default 2),
# appends a line to run/NAME.runs and exits 0.
here=$(cd "$(dirname "$0")/.." && pwd)
echo "$1: $2 ..."
sleep "${JOB_SECONDS:-2}"
date +%T >> "$here/run/$1.runs"
echo "$1: done"
