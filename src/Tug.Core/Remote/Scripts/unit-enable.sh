#!/usr/bin/env bash
# Enables the units at boot (action enable) or disables them (action disable), or only reads (action read); starts
# and stops nothing. Then prints TUG|enabled|<unit>|<state> per unit as `systemctl is-enabled` says it (enabled,
# disabled, not-found...). Exits 1 when systemctl refused the change.
# tug:params action units[]
action={{action}}
units=({{units}})
rc=0
case "$action" in
  enable | disable) systemctl "$action" "${units[@]}" >/dev/null 2>&1 || { echo "systemctl $action failed" >&2; rc=1; } ;;
  read) ;;
  *) echo "unknown action $action" >&2; exit 2 ;;
esac
for unit in "${units[@]}"; do
  state=$(systemctl is-enabled "$unit" 2>/dev/null || true)
  echo "TUG|enabled|$unit|${state:-not-found}"
done
exit "$rc"
