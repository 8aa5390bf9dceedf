#!/usr/bin/env bash
# Prepares a host for the deploy user: creates the user and its group (unless create_user is 0: the login user is
# the deploy user), gives it passwordless sudo and authorizes the cluster's public key. Prints nothing; stops at
# the first error.
# tug:params user group public_key create_user
set -e
user={{user}}
group={{group}}
public_key={{public_key}}
create_user={{create_user}}
if [ "$create_user" = 1 ]; then
  id -u "$user" >/dev/null 2>&1 || { groupadd -f "$group" && useradd -m -s /bin/bash -g "$group" "$user"; }
fi
echo "$user ALL=(ALL) NOPASSWD:ALL" > "/etc/sudoers.d/$user" && chmod 440 "/etc/sudoers.d/$user"
home=$(getent passwd "$user" | cut -d: -f6)
install -d -m 700 -o "$user" -g "$(id -gn "$user")" "$home/.ssh"
touch "$home/.ssh/authorized_keys"
grep -qxF "$public_key" "$home/.ssh/authorized_keys" || echo "$public_key" >> "$home/.ssh/authorized_keys"
chown "$user:$(id -gn "$user")" "$home/.ssh/authorized_keys" && chmod 600 "$home/.ssh/authorized_keys"
