/* run_tcp.c: the TCP ends of the XDP lab and benchmark, so they need no
 * interpreter:
 *   run_tcp serve NAME PORT           answer "NAME\n" on connect and to every read
 *   run_tcp spread ADDR PORT N [SPORT]
 *                                     N connections one after another; counts per NAME;
 *                                     with SPORT, from ports SPORT.. and a "conn P NAME" line each
 *   run_tcp hold ADDR PORT N          N connections kept open; on each stdin line,
 *                                     asks each again: "kept K moved M dead D"
 *   run_tcp rate ADDR PORT SECS CONC  new connections per second (connect, read NAME,
 *                                     close with RST so no TIME_WAIT piles up)
 * IPv4 only. Counts print as "NAME COUNT" lines. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NAME_MAX_LEN 32
#define MAX_NAMES    16

struct tally {
	char name[MAX_NAMES][NAME_MAX_LEN];
	int count[MAX_NAMES];
	int n;
	int failed;
};

static void tally_add(struct tally *t, const char *name)
{
	for (int i = 0; i < t->n; i++) {
		if (strcmp(t->name[i], name) == 0) {
			t->count[i]++;
			return;
		}
	}
	if (t->n < MAX_NAMES) {
		snprintf(t->name[t->n], NAME_MAX_LEN, "%s", name);
		t->count[t->n++] = 1;
	}
}

static void tally_print(const struct tally *t)
{
	for (int i = 0; i < t->n; i++)
		printf("%s %d\n", t->name[i], t->count[i]);
	printf("failed %d\n", t->failed);
	fflush(stdout);
}

static struct sockaddr_in addr_of(const char *ip, const char *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
		fprintf(stderr, "run_tcp: bad address %s\n", ip);
		exit(2);
	}
	return sa;
}

/* Reads one "NAME\n" within 2 s into NAME; 0 or -1. */
static int read_name(int fd, char *name)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t len = 0;

	while (len < NAME_MAX_LEN - 1) {
		if (poll(&p, 1, 2000) != 1)
			return -1;
		ssize_t n = read(fd, name + len, 1);
		if (n <= 0)
			return -1;
		if (name[len] == '\n') {
			name[len] = '\0';
			return 0;
		}
		len++;
	}
	return -1;
}

/* SPORT 0: an ephemeral port */
static int dial(const struct sockaddr_in *sa, int sport, char *name)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = htons((uint16_t)sport)};

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sport && bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0) {
		close(fd);
		return -1;
	}
	struct timeval tv = {.tv_sec = 2};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 || read_name(fd, name)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void close_rst(int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

static int serve(const char *name, const char *port)
{
	struct sockaddr_in sa = addr_of("0.0.0.0", port);
	int one = 1, ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	char reply[NAME_MAX_LEN + 1], buf[512];
	int rlen = snprintf(reply, sizeof(reply), "%s\n", name);

	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 4096)) {
		perror("run_tcp serve");
		return 1;
	}
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls}, evs[64];
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == ls) {
				int c;
				while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					ev = (struct epoll_event){.events = EPOLLIN, .data.fd = c};
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
					if (write(c, reply, (size_t)rlen) != rlen)
						close(c);
				}
				continue;
			}
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r <= 0 || write(fd, reply, (size_t)rlen) != rlen)
				close(fd);
		}
	}
}

static int spread(const char *ip, const char *port, int n, int sport)
{
	struct sockaddr_in sa = addr_of(ip, port);
	struct tally t = {0};
	char name[NAME_MAX_LEN];

	for (int i = 0; i < n; i++) {
		int fd = dial(&sa, sport ? sport + i : 0, name);
		if (fd < 0) {
			t.failed++;
			continue;
		}
		tally_add(&t, name);
		if (sport)
			printf("conn %d %s\n", sport + i, name);
		close_rst(fd);
	}
	tally_print(&t);
	return 0;
}

static int hold(const char *ip, const char *port, int n)
{
	struct sockaddr_in sa = addr_of(ip, port);
	int *fds = calloc((size_t)n, sizeof(int));
	char(*names)[NAME_MAX_LEN] = calloc((size_t)n, NAME_MAX_LEN);
	struct tally t = {0};
	char line[64], name[NAME_MAX_LEN];

	for (int i = 0; i < n; i++) {
		fds[i] = dial(&sa, 0, names[i]);
		if (fds[i] < 0)
			t.failed++;
		else
			tally_add(&t, names[i]);
	}
	tally_print(&t);
	while (fgets(line, sizeof(line), stdin)) {
		int kept = 0, moved = 0, dead = 0;
		for (int i = 0; i < n; i++) {
			if (fds[i] < 0 || write(fds[i], "?", 1) != 1 || read_name(fds[i], name)) {
				dead++;
				continue;
			}
			if (strcmp(name, names[i]) == 0)
				kept++;
			else
				moved++;
		}
		printf("kept %d moved %d dead %d\n", kept, moved, dead);
		fflush(stdout);
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* CONC non-blocking connects in flight; each completes when NAME arrives. */
static int rate(const char *ip, const char *port, double secs, int conc)
{
	struct sockaddr_in sa = addr_of(ip, port);
	int ep = epoll_create1(0);
	long done = 0, failed = 0;
	struct epoll_event evs[256];
	char buf[64];

	for (int i = 0; i < conc; i++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fd, (struct sockaddr *)&sa, sizeof(sa));
		struct epoll_event ev = {.events = EPOLLIN | EPOLLERR | EPOLLHUP, .data.fd = fd};
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	double start = now_s(), end = start + secs;
	while (now_s() < end) {
		int n = epoll_wait(ep, evs, 256, 100);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r < 0 && errno == EAGAIN)
				continue;
			if (r > 0)
				done++;
			else
				failed++;
			close_rst(fd);
			fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			connect(fd, (struct sockaddr *)&sa, sizeof(sa));
			struct epoll_event ev = {.events = EPOLLIN | EPOLLERR | EPOLLHUP,
						 .data.fd = fd};
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		}
	}
	printf("conns_per_s %.0f failed %ld\n", done / (now_s() - start), failed);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "serve") == 0)
		return serve(argv[2], argv[3]);
	if ((argc == 5 || argc == 6) && strcmp(argv[1], "spread") == 0)
		return spread(argv[2], argv[3], atoi(argv[4]), argc == 6 ? atoi(argv[5]) : 0);
	if (argc == 5 && strcmp(argv[1], "hold") == 0)
		return hold(argv[2], argv[3], atoi(argv[4]));
	if (argc == 6 && strcmp(argv[1], "rate") == 0)
		return rate(argv[2], argv[3], atof(argv[4]), atoi(argv[5]));
	fprintf(stderr, "usage: see the comment at the top of run_tcp.c\n");
	return 2;
}
