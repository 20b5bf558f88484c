# SPDX-License-Identifier: MIT
# The simulated backend, shared by unit, scenario, fuzz and bench programs.
check_LTLIBRARIES += tests/sim/libnestsim.la
tests_sim_libnestsim_la_SOURCES = tests/sim/sim.c tests/sim/sim.h
tests_sim_libnestsim_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/sim
tests_sim_libnestsim_la_CFLAGS = $(AM_CFLAGS)
