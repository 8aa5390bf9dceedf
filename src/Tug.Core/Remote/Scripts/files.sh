#!/usr/bin/env bash
# Writes files from their base64 content, each with its mode, owned by its owner and the owner's group, creating
# parent directories. Prints nothing. It keeps the caller's error mode (set -e or not).
# tug:params paths[] modes[] owners[] contents[]
paths=({{paths}})
modes=({{modes}})
owners=({{owners}})
contents=({{contents}})
for k in "${!paths[@]}"; do
  t=$(mktemp) && echo "${contents[$k]}" | base64 -d > "$t" && install -D -m "${modes[$k]}" -o "${owners[$k]}" -g "$(id -gn "${owners[$k]}")" "$t" "${paths[$k]}" && rm -f "$t"
done
