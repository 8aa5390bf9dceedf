#!/usr/bin/env bash
# Checks an uploaded package's member list before anything is unpacked, by the rules publish applies (Tug's
# PackageMembers): only regular files, directories, symbolic and hard links; relative names with no .. part, no
# backslash (GNU tar's escape for control characters) and no " -> " or " link to " (which would make the listing
# ambiguous); no setuid or setgid bit; nothing beneath a symbolic link of the package; a symbolic link's target
# relative with .. only at its start, never climbing above the package; a hard link's target a regular file named
# earlier. Names are read raw (-P) and each verbose line is matched against the plain listing's name. The tarball
# is decompressed once, as root, into a private temporary file that both listings read and, when into is given, the
# unpacking too: as owner (never root), from that same checked copy on its stdin, into into (removed again when the
# package is refused). Exits 45 naming the first bad member on stderr; prints nothing when the package is good.
# tug:params tarball package into owner
set -e
tarball={{tarball}}
package={{package}}
into={{into}}
owner={{owner}}
# In a subshell: nothing it declares leaks into the scripts that follow.
(
  refuse() { printf 'package %s: member '\''%s'\'' %s; refused on the host, nothing was unpacked\n' "$package" "$1" "$2" >&2; exit 45; }
  tar_copy=$(mktemp /tmp/tug-package-XXXXXX) ok=0
  # A refused package leaves no staging directory behind either.
  cleanup() { rm -f "$tar_copy"; if [ "$ok" != 1 ] && [ -n "$into" ]; then rm -rf "$into"; fi; }
  trap cleanup EXIT
  gzip -dc < "$tarball" > "$tar_copy" 2>/dev/null || { echo "package $package cannot be listed by tar: gzip cannot decompress it; nothing was unpacked" >&2; exit 45; }
  plain=$(LC_ALL=C TZ=UTC tar -P --quoting-style=escape -tf "$tar_copy") || { echo "package $package cannot be listed by tar; nothing was unpacked" >&2; exit 45; }
  long=$(LC_ALL=C TZ=UTC tar -P --numeric-owner --quoting-style=escape -tvf "$tar_copy") || { echo "package $package cannot be listed by tar; nothing was unpacked" >&2; exit 45; }
  mapfile -t names <<< "$plain"
  mapfile -t lines <<< "$long"
  if [ "${#names[@]}" -ne "${#lines[@]}" ]; then echo "package $package: its two listings differ; nothing was unpacked" >&2; exit 45; fi
  declare -A pkg_files=() pkg_links=()
  # Sets c to a name without leading ./ and trailing slashes ("" for the package's top directory).
  clean() { c=$1; while [[ $c == ./* ]]; do c=${c#./}; done; while [[ $c == */ ]]; do c=${c%/}; done; if [ "$c" = . ]; then c=; fi; }
  for k in "${!names[@]}"; do
    raw=${names[$k]}; line=${lines[$k]}
    [ -n "$raw" ] || { [ "${#names[@]}" -eq 1 ] && continue; refuse "" "has an empty name"; }
    perm=${line%% *}; type=${perm:0:1}; target=
    case "$raw" in
      *\\*|*" -> "*|*" link to "*) refuse "$raw" "has a backslash, a control character, ' -> ' or ' link to ' in its name" ;;
      /*) refuse "$raw" "has an absolute path" ;;
    esac
    if [[ /$raw/ == */../* ]]; then refuse "$raw" "has a '..' part in its path"; fi
    case "$type" in
      -|d) [[ $line == *" $raw" ]] || refuse "$raw" "does not match its listing" ;;
      l) [[ $line == *" $raw -> "* ]] || refuse "$raw" "does not match its listing"; target=${line#*" $raw -> "} ;;
      h) [[ $line == *" $raw link to "* ]] || refuse "$raw" "does not match its listing"; target=${line#*" $raw link to "} ;;
      c) refuse "$raw" "is a character device; a package holds only regular files, directories and links" ;;
      b) refuse "$raw" "is a block device; a package holds only regular files, directories and links" ;;
      p) refuse "$raw" "is a FIFO; a package holds only regular files, directories and links" ;;
      *) refuse "$raw" "is of tar type '$type'; a package holds only regular files, directories and links" ;;
    esac
    case "${perm:3:1}${perm:6:1}" in
      [sS]?|?[sS]) refuse "$raw" "has the setuid or setgid bit ($perm)" ;;
    esac
    clean "$raw"; name=$c
    if [ -z "$name" ] && [ "$type" != d ]; then refuse "$raw" "has an empty name"; fi
    if [ "$type" = l ]; then
      case "$target" in
        ''|/*|*\\*) refuse "$raw" "is a symbolic link to '$target', which is not a relative path inside the package" ;;
      esac
      rest=$target; up=0
      while :; do
        case "$rest" in
          ../*|..) up=$((up + 1)); rest=${rest#..}; rest=${rest#/} ;;
          ./*|.) rest=${rest#.}; rest=${rest#/} ;;
          /*) rest=${rest#/} ;;
          *) break ;;
        esac
      done
      slashes=${name//[!\/]/}
      if [[ /$rest/ == */../* ]] || [ "$up" -gt "${#slashes}" ]; then refuse "$raw" "is a symbolic link to '$target', which points outside the package"; fi
      pkg_links[$name]=1
    elif [ "$type" = h ]; then
      case "$target" in
        ''|/*|*\\*) refuse "$raw" "is a hard link to '$target', which is not a regular file earlier in the package" ;;
      esac
      clean "$target"
      if [[ /$target/ == */../* ]] || [ -z "$c" ] || [ -z "${pkg_files[$c]+x}" ]; then refuse "$raw" "is a hard link to '$target', which is not a regular file earlier in the package"; fi
    elif [ "$type" = - ]; then
      pkg_files[$name]=1
    fi
  done
  for raw in "${names[@]}"; do
    clean "$raw"; name=$c; prefix=
    while [[ $name == */* ]]; do
      prefix=${prefix:+$prefix/}${name%%/*}; name=${name#*/}
      if [ -n "${pkg_links[$prefix]+x}" ]; then refuse "$raw" "lies beneath the symbolic link '$prefix' of the package"; fi
    done
  done
  if [ -n "$into" ]; then
    (cd / && runuser -u "$owner" -- tar --no-same-owner --no-same-permissions -xf - -C "$into") < "$tar_copy"
  fi
  ok=1
) || exit $?
