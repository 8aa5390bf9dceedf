#!/usr/bin/env bash
# Unpacks an uploaded package (checked before by package-check) into a fresh staging directory beside the running
# build (never over it), owned by owner, as owner, never as root. Prints nothing; stops at the first error.
# tug:params stage tarball owner
set -e
stage={{stage}}
tarball={{tarball}}
owner={{owner}}
rm -rf "$stage" && mkdir -p "$stage" && chown "$owner:$(id -gn "$owner")" "$stage"
(cd / && runuser -u "$owner" -- tar --no-same-owner --no-same-permissions -zxf "$tarball" -C "$stage")
