#!/bin/sh
# Health check of bin/service.sh: healthy while run/NAME.heartbeat was touched in the last
# $2 seconds (default 60).
here=$(cd "$(dirname "$0")/.." && pwd)
beat="$here/run/$1.heartbeat"
[ -n "$(find "$beat" -newermt "-${2:-60} seconds" 2>/dev/null)" ] || {
    echo "no heartbeat from $1 in the last ${2:-60}s" >&2
    exit 1
}
