/* test_session.c: unit tests of sticky-session route extraction
 * (agent/session.c) on heads parsed by agent/http.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "session.h"

#define MAX_ROUTES 4

/* One request and what mod_jk would make of it. */
struct route_case {
	const char *target;  /* request-target */
	const char *headers; /* extra header lines, each ending in CRLF */
	const char *session_path, *session_cookie;
	bool has_session;
	const char *routes[MAX_ROUTES + 1]; /* NULL-terminated */
};

static void test_routes(void **state)
{
	const struct route_case *c = *state;
	static const struct xjk_http_limits lim = {.max_head = 4096, .max_headers = 16};
	struct xjk_http_header hdrs[16];
	struct xjk_http_request req;
	struct xjk_str routes[MAX_ROUTES];
	char head[1024];
	bool has_session = !c->has_session;
	int status = 0, n, want = 0;

	snprintf(head, sizeof(head), "GET %s HTTP/1.1\r\nHost: h\r\n%s\r\n", c->target, c->headers);
	assert_int_equal(xjk_http_parse_request(head, strlen(head), &lim, hdrs, &req, &status), 1);
	n = xjk_session_routes(&req, c->session_path ? c->session_path : XJK_SESSION_PATH_DEFAULT,
			       c->session_cookie ? c->session_cookie : XJK_SESSION_COOKIE_DEFAULT,
			       routes, MAX_ROUTES, &has_session);
	assert_int_equal(has_session, c->has_session);
	while (c->routes[want])
		want++;
	assert_int_equal(n, want);
	for (int i = 0; i < n; i++) {
		assert_int_equal(routes[i].len, strlen(c->routes[i]));
		assert_memory_equal(routes[i].p, c->routes[i], routes[i].len);
		/* Zero-copy: every route points into the request head. */
		assert_true(routes[i].p >= head &&
			    routes[i].p + routes[i].len <= head + strlen(head));
	}
}

#define ROUTES(name, ...)                                                                          \
	{                                                                                          \
		name, test_routes, NULL, NULL, &(struct route_case){__VA_ARGS__},                  \
	}

static const struct CMUnitTest tests[] = {
	ROUTES("path param", "/app/x.jsp;jsessionid=ABC123.node1?a=b", "", .has_session = true,
	       .routes = {"node1"}),
	ROUTES("path param in an inner segment", "/app;jsessionid=ABC.node2/more/x.jsp", "",
	       .has_session = true, .routes = {"node2"}),
	ROUTES("path param ends at ';'", "/a;jsessionid=X.n3;foo=bar", "", .has_session = true,
	       .routes = {"n3"}),
	ROUTES("path param wins over cookies", "/a;jsessionid=P.fromPath",
	       "Cookie: JSESSIONID=C.fromCookie\r\n", .has_session = true, .routes = {"fromPath"}),
	ROUTES("empty path param hides cookies", "/a;jsessionid=;x",
	       "Cookie: JSESSIONID=C.fromCookie\r\n", .has_session = false),
	ROUTES("path param '=' at the end is no param",
	       "/a;jsessionid=", "Cookie: JSESSIONID=C.fromCookie\r\n", .has_session = true,
	       .routes = {"fromCookie"}),
	ROUTES("path param name needs '='", "/a;jsessionidx=A.n1", "", .has_session = false),
	ROUTES("query is not searched", "/a?;jsessionid=A.n1", "", .has_session = false),
	ROUTES("custom path param", "/a;sid=A.n7", "", .session_path = ";sid", .has_session = true,
	       .routes = {"n7"}),
	ROUTES("cookie", "/", "Cookie: JSESSIONID=ABC123.node1\r\n", .has_session = true,
	       .routes = {"node1"}),
	ROUTES("cookie among others", "/", "Cookie: a=1; JSESSIONID=S.n2; b=2\r\n",
	       .has_session = true, .routes = {"n2"}),
	ROUTES("several cookies in order", "/",
	       "Cookie: JSESSIONID=A.n1; x=y;JSESSIONID=B.n2\r\ncookie: JSESSIONID=C.n3\r\n",
	       .has_session = true, .routes = {"n1", "n2", "n3"}),
	ROUTES("comma separated cookies", "/", "Cookie: JSESSIONID=A.n1,JSESSIONID=B.n2\r\n",
	       .has_session = true, .routes = {"n1", "n2"}),
	ROUTES("more routes than room", "/",
	       "Cookie: JSESSIONID=A.n1; JSESSIONID=B.n2; JSESSIONID=C.n3; JSESSIONID=D.n4; "
	       "JSESSIONID=E.n5\r\n",
	       .has_session = true, .routes = {"n1", "n2", "n3", "n4"}),
	ROUTES("quoted cookie", "/", "Cookie: JSESSIONID=\"Q.nq\"\r\n", .has_session = true,
	       .routes = {"nq"}),
	ROUTES("unbalanced quote stays", "/", "Cookie: JSESSIONID=Q.nq\"\r\n", .has_session = true,
	       .routes = {"nq\""}),
	ROUTES("route is after the first dot", "/", "Cookie: JSESSIONID=ABC.dom1.node3\r\n",
	       .has_session = true, .routes = {"dom1.node3"}),
	ROUTES("no dot: session without route", "/", "Cookie: JSESSIONID=ABC123\r\n",
	       .has_session = true),
	ROUTES("dot at the end: no route", "/", "Cookie: JSESSIONID=ABC.\r\n", .has_session = true),
	ROUTES("id without dot is skipped", "/", "Cookie: JSESSIONID=ABC; JSESSIONID=D.n2\r\n",
	       .has_session = true, .routes = {"n2"}),
	ROUTES("empty cookie", "/", "Cookie: JSESSIONID=; a=b\r\n", .has_session = false),
	ROUTES("two empty cookies join to ';'", "/", "Cookie: JSESSIONID=;JSESSIONID=;\r\n",
	       .has_session = true),
	ROUTES("'=' at the end is no cookie", "/", "Cookie: a=b; JSESSIONID=\r\n",
	       .has_session = false),
	ROUTES("prefixed name", "/", "Cookie: XJSESSIONID=A.bad\r\n", .has_session = false),
	ROUTES("prefixed name then the real one", "/",
	       "Cookie: XJSESSIONID=A.bad; JSESSIONID=B.good\r\n", .has_session = true,
	       .routes = {"good"}),
	ROUTES("name inside another value", "/", "Cookie: a=JSESSIONID=A.bad\r\n",
	       .has_session = false),
	ROUTES("longer name", "/", "Cookie: JSESSIONIDX=A.bad\r\n", .has_session = false),
	ROUTES("spaces before '='", "/", "Cookie: JSESSIONID  =A.n1\r\n", .has_session = true,
	       .routes = {"n1"}),
	ROUTES("cookie names are case-sensitive", "/", "Cookie: jsessionid=A.bad\r\n",
	       .has_session = false),
	ROUTES("only Cookie headers count", "/", "X-Cookie: JSESSIONID=A.bad\r\n",
	       .has_session = false),
	ROUTES("custom cookie", "/", "Cookie: JSESSIONID=A.bad; SESSION=B.n9\r\n",
	       .session_cookie = "SESSION", .has_session = true, .routes = {"n9"}),
	ROUTES("no session", "/app/index.jsp", "Cookie: a=b\r\n", .has_session = false),
};

int main(void)
{
	return cmocka_run_group_tests(tests, NULL, NULL);
}
