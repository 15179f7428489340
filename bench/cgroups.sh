#!/bin/bash
# Cgroup figures of BENCHMARKS.md ("Cgroups"): `status -l` with N programs, the daemon's
# wake-ups while idle, and N spawns with cgroups=off then auto. Run as root on a cgroup host,
# after `cargo build --release -p rsupervisord -p rsupervisorctl`.
#   bench/cgroups.sh [N=1000]
set -u
n=${1:-1000}
bin=${BIN:-$(dirname "$0")/../target/release}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

start() { # start MODE: a daemon with N sleeping programs; waits until all are spawned
    local d=$work/$1
    mkdir -p "$d"
    cat > "$d/c.conf" <<CONF
[unix_http_server]
file=$d/s.sock
[supervisord]
logfile=$d/main.log
pidfile=$d/d.pid
childlogdir=$d
cgroups=$1
[supervisorctl]
serverurl=unix://$d/s.sock
[program:p]
command=/bin/sleep 100000
numprocs=$n
process_name=p_%(process_num)d
startsecs=0
stdout_logfile=NONE
stderr_logfile=NONE
CONF
    "$bin/rsupervisord" -n -c "$d/c.conf" > /dev/null 2>&1 &
    daemon=$!
    for _ in $(seq 1 1200); do
        [ "$(grep -c 'spawned:' "$d/main.log" 2>/dev/null)" = "$n" ] && break
        sleep 0.05
    done
    echo "cgroups=$1: $n spawns from $(grep 'spawned:' "$d/main.log" | head -1 | cut -c12-23)" \
         "to $(grep 'spawned:' "$d/main.log" | tail -1 | cut -c12-23)"
}
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

start off
kill "$daemon"; wait "$daemon"
start auto
sleep 1
for _ in 1 2 3 4 5; do
    t=$(date +%s%N); "$bin/rsupervisorctl" -c "$work/auto/c.conf" status -l > /dev/null; a=$(ms "$t")
    t=$(date +%s%N); "$bin/rsupervisorctl" -c "$work/auto/c.conf" status > /dev/null; b=$(ms "$t")
    echo "status -l: $a ms   status: $b ms"
done
switches() { awk '/voluntary_ctxt_switches/ {s += $2} END {print s}' /proc/"$daemon"/task/*/status; }
s0=$(switches); sleep 5; s1=$(switches)
echo "daemon context switches in 5 s idle: $((s1 - s0))"
kill "$daemon"; wait "$daemon"
