#!/bin/sh
# Stand-in for the market-data backfill: "downloads" candles for $BACKFILL_SECONDS seconds
# (default 5), records what it did under run/data/ and exits 0. The old manager guarded this
# with a lock file; here the daemon itself never runs it twice at once.
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$here/run/data"
echo "backfill: started (pid $$), filling candles since the last run"
sleep "${BACKFILL_SECONDS:-5}"
date +%s >> "$here/run/data/backfill.runs"
echo "backfill: complete"
