#!/usr/bin/env bash
# Unpacks an uploaded package into a fresh staging directory beside the running build (never over it). Prints
# nothing; stops at the first error.
# tug:params stage tarball
set -e
stage={{stage}}
tarball={{tarball}}
rm -rf "$stage" && mkdir -p "$stage"
tar --no-same-owner -zxf "$tarball" -C "$stage"
