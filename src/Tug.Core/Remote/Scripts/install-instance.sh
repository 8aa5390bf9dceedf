#!/usr/bin/env bash
# Creates an instance's directories for its owner and unpacks its package (checked before by package-check) into
# unpack_to (bin, or a directory inside it that relayout.sh then moves into TiUP's layout) as the owner, never as
# root; when it unpacks into bin, exits 42 unless the package's entry is an executable file there. Prints nothing.
# tug:params dirs[] owner tarball bin unpack_to entry entry_name
set -e
dirs=({{dirs}})
owner={{owner}}
tarball={{tarball}}
bin={{bin}}
unpack_to={{unpack_to}}
entry={{entry}}
entry_name={{entry_name}}
for dir in "${dirs[@]}"; do
  mkdir -p "$dir" && chown "$owner:$(id -gn "$owner")" "$dir"
done
if [ "$unpack_to" != "$bin" ]; then
  rm -rf "$unpack_to" && mkdir -p "$unpack_to" && chown "$owner:$(id -gn "$owner")" "$unpack_to"
fi
(cd / && runuser -u "$owner" -- tar --no-same-owner --no-same-permissions -zxf "$tarball" -C "$unpack_to")
if [ "$unpack_to" = "$bin" ] && { [ ! -f "$entry" ] || [ ! -x "$entry" ]; }; then
  echo "$entry_name is not an executable file in the package" >&2; exit 42
fi
