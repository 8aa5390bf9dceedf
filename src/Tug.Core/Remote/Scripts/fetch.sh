#!/usr/bin/env bash
# Fetches a package over HTTP onto the host as the deploy user (never as root) and keeps it at path only when its
# sha256 is the signed manifest's. The address is base/name; an empty base means the control machine's package
# server on port, at the address this SSH connection comes from ($SSH_CONNECTION). Exits 0 when the file is in
# place (fetched, or already there with the right hash), 46 when the address cannot be reached (no route, refused,
# timed out, no curl or wget on the host), 47 when the server answers without the file, 41 when what came differs
# from the signed manifest (it is deleted). Prints nothing when it succeeds.
# tug:params base port name path sha256 package
set -e
base={{base}}
port={{port}}
name={{name}}
path={{path}}
sha256={{sha256}}
package={{package}}
if [ -f "$path" ] && echo "$sha256  $path" | sha256sum -c --quiet - >/dev/null 2>&1; then exit 0; fi
if [ -z "$base" ]; then
  from=${SSH_CONNECTION%% *}
  if [ -z "$from" ]; then echo "cannot tell the control machine's address: SSH_CONNECTION is not set" >&2; exit 46; fi
  case "$from" in *:*) from="[$from]" ;; esac
  base="http://$from:$port"
fi
url="${base%/}/$name"
part=$(mktemp "$path.part-XXXXXX")
trap 'rm -f "$part"' EXIT
rc=0
if command -v curl >/dev/null 2>&1; then
  curl -fsS --connect-timeout 5 --speed-limit 1024 --speed-time 30 -o "$part" "$url" 2>"$part.err" || rc=$?
  case "$rc" in
    0) ;;
    22) echo "package $package: $url answered with an HTTP error: $(cat "$part.err")" >&2; rm -f "$part.err"; exit 47 ;;
    *) echo "package $package: cannot fetch $url (curl exit $rc): $(cat "$part.err")" >&2; rm -f "$part.err"; exit 46 ;;
  esac
  rm -f "$part.err"
elif command -v wget >/dev/null 2>&1; then
  wget -q -T 5 -O "$part" "$url" || rc=$?
  case "$rc" in
    0) ;;
    8) echo "package $package: $url answered with an HTTP error" >&2; exit 47 ;;
    *) echo "package $package: cannot fetch $url (wget exit $rc)" >&2; exit 46 ;;
  esac
else
  echo "package $package: this host has neither curl nor wget to fetch $url" >&2
  exit 46
fi
got=$(sha256sum "$part") && got=${got%% *}
if [ "$got" != "$sha256" ]; then
  echo "package $package from $url: its sha256 is $got, the signed manifest's is $sha256; refused on the host, nothing was unpacked" >&2
  exit 41
fi
chmod 0644 "$part"
mv -f "$part" "$path"
