#!/usr/bin/env bash
# Reads what check --apply is about to replace: prints TUG|pf|content|<path_b64>|file|<content_b64>, or |dir|- or
# |missing|- per path. Changes nothing.
# tug:params paths[]
paths=({{paths}})
for path in "${paths[@]}"; do
  p64=$(printf '%s' "$path" | base64 -w0)
  if [ -f "$path" ]; then echo "TUG|pf|content|$p64|file|$(base64 -w0 < "$path")"
  elif [ -d "$path" ]; then echo "TUG|pf|content|$p64|dir|-"
  else echo "TUG|pf|content|$p64|missing|-"
  fi
done
