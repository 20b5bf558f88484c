# SPDX-License-Identifier: MIT
# L1 guest hypervisors used by the bare-metal examples.
