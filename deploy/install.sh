#!/usr/bin/env bash
# Install netmgr on one Debian 12 server: system user, directories, PostgreSQL role and database, secrets,
# a virtualenv with the hashed runtime lock, migrations, FreeRADIUS config, systemd units, nginx with TLS.
#
#   sudo deploy/install.sh                 # from the netmgr checkout; run it again any time (idempotent)
#
# Every path and choice can be overridden from the environment (the tests install into a temp ROOT):
#   ROOT            prefix for every installed file (default: empty, the real system)
#   PREFIX          where netmgr lives (default /opt/netmgr; the virtualenv is $PREFIX/venv)
#   VENV            the virtualenv (default $ROOT$PREFIX/venv)
#   INSTALL_VENV    1: create/refresh VENV from requirements/runtime.txt (--require-hashes); 0: use VENV as it is
#   ETC_DIR         settings (default $ROOT/etc/netmgr: netmgr.env, tls/, radius/)
#   DATA_DIR        netmgr's data directory (default $ROOT/var/lib/netmgr)
#   SYSTEMD_DIR     units (default $ROOT/etc/systemd/system)
#   BIN_DIR         where the `netmgr` command for administrators goes (default $ROOT/usr/local/bin)
#   NGINX_DIR       nginx's configuration directory (default $ROOT/etc/nginx)
#   NETMGR_USER     the system user the services run as (default netmgr)
#   SERVER_NAME     the name users type (default: hostname -f); NETMGR_PUBLIC_URL is https://SERVER_NAME
#   HTTP_PORT, HTTPS_PORT, API_PORT   80, 443, 8000
#   NETMGR_DATABASE_URL   an existing database to use; unset: create role DB_USER and database DB_NAME
#                   (both "netmgr") in the PostgreSQL at DB_HOST:DB_PORT (127.0.0.1:5432), as the postgres
#                   user with psql (PSQL_ARGS: extra psql options, e.g. "-h 127.0.0.1 -p 5433")
#   INSTALL_PACKAGES 1: apt-get install the Debian packages (default 1 when ROOT is empty)
#   START           1: systemctl enable and (re)start everything (default 1 when systemd runs and ROOT is empty)
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="${ROOT:-}"
PREFIX="${PREFIX:-/opt/netmgr}"
VENV="${VENV:-$ROOT$PREFIX/venv}"
INSTALL_VENV="${INSTALL_VENV:-1}"
ETC_DIR="${ETC_DIR:-$ROOT/etc/netmgr}"
DATA_DIR="${DATA_DIR:-$ROOT/var/lib/netmgr}"
SYSTEMD_DIR="${SYSTEMD_DIR:-$ROOT/etc/systemd/system}"
NGINX_DIR="${NGINX_DIR:-$ROOT/etc/nginx}"
NETMGR_USER="${NETMGR_USER:-netmgr}"
SERVER_NAME="${SERVER_NAME:-$(hostname -f 2>/dev/null || hostname)}"
HTTP_PORT="${HTTP_PORT:-80}"
HTTPS_PORT="${HTTPS_PORT:-443}"
API_PORT="${API_PORT:-8000}"
DB_NAME="${DB_NAME:-netmgr}"
DB_USER="${DB_USER:-netmgr}"
DB_HOST="${DB_HOST:-127.0.0.1}"
DB_PORT="${DB_PORT:-5432}"
PSQL_ARGS="${PSQL_ARGS:-}"
RADIUS_DIR="$ETC_DIR/radius"
BIN_DIR="${BIN_DIR:-$ROOT/usr/local/bin}"
ENV_FILE="$ETC_DIR/netmgr.env"
if [[ -z "$ROOT" ]]; then default_real=1; else default_real=0; fi
INSTALL_PACKAGES="${INSTALL_PACKAGES:-$default_real}"
if [[ -d /run/systemd/system && -z "$ROOT" ]]; then default_start=1; else default_start=0; fi
START="${START:-$default_start}"
QUEUES=(default poll metrics provisioning reports portal)
PACKAGES=(python3 python3-venv postgresql redis-server influxdb nginx openssl curl snmp fonts-dejavu-core
          freeradius freeradius-rest freeradius-utils)

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
is_root() { [[ "$(id -u)" == 0 ]]; }
own() {  # own USER[:GROUP] PATH... (only root can give files away; a test run as a user keeps them)
  if is_root; then chown "$@"; fi
}

# Rewrite the default paths, ports and names in a shipped file for this installation.
render() {
  sed -e "s|/opt/netmgr/venv|$VENV|g" \
      -e "s|/etc/netmgr|$ETC_DIR|g" \
      -e "s|/var/lib/netmgr|$DATA_DIR|g" \
      -e "s|^User=netmgr|User=$NETMGR_USER|; s|^Group=netmgr|Group=$NETMGR_USER|" \
      -e "s|127.0.0.1:8000|127.0.0.1:$API_PORT|g; s|--port 8000|--port $API_PORT|" \
      -e "s|listen 80;|listen $HTTP_PORT;|; s|listen \[::\]:80;|listen [::]:$HTTP_PORT;|" \
      -e "s|listen 443 |listen $HTTPS_PORT |; s|listen \[::\]:443 |listen [::]:$HTTPS_PORT |" \
      -e "s|netmgr.example.go.id|$SERVER_NAME|g" \
      -e "s|-u netmgr |-u $NETMGR_USER |; s|\"netmgr\" != root|\"$NETMGR_USER\" != root|" \
      "$1"
}

