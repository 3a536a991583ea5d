# seed.sh: the seed document's scenario in the lab: its two Tomcats (jvmRoute =
# the seed's worker names, AJP 8009/9009, HTTP 8080/9080) and its xjk.conf tree
# (conf/examples/seed) pointed at the lab's addresses. Part of the lab library.

LAB_SEED_ROUTES=(tomcat-6.0.26-1 tomcat-6.0.26-2)
LAB_SEED_AJP=(8009 9009)
LAB_SEED_HTTP=(8080 9080)

# Starts t1 and t2 as the seed's nodes; options as for lab_tomcat_start. One
# after the other, see the note in tomcat/server.xml.
lab_seed_tomcats() {
	local i
	for i in 0 1; do
		lab_tomcat_start "t$((i + 1))" "${LAB_SEED_ROUTES[$i]}" "${LAB_SEED_AJP[$i]}" \
			"${LAB_SEED_HTTP[$i]}" "$@" || return 1
	done
}

# Writes the seed's xjk.conf tree into DIR. Only two things change: the Nth
# "worker.X.host=localhost" (the seed has a no-break space after it) becomes node tN's address, and the listener is the
# lb's address, port PORT (default 80).
lab_seed_conf() {
	local dir=$1 port=${2:-80} src=$XJK_ROOT/conf/examples/seed wp ips="" i
	if [ ! -f "$src/xjk.conf" ]; then
		echo "lab_seed_conf: $src/xjk.conf is missing" >&2
		return 1
	fi
	mkdir -p "$dir" && cp -r "$src/." "$dir/" || return 1
	for i in 1 2 3 4 5 6 7 8 9; do
		ips="$ips $(lab_ip "t$i")"
	done
	find "$dir" -name workers.properties | while read -r wp; do
		awk -v ips="$ips" '
			BEGIN { n = split(ips, ip, " "); k = 0 }
			/^[ \t]*worker\.[^=]+\.host[ \t]*=[ \t]*localhost([^A-Za-z0-9._-]|$)/ && k < n {
				sub(/localhost/, ip[++k])
			}
			{ print }' "$wp" >"$wp.new" && mv "$wp.new" "$wp" || exit 1
	done || return 1
	sed -i '/^[[:space:]]*Listen[[:space:]]/d' "$dir/xjk.conf" &&
		echo "Listen $(lab_ip lb):$port" >>"$dir/xjk.conf"
}
