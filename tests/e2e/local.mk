# SPDX-License-Identifier: MIT
# End-to-end runs of the bare-metal example under emulators.
