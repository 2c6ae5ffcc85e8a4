/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * npsctl: command-line client of the npsd control socket (protocol: docs/CONTROL.md).
 *
 * It knows no commands: it joins its words into one request line and prints the reply, so every command the
 * daemon adds is available at once ("npsctl help" asks the daemon for the list).
 * Exit status: 0 success, 1 the daemon refused the request, 2 usage or connection problem.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/ctlproto/ctlproto.h"

#define DEFAULT_SOCKET "/run/npsgw/npsd.sock"
#define DEFAULT_TIMEOUT_MS 5000

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2 };

static void usage(FILE *out)
{
	fprintf(out,
		"usage: npsctl [-s|--socket PATH] [--json] [--timeout MS] [-h|--help] COMMAND WORDS [key value]...\n"
		"\n"
		"Sends one command to npsd over its control socket and prints the reply.\n"
		"  -s, --socket PATH  control socket (default: $NPSGW_SOCKET, else " DEFAULT_SOCKET ")\n"
		"  -w FILE            for 'capture start': write the pcapng to FILE, '-' = stdout (npsctl then\n"
		"                     streams the capture until it ends: npsctl -w - capture start ... | tshark -r -)\n"
		"      --json         print the reply as one JSON object\n"
		"      --timeout MS   give up after MS milliseconds (default %d; 0 waits for ever)\n"
		"  -h, --help         this text\n"
		"\n"
		"Run 'npsctl help' for the commands the daemon offers, e.g. 'npsctl show routes vrf blue'.\n"
		"A value with blanks (a capture filter) is sent percent-encoded; the daemon decodes it.\n"
		"Exit status: 0 done, 1 the daemon refused the command, 2 usage or connection problem.\n",
		DEFAULT_TIMEOUT_MS);
}

static bool parse_timeout(const char *s, int *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v > INT_MAX)
		return false;
	*out = (int)v;
	return true;
}

static bool has_whitespace(const char *s)
{
	for (; *s != '\0'; s++)
		if (isspace((unsigned char)*s))
			return true;
	return false;
}

/* Join the command words with single spaces; "--json" among them also switches our own output handling. */
static int build_request(char **words, int nwords, bool *json, struct sbuf *req)
{
	for (int i = 0; i < nwords; i++) {
		if (words[i][0] == '\0') {
			fprintf(stderr, "npsctl: empty argument %d: every word and value must be non-empty\n", i + 1);
			return -1;
		}
		if (strcmp(words[i], "--json") == 0) {
			*json = true;
			continue;
		}
		if (req->len != 0)
			sbuf_append(req, " ", 1);
		if (!has_whitespace(words[i]) && strchr(words[i], '%') == NULL) {
			sbuf_append(req, words[i], strlen(words[i]));
			continue;
		}
		/* Blanks inside one argument (a filter expression) travel percent-encoded: the line splits on blanks. */
		for (const char *c = words[i]; *c != '\0'; c++) {
			if (isspace((unsigned char)*c) || *c == '%')
				sbuf_printf(req, "%%%02X", (unsigned char)*c);
			else
				sbuf_append(req, c, 1);
		}
	}
	if (*json)
		sbuf_append(req, " --json", 7);
	if (req->oom) {
		fprintf(stderr, "npsctl: out of memory\n");
		return -1;
	}
	if (req->len >= CTL_REQ_MAX) {
		fprintf(stderr, "npsctl: request too long (%zu bytes, max %d)\n", req->len, CTL_REQ_MAX - 1);
		return -1;
	}
	return 0;
}

/* The "error" string of a JSON error body, decoded well enough for a terminal; false when there is none. */
static bool json_error_message(const char *body, char *msg, size_t len)
{
	static const char key[] = "\"error\":\"";
	const char *p = strstr(body, key);
	size_t n = 0;
	if (p == NULL || len == 0)
		return false;
	for (p += sizeof(key) - 1; *p != '\0' && *p != '"' && n + 1 < len; p++) {
		char c = *p;
		if (c == '\\' && p[1] != '\0') {
			c = *++p;
			if (c == 'n')
				c = '\n';
			else if (c == 't')
				c = '\t';
			else if (c == 'u') {
				unsigned code = 0;
				if (sscanf(p + 1, "%4x", &code) == 1 && strlen(p + 1) >= 4)
					p += 4;
				c = code >= 0x20 && code < 0x7f ? (char)code : '?';
			} else if (c != '"' && c != '\\' && c != '/') {
				c = '?';
			}
		}
		msg[n++] = c;
	}
	msg[n] = '\0';
	return n != 0;
}

