#!/usr/bin/env bash
# Removes the files (uploads that are no longer needed). Prints nothing.
# tug:params files[]
set -e
files=({{files}})
rm -f "${files[@]}"
