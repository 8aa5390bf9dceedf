#!/usr/bin/env bash
# Waits, up to timeout_seconds in all, until each instance's port listens (listening=1) or no longer listens
# (listening=0). When waiting for a start, a unit whose process died (activating: systemd waits to restart it;
# failed: it gave up) fails at once. Prints TUG|wait|<id>|ok or TUG|wait|<id>|fail|<unit state> per instance.
# tug:params timeout_seconds listening ids[] units[] ports[]
timeout_seconds={{timeout_seconds}}
listening={{listening}}
ids=({{ids}})
units=({{units}})
ports=({{ports}})
deadline=$(( $(date +%s) + timeout_seconds ))
listens() { ss -ltnH "sport = :$1" | grep -q .; }
reached() { if [ "$listening" = 1 ]; then listens "$1"; elif listens "$1"; then return 1; fi; }
died() { [ "$listening" = 1 ] && systemctl is-active "$1" 2>/dev/null | grep -qE '^(activating|failed)$'; }
for k in "${!ids[@]}"; do
  while ! reached "${ports[$k]}" && ! died "${units[$k]}" && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
  if reached "${ports[$k]}"; then
    echo "TUG|wait|${ids[$k]}|ok"
  else
    echo "TUG|wait|${ids[$k]}|fail|$(systemctl is-active "${units[$k]}")"
  fi
done
