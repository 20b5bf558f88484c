# SPDX-License-Identifier: MIT
NEST_CORE_SOURCES += lib/nest.c lib/backend.c lib/sized.c lib/stream.c
noinst_HEADERS += lib/internal.h
