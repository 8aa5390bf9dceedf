#!/usr/bin/env bash
# Reads the user's authorized_keys (sshd's default file, ~/.ssh/authorized_keys) whole. Prints
# TUG|keys|<path_b64>|<content_b64>, the content "=" when the file is empty and "-" when it is missing; exits 1 when
# the user has no home directory or the file cannot be read.
# tug:params user
user={{user}}
home=$(getent passwd "$user" | cut -d: -f6)
if [ -z "$home" ]; then echo "user $user has no home directory" >&2; exit 1; fi
keys="$home/.ssh/authorized_keys"
path_b64=$(printf '%s' "$keys" | base64 -w0)
if [ ! -e "$keys" ]; then
  echo "TUG|keys|$path_b64|-"
elif content=$(base64 -w0 < "$keys"); then
  echo "TUG|keys|$path_b64|${content:-=}"
else
  echo "cannot read $keys" >&2
  exit 1
fi
