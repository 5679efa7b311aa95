#!/usr/bin/env bash
# Install or upgrade trainer on this box from the USB stick, with no network at all.
#
#   sudo bash install.sh [--prefix /opt/trainer] [--port 8080] [--no-systemd]
#
# 1. Checks first, and changes nothing when a check fails: the stick's checksums, Python 3.11
#    or newer with venv, a set of wheels for this box, free space.
# 2. Installs into PREFIX/releases/RELEASE (pip --no-index --isolated --require-hashes --no-deps:
#    the lock lists every wheel to install).
# 3. Stops the running trainer, backs up its database (PREFIX/backups), runs the migrations.
# 4. Starts the new release (the trainer.service systemd unit, or with --no-systemd a plain
#    background process whose pid is in PREFIX/trainer.pid).
# 5. Checks /healthz, then points PREFIX/current at the new release.
# 6. On any failure after step 1: puts the database back, starts the previous release again
#    (if there was one) and says what happened.
#
# Running it twice is harmless. Data (PREFIX/data: database, keys, enrolment, course
# updates) is kept across upgrades. To uninstall: see README-USB.txt.
set -uo pipefail

STICK=$(cd "$(dirname "$0")" && pwd)
PREFIX=/opt/trainer
PORT=8080
SYSTEMD=yes
HEALTH_SECONDS=${TRAINER_HEALTH_SECONDS:-60}  # how long a new release may take to answer

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }

while (($#)); do
  case "$1" in
    --prefix) PREFIX=${2:?--prefix needs a folder}; shift 2 ;;
    --port) PORT=${2:?--port needs a number}; shift 2 ;;
    --no-systemd) SYSTEMD=no; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "Unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf '%s\n' "$*"; }
stop_here() { printf '\nSTOPPED: %s\nNothing on this box was changed.\n' "$*" >&2; exit 1; }

# --- 1. Preflight: nothing changes before every check has passed --------------------------

say "Checking the stick…"
[ -f "$STICK/SHA256SUMS" ] && [ -f "$STICK/RELEASE" ] \
  || stop_here "this folder is not a trainer stick (no SHA256SUMS or RELEASE). Run install.sh from the stick."
if ! damaged=$(cd "$STICK" && sha256sum --quiet -c SHA256SUMS 2>/dev/null); then
  stop_here "some files on the stick are damaged or missing:
$(printf '%s\n' "$damaged" | sed 's/^/  /' | head -20)
Copy the stick again from the computer that built it."
fi
RELEASE=$(tr -d '[:space:]' < "$STICK/RELEASE")

PYTHON=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null 2>&1 \
     && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    PYTHON=$(command -v "$candidate"); break
  fi
done
[ -n "$PYTHON" ] || stop_here "trainer needs Python 3.11 or newer, and this box has $(python3 --version 2>&1 || echo 'no python3'). Raspberry Pi OS 12 (bookworm) or newer has it."

TARGET="$(uname -m)-cp$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')"
if [ ! -f "$STICK/locks/$TARGET.txt" ]; then
  have=$(cd "$STICK/locks" && ls -- *.txt 2>/dev/null | sed 's/\.txt$//' | tr '\n' ' ')
  stop_here "this box is $TARGET (machine $(uname -m), $("$PYTHON" --version)), and the stick has wheels only for: ${have:-none}. Build a stick with --targets $(uname -m)-$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')."
fi

WORK=$(mktemp -d) || stop_here "cannot make a temporary folder"
trap 'rm -rf "$WORK"' EXIT
"$PYTHON" -m venv --without-pip "$WORK/venv-check" >/dev/null 2>&1 \
  || stop_here "Python cannot make a virtual environment here ($PYTHON -m venv failed)."
# pip comes from the stick (the box's own pip may be missing or old): run from its wheel.
PIP_WHEEL=$(ls "$STICK"/wheels/pip-*.whl 2>/dev/null | head -n 1)
[ -n "$PIP_WHEEL" ] || stop_here "the stick has no pip wheel. Build the stick again."

