#!/usr/bin/env bash
# Fails the script with exit_code, printing message on stderr, unless the file at path has the sha256 given.
# Prints nothing when it matches.
# tug:params path sha256 message exit_code
set -e
path={{path}}
sha256={{sha256}}
message={{message}}
exit_code={{exit_code}}
echo "$sha256  $path" | sha256sum -c --quiet - || { echo "$message" >&2; exit "$exit_code"; }
