#!/bin/sh
# `sudo netmgr ...`: the netmgr command with the services' settings (/etc/netmgr/netmgr.env), run as the
# netmgr user like the services. Installed as /usr/local/bin/netmgr by deploy/install.sh.
set -e
if [ ! -r /etc/netmgr/netmgr.env ]; then
  echo "netmgr: cannot read /etc/netmgr/netmgr.env; run it with sudo" >&2
  exit 1
fi
set -a
. /etc/netmgr/netmgr.env
set +a
if [ "$(id -u)" = 0 ] && [ "netmgr" != root ]; then
  exec runuser -u netmgr -- /opt/netmgr/venv/bin/netmgr "$@"
fi
exec /opt/netmgr/venv/bin/netmgr "$@"
