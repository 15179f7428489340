#!/usr/bin/env bash
# Package test: builds the .deb and .rpm with packaging/build.sh, checks what they
# contain, then runs the packaged binaries and configuration from an extracted .deb.
#
#   packaging/test.sh
#
# Exit status 0 when every check passed, or when the tools could not be installed (then
# it prints "SKIP: <why>"); 1 on the first failed check, with a message saying which.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

passed=0
fail() { printf 'packaging/test.sh: FAIL: %s\n' "$*" >&2; exit 1; }
skip() { printf 'SKIP: %s\n' "$*"; exit 0; }
ok() { passed=$((passed + 1)); printf 'ok: %s\n' "$*"; }

work=$(mktemp -d /tmp/rsv-pkg.XXXXXX)
daemon_pid=
cleanup() {
    if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
        kill -KILL "$daemon_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# --- build ------------------------------------------------------------------------------

build_log="$work/build.log"
set +e
bash packaging/build.sh 2>&1 | tee "$build_log"
status=${PIPESTATUS[0]}
set -e
if ((status == 77)); then
    skip "packaging tools unavailable ($(grep 'missing tool' "$build_log" | tail -n 1))"
fi
((status == 0)) || fail "packaging/build.sh exited with status $status"
deb=$(sed -n 's/^deb: //p' "$build_log" | tail -n 1)
rpm=$(sed -n 's/^rpm: //p' "$build_log" | tail -n 1)
[[ -f $deb ]] || fail "build.sh reported no .deb"
[[ -f $rpm ]] || fail "build.sh reported no .rpm"
ok "built $deb and $rpm"

command -v dpkg-deb >/dev/null || skip "dpkg-deb is not installed"

# Fails unless every line of $2 (a list) is in $1 (a file), naming the first missing one.
expect_lines() {
    local file=$1 what=$2 line
    shift 2
    for line in "$@"; do
        grep -qxF -- "$line" "$file" || fail "$what: missing '$line' (full list: $file)
$(cat "$file")"
    done
}

# --- .deb: files, conffiles, maintainer scripts, unit ---------------------------------------

files=(
    /usr/bin/rsupervisord
    /usr/bin/rsupervisorctl
    /etc/rsupervisor/rsupervisord.conf
    /etc/rsupervisor/conf.d/README
    /usr/lib/systemd/system/rsupervisord.service
    /usr/share/man/man1/rsupervisord.1.gz
    /usr/share/man/man1/rsupervisorctl.1.gz
    /usr/share/bash-completion/completions/rsupervisord
    /usr/share/bash-completion/completions/rsupervisorctl
    /usr/share/fish/vendor_completions.d/rsupervisord.fish
    /usr/share/fish/vendor_completions.d/rsupervisorctl.fish
)
deb_files=(
    "${files[@]}"
    /usr/share/zsh/vendor-completions/_rsupervisord
    /usr/share/zsh/vendor-completions/_rsupervisorctl
    /usr/share/doc/rsupervisor/copyright
    /usr/share/doc/rsupervisor/changelog.Debian.gz
)
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/deb.list"
expect_lines "$work/deb.list" "dpkg-deb -c" "${deb_files[@]}"
ok ".deb file list"

[[ $(dpkg-deb -f "$deb" Package) == rsupervisor ]] || fail ".deb Package is not rsupervisor"
ok ".deb package name"

dpkg-deb -e "$deb" "$work/control"
expect_lines "$work/control/conffiles" "conffiles" /etc/rsupervisor/rsupervisord.conf
ok "conffiles lists /etc/rsupervisor/rsupervisord.conf"

for script in postinst prerm postrm; do
    [[ -x $work/control/$script ]] || fail "maintainer script $script missing or not executable"
done
grep -q 'groupadd --system rsupervisor' "$work/control/postinst" || fail "postinst does not create the group"
grep -q 'deb-systemd-helper enable' "$work/control/postinst" || fail "postinst does not enable the unit"
grep -q 'deb-systemd-invoke "\$action"' "$work/control/postinst" || fail "postinst does not start/restart"
grep -q 'deb-systemd-invoke stop' "$work/control/prerm" || fail "prerm does not stop the service"
grep -q 'rm -rf /var/log/rsupervisor /etc/rsupervisor' "$work/control/postrm" ||
    fail "postrm does not clean up on purge"
# A second copy of the systemd snippets would mean cargo-deb generated its own as well.
(($(grep -c 'deb-systemd-helper enable' "$work/control/postinst") == 1)) ||
    fail "postinst enables the unit more than once (cargo-deb added snippets?)"
for script in postinst prerm postrm; do
    sh -n "$work/control/$script" || fail "$script is not valid sh"
done
ok "maintainer scripts"

tree="$work/root"
dpkg-deb -x "$deb" "$tree"
unit="$tree/usr/lib/systemd/system/rsupervisord.service"
expect_lines "$unit" "rsupervisord.service" \
    "Type=simple" \
    "ExecStart=/usr/bin/rsupervisord -n -c /etc/rsupervisor/rsupervisord.conf" \
    'ExecReload=/bin/kill -HUP $MAINPID' \
    "KillMode=mixed" \
    "TimeoutStopSec=90" \
    "Restart=on-failure" \
    "LimitNOFILE=65536" \
    "Delegate=yes" \
    "RuntimeDirectory=rsupervisor" \
    "RuntimeDirectoryMode=0755" \
    "WantedBy=multi-user.target"
if command -v systemd-analyze >/dev/null; then
    # The unit is verified in place, against this machine: rsupervisord is not installed
    # here, so that complaint is expected; any other line fails.
    systemd-analyze verify --man=no "$unit" >"$work/verify.log" 2>&1 || true
    if grep -v 'Command /usr/bin/rsupervisord is not executable' "$work/verify.log" | grep -q .; then
        fail "systemd-analyze verify: $(cat "$work/verify.log")"
    fi
    ok "systemd-analyze verify"
fi
ok "unit file"

for page in rsupervisord rsupervisorctl; do
    zcat "$tree/usr/share/man/man1/$page.1.gz" | grep -q '^\.TH' || fail "$page.1.gz is not a man page"
done
ok "man pages"

# Each shared library costs every daemon resident memory and every ctl command its loading
# time, so the binaries need libc.so.6 alone: the unwinder is linked statically
# (static_unwinder.rs) and `pow` is our own (no_libm.rs). A new dependency that brings a
# library back fails here, naming it.
if command -v readelf >/dev/null; then
    for binary in rsupervisord rsupervisorctl; do
        needed=$(readelf -d "$tree/usr/bin/$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
        [[ $needed == "libc.so.6 " ]] ||
            fail "$binary needs shared libraries besides libc.so.6: $needed(see no_libm.rs and static_unwinder.rs)"
    done
    ok "binaries need libc.so.6 only"
else
    echo "SKIP: shared library check (readelf is not installed)"
fi

# --- lintian -------------------------------------------------------------------------------

if command -v lintian >/dev/null; then
    # Errors fail the test; warnings are printed only. No tag is suppressed. Expected
    # today: initial-upload-closes-no-bugs (W; there is no Debian bug to close).
    lintian --tag-display-limit 0 --fail-on error "$deb" >"$work/lintian.log" 2>&1 || {
        cat "$work/lintian.log" >&2
        fail "lintian reported errors"
    }
    cat "$work/lintian.log"
    ok "lintian: no errors"
else
    echo "SKIP: lintian checks (lintian is not installed)"
fi

# --- .rpm -------------------------------------------------------------------------------------

if command -v rpm >/dev/null; then
    [[ $(rpm -qp --qf '%{NAME}' "$rpm") == rsupervisor ]] || fail ".rpm name is not rsupervisor"
    rpm -qlp "$rpm" >"$work/rpm.list"
    expect_lines "$work/rpm.list" "rpm -qlp" "${files[@]}" \
        /usr/share/zsh/site-functions/_rsupervisord \
        /usr/share/zsh/site-functions/_rsupervisorctl
    ok ".rpm file list"
    rpm -qcp "$rpm" >"$work/rpm.config"
    expect_lines "$work/rpm.config" "rpm -qcp" /etc/rsupervisor/rsupervisord.conf
    rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$rpm" >"$work/rpm.flags"
    grep -qx '/etc/rsupervisor/rsupervisord.conf cn' "$work/rpm.flags" ||
        fail "/etc/rsupervisor/rsupervisord.conf is not %config(noreplace): $(cat "$work/rpm.flags")"
    ok ".rpm config files"
    for script in packaging/rpm/*.sh; do
        sh -n "$script" || fail "$script is not valid sh"
    done
    rpm -qp --scripts "$rpm" >"$work/rpm.scripts"
    for pattern in 'postinstall scriptlet' 'preuninstall scriptlet' 'postuninstall scriptlet' \
        'systemctl enable --now rsupervisord.service' \
        'systemctl --no-reload disable --now rsupervisord.service' \
        'systemctl try-restart rsupervisord.service' \
        'groupadd --system rsupervisor'; do
        grep -qF -- "$pattern" "$work/rpm.scripts" ||
            fail "rpm scriptlets: missing '$pattern':
$(cat "$work/rpm.scripts")"
    done
    ok ".rpm scriptlets"
else
    echo "SKIP: rpm checks (rpm is not installed)"
fi

# --- run the packaged daemon and ctl ------------------------------------------------------

# The packaged configuration, moved into the temporary root.
conf="$tree/etc/rsupervisor/rsupervisord.conf"
sed -i -e "s#/run/rsupervisor#$tree/run/rsupervisor#g" \
    -e "s#/var/log/rsupervisor#$tree/var/log/rsupervisor#g" \
    -e "s#/etc/rsupervisor#$tree/etc/rsupervisor#g" "$conf"
mkdir -p "$tree/run/rsupervisor" "$tree/var/log/rsupervisor"
cat >"$tree/etc/rsupervisor/conf.d/sleeper.conf" <<'EOF'
[program:sleeper]
command=/bin/sleep 1000
startsecs=1
EOF
rsupervisord="$tree/usr/bin/rsupervisord"
rsupervisorctl="$tree/usr/bin/rsupervisorctl"

"$rsupervisord" -n -c "$conf" >"$work/daemon.out" 2>&1 &
daemon_pid=$!

status_out="$work/status.out"
deadline=$((SECONDS + 30))
# status exits 0 once the daemon answers and nothing is stopped; STARTING counts as
# running there, so wait for the word RUNNING too.
until "$rsupervisorctl" -c "$conf" status >"$status_out" 2>&1 && grep -q RUNNING "$status_out"; do
    kill -0 "$daemon_pid" 2>/dev/null ||
        fail "rsupervisord exited early; its output:
$(cat "$work/daemon.out")"
    ((SECONDS < deadline)) || fail "sleeper not RUNNING after 30 s; last status:
$(cat "$status_out")
daemon output:
$(cat "$work/daemon.out")"
    sleep 0.2
done
grep -Eq '^sleeper +RUNNING +pid [0-9]+, uptime [0-9]+:[0-9]{2}:[0-9]{2}$' "$status_out" ||
    fail "unexpected status output: $(cat "$status_out")"
child_pid=$(sed -nE 's/.*pid ([0-9]+),.*/\1/p' "$status_out")
ok "packaged rsupervisord runs conf.d/sleeper.conf: $(cat "$status_out")"
[[ -S $tree/run/rsupervisor/rsupervisord.sock ]] || fail "no socket at run/rsupervisor/rsupervisord.sock"
[[ -f $tree/var/log/rsupervisor/rsupervisord.log ]] || fail "no main log in var/log/rsupervisor"
ok "socket and log where the packaged config puts them"

kill -TERM "$daemon_pid"
deadline=$((SECONDS + 30))
while kill -0 "$daemon_pid" 2>/dev/null; do
    ((SECONDS < deadline)) || fail "rsupervisord still running 30 s after SIGTERM"
    sleep 0.2
done
set +e
wait "$daemon_pid"
exit_status=$?
set -e
daemon_pid=
((exit_status == 0)) || fail "rsupervisord exited with status $exit_status after SIGTERM:
$(cat "$work/daemon.out")"
if kill -0 "$child_pid" 2>/dev/null; then
    kill -KILL "$child_pid" 2>/dev/null || true
    fail "sleeper (pid $child_pid) outlived rsupervisord"
fi
ok "SIGTERM stops rsupervisord and its program"

echo "$passed passed, 0 failed"
