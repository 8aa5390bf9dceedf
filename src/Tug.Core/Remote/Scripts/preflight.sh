#!/usr/bin/env bash
# Reads what tug cluster check judges, changing nothing. Prints TUG|pf|<fact>|... lines (text fields that may hold
# anything are base64): os (ID, VERSION_ID, PRETTY_NAME), virt (systemd-detect-virt --container), socket (one `ss
# -Hltnp` line), proc (pid, its systemd unit), dir (path, missing|empty|nonempty|notdir, owner, free KiB and mount of
# the filesystem that holds it or would), sysctl (name, value or -, whether /proc/sys lets root write it), limit (a
# limits.conf line, its file), thp (enabled, writable), swap (SwapTotal KiB), service (name, known, active state),
# ntp (timedatectl's NTPSynchronized), applied (a record under /etc/tug/check-applied), user (deploy user exists).
# tug:params user dirs[]
user={{user}}
dirs=({{dirs}})
b64() { printf '%s' "$1" | base64 -w0; }
os_id=-; os_version=-; os_pretty=-
if [ -r /etc/os-release ]; then
  os_id=$(. /etc/os-release && printf '%s' "${ID:--}")
  os_version=$(. /etc/os-release && printf '%s' "${VERSION_ID:--}")
  os_pretty=$(. /etc/os-release && printf '%s' "${PRETTY_NAME:--}")
fi
echo "TUG|pf|os|$(b64 "$os_id")|$(b64 "$os_version")|$(b64 "$os_pretty")"
echo "TUG|pf|virt|$(systemd-detect-virt --container 2>/dev/null || echo none)"
sockets=$(ss -Hltnp 2>/dev/null)
while IFS= read -r line; do
  [ -n "$line" ] && echo "TUG|pf|socket|$(b64 "$line")"
done <<< "$sockets"
for pid in $(grep -o 'pid=[0-9]*' <<< "$sockets" | cut -d= -f2 | sort -u); do
  unit=$(grep -o '[^/]*\.service' "/proc/$pid/cgroup" 2>/dev/null | tail -n1)
  echo "TUG|pf|proc|$pid|${unit:--}"
done
for dir in "${dirs[@]}"; do
  if [ -d "$dir" ]; then
    if [ -z "$(ls -A "$dir" 2>/dev/null)" ]; then state=empty; else state=nonempty; fi
    owner=$(stat -c %U "$dir" 2>/dev/null || echo -)
  elif [ -e "$dir" ]; then state=notdir; owner=$(stat -c %U "$dir" 2>/dev/null || echo -)
  else state=missing; owner=-
  fi
  probe=$dir
  while [ ! -e "$probe" ] && [ "$probe" != / ]; do probe=$(dirname "$probe"); done
  df_line=$(df -Pk "$probe" 2>/dev/null | tail -n1)
  free=$(awk '{print $4}' <<< "$df_line"); mount=$(awk '{print $6}' <<< "$df_line")
  echo "TUG|pf|dir|$(b64 "$dir")|$state|$owner|${free:--}|$(b64 "${mount:--}")"
done
for name in fs.file-max net.core.somaxconn net.ipv4.tcp_tw_recycle net.ipv4.tcp_syncookies vm.overcommit_memory vm.swappiness; do
  file=/proc/sys/${name//.//}
  if [ -r "$file" ]; then
    value=$(tr -s '\t ' ' ' < "$file")
    if [ -w "$file" ]; then writable=1; else writable=0; fi
  else value=-; writable=0
  fi
  echo "TUG|pf|sysctl|$name|$value|$writable"
done
for file in /etc/security/limits.conf /etc/security/limits.d/*.conf; do
  [ -r "$file" ] || continue
  while IFS= read -r line; do
    case "$line" in ''|'#'*) continue ;; esac
    echo "TUG|pf|limit|$(b64 "$line")|$(b64 "$file")"
  done < "$file"
done
thp=/sys/kernel/mm/transparent_hugepage/enabled
if [ -r "$thp" ]; then
  if [ -w "$thp" ]; then writable=1; else writable=0; fi
  echo "TUG|pf|thp|$(b64 "$(cat "$thp")")|$writable"
else
  echo "TUG|pf|thp|-|0"
fi
echo "TUG|pf|swap|$(awk '/^SwapTotal:/ {print $2}' /proc/meminfo)"
for service in firewalld ufw chronyd chrony ntp ntpd systemd-timesyncd; do
  if [ -n "$(systemctl list-unit-files --no-legend "$service.service" 2>/dev/null)" ]; then known=1; else known=0; fi
  echo "TUG|pf|service|$service|$known|$(systemctl is-active "$service.service" 2>/dev/null || true)"
done
echo "TUG|pf|ntp|$(timedatectl show -p NTPSynchronized --value 2>/dev/null || echo -)"
for record in /etc/tug/check-applied/*.json; do
  [ -f "$record" ] && echo "TUG|pf|applied|$(b64 "$(basename "$record")")"
done
if id -u "$user" >/dev/null 2>&1; then echo "TUG|pf|user|1"; else echo "TUG|pf|user|0"; fi
