#!/usr/bin/env bash
# Runs one systemctl action on the units: start (after a daemon-reload; a failed start is left to the wait that
# follows), stop, restart, or reload (daemon-reload only, ending the script if it fails). Prints nothing. It keeps
# the caller's error mode.
# tug:params action units[]
action={{action}}
units=({{units}})
case "$action" in
  start) systemctl daemon-reload; systemctl start "${units[@]}" || true ;;
  reload) systemctl daemon-reload || exit ;;
  *) systemctl "$action" "${units[@]}" ;;
esac
