#!/usr/bin/env bash
# Stops the unit, removes what the failed build added to bin (listed in installed_list) and moves back what it
# replaced (kept in old). Prints nothing; carries on after errors.
# tug:params unit bin old installed_list
set +e
unit={{unit}}
bin={{bin}}
old={{old}}
installed_list={{installed_list}}
systemctl stop "$unit" || true
if [ -f "$installed_list" ]; then
  while read -r t; do
    rm -rf "${bin:?}/$t"
    if [ -e "$old/$t" ]; then mv "$old/$t" "$bin/$t"; fi
  done < "$installed_list"
  rm -f "$installed_list"
fi