# Free space where PREFIX goes: the release (about 3 times its wheels), the courses, and a
# backup copy of the database.
existing=$PREFIX
while [ ! -d "$existing" ]; do existing=$(dirname "$existing"); done
wheel_kb=$(cat "$STICK/locks/$TARGET.kb" 2>/dev/null || du -sk "$STICK/wheels" | cut -f1)
courses_kb=$(du -sk "$STICK/courses" | cut -f1)
db_kb=0
[ -f "$PREFIX/data/trainer.db" ] && db_kb=$(du -sk "$PREFIX/data/trainer.db" | cut -f1)
needed_kb=$(( wheel_kb * 3 + courses_kb + db_kb + 20 * 1024 ))
free_kb=$(df -Pk "$existing" | awk 'NR == 2 { print $4 }')
if [ -d "$PREFIX/releases/$RELEASE" ] && [ -f "$PREFIX/releases/$RELEASE/.installed" ]; then
  needed_kb=$(( db_kb + 1024 ))  # installed already: only a backup copy is made
fi
if [ "$free_kb" -lt "$needed_kb" ]; then
  stop_here "not enough free space on $(df -P "$existing" | awk 'NR == 2 { print $6 }'): $((free_kb / 1024)) MB free, about $((needed_kb / 1024)) MB needed. Remove old files, or old releases in $PREFIX/releases."
fi
say "  stick whole, $("$PYTHON" --version) for $TARGET, $((free_kb / 1024)) MB free: ready to install $RELEASE"

# --- From here on, a failure puts things back ---------------------------------------------

RELEASES="$PREFIX/releases"
NEW="$RELEASES/$RELEASE"
DATA="$PREFIX/data"
PREVIOUS=""
[ -L "$PREFIX/current" ] && PREVIOUS=$(readlink -f "$PREFIX/current")
BACKUP=""
STOPPED_OLD=no

run_trainer() {  # run_trainer RELEASE_DIR ARGS…: the trainer command of that release
  local release=$1; shift
  env TRAINER_HOME="$DATA" TRAINER_COURSES_DIR="$release/courses" "$release/bin/trainer" "$@"
}

service_stop() {
  if [ "$SYSTEMD" = yes ]; then
    systemctl stop trainer.service 2>/dev/null || true
  elif [ -f "$PREFIX/trainer.pid" ]; then
    pid=$(cat "$PREFIX/trainer.pid")
    # the server and its children (the search index's updates): its whole process group
    if kill -TERM -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null; then
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$PREFIX/trainer.pid"
  fi
}

service_start() {  # service_start RELEASE_DIR
  local release=$1
  if [ "$SYSTEMD" = yes ]; then
    sed -e "s|@RELEASE@|$release|g" -e "s|@DATA@|$DATA|g" -e "s|@PORT@|$PORT|g" \
      "$STICK/trainer.service" > /etc/systemd/system/trainer.service || return 1
    systemctl daemon-reload && systemctl enable trainer.service >/dev/null 2>&1 \
      && systemctl restart trainer.service
  else
    # A simple command in the background, so that $! is the server itself and nothing else
    # keeps this script's output open; in a session of its own, so that stopping it stops
    # its children too.
    cd "$DATA" || return 1
    TRAINER_HOME="$DATA" TRAINER_COURSES_DIR="$release/courses" \
      setsid nohup "$release/bin/trainer" serve --host 0.0.0.0 --port "$PORT" \
      >> "$DATA/serve.log" 2>&1 < /dev/null &
    echo $! > "$PREFIX/trainer.pid"
    cd - > /dev/null || true
  fi
}

healthy() {  # healthy RELEASE_DIR [SECONDS]: /healthz answers ok with the courses loaded
  "$1/bin/python" - "$PORT" "${2:-$HEALTH_SECONDS}" <<'PY'
import json, sys, time, urllib.request
port, seconds = int(sys.argv[1]), float(sys.argv[2])
deadline = time.monotonic() + seconds
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            health = json.load(answer)
        if health.get("status") == "ok" and health.get("courses", 0) > 0:
            sys.exit(0)
    except (OSError, ValueError):
        pass
    time.sleep(0.3)
sys.exit(1)
PY
}

