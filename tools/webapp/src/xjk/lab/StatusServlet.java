/* StatusServlet.java: /status.do?code=N, answers with status N (fail_on_status,
 * error pass-through). */
package xjk.lab;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

public class StatusServlet extends HttpServlet {
	private static final long serialVersionUID = 1L;

	@Override
	protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
		int code = Integer.parseInt(req.getParameter("code"));
		resp.setStatus(code);
		Text.send(resp, "node=" + Route.get() + " status=" + code + "\n");
	}
}
