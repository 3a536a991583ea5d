/* SleepServlet.java: /sleep.do?ms=N, answers after N milliseconds (timeouts,
 * busy backends). */
package xjk.lab;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

public class SleepServlet extends HttpServlet {
	private static final long serialVersionUID = 1L;

	@Override
	protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
		long ms = Long.parseLong(req.getParameter("ms"));
		try {
			Thread.sleep(ms);
		} catch (InterruptedException e) {
			Thread.currentThread().interrupt();
		}
		Text.send(resp, "node=" + Route.get() + " slept=" + ms + "\n");
	}
}
