# %postun for rsupervisor ($1: 0 = erase, 1 or more = upgrade): reload units, and restart
# the service after an upgrade (as %systemd_postun_with_restart). Logs in
# /var/log/rsupervisor are kept on erase, as rpm packages usually do.
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -ge 1 ]; then
        systemctl try-restart rsupervisord.service >/dev/null 2>&1 || :
    fi
fi
