# SPDX-License-Identifier: MIT
# Debian packaging (debian/): `make deb` builds libnest0, libnest-dev,
# nestctl and python3-libnest with dpkg-buildpackage from a copy of the
# tracked files and runs lintian (debian/build-packages.sh).
EXTRA_DIST += debian/changelog debian/control debian/copyright debian/rules \
	debian/source/format debian/libnest0.install debian/libnest-dev.install \
	debian/nestctl.install debian/build-packages.sh debian/local.mk
deb:
	$(SHELL) $(srcdir)/debian/build-packages.sh $(abs_builddir)/deb
.PHONY: deb
