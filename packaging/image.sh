#!/usr/bin/env bash
# Builds Relay's server image with podman from a binary (release for production):
#   bash packaging/image.sh [BINARY] [TAG]
# The image starts FROM scratch: this copies the binary (stripped), the shared libraries it
# links and the dynamic loader into a root filesystem, with a passwd file naming its user.
# Podman runs here with the vfs storage driver (set RELAY_PODMAN to change podman's options).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="${1:-target/release/relay-server}"
tag="${2:-relay-server:$(grep -m1 '^version' "$here/../Cargo.toml" | cut -d'"' -f2)}"
podman_opts=(${RELAY_PODMAN:---storage-driver vfs})

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
root="$context/rootfs"
mkdir -p "$root/usr/bin" "$root/etc" "$root/tmp" "$context/data"
chmod 1777 "$root/tmp"
cp "$binary" "$root/usr/bin/relay-server"
strip --strip-debug "$root/usr/bin/relay-server"
# Every library the binary links, and the loader, at the paths the binary names.
for lib in $(ldd "$binary" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done
printf 'root:x:0:0:root:/:/nonexistent\nrelay:x:10001:10001:Relay server:/var/lib/relay:/nonexistent\n' >"$root/etc/passwd"
printf 'root:x:0:\nrelay:x:10001:\n' >"$root/etc/group"
cp "$here/Containerfile" "$context/Containerfile"
podman "${podman_opts[@]}" build --format docker -t "$tag" -f "$context/Containerfile" "$context"
echo "built $tag"
