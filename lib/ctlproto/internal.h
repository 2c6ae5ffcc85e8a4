/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the files of lib/ctlproto; not part of the public contract (ctlproto.h). */
#ifndef NPSGW_CTLPROTO_INTERNAL_H
#define NPSGW_CTLPROTO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/ctlproto/ctlproto.h"

/* Largest reply header "NPSGW/1 <status> <len>\n"; a client refuses a longer first line. */
#define CTL_HEADER_MAX 64

/* Length of the request proper: a final '\r' is dropped so that CRLF clients (telnet, socat crlf) work. */
size_t ctl_line_trim(const char *line, size_t len);
/* 0, or EINVAL with err naming the first NUL or control character (tab is a blank; the final '\r' is allowed). */
int ctl_line_check(const char *line, size_t len, char *err, size_t errlen);

/* True when a blank-separated token of line is "--json": errors found before parsing still honour it. */
bool ctl_line_wants_json(const char *line, size_t len);

/* Render an error reply (header + body) into out without building a struct ctl_reply. */
void ctl_render_error(int status, const char *msg, bool json, struct sbuf *out);

#endif
