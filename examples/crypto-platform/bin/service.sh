#!/bin/sh
# Stand-in for a long-running service of the platform: prints a line of work every
# $WORK_SECONDS seconds (default 5) until it gets SIGTERM.
# Fault injection: while the file run/fail-NAME exists the service crashes (exit 1) after
# each piece of work, so the restart policy can be watched: `touch run/fail-signals`.
name=$1
here=$(cd "$(dirname "$0")/.." && pwd)
trap 'echo "$name: SIGTERM, shutting down"; exit 0' TERM
echo "$name: started (pid $$)"
while :; do
    sleep "${WORK_SECONDS:-5}" &
    wait $!
    if [ -e "$here/run/fail-$name" ]; then
        echo "$name: fatal error (run/fail-$name exists)" >&2
        exit 1
    fi
    echo "$name: $2 $(date +%T)"
done
