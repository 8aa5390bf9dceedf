#!/usr/bin/env bash
# Prints the host's kernel and machine as TUG|platform|<uname -s>|<uname -m>.
# tug:params
echo "TUG|platform|$(uname -s)|$(uname -m)"
