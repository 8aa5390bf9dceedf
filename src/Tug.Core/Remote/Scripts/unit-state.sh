#!/usr/bin/env bash
# Reads one unit's state for the health window: is-active, main PID and systemd's restart counter (NRestarts).
# Prints TUG|unit|<id>|<state>|<pid>|<restarts>.
# tug:params id unit
id={{id}}
unit={{unit}}
active=$(systemctl is-active "$unit" 2>/dev/null || true)
pid=$(systemctl show -p MainPID --value "$unit" 2>/dev/null || echo 0)
restarts=$(systemctl show -p NRestarts --value "$unit" 2>/dev/null || echo 0)
echo "TUG|unit|$id|${active:-unknown}|${pid:-0}|${restarts:-0}"
