#!/usr/bin/env bash
# check --revert on one host: stops and disables the units --apply enabled, puts back each replaced file (contents
# base64, same order as restore_paths), removes each file --apply created, sets each sysctl back now, deletes the
# records, then removes each directory --apply created if it is empty. Prints TUG|pf|reverted|<path_b64>; stops at
# the first error.
# tug:params records[] restore_paths[] restore_contents[] remove_paths[] sysctl_names[] sysctl_values[] units[] remove_dirs[]
set -e
records=({{records}})
restore_paths=({{restore_paths}})
restore_contents=({{restore_contents}})
remove_paths=({{remove_paths}})
sysctl_names=({{sysctl_names}})
sysctl_values=({{sysctl_values}})
units=({{units}})
remove_dirs=({{remove_dirs}})
for unit in "${units[@]}"; do
  systemctl disable --now "$unit" >/dev/null 2>&1 || true
done
for i in "${!restore_paths[@]}"; do
  path=${restore_paths[$i]}
  printf '%s' "${restore_contents[$i]}" | base64 -d > "$path.tug-tmp"
  chmod 644 "$path.tug-tmp"
  mv -f "$path.tug-tmp" "$path"
  echo "TUG|pf|reverted|$(printf '%s' "$path" | base64 -w0)"
done
for path in "${remove_paths[@]}"; do
  rm -f "$path"
  echo "TUG|pf|reverted|$(printf '%s' "$path" | base64 -w0)"
done
if [ "${#units[@]}" -gt 0 ]; then systemctl daemon-reload; fi
for i in "${!sysctl_names[@]}"; do
  name=${sysctl_names[$i]}
  printf '%s\n' "${sysctl_values[$i]}" > "/proc/sys/${name//.//}" || true
done
for record in "${records[@]}"; do
  rm -f "/etc/tug/check-applied/$record"
done
for dir in "${remove_dirs[@]}"; do
  rmdir "$dir" 2>/dev/null || true
done
