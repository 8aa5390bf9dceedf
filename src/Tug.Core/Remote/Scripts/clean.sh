#!/usr/bin/env bash
# Deletes, in each directory, its direct entries whose names match the pattern at the same index (dot files
# included; the directory itself stays), or only counts them (remove 0). Refuses a directory that is not absolute,
# is /, or is a symbolic link (exit 2, nothing deleted). Then prints TUG|clean|<dir_b64>|<pattern_b64>|<left> per
# directory, left being the entries that still match, or - when the directory is missing.
# tug:params remove dirs[] patterns[]
remove={{remove}}
dirs=({{dirs}})
patterns=({{patterns}})
for dir in "${dirs[@]}"; do
  case "$dir" in
    /*) ;;
    *) echo "refusing $dir: not an absolute path" >&2; exit 2 ;;
  esac
  if [ -z "${dir//\//}" ] || [ -L "$dir" ]; then echo "refusing $dir: / or a symbolic link" >&2; exit 2; fi
done
rc=0
for i in "${!dirs[@]}"; do
  dir=${dirs[$i]}
  pattern=${patterns[$i]}
  if [ "$remove" = 1 ] && [ -d "$dir" ]; then
    find "$dir" -mindepth 1 -maxdepth 1 -name "$pattern" -exec rm -rf -- {} + || rc=1
  fi
done
for i in "${!dirs[@]}"; do
  dir=${dirs[$i]}
  pattern=${patterns[$i]}
  if [ -d "$dir" ]; then
    left=$(find "$dir" -mindepth 1 -maxdepth 1 -name "$pattern" -printf x 2>/dev/null | wc -c)
  else
    left=-
  fi
  echo "TUG|clean|$(printf '%s' "$dir" | base64 -w0)|$(printf '%s' "$pattern" | base64 -w0)|$left"
done
exit "$rc"
