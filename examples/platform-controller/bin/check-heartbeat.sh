#!/bin/sh
# Health check of bin/service.sh: healthy while run/NAME.heartbeat was touched in the last
# $HEARTBEAT_MAX_AGE seconds (default 60). Runs with the service's environment.
here=$(cd "$(dirname "$0")/.." && pwd)
age=${HEARTBEAT_MAX_AGE:-60}
[ -n "$(find "$here/run/$1.heartbeat" -newermt "-$age seconds" 2>/dev/null)" ] || {
    echo "no heartbeat from $1 in the last ${age}s" >&2
    exit 1
}
