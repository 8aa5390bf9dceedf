#!/usr/bin/env bash
# Stops the unit and moves the staged files into bin, keeping anything they replace in old and listing what was
# installed in installed_list; when nothing is staged but installed_list exists (an earlier run switched) it does
# nothing more, otherwise exits 44. Prints TUG|time|stop and TUG|time|stopped; stops at the first error.
# tug:params unit stage bin old installed_list id version
set -e
unit={{unit}}
stage={{stage}}
bin={{bin}}
old={{old}}
installed_list={{installed_list}}
id={{id}}
version={{version}}
echo "TUG|time|stop|$(date +%s%N)"
systemctl stop "$unit"
echo "TUG|time|stopped|$(date +%s%N)"
if [ -d "$stage" ]; then
  cd "$stage" || exit
  for t in * .[!.]*; do
    [ -e "$t" ] || continue
    if [ -e "$bin/$t" ]; then mkdir -p "$old" && rm -rf "${old:?}/$t" && mv "$bin/$t" "$old/$t"; fi
    mv "$t" "$bin/$t"
    echo "$t" >> "$installed_list"
  done
  cd / && rmdir "$stage"
elif [ ! -f "$installed_list" ]; then
  echo "nothing staged for $id and $version not installed" >&2; exit 44
fi
