#!/bin/sh
# Stand-in for a long-running collector: every $WORK_SECONDS seconds (default 5) it prints a
# line and touches run/NAME.heartbeat, which its health check (bin/check-heartbeat.sh)
# reads. SIGTERM ends it cleanly.
# Fault injection: while run/hang-NAME exists it stops beating (as a stuck process would),
# so its health check fails and the daemon restarts it: `touch run/hang-quotes`.
name=$1
here=$(cd "$(dirname "$0")/.." && pwd)
trap 'echo "$name: SIGTERM, flushing and exiting"; exit 0' TERM
echo "$name: started (pid $$)"
while :; do
    if [ ! -e "$here/run/hang-$name" ]; then
        touch "$here/run/$name.heartbeat"
        echo "$name: $2 $(date +%T)"
    fi
    sleep "${WORK_SECONDS:-5}" &
    wait $!
done
