#!/usr/bin/env bash
# Prints the host's clock as TUG|time|<mark>|<nanoseconds>, so a phase inside a script is timed on the host.
# tug:params mark
mark={{mark}}
echo "TUG|time|$mark|$(date +%s%N)"
