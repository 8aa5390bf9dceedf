#!/usr/bin/env bash
# Reads what proves a restart came after a write: the unit's state, its main PID and when systemd started that
# process (ExecMainStartTimestamp), and each path's modification time, both in milliseconds since the epoch on this
# host's clock. Prints TUG|started|<id>|<state>|<pid>|<start_ms or ->, then TUG|mtime|<path_b64>|<ms or -> per path.
# tug:params id unit paths[]
id={{id}}
unit={{unit}}
paths=({{paths}})
active=$(systemctl is-active "$unit" 2>/dev/null || true)
pid=$(systemctl show -p MainPID --value "$unit" 2>/dev/null || echo 0)
start=-
if [ "${pid:-0}" != 0 ]; then
  stamp=$(systemctl show --timestamp=us+utc -p ExecMainStartTimestamp --value "$unit" 2>/dev/null || true)
  if [ -n "$stamp" ] && ms=$(date -u -d "$stamp" +%s%3N 2>/dev/null); then start=$ms; fi
fi
echo "TUG|started|$id|${active:-unknown}|${pid:-0}|$start"
for path in "${paths[@]}"; do
  mtime=$(stat -c %.3Y "$path" 2>/dev/null | tr -d .)
  echo "TUG|mtime|$(printf '%s' "$path" | base64 -w0)|${mtime:--}"
done
