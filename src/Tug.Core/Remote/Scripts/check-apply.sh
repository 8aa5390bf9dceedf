#!/usr/bin/env bash
# check --apply on one host: writes the record of what it is about to change first (/etc/tug/check-applied/<record>,
# base64 record_content), then each file (contents base64, same order as paths), then sets each sysctl now (read
# back), then enables and starts each unit. Prints TUG|pf|wrote|<path_b64>, TUG|pf|set|<name>|<value now>,
# TUG|pf|enabled|<unit>|<active state>; stops at the first error.
# tug:params record record_content paths[] contents[] sysctl_names[] sysctl_values[] units[]
set -e
record={{record}}
record_content={{record_content}}
paths=({{paths}})
contents=({{contents}})
sysctl_names=({{sysctl_names}})
sysctl_values=({{sysctl_values}})
units=({{units}})
install -d -m 755 /etc/tug/check-applied
printf '%s' "$record_content" | base64 -d > "/etc/tug/check-applied/$record.tmp"
mv -f "/etc/tug/check-applied/$record.tmp" "/etc/tug/check-applied/$record"
for i in "${!paths[@]}"; do
  path=${paths[$i]}
  install -d -m 755 "$(dirname "$path")"
  printf '%s' "${contents[$i]}" | base64 -d > "$path.tug-tmp"
  chmod 644 "$path.tug-tmp"
  mv -f "$path.tug-tmp" "$path"
  echo "TUG|pf|wrote|$(printf '%s' "$path" | base64 -w0)"
done
for i in "${!sysctl_names[@]}"; do
  name=${sysctl_names[$i]}
  printf '%s\n' "${sysctl_values[$i]}" > "/proc/sys/${name//.//}" || true
  echo "TUG|pf|set|$name|$(tr -s '\t ' ' ' < "/proc/sys/${name//.//}")"
done
if [ "${#units[@]}" -gt 0 ]; then systemctl daemon-reload; fi
for unit in "${units[@]}"; do
  systemctl enable --now "$unit" >/dev/null 2>&1 || true
  echo "TUG|pf|enabled|$unit|$(systemctl is-active "$unit" 2>/dev/null || true)"
done
