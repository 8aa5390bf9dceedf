#!/usr/bin/env bash
# Reads one instance's state: unit state, main PID, whether its port listens, the running executable (path in
# base64, sha256) and what it prints for version_args (base64), and the sha256 of the deployed executable bin.
# Prints TUG|probe|<id>|<state>|<pid>|<listen 0/1>|<exe_b64>|<exe sha256>|<file sha256>|<version_b64>, "-" for
# what it could not read.
# tug:params id unit port bin version_args[]
id={{id}}
unit={{unit}}
port={{port}}
bin={{bin}}
version_args=({{version_args}})
active=$(systemctl is-active "$unit" 2>/dev/null || true)
pid=$(systemctl show -p MainPID --value "$unit" 2>/dev/null || echo 0)
listen=0
if ss -ltnH "sport = :$port" | grep -q .; then listen=1; fi
exe=-; exehash=-; version=-
if [ "${pid:-0}" != 0 ] && [ -e "/proc/$pid/exe" ]; then
  exe=$(readlink "/proc/$pid/exe" | base64 -w0)
  exehash=$(sha256sum "/proc/$pid/exe" | cut -d' ' -f1)
  version=$(timeout 5 "/proc/$pid/exe" "${version_args[@]}" 2>&1 | head -20 | base64 -w0)
fi
filehash=-
if [ -f "$bin" ]; then filehash=$(sha256sum "$bin" | cut -d' ' -f1); fi
echo "TUG|probe|$id|$active|$pid|$listen|$exe|$exehash|$filehash|$version"
