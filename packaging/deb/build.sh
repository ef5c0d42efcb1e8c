#!/usr/bin/env bash
# Builds relay-server_VERSION_ARCH.deb from a binary (release for production):
#   bash packaging/deb/build.sh [BINARY] [OUT_DIR]
# `apt install ./relay-server_*.deb` gives the binary, a hardened systemd unit, its own user
# and /etc/relay/relay.toml; the service stays stopped until it is configured and enabled.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="${1:-target/release/relay-server}"
out="${2:-target/packages}"
version="$(grep -m1 '^version' "$here/../../Cargo.toml" | cut -d'"' -f2)"
arch="$(dpkg --print-architecture)"

tree="$(mktemp -d)"
chmod 0755 "$tree"
trap 'rm -rf "$tree"' EXIT
install -D -m 0755 "$binary" "$tree/usr/bin/relay-server"
strip --strip-debug "$tree/usr/bin/relay-server"
install -D -m 0644 "$here/relay-server.service" "$tree/lib/systemd/system/relay-server.service"
install -D -m 0640 "$here/relay.toml" "$tree/etc/relay/relay.toml"
install -D -m 0644 "$here/copyright" "$tree/usr/share/doc/relay-server/copyright"
install -D -m 0644 "$here/README.md" "$tree/usr/share/doc/relay-server/README.md"
mkdir -p "$tree/DEBIAN"
for script in postinst prerm postrm; do
    install -m 0755 "$here/$script" "$tree/DEBIAN/$script"
done
echo /etc/relay/relay.toml >"$tree/DEBIAN/conffiles"
cat >"$tree/DEBIAN/control" <<CONTROL
Package: relay-server
Version: $version
Architecture: $arch
Maintainer: Relay <relay@example.com>
Section: net
Priority: optional
Depends: libc6 (>= 2.34), libgcc-s1, adduser
Installed-Size: $(du -sk "$tree/usr" | cut -f1)
Homepage: https://relay.example.com
Description: Relay server: employee advocacy, curated and verifiable
 The central server of Relay: organisations, people, curated content and its
 approval, the sync feed devices cache, share records, the monthly programme
 and its verifiable prize draw, and the curators' web console.
CONTROL
mkdir -p "$out"
package="$out/relay-server_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$tree" "$package" >/dev/null
echo "$package"
