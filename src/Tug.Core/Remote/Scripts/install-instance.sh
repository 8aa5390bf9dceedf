#!/usr/bin/env bash
# Creates an instance's directories for its owner and unpacks its package (checked before by package-check) into
# bin as the owner, never as root; exits 42 unless the package's entry is an executable file there. Prints nothing.
# tug:params dirs[] owner tarball bin entry entry_name
set -e
dirs=({{dirs}})
owner={{owner}}
tarball={{tarball}}
bin={{bin}}
entry={{entry}}
entry_name={{entry_name}}
for dir in "${dirs[@]}"; do
  mkdir -p "$dir" && chown "$owner:$(id -gn "$owner")" "$dir"
done
(cd / && runuser -u "$owner" -- tar --no-same-owner --no-same-permissions -zxf "$tarball" -C "$bin")
if [ ! -f "$entry" ] || [ ! -x "$entry" ]; then
  echo "$entry_name is not an executable file in the package" >&2; exit 42
fi
