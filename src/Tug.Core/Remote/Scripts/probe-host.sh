#!/usr/bin/env bash
# Reads once, for every probe of this host that follows, what probe.sh would otherwise ask for each instance: every
# unit's ActiveState and MainPID (one systemctl show for all of them) and the listening TCP sockets (one ss). Sets
# probe_active[UNIT], probe_pid[UNIT], probe_listening and probe_read=1; a unit systemctl did not report is left
# out, and probe.sh asks for it alone. Prints nothing.
# tug:params units[]
units=({{units}})
# shellcheck disable=SC2034 # read by the probe.sh fragments that follow
declare -A probe_active=() probe_pid=()
# shellcheck disable=SC2034
probe_listening=$(ss -ltnH 2>/dev/null || true)
probe_id='' probe_state='' probe_main=''
while IFS= read -r probe_line; do
  case "$probe_line" in
    Id=*) probe_id=${probe_line#Id=} ;;
    ActiveState=*) probe_state=${probe_line#ActiveState=} ;;
    MainPID=*) probe_main=${probe_line#MainPID=} ;;
    '')
      # shellcheck disable=SC2034
      if [ -n "$probe_id" ] && [ -n "$probe_state" ]; then probe_active[$probe_id]=$probe_state; probe_pid[$probe_id]=${probe_main:-0}; fi
      probe_id='' probe_state='' probe_main=''
      ;;
  esac
done < <(systemctl show -p Id -p ActiveState -p MainPID -- "${units[@]}" 2>/dev/null; echo)
# shellcheck disable=SC2034
probe_read=1
