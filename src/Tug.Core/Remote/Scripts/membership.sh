#!/usr/bin/env bash
# Adds a member to a running etcd cluster (action add) or removes it (action remove), or only looks (action check),
# through etcdctl beside a member that stays, talking to the endpoints; a member already there (or already gone) is
# left as it is. Prints TUG|member|added, TUG|member|present|<member id>, TUG|member|removed or TUG|member|absent.
# Exits 2 without etcdctl, 3 when the member list cannot be read.
# tug:params ctl host endpoints peer action name
ctl={{ctl}}
host={{host}}
endpoints={{endpoints}}
peer={{peer}}
action={{action}}
name={{name}}
[ -x "$ctl" ] || ctl=$(command -v etcdctl) || { echo "no etcdctl beside etcd on $host" >&2; exit 2; }
etcd_ctl() { ETCDCTL_API=3 "$ctl" --endpoints="$endpoints" --command-timeout=5s "$@"; }
# etcd refuses a member change with "unhealthy cluster" until every member has been connected for a few seconds
# (its strict reconfiguration check), e.g. just after a restart: wait for that, at most 30 s; any other error stops.
change() {
  local out
  for _ in $(seq 30); do
    if out=$(etcd_ctl "$@" 2>&1); then return 0; fi
    case $out in *"unhealthy cluster"*) sleep 1 ;; *) break ;; esac
  done
  printf '%s\n' "$out" >&2
  return 1
}
list=$(etcd_ctl member list) || { echo "member list failed: $list" >&2; exit 3; }
id=$(printf '%s\n' "$list" | grep -F ", $peer," | cut -d, -f1)
if [ "$action" = check ]; then
  if [ -n "$id" ]; then echo "TUG|member|present|$id"; else echo "TUG|member|absent"; fi
elif [ "$action" = add ]; then
  if [ -n "$id" ]; then echo "TUG|member|present|$id"; else change member add "$name" --peer-urls="$peer" && echo "TUG|member|added"; fi
else
  if [ -z "$id" ]; then echo "TUG|member|absent"; else change member remove "$id" && echo "TUG|member|removed"; fi
fi