if [[ -z "$ROOT" ]] && ! is_root; then
  die "run me as root (sudo deploy/install.sh)"
fi

if [[ "$INSTALL_PACKAGES" == 1 ]]; then
  step "Debian packages: ${PACKAGES[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
fi

step "system user $NETMGR_USER and directories"
if ! getent passwd "$NETMGR_USER" >/dev/null; then
  is_root || die "user $NETMGR_USER does not exist and only root can create it"
  useradd --system --user-group --home-dir "${DATA_DIR#"$ROOT"}" --no-create-home \
          --shell /usr/sbin/nologin "$NETMGR_USER"
fi
install -d -m 0755 "$ETC_DIR" "$ETC_DIR/tls" "$SYSTEMD_DIR" "$NGINX_DIR/sites-available" "$NGINX_DIR/sites-enabled"
install -d -m 0750 "$DATA_DIR" "$DATA_DIR/acme"
own "$NETMGR_USER:$NETMGR_USER" "$DATA_DIR"
chmod 0755 "$DATA_DIR/acme"  # nginx serves Let's Encrypt's challenges from here

if [[ "$INSTALL_VENV" == 1 ]]; then
  step "virtualenv $VENV (exactly requirements/runtime.txt, every package checked against its hash)"
  [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --require-hashes --no-deps -r "$SRC/requirements/runtime.txt"
  "$VENV/bin/pip" install --quiet --no-deps --no-build-isolation "$SRC"
fi
NETMGR="$VENV/bin/netmgr"
[[ -x "$NETMGR" ]] || die "$NETMGR is missing (INSTALL_VENV=0 needs a virtualenv with netmgr in it)"

step "settings and secrets in $ENV_FILE (readable only by $NETMGR_USER)"
if [[ ! -f "$ENV_FILE" ]]; then
  if [[ -z "${NETMGR_DATABASE_URL:-}" ]]; then
    db_password="$(openssl rand -hex 24)"
    database_url="postgresql+psycopg://$DB_USER:$db_password@$DB_HOST:$DB_PORT/$DB_NAME"
  else
    database_url="$NETMGR_DATABASE_URL"
  fi
  umask 077
  cat >"$ENV_FILE.new" <<ENV
# netmgr's settings (docs/operations.md lists them all). Made by deploy/install.sh on $(date -u +%F).
# Keep a copy of NETMGR_ENCRYPTION_KEYS somewhere safe: without it no stored device secret can be read.
NETMGR_ENVIRONMENT=production
NETMGR_DATA_DIR=$DATA_DIR
NETMGR_DATABASE_URL=$database_url
NETMGR_CELERY__BROKER_URL=redis://127.0.0.1:6379/0
NETMGR_CELERY__RESULT_BACKEND=redis://127.0.0.1:6379/1
# Debian's InfluxDB 1.x on this machine; netmgr creates its database "netmgr" itself.
NETMGR_INFLUX__URL=http://127.0.0.1:8086
NETMGR_INFLUX__API=v1
NETMGR_SECRET_KEY=$(openssl rand -hex 32)
NETMGR_ENCRYPTION_KEYS=$("$NETMGR" secrets generate-key)
NETMGR_PUBLIC_URL=https://$SERVER_NAME
NETMGR_PORTAL__BASE_URL=http://$SERVER_NAME
NETMGR_RADIUS__AAA_TOKEN=$(openssl rand -hex 32)
NETMGR_RADIUS__AAA_URL=http://127.0.0.1:$API_PORT
# nginx on this machine is the only proxy uvicorn believes about client addresses.
FORWARDED_ALLOW_IPS=127.0.0.1
ENV
  umask 022
  mv "$ENV_FILE.new" "$ENV_FILE"
fi
chmod 0600 "$ENV_FILE"
own "$NETMGR_USER:$NETMGR_USER" "$ENV_FILE"

step "the netmgr command for administrators: $BIN_DIR/netmgr (sudo netmgr ...)"
install -d -m 0755 "$BIN_DIR"
render "$SRC/deploy/netmgr-wrapper.sh" >"$BIN_DIR/netmgr.new"
chmod 0755 "$BIN_DIR/netmgr.new"
mv "$BIN_DIR/netmgr.new" "$BIN_DIR/netmgr"
env_value() { grep -E "^$1=" "$ENV_FILE" | head -1 | cut -d= -f2-; }

database_url="$(env_value NETMGR_DATABASE_URL)"
url_head="postgresql+psycopg://$DB_USER:"
url_tail="@$DB_HOST:$DB_PORT/$DB_NAME"
if [[ -z "${NETMGR_DATABASE_URL:-}" && "$database_url" == "$url_head"*"$url_tail" ]]; then
  step "PostgreSQL role $DB_USER and database $DB_NAME"
  db_password="${database_url#"$url_head"}"
  db_password="${db_password%"$url_tail"}"
  psql_as_postgres=(psql)
  if is_root; then psql_as_postgres=(runuser -u postgres -- psql); fi
  # shellcheck disable=SC2086  # PSQL_ARGS is a list of options
  "${psql_as_postgres[@]}" $PSQL_ARGS -v ON_ERROR_STOP=1 -q -d postgres <<SQL
SELECT 'CREATE ROLE "$DB_USER" LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER')\gexec
ALTER ROLE "$DB_USER" WITH LOGIN PASSWORD '$db_password';
SELECT 'CREATE DATABASE "$DB_NAME" OWNER "$DB_USER" ENCODING ''UTF8''' WHERE NOT EXISTS
  (SELECT FROM pg_database WHERE datname = '$DB_NAME')\gexec
