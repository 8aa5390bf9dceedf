#!/usr/bin/env bash
# Stops and disables the units, removes their unit files and the directories (each one's parent too when that is
# left empty), then proves it: every unit still installed or running and every directory still there is named on
# stderr, and the script exits 1. When public_key is not empty it leaves the user's authorized_keys.
# tug:params units[] dirs[] user public_key
units=({{units}})
dirs=({{dirs}})
user={{user}}
public_key={{public_key}}
systemctl disable --now "${units[@]}" >/dev/null 2>&1 || true
for unit in "${units[@]}"; do
  rm -f "/etc/systemd/system/$unit"
done
for dir in "${dirs[@]}"; do
  # The directory, then its parent if that is now empty (the global deploy or data dir Tug created).
  rm -rf "$dir"; rmdir "$(dirname "$dir")" 2>/dev/null || true
done
systemctl daemon-reload
systemctl reset-failed >/dev/null 2>&1 || true

# Prove it: no unit left running or installed, no directory left behind.
bad=0
for unit in "${units[@]}"; do
  if systemctl is-active --quiet "$unit" || [ -e "/etc/systemd/system/$unit" ]; then echo "$unit is still installed or running" >&2; bad=1; fi
done
for dir in "${dirs[@]}"; do
  if [ -e "$dir" ]; then echo "$dir is still there" >&2; bad=1; fi
done
if [ -n "$public_key" ]; then
  home=$(getent passwd "$user" | cut -d: -f6)
  keys="$home/.ssh/authorized_keys"
  if [ -n "$home" ] && [ -f "$keys" ]; then
    grep -vxF "$public_key" "$keys" > "$keys.tug" || true
    cat "$keys.tug" > "$keys"
    rm -f "$keys.tug"
  fi
fi
exit "$bad"
