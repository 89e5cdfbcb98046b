// Shell scripts shipped in the Redis ConfigMap. They are static (no values interpolated at synth):
// everything that differs between a pod and an engine test comes in as arguments, so the tests run
// these exact texts against a real redis-server. POSIX sh, as in the Debian-based redis image.

/**
 * Init step when Redis requires a password. Reads the password from the mounted Secret file and
 * writes, into a memory-backed emptyDir:
 * - the ACL file redis.conf loads (`aclfile`): the default user's rules plus the password's SHA-256,
 *   so no plain-text copy is made for Redis;
 * - optionally the redis_exporter password file (JSON `{"<redis url>": "<password>"}`), the only
 *   way that image (no shell) takes a password other than a flag or an env var.
 * Trailing newlines of the Secret are not part of the password (as `$(cat)` reads it everywhere).
 *
 * Usage: auth-init.sh <password file> <acl rules file> <acl file out> [<exporter file out> <redis url>]
 */
export const AUTH_INIT_SCRIPT = `#!/bin/sh
set -eu
password_file=$1 rules_file=$2 acl_file=$3 exporter_file=\${4:-} redis_url=\${5:-}
fail() { echo "auth-init: $*" >&2; exit 1; }

password=$(cat "$password_file") || fail "cannot read the password file $password_file"
[ -n "$password" ] || fail "the password file $password_file is empty"
# Control characters (a newline inside, a tab) cannot be typed into redis-cli or a URL safely.
if [ "$(printf '%s' "$password" | wc -l)" -ne 0 ] || printf '%s' "$password" | LC_ALL=C grep -q '[[:cntrl:]]'; then
  fail "the password in $password_file contains control characters"
fi

# Group-readable: the exporter runs as its own user, in the pod's fsGroup.
umask 027
hash=$(printf '%s' "$password" | sha256sum | cut -d ' ' -f 1)
printf '%s #%s\\n' "$(cat "$rules_file")" "$hash" > "$acl_file.tmp"
mv "$acl_file.tmp" "$acl_file"

if [ -n "$exporter_file" ]; then
  escaped=$(printf '%s' "$password" | sed -e 's/\\\\/\\\\\\\\/g' -e 's/"/\\\\"/g')
  printf '{"%s": "%s"}\\n' "$redis_url" "$escaped" > "$exporter_file.tmp"
  mv "$exporter_file.tmp" "$exporter_file"
fi
`;

/**
 * Readiness and liveness of redis-server, authenticated from the password file if there is one.
 * `ready`: answers PONG (the dataset is loaded). `alive`: answers PONG or LOADING (a big AOF can
 * take minutes to load; restarting it then would only start over).
 *
 * Usage: probe.sh ready|alive <port> [<password file>]
 */
export const PROBE_SCRIPT = `#!/bin/sh
set -u
mode=$1 port=$2 password_file=\${3:-}
if [ -n "$password_file" ]; then
  REDISCLI_AUTH=$(cat "$password_file") || exit 1
  export REDISCLI_AUTH
fi
reply=$(redis-cli -h 127.0.0.1 -p "$port" ping 2>&1)
case "$mode:$reply" in
  ready:PONG | alive:PONG | alive:LOADING*) exit 0 ;;
esac
echo "redis $mode probe: $reply" >&2
exit 1
`;

/**
 * A consistent RDB backup: asks for a background save (scheduled after an AOF rewrite if one is
 * running), waits until a new snapshot is complete, and prints its path for \`kubectl cp\`.
 *
 * Usage: backup.sh <port> [<password file>]
 */
export const BACKUP_SCRIPT = `#!/bin/sh
set -eu
port=$1 password_file=\${2:-}
if [ -n "$password_file" ]; then
  REDISCLI_AUTH=$(cat "$password_file")
  export REDISCLI_AUTH
fi
cli() { redis-cli -h 127.0.0.1 -p "$port" "$@" | tr -d '\\r'; }
field() { printf '%s\\n' "$1" | sed -n "s/^$2://p"; }

saves_before=$(field "$(cli info persistence)" rdb_saves)
cli bgsave schedule >&2
while :; do
  info=$(cli info persistence)
  if [ "$(field "$info" rdb_saves)" -gt "$saves_before" ]; then break; fi
  if [ "$(field "$info" rdb_bgsave_in_progress)" = 0 ] && [ "$(field "$info" aof_rewrite_in_progress)" = 0 ] &&
    [ "$(field "$info" rdb_last_bgsave_status)" = err ]; then
    echo "backup: the background save failed; see the redis log" >&2
    exit 1
  fi
  sleep 0.2
done
echo "$(cli config get dir | sed -n 2p)/$(cli config get dbfilename | sed -n 2p)"
`;
