#!/usr/bin/env bash
# Hashes files. Prints TUG|file|<path_b64>|<sha256> per path, the hash empty when the file cannot be read.
# tug:params paths[]
paths=({{paths}})
for path in "${paths[@]}"; do
  # Hashed from stdin: sha256sum escapes the hash of a file whose name holds a newline or backslash.
  echo "TUG|file|$(printf '%s' "$path" | base64 -w0)|$({ sha256sum < "$path"; } 2>/dev/null | cut -d' ' -f1)"
done
