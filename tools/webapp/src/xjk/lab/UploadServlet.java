/* UploadServlet.java: /upload.do, reads the whole request body (Content-Length
 * or chunked) and answers its size and SHA-256, so a test can prove a proxy
 * forwarded every byte unchanged. */
package xjk.lab;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

public class UploadServlet extends HttpServlet {
	private static final long serialVersionUID = 1L;

	@Override
	protected void doPost(HttpServletRequest req, HttpServletResponse resp) throws IOException {
		MessageDigest md;
		try {
			md = MessageDigest.getInstance("SHA-256");
		} catch (NoSuchAlgorithmException e) {
			throw new IOException(e);
		}
		byte[] buf = new byte[65536];
		long total = 0;
		InputStream in = req.getInputStream();
		for (int r; (r = in.read(buf)) > 0;) {
			md.update(buf, 0, r);
			total += r;
		}
		Text.send(resp, "bytes=" + total + " sha256=" + HexFormat.of().formatHex(md.digest()) + "\n");
	}
}
