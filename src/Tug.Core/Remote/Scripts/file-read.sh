#!/usr/bin/env bash
# Reads files whole. Prints TUG|content|<path_b64>|<content_b64> per path, the content "-" when the file is missing
# or cannot be read.
# tug:params paths[]
paths=({{paths}})
for path in "${paths[@]}"; do
  if [ -f "$path" ] && content=$(base64 -w0 < "$path" 2>/dev/null); then
    echo "TUG|content|$(printf '%s' "$path" | base64 -w0)|${content:-=}"
  else
    echo "TUG|content|$(printf '%s' "$path" | base64 -w0)|-"
  fi
done
