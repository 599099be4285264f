# Shared setup steps for scripts/up and scripts/test. Idempotent: a second run only checks.

PYTHON=${PYTHON:-python3}

ensure_venv() {
  if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv"
    "$PYTHON" -m venv .venv
  fi
  local stamp=.venv/.blacktop-installed
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "== installing blacktop and its dependencies into .venv"
    .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
    .venv/bin/python -m pip install -q -e '.[dev]' 2>&1 | grep -v "is ignored" || true
    .venv/bin/python -c "import blacktop, fastapi, sqlalchemy" || { echo "dependency install failed"; exit 1; }
    touch "$stamp"
  fi
}

have() { command -v "$1" >/dev/null 2>&1; }

apt_install() {
  # Debian packages some tests need; only where apt is available and we are root.
  if have apt-get && [ "$(id -u)" = 0 ]; then
    if [ ! -f /tmp/.blacktop-apt-updated ]; then
      apt-get update -qq >/dev/null 2>&1 && touch /tmp/.blacktop-apt-updated || true
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 || echo "warning: apt-get install $* failed"
  fi
}

ensure_system_tools() {
  have git || apt_install git
  have promtool || apt_install prometheus
  have amtool || apt_install prometheus-alertmanager  # checks the generated Alertmanager routing
  have chromium || apt_install chromium chromium-driver  # the portal's browser smoke test
  have go || apt_install golang-go  # builds the microservice-golang golden path in tests
  # Debian's packages start servers on :9090 and :9093; the tests only need promtool and amtool.
  if have systemctl; then systemctl stop prometheus prometheus-alertmanager >/dev/null 2>&1 || true; fi
  pkill -x prometheus >/dev/null 2>&1 || true
  pkill -x prometheus-alertmanager >/dev/null 2>&1 || true
}

start_local_services() {
  # Start the machine's own servers when installed but stopped; tests fall back to embedded ones.
  if have pg_ctlcluster && ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >/dev/null 2>&1 || true
  fi
  if have redis-server && have redis-cli && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null 2>&1 || true
  fi
  if [ -x /usr/sbin/mariadbd ] && have mariadb-admin && ! mariadb-admin -h 127.0.0.1 -uroot ping >/dev/null 2>&1; then
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >/dev/null 2>&1 || true
  fi
}
