# %post for rsupervisor ($1: 1 = first install, 2 or more = upgrade).
# cargo-generate-rpm has no systemd macros; this does what %systemd_post plus an
# enable-and-start on first install would, only where systemd is running.
getent group rsupervisor >/dev/null || groupadd --system rsupervisor || :
[ -d /var/log/rsupervisor ] || install -d -m 0750 /var/log/rsupervisor || :
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -eq 1 ]; then
        systemctl enable --now rsupervisord.service >/dev/null 2>&1 || :
    fi
fi