roll_back() {  # roll_back REASON
  say "" ; say "The new release $RELEASE failed: $*" >&2
  service_stop
  if [ -n "$BACKUP" ] && [ -f "$BACKUP" ]; then
    # SQLite's own backup, page by page into the live file: right with its WAL, and it
    # waits for anyone still reading it.
    if "$NEW/bin/python" -c 'import sqlite3, sys
source, target = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2], timeout=30)
source.backup(target)' "$BACKUP" "$DATA/trainer.db"; then
      say "The database is back as it was before ($BACKUP)." >&2
    else
      say "The database could not be put back: copy $BACKUP to $DATA/trainer.db by hand." >&2
    fi
  fi
  if [ -n "$PREVIOUS" ] && [ "$PREVIOUS" != "$NEW" ] && [ -x "$PREVIOUS/bin/trainer" ]; then
    if [ "$STOPPED_OLD" = yes ]; then
      service_start "$PREVIOUS"
      if healthy "$PREVIOUS"; then
        say "The box runs the previous release again: $(basename "$PREVIOUS")." >&2
      else
        say "The previous release $(basename "$PREVIOUS") did not start either: see $DATA/serve.log or journalctl -u trainer." >&2
      fi
    else
      say "The previous release $(basename "$PREVIOUS") was not stopped and still runs." >&2
    fi
  else
    say "There was no earlier release on this box; trainer is not running." >&2
  fi
  [ -f "$NEW/.installed" ] || rm -rf "$NEW"
  exit 1
}

mkdir -p "$RELEASES" "$DATA" "$PREFIX/backups" || roll_back "cannot write to $PREFIX"

# 2. The release, once: a half-made one (no .installed) is made again.
if [ -f "$NEW/.installed" ]; then
  say "Release $RELEASE is installed already."
else
  rm -rf "$NEW"
  say "Installing $RELEASE into $NEW…"
  "$PYTHON" -m venv --without-pip "$NEW" || roll_back "cannot make the virtual environment"
  "$NEW/bin/python" "$PIP_WHEEL/pip" install --no-index --isolated --require-hashes \
    --no-deps --no-warn-script-location \
    --disable-pip-version-check -q --find-links "$STICK/wheels" \
    -r "$STICK/locks/$TARGET.txt" || roll_back "pip could not install the wheels"
  cp -R "$STICK/courses" "$NEW/courses" || roll_back "cannot copy the courses"
  touch "$NEW/.installed"
fi

if [ "$PREVIOUS" = "$NEW" ] && healthy "$NEW" 3; then
  say "Release $RELEASE runs already and answers. Nothing to do."
  exit 0
fi

# 3. The old server stops; the database is copied, then migrated by the new release.
service_stop
STOPPED_OLD=yes
FIRST=no
if [ -f "$DATA/trainer.db" ]; then
  BACKUP="$PREFIX/backups/trainer-$(date -u +%Y%m%dT%H%M%S)-before-$RELEASE.db"
  run_trainer "$NEW" backup "$BACKUP" >/dev/null || roll_back "cannot back up the database"
  say "Database backed up to $BACKUP"
else
  FIRST=yes
fi
run_trainer "$NEW" init >/dev/null || roll_back "the database migrations failed"
if [ "$FIRST" = yes ]; then
  PASSWORD=$("$NEW/bin/python" -c 'import secrets; print(secrets.token_urlsafe(9))')
  run_trainer "$NEW" users add --username coordinator --password "$PASSWORD" \
    --role coordinator >/dev/null || roll_back "cannot create the first coordinator"
fi
if [ "$SYSTEMD" = yes ]; then
  id trainer >/dev/null 2>&1 || useradd --system --home-dir "$DATA" --shell /usr/sbin/nologin trainer \
    || roll_back "cannot create the trainer user"
  chown -R trainer: "$DATA" || roll_back "cannot give $DATA to the trainer user"
fi

# 4 and 5. Start, check, then switch the current link.
started=$(date +%s%N)
service_start "$NEW" || roll_back "the service did not start"
healthy "$NEW" || roll_back "it did not answer /healthz with its courses within ${HEALTH_SECONDS} s"
answered_ms=$(( ($(date +%s%N) - started) / 1000000 ))
ln -sfn "$NEW" "$PREFIX/current.new" && mv -T "$PREFIX/current.new" "$PREFIX/current" \
  || roll_back "cannot switch $PREFIX/current"

say ""
say "trainer $RELEASE is installed and running on port $PORT (it answered ${answered_ms} ms after it was started)."
address=$(hostname -I 2>/dev/null | awk '{ print $1 }')
say "Learners open: http://${address:-this-box}:$PORT/"
if [ "$FIRST" = yes ]; then
  say ""
  say "The first coordinator account. Write it down, then change the password:"
  say "  username: coordinator"
  say "  password: $PASSWORD"
fi
for old in "$RELEASES"/*; do
  [ -d "$old" ] && [ "$old" != "$NEW" ] && say "An older release stays in $old until you remove it."
done
exit 0
