/* CounterServlet.java: /counter.do, a per-session counter. setAttribute is
 * called on every request because DeltaManager only replicates attributes
 * that were set, not objects mutated in place. */
package xjk.lab;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSession;
import java.io.IOException;

public class CounterServlet extends HttpServlet {
	private static final long serialVersionUID = 1L;

	@Override
	protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
		HttpSession s = req.getSession(true);
		Integer n = (Integer) s.getAttribute("count");
		int count = n == null ? 1 : n + 1;
		s.setAttribute("count", count);
		Text.send(resp, "node=" + Route.get() + " count=" + count + " session=" + s.getId() + "\n");
	}
}
