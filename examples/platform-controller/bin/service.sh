#!/bin/sh
# Stand-in for one service of the trading chain: every $WORK_SECONDS seconds (default 5) it
# does "$2", prints a line and touches run/NAME.heartbeat, which its health check
# (bin/check-heartbeat.sh) reads. SIGTERM ends it cleanly.
# Fault injection, by files in run/ (create to start the fault, remove to end it):
#   hang-NAME   it stops beating (a stuck service): the health check fails, it is restarted
#   fail-NAME   it crashes (exit 1) after each piece of work: a crash loop
#   leak-NAME   each piece of work holds $LEAK_MB MB (default 450) for a moment: memory_restart
name=$1
here=$(cd "$(dirname "$0")/.." && pwd)
run=$here/run
trap 'echo "$name: SIGTERM, shutting down"; exit 0' TERM
echo "$name: started (pid $$)"
while :; do
    if [ ! -e "$run/hang-$name" ]; then
        touch "$run/$name.heartbeat"
        echo "$name: $2 $(date +%T)"
    fi
    if [ -e "$run/leak-$name" ]; then
        echo "$name: holding ${LEAK_MB:-450} MB"
        head -c "${LEAK_MB:-450}M" /dev/zero | tail -c "${LEAK_MB:-450}M" >/dev/null
    fi
    sleep "${WORK_SECONDS:-5}" &
    wait $!
    if [ -e "$run/fail-$name" ]; then
        echo "$name: fatal error (run/fail-$name exists)" >&2
        exit 1
    fi
done
