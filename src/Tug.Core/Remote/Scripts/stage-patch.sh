#!/usr/bin/env bash
# Stages a patch: a fresh staging directory holding a copy of the running build's top directory (when the entry
# is inside one) with the patched executable installed at the entry. Prints nothing; stops at the first error.
# tug:params stage bin top patch entry
set -e
stage={{stage}}
bin={{bin}}
top={{top}}
patch={{patch}}
entry={{entry}}
rm -rf "$stage" && mkdir -p "$stage"
if [ -n "$top" ]; then
  cp -a "$bin/$top" "$stage/$top"
fi
install -m 0755 "$patch" "$entry"
