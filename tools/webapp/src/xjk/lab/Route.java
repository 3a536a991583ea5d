/* Route.java: the node's jvmRoute, passed by the lab as -Dxjk.route (the same
 * property server.xml substitutes into <Engine jvmRoute>), so answers without
 * a session can still say which node served them. */
package xjk.lab;

final class Route {
	private Route() {
	}

	static String get() {
		return System.getProperty("xjk.route", "unknown");
	}
}
