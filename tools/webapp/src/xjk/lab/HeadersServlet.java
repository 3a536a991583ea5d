/* HeadersServlet.java: /headers.do, echoes what the container saw of the
 * request, so tests can check what a proxy passed on (addresses, scheme,
 * headers, AJP request attributes). */
package xjk.lab;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.Collections;

public class HeadersServlet extends HttpServlet {
	private static final long serialVersionUID = 1L;

	@Override
	protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
		StringBuilder b = new StringBuilder();
		b.append("node=").append(Route.get()).append('\n');
		b.append("method=").append(req.getMethod()).append('\n');
		b.append("uri=").append(req.getRequestURI()).append('\n');
		b.append("query=").append(req.getQueryString()).append('\n');
		b.append("protocol=").append(req.getProtocol()).append('\n');
		b.append("scheme=").append(req.getScheme()).append('\n');
		b.append("secure=").append(req.isSecure()).append('\n');
		b.append("server=").append(req.getServerName()).append(':').append(req.getServerPort()).append('\n');
		b.append("remote=").append(req.getRemoteAddr()).append(':').append(req.getRemotePort()).append('\n');
		b.append("remote_host=").append(req.getRemoteHost()).append('\n');
		b.append("local=").append(req.getLocalAddr()).append(':').append(req.getLocalPort()).append('\n');
		b.append("remote_user=").append(req.getRemoteUser()).append('\n');
		b.append("auth_type=").append(req.getAuthType()).append('\n');
		for (String name : Collections.list(req.getHeaderNames()))
			for (String value : Collections.list(req.getHeaders(name)))
				b.append("header.").append(name).append(": ").append(value).append('\n');
		for (String name : Collections.list(req.getAttributeNames()))
			b.append("attr=").append(name).append('\n');
		Text.send(resp, b.toString());
	}
}
