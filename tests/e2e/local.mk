# SPDX-License-Identifier: MIT
# End-to-end runs of the bare-metal example under emulators.
TESTS += tests/e2e/svm.sh tests/e2e/vmx.sh tests/e2e/linux.sh \
	tests/e2e/linux-vmx.sh
EXTRA_DIST += tests/e2e/svm.sh tests/e2e/vmx.sh tests/e2e/linux.sh tests/e2e/linux-vmx.sh

# Everything the e2e runs build lives under tests/e2e/ (the Linux run also
# keeps the Debian packages it fetched in tests/e2e/linux-cache).
clean-local: clean-e2e-baremetal
clean-e2e-baremetal:
	rm -rf tests/e2e/baremetal tests/e2e/baremetal-vmx tests/e2e/linux tests/e2e/linux-smp tests/e2e/linux-cache \
		tests/e2e/linux-vmx tests/e2e/linux-vmx-cache
.PHONY: clean-e2e-baremetal
