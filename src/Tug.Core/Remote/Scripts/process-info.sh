#!/usr/bin/env bash
# Reads how one instance's process runs, for display --uptime / --process: its main PID, how many seconds it has
# run (ps etimes, from the host's clock), its resident memory in KiB (VmRSS), and the unit's MemoryMax and
# CPUQuotaPerSecUSec as systemd reports them.
# Prints TUG|proc|<id>|<pid>|<seconds>|<rss KiB>|<memory max>|<cpu quota>, "-" for what it could not read.
# tug:params id unit
id={{id}}
unit={{unit}}
pid=$(systemctl show -p MainPID --value "$unit" 2>/dev/null || echo 0)
seconds=-; rss=-
if [ "${pid:-0}" != 0 ] && [ -d "/proc/$pid" ]; then
  seconds=$(ps -o etimes= -p "$pid" 2>/dev/null | tr -d ' ')
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
fi
memmax=$(systemctl show -p MemoryMax --value "$unit" 2>/dev/null | tr -d '|')
quota=$(systemctl show -p CPUQuotaPerSecUSec --value "$unit" 2>/dev/null | tr -d '|')
echo "TUG|proc|$id|${pid:-0}|${seconds:--}|${rss:--}|${memmax:--}|${quota:--}"
