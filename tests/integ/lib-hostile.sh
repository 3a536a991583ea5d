# lib-hostile.sh: a one-node lab whose t1 runs tools/hostile/ajp_hostile.py
# (a correct AJP13 container unless asked to lie) on port 8009, and the base
# of an xjk.conf that sends everything to it (sourced after lib.sh).

# hostile_lab_up: the lab, the backend, and $LAB_DIR/xjk.conf (listener on
# the lb's port 80, worker "app" mounted at /*, no control socket); callers
# append their directives. Fails (reported) when any of it cannot start.
hostile_lab_up() {
	lab_up 1 || { not_ok "lab_up"; return 1; }
	lab_bg t1 "$LAB_DIR/backend.log" python3 "$XJK_ROOT/tools/hostile/ajp_hostile.py" 8009
	lab_wait_port t1 8009 10 || { not_ok "AJP backend on t1"; return 1; }
	cat >"$LAB_DIR/xjk.conf" <<-EOF
		Listen $(lab_ip lb):80
		JkWorkerProperty worker.list=app
		JkWorkerProperty worker.app.host=$(lab_ip t1)
		JkWorkerProperty worker.app.port=8009
		JkMount /* app
		XjkControlSocket off
	EOF
}
