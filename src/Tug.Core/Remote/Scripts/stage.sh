#!/usr/bin/env bash
# Makes a fresh, empty staging directory beside the running build (never over it), owned by owner, for
# package-check to unpack the checked package into as owner. Prints nothing; stops at the first error.
# tug:params stage owner
set -e
stage={{stage}}
owner={{owner}}
rm -rf "$stage" && mkdir -p "$stage" && chown "$owner:$(id -gn "$owner")" "$stage"
