# docker/slim.sh - sourced by docker/verify.sh and docker/debian-python.sh: the mmdebstrap
# options that make a Debian root like Debian's slim images, for both.
# shellcheck shell=bash disable=SC2034
SLIM_MMDEBSTRAP_ARGS=(
    # Like Debian's slim images: no docs (but copyrights), man pages, info or locales.
    --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-include=/usr/share/doc/*/copyright'
    --dpkgopt='path-exclude=/usr/share/man/*'
    --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-exclude=/usr/share/lintian/*'
    # Like Debian's images: apt keeps no .deb files or package caches.
    --aptopt='Dir::Cache::pkgcache ""'
    --aptopt='Dir::Cache::srcpkgcache ""'
    --aptopt='DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; }'
    --aptopt='APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; }'
    --aptopt='Acquire::Languages "none"'
)
