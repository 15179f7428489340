#!/bin/sh
# Stand-in for a technical-analysis agent. Settings come from its environment (env/*.env):
# AGENT_NAME, SYMBOLS, TIMEFRAME, TICK_SECONDS. Every line it prints is a JSON object with its
# level, name and pid, which the daemon's `json` log format embeds as is.
# On SIGTERM it finishes the current analysis and exits 0. Fault injection: while
# run/stuck-NAME exists it ignores SIGTERM (a hung agent), so the stop timeout and the SIGKILL
# that follows can be watched: `touch run/stuck-ta_agent_1 && rsupervisorctl stop ta_agent:ta_agent_1`.
here=$(cd "$(dirname "$0")/.." && pwd)
name=${AGENT_NAME:-$SUPERVISOR_PROCESS_NAME}
log() { printf '{"level":"%s","agent":"%s","pid":%d,"msg":"%s"}\n' "$1" "$name" $$ "$2"; }
stop() {
    if [ -e "$here/run/stuck-$SUPERVISOR_PROCESS_NAME" ]; then
        log warn "SIGTERM ignored: stuck in an analysis"
        return
    fi
    log info "SIGTERM: finishing the current analysis"
    exit 0
}
trap stop TERM
log info "connected to the bus; analysing ${SYMBOLS:-BTCUSDT} on ${TIMEFRAME:-1h}"
while :; do
    sleep "${TICK_SECONDS:-5}" &
    wait $!
    log info "indicators updated for ${SYMBOLS:-BTCUSDT}"
done
