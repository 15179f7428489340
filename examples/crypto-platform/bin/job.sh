#!/bin/sh
# Stand-in for a periodic job: does "$2" for $JOB_SECONDS seconds (default 2), then exits 0.
name=$1
echo "$name: $2 ..."
sleep "${JOB_SECONDS:-2}"
echo "$name: done at $(date +%T)"
