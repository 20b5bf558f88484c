/* SPDX-License-Identifier: MIT */
/* Version and status strings. */
#include "internal.h"

#define NEST_STR_(x) #x
#define NEST_STR(x) NEST_STR_(x)

NEST_API uint32_t nest_version(void)
{
	return NEST_VERSION_HEX;
}

NEST_API const char *nest_version_string(void)
{
	return NEST_STR(NEST_VERSION_MAJOR) "." NEST_STR(NEST_VERSION_MINOR) "." NEST_STR(
		NEST_VERSION_PATCH);
}

NEST_API const char *nest_strerror(int status)
{
	switch (status) {
#define NEST_STATUS_TEXT_(name, value, text)                                                       \
	case value:                                                                                \
		return text;
		NEST_STATUS_LIST(NEST_STATUS_TEXT_)
#undef NEST_STATUS_TEXT_
	}
	return "unknown status";
}

NEST_API const char *nest_status_name(int status)
{
	switch (status) {
#define NEST_STATUS_NAME_(name, value, text)                                                       \
	case value:                                                                                \
		return #name;
		NEST_STATUS_LIST(NEST_STATUS_NAME_)
#undef NEST_STATUS_NAME_
	}
	return "NEST_E_UNKNOWN";
}
