/* BigServlet.java: /big.do?bytes=N[&chunked=1], streams N bytes of the pattern
 * "0123456789abcdef" repeated, with a Content-Length unless chunked=1. The
 * pattern lets a test compute the expected SHA-256 without a copy. */
package xjk.lab;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

public class BigServlet extends HttpServlet {
	private static final long serialVersionUID = 1L;
	private static final byte[] BLOCK = "0123456789abcdef".repeat(4096).getBytes(StandardCharsets.US_ASCII);

	@Override
	protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
		long n;
		try {
			n = Long.parseLong(req.getParameter("bytes"));
		} catch (NumberFormatException e) {
			resp.sendError(HttpServletResponse.SC_BAD_REQUEST, "bytes=N required");
			return;
		}
		resp.setContentType("application/octet-stream");
		if (!"1".equals(req.getParameter("chunked")))
			resp.setContentLengthLong(n);
		ServletOutputStream out = resp.getOutputStream();
		/* BLOCK's length is a multiple of the pattern's, so blocks join seamlessly. */
		for (long left = n; left > 0; left -= BLOCK.length)
			out.write(BLOCK, 0, (int) Math.min(left, BLOCK.length));
	}
}