static int print_body(const struct sbuf *body)
{
	if (body->len != 0) {
		fwrite(body->data, 1, body->len, stdout);
		if (body->data[body->len - 1] != '\n')
			putchar('\n');
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "npsctl: cannot write the reply: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	return 0;
}

static int report_refusal(int status, const struct sbuf *body, bool json)
{
	if (json) {
		char msg[CTL_ERR_MAX * 2];
		print_body(body);
		if (!json_error_message(body->data, msg, sizeof(msg)))
			snprintf(msg, sizeof(msg), "%s", strerror(status));
		fprintf(stderr, "npsctl: %s\n", msg);
		return EXIT_REFUSED;
	}
	size_t len = body->len;
	while (len > 0 && (body->data[len - 1] == '\n' || body->data[len - 1] == '\r'))
		len--;
	if (len == 0)
		fprintf(stderr, "npsctl: %s\n", strerror(status));
	else
		fprintf(stderr, "npsctl: %.*s\n", (int)len, body->data);
	return EXIT_REFUSED;
}

/* What went wrong talking to the daemon, and what to check. */
static int report_io_error(int err, const char *path, int timeout_ms)
{
	switch (err) {
	case ENOENT:
	case ECONNREFUSED:
	case ENOTSOCK:
		fprintf(stderr, "npsctl: cannot connect to %s: %s (is npsd running? set --socket or NPSGW_SOCKET)\n",
			path, strerror(err));
		break;
	case EACCES:
	case EPERM:
		fprintf(stderr, "npsctl: cannot connect to %s: %s (are you in the socket's group? see control { group,"
				" mode } in the npsd config)\n", path, strerror(err));
		break;
	case ETIMEDOUT:
		fprintf(stderr, "npsctl: no reply from npsd on %s within %d ms (is it busy or stuck? try --timeout)\n",
			path, timeout_ms);
		break;
	case EPROTO:
		fprintf(stderr, "npsctl: malformed reply on %s (is it an npsd control socket speaking NPSGW/%d?)\n",
			path, CTL_PROTO_VERSION);
		break;
	case ECONNRESET:
	case EPIPE:
		fprintf(stderr, "npsctl: npsd closed the connection on %s without a reply (see its log)\n", path);
		break;
	case ENAMETOOLONG:
		fprintf(stderr, "npsctl: socket path too long: %s\n", path);
		break;
	default:
		fprintf(stderr, "npsctl: cannot talk to npsd on %s: %s\n", path, strerror(err));
		break;
	}
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_TIMEOUT };
	static const struct option options[] = {
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, OPT_JSON},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = getenv("NPSGW_SOCKET");
	if (path == NULL || path[0] == '\0')
		path = DEFAULT_SOCKET;
	bool json = false;
	int timeout_ms = DEFAULT_TIMEOUT_MS;
	const char *write_to = NULL;

	int opt;
	/* "+": stop at the first command word, so that values starting with '-' reach the daemon untouched. */
	while ((opt = getopt_long(argc, argv, "+s:w:h", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'w':
			write_to = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_TIMEOUT:
			if (!parse_timeout(optarg, &timeout_ms)) {
				fprintf(stderr, "npsctl: bad --timeout '%s' (expected milliseconds, 0 to %d)\n", optarg,
					INT_MAX);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "npsctl: try 'npsctl --help'\n");
			return EXIT_USAGE;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}

	struct sbuf req, body;
	sbuf_init(&req);
	sbuf_init(&body);
	int rc = EXIT_USAGE;
	char fifo_dir[64] = "", fifo[96] = "";
	int fifo_fd = -1;
	bool built = build_request(argv + optind, argc - optind, &json, &req) == 0;
	if (built && write_to != NULL) {
		/* The daemon writes the file itself: give it an absolute path, or a FIFO we stream to stdout. */
		char abs[PATH_MAX];
		if (strcmp(write_to, "-") == 0) {
			snprintf(fifo_dir, sizeof(fifo_dir), "/tmp/npsctl.XXXXXX");
			if (mkdtemp(fifo_dir) == NULL || (snprintf(fifo, sizeof(fifo), "%s/capture.pcapng", fifo_dir),
							 mkfifo(fifo, 0600)) != 0 ||
			    (fifo_fd = open(fifo, O_RDONLY | O_NONBLOCK)) < 0) {
				fprintf(stderr, "npsctl: cannot create a FIFO for -w -: %s\n", strerror(errno));
				return EXIT_USAGE;
			}
			sbuf_printf(&req, " file %s", fifo);
		} else {
			if (write_to[0] == '/')
				snprintf(abs, sizeof(abs), "%s", write_to);
			else if (getcwd(abs, sizeof(abs) - strlen(write_to) - 2) != NULL)
				snprintf(abs + strlen(abs), sizeof(abs) - strlen(abs), "/%s", write_to);
			sbuf_printf(&req, " file %s", abs);
		}
	}
	if (built && !req.oom) {
		int status = ctl_client_call(path, req.data, &body, timeout_ms);
		if (status < 0)
			rc = report_io_error(-status, path, timeout_ms);
		else if (status > 0)
			rc = report_refusal(status, &body, json);
		else if (fifo_fd >= 0)
			rc = 0; /* the reply says what is captured; the capture itself goes to stdout */
		else
			rc = print_body(&body);
		if (fifo_fd >= 0 && status == 0) {
			/* Stream until the daemon closes the FIFO (count reached or capture stop). */
			fcntl(fifo_fd, F_SETFL, fcntl(fifo_fd, F_GETFL) & ~O_NONBLOCK);
			char buf[65536];
			ssize_t n;
			while ((n = read(fifo_fd, buf, sizeof(buf))) > 0)
				if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
					break;
			fflush(stdout);
		}
	}
	if (fifo_fd >= 0) {
		close(fifo_fd);
		unlink(fifo);
		rmdir(fifo_dir);
	}
	sbuf_free(&req);
	sbuf_free(&body);
	return rc;
}
