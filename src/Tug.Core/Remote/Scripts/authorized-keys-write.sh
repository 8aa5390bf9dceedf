#!/usr/bin/env bash
# Replaces the user's ~/.ssh/authorized_keys with content (base64) if the file still has the sha256 expected (its hash
# when it was read; "-" for a missing file); when it changed meanwhile, nothing is written and the script exits 46.
# The new file is written beside the old one (0600, owned by the user), flushed and renamed over it, so sshd reads
# the old file or the new one, never a part of one. Exits 1 when the user has no ~/.ssh or the file is a symbolic
# link (left as it is). Prints nothing.
# tug:params user expected_sha256 content
user={{user}}
expected={{expected_sha256}}
content={{content}}
home=$(getent passwd "$user" | cut -d: -f6)
dir="$home/.ssh"
keys="$dir/authorized_keys"
if [ -z "$home" ] || [ ! -d "$dir" ]; then echo "user $user has no $dir" >&2; exit 1; fi
if [ -L "$keys" ]; then echo "$keys is a symbolic link; it is left as it is" >&2; exit 1; fi
if [ -e "$keys" ]; then
  current=$(sha256sum < "$keys" | cut -d' ' -f1) || exit 1
else
  current=-
fi
if [ "$current" != "$expected" ]; then
  echo "$keys changed since it was read (sha256 $current, expected $expected); nothing was written" >&2
  exit 46
fi
tmp=$(mktemp "$dir/.authorized_keys.tug-XXXXXX") || exit 1
if ! printf '%s' "$content" | base64 -d > "$tmp"; then
  rm -f "$tmp"
  echo "cannot write $tmp" >&2
  exit 1
fi
chmod 600 "$tmp"
if [ "$(id -u)" = 0 ] && ! chown "$user:$(id -gn "$user")" "$tmp"; then
  rm -f "$tmp"
  exit 1
fi
sync "$tmp" 2>/dev/null || sync
if ! mv -f "$tmp" "$keys"; then
  rm -f "$tmp"
  exit 1
fi
sync "$dir" 2>/dev/null || true
