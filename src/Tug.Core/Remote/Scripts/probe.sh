#!/usr/bin/env bash
# Reads one instance's state: unit state, main PID, whether its port listens, the running executable (path in
# base64, sha256) and what it prints for version_args (base64), the sha256 of the deployed executable bin, and the
# running executable's identity: boot id, the process's start time (/proc/PID/stat starttime), the device, inode,
# size, mtime and ctime (ns) of /proc/PID/exe's target and of bin (ctime too: touch can set an mtime back, not a
# ctime). When that identity equals known (the identity last verified), neither file is hashed nor the version run:
# those three fields print "=" and hashed is 0.
# Prints TUG|probe|<id>|<state>|<pid>|<listen 0/1>|<exe_b64>|<exe sha256>|<file sha256>|<version_b64>|<identity>|<hashed 0/1>,
# "-" for what it could not read.
# tug:params id unit port bin known version_args[]
id={{id}}
unit={{unit}}
port={{port}}
bin={{bin}}
known={{known}}
version_args=({{version_args}})
listen=0
# probe-host.sh, rendered once before a host's probes, read every unit and socket at once; alone, probe.sh asks itself.
# shellcheck disable=SC2154
if [ "${probe_read:-0}" = 1 ] && [ -n "${probe_active[$unit]+x}" ]; then
  active=${probe_active[$unit]}
  pid=${probe_pid[$unit]:-0}
  while read -r _ _ _ probe_local _; do
    case "$probe_local" in *":$port") listen=1 ;; esac
  done <<< "$probe_listening"
else
  active=$(systemctl is-active "$unit" 2>/dev/null || true)
  pid=$(systemctl show -p MainPID --value "$unit" 2>/dev/null || echo 0)
  if ss -ltnH "sport = :$port" | grep -q .; then listen=1; fi
fi
exe=-; exehash=-; version=-; identity=-; hashed=1; filehash=-
if [ "${pid:-0}" != 0 ] && [ -e "/proc/$pid/exe" ]; then
  exe=$(readlink "/proc/$pid/exe" | base64 -w0)
  stat_line=$(cat "/proc/$pid/stat" 2>/dev/null || true)
  started=$(printf '%s' "${stat_line##*) }" | cut -d' ' -f20)
  boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo -)
  exeid=$(stat -L -c '%d:%i:%s:%.9Y:%.9Z' "/proc/$pid/exe" 2>/dev/null || echo -)
  binid=$(stat -L -c '%d:%i:%s:%.9Y:%.9Z' "$bin" 2>/dev/null || echo -)
  if [ -n "$started" ] && [ "$exeid" != - ] && [ "$binid" != - ]; then identity="$boot:$started:$exeid:$binid"; fi
  if [ "$identity" != - ] && [ "$identity" = "$known" ]; then
    exehash='='; filehash='='; version='='; hashed=0
  else
    exehash=$(sha256sum "/proc/$pid/exe" | cut -d' ' -f1)
    version=$(timeout 5 "/proc/$pid/exe" "${version_args[@]}" 2>&1 | head -20 | base64 -w0)
  fi
fi
if [ "$hashed" = 1 ] && [ -f "$bin" ]; then filehash=$(sha256sum "$bin" | cut -d' ' -f1); fi
echo "TUG|probe|$id|$active|$pid|$listen|$exe|$exehash|$filehash|$version|$identity|$hashed"
