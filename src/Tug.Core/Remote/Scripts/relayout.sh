#!/usr/bin/env bash
# Moves an unpacked package in dir from its own layout (its executable at unpacked, e.g.
# node_exporter-1.9.0.linux-amd64/node_exporter) into the layout TiUP's run scripts execute (entry, e.g.
# node_exporter/node_exporter): the directory holding the executable becomes entry's directory and the executable
# gets entry's file name; a package with its executable at the top moves whole into entry's directory. For a flat
# entry (pd-server) the executable's directory's files move to the top. Anything else at the top of dir is
# removed, so dir then holds exactly what goes into bin/; when into is not empty, that is then moved into it
# (replacing what is there) and dir removed. Runs as owner, never as root. Exits 42 when the executable is not
# where unpacked says. Prints nothing.
# tug:params dir unpacked entry owner into
set -e
dir={{dir}}
unpacked={{unpacked}}
entry={{entry}}
owner={{owner}}
into={{into}}
if [ ! -f "$dir/$unpacked" ]; then echo "$unpacked is not a file in the package" >&2; exit 42; fi
as_owner() { runuser -u "$owner" -- "$@"; }
src=$(dirname "$unpacked")
name=$(basename "$unpacked")
work="$dir/.tug-layout"
as_owner rm -rf "$work"
if [ "$src" = . ]; then
  as_owner mkdir "$work"
  for t in "$dir"/* "$dir"/.[!.]*; do
    [ -e "$t" ] || [ -L "$t" ] || continue
    [ "$t" = "$work" ] && continue
    as_owner mv "$t" "$work/"
  done
else
  as_owner mv "$dir/$src" "$work"
  for t in "$dir"/* "$dir"/.[!.]*; do
    [ -e "$t" ] || [ -L "$t" ] || continue
    [ "$t" = "$work" ] && continue
    as_owner rm -rf "$t"
  done
fi
target=$(dirname "$entry")
file=$(basename "$entry")
if [ "$name" != "$file" ]; then as_owner mv -f "$work/$name" "$work/$file"; fi
if [ "$target" = . ]; then
  for t in "$work"/* "$work"/.[!.]*; do
    [ -e "$t" ] || [ -L "$t" ] || continue
    as_owner mv "$t" "$dir/"
  done
  as_owner rmdir "$work"
else
  as_owner mv "$work" "$dir/$target"
fi
if [ -n "$into" ]; then
  for t in "$dir"/* "$dir"/.[!.]*; do
    [ -e "$t" ] || [ -L "$t" ] || continue
    as_owner rm -rf "${into:?}/$(basename "$t")"
    as_owner mv "$t" "$into/"
  done
  as_owner rmdir "$dir"
fi
