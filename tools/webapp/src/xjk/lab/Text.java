/* Text.java: writes a short text/plain answer; every servlet of the lab app
 * answers this way so tests can grep one line. */
package xjk.lab;

import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

final class Text {
	private Text() {
	}

	static void send(HttpServletResponse resp, String body) throws IOException {
		byte[] b = body.getBytes(StandardCharsets.UTF_8);
		resp.setContentType("text/plain;charset=UTF-8");
		resp.setContentLength(b.length);
		resp.getOutputStream().write(b);
	}
}