SQL
fi

step "database schema (netmgr db upgrade)"
"$BIN_DIR/netmgr" db upgrade

step "FreeRADIUS configuration in $RADIUS_DIR (netmgr radius config)"
install -d -m 0750 "$RADIUS_DIR"
# Written by root with the services' settings (the directory belongs to FreeRADIUS's user, not netmgr).
(set -a; . "$ENV_FILE"; set +a; "$NETMGR" radius config --output "$RADIUS_DIR")
if getent passwd freerad >/dev/null; then own -R freerad:freerad "$RADIUS_DIR"; fi

step "TLS certificate (self-signed; see docs/install.md for Let's Encrypt)"
if [[ ! -f "$ETC_DIR/tls/netmgr.crt" ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=$SERVER_NAME" \
    -addext "subjectAltName=DNS:$SERVER_NAME,DNS:localhost,IP:127.0.0.1" \
    -keyout "$ETC_DIR/tls/netmgr.key" -out "$ETC_DIR/tls/netmgr.crt" 2>/dev/null
fi
chmod 0600 "$ETC_DIR/tls/netmgr.key"
chmod 0644 "$ETC_DIR/tls/netmgr.crt"

step "nginx site $NGINX_DIR/sites-available/netmgr"
render "$SRC/deploy/nginx/nginx-proxy.conf" >"$ETC_DIR/nginx-proxy.conf"
render "$SRC/deploy/nginx/netmgr.conf" >"$NGINX_DIR/sites-available/netmgr"
ln -sfn ../sites-available/netmgr "$NGINX_DIR/sites-enabled/netmgr"
rm -f "$NGINX_DIR/sites-enabled/default"  # Debian's welcome page would answer on port 80 instead

step "systemd units in $SYSTEMD_DIR"
for unit in netmgr-api.service netmgr-worker@.service netmgr-beat.service netmgr.target; do
  render "$SRC/deploy/systemd/$unit" >"$SYSTEMD_DIR/$unit"
done
install -d -m 0755 "$SYSTEMD_DIR/freeradius.service.d"
render "$SRC/deploy/systemd/freeradius.service.d/netmgr.conf" >"$SYSTEMD_DIR/freeradius.service.d/netmgr.conf"
# Enable: the links systemctl enable would make (works without a running systemd, e.g. in a test ROOT).
install -d -m 0755 "$SYSTEMD_DIR/multi-user.target.wants" "$SYSTEMD_DIR/netmgr.target.wants"
ln -sfn ../netmgr.target "$SYSTEMD_DIR/multi-user.target.wants/netmgr.target"
ln -sfn ../netmgr-api.service "$SYSTEMD_DIR/netmgr.target.wants/netmgr-api.service"
ln -sfn ../netmgr-beat.service "$SYSTEMD_DIR/netmgr.target.wants/netmgr-beat.service"
for queue in "${QUEUES[@]}"; do
  ln -sfn ../netmgr-worker@.service "$SYSTEMD_DIR/netmgr.target.wants/netmgr-worker@$queue.service"
done

if [[ "$START" == 1 ]]; then
  step "starting netmgr, FreeRADIUS and nginx"
  systemctl daemon-reload
  systemctl enable --now postgresql redis-server influxdb
  systemctl enable netmgr.target freeradius nginx
  systemctl restart netmgr.target
  systemctl restart freeradius
  nginx -t
  systemctl reload-or-restart nginx
fi

cat <<DONE

netmgr is installed. Next:
  1. make the first administrator:
       sudo $BIN_DIR/netmgr user create admin --role admin
  2. open https://$SERVER_NAME/ (the certificate is self-signed until you follow docs/install.md's
     Let's Encrypt step)
  Logs: journalctl -u netmgr-api -u 'netmgr-worker@*' -u netmgr-beat -u freeradius
DONE
