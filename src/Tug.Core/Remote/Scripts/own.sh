#!/usr/bin/env bash
# Gives a directory tree to a user and the user's group. Prints nothing; stops at the first error.
# tug:params user dir
set -e
user={{user}}
dir={{dir}}
chown -R "$user:$(id -gn "$user")" "$dir"
