// Shell scripts shipped in the Redis ConfigMap. They are static (no values interpolated at synth):
// everything that differs between a pod and an engine test comes in as arguments, so the tests run
// these exact texts against a real redis-server. POSIX sh, as in the Debian-based redis image.

/**
 * Init step when Redis has users. Writes, into a memory-backed emptyDir:
 * - the ACL file redis.conf loads (`aclfile`): the users' rules from the ConfigMap, each enabled
 *   user's line followed by its password's SHA-256 (`#<hex>`), so Redis gets no plain-text copy;
 *   it fails if an enabled user got no password;
 * - a password made here for a pod-local user (the probes): 32 random bytes, hex;
 * - optionally the redis_exporter password file (JSON `{"<redis url>": "<password>"}`), the only
 *   way that image (no shell) takes a password other than a flag or an env var.
 * A password comes from a mounted Secret key; trailing newlines are not part of it (as `$(cat)`
 * reads it everywhere); an empty one, or one with control characters, is refused.
 *
 * Usage: auth-init.sh <acl rules file> <acl file out> ACTION...
 *   user <name> <password file>                   the user's password, from a Secret file
 *   generate <name> <password file out>           a new random password, written for the pod
 *   exporter-json <password file> <file out> <redis url>
 */
export const AUTH_INIT_SCRIPT = `#!/bin/sh
set -eu
rules_file=$1 acl_file=$2
shift 2
fail() { echo "auth-init: $*" >&2; exit 1; }
read_password() {
  password=$(cat "$1") || fail "cannot read the password file $1"
  [ -n "$password" ] || fail "the password file $1 is empty"
  # Control characters (a newline inside, a tab) cannot be typed into redis-cli or a URL safely.
  if [ "$(printf '%s' "$password" | wc -l)" -ne 0 ] || printf '%s' "$password" | LC_ALL=C grep -q '[[:cntrl:]]'; then
    fail "the password in $1 contains control characters"
  fi
}
# Group-readable: the exporter runs as its own user, in the pod's fsGroup.
umask 027
hashes="$acl_file.hashes"
# A first line, so awk's first file is never empty (else it would read the rules as hashes).
echo '# name sha256' > "$hashes"
while [ $# -gt 0 ]; do
  case "$1" in
    user)
      [ $# -ge 3 ] || fail "user needs <name> <password file>"
      read_password "$3"
      printf '%s %s\\n' "$2" "$(printf '%s' "$password" | sha256sum | cut -d ' ' -f 1)" >> "$hashes"
      shift 3 ;;
    generate)
      [ $# -ge 3 ] || fail "generate needs <name> <password file out>"
      password=$(head -c 32 /dev/urandom | sha256sum | cut -d ' ' -f 1)
      printf '%s' "$password" > "$3.tmp"
      mv "$3.tmp" "$3"
      printf '%s %s\\n' "$2" "$(printf '%s' "$password" | sha256sum | cut -d ' ' -f 1)" >> "$hashes"
      shift 3 ;;
    exporter-json)
      [ $# -ge 4 ] || fail "exporter-json needs <password file> <file out> <redis url>"
      read_password "$2"
      escaped=$(printf '%s' "$password" | sed -e 's/\\\\/\\\\\\\\/g' -e 's/"/\\\\"/g')
      printf '{"%s": "%s"}\\n' "$4" "$escaped" > "$3.tmp"
      mv "$3.tmp" "$3"
      shift 4 ;;
    *) fail "unknown action $1" ;;
  esac
done
# Each enabled user's line gets its hash; an enabled user without one is a mistake in the wiring.
awk 'NR == FNR { hash[$1] = $2; next }
  $1 == "user" && ($2 in hash) { print $0 " #" hash[$2]; next }
  $1 == "user" && / on( |$)/ { missing = missing " " $2 }
  { print }
  END { if (missing != "") { print "auth-init: no password for user(s)" missing > "/dev/stderr"; exit 1 } }' "$hashes" "$rules_file" > "$acl_file.tmp"
rm -f "$hashes"
mv "$acl_file.tmp" "$acl_file"
`;

/**
 * Readiness and liveness of redis-server, logged in as `user` with the password file if given.
 * `ready`: answers PONG (the dataset is loaded). `alive`: answers PONG or LOADING (a big AOF can
 * take minutes to load; restarting it then would only start over).
 *
 * Usage: probe.sh ready|alive <port> [<user> <password file>]
 */
export const PROBE_SCRIPT = `#!/bin/sh
set -u
mode=$1 port=$2 user=\${3:-} password_file=\${4:-}
set --
if [ -n "$password_file" ]; then
  REDISCLI_AUTH=$(cat "$password_file") || exit 1
  export REDISCLI_AUTH
  set -- --user "$user"
fi
reply=$(redis-cli -h 127.0.0.1 -p "$port" "$@" ping 2>&1)
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
 * Usage: backup.sh <port> [<user> <password file>]
 */
export const BACKUP_SCRIPT = `#!/bin/sh
set -eu
port=$1 user=\${2:-} password_file=\${3:-}
login=
if [ -n "$password_file" ]; then
  REDISCLI_AUTH=$(cat "$password_file")
  export REDISCLI_AUTH
  login="--user $user"
fi
# $login unquoted on purpose: two words or none (user names are plain words).
cli() { redis-cli -h 127.0.0.1 -p "$port" $login "$@" | tr -d '\\r'; }
field() { printf '%s\\n' "$1" | sed -n "s/^$2://p"; }

info=$(cli info persistence)
saves_before=$(field "$info" rdb_saves)
# redis-cli exits 0 on an error reply (NOAUTH, NOPERM): check that INFO answered.
case "$saves_before" in
  '' | *[!0-9]*) echo "backup: INFO persistence failed: $info" >&2; exit 1 ;;
esac
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
