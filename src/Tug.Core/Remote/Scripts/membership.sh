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
list=$(etcd_ctl member list) || { echo "member list failed: $list" >&2; exit 3; }
id=$(printf '%s\n' "$list" | grep -F ", $peer," | cut -d, -f1)
if [ "$action" = check ]; then
  if [ -n "$id" ]; then echo "TUG|member|present|$id"; else echo "TUG|member|absent"; fi
elif [ "$action" = add ]; then
  if [ -n "$id" ]; then echo "TUG|member|present|$id"; else etcd_ctl member add "$name" --peer-urls="$peer" >/dev/null && echo "TUG|member|added"; fi
else
  if [ -z "$id" ]; then echo "TUG|member|absent"; else etcd_ctl member remove "$id" >/dev/null && echo "TUG|member|removed"; fi
fi
