# tomcat.sh: real Tomcat 10.1 nodes in the lab (Debian's tomcat10 as
# CATALINA_HOME, one CATALINA_BASE per node under the lab's work dir, the
# templates in tools/lab/tomcat/). Part of the lab library (sourced by lab.sh).
#
#   lab_tomcat_start NODE ROUTE AJP_PORT HTTP_PORT [secret=S] [accesslog=false] [heap=SIZE]
#   lab_tomcat_stop|kill|freeze|thaw NODE, lab_blackhole|lab_unblackhole NODE
#   lab_tomcat_log NODE, lab_tomcat_access_log NODE, lab_tomcat_start_ms NODE

LAB_CATALINA_HOME=/usr/share/tomcat10

lab_tomcat_base() {
	echo "$LAB_DIR/$1/tomcat"
}

lab_tomcat_log() {
	echo "$(lab_tomcat_base "$1")/logs/catalina.out"
}

# One line per request that reached the node (AccessLogValve, unbuffered).
lab_tomcat_access_log() {
	echo "$(lab_tomcat_base "$1")/logs/access.log"
}

lab_tomcat_pid() {
	cat "$(lab_tomcat_base "$1")/pid"
}

# Milliseconds from launching the JVM to the app answering over HTTP.
lab_tomcat_start_ms() {
	cat "$(lab_tomcat_base "$1")/start-ms"
}

# Waits until NODE's Tomcat serves /node.txt over HTTP; the AJP connector is
# started in the same step. Fails early when the JVM died.
lab_tomcat_wait_ready() {
	local node=$1 ajp=$2 http=$3 deadline=$((SECONDS + 90)) pid
	pid=$(lab_tomcat_pid "$node")
	until lab_exec "$node" curl -fs -o /dev/null --max-time 2 "http://$(lab_ip "$node"):$http/node.txt"; do
		if ! lab_alive "$pid" || [ $SECONDS -ge $deadline ]; then
			echo "lab: Tomcat on $node did not start; log tail:" >&2
			tail -n 30 "$(lab_tomcat_log "$node")" >&2
			return 1
		fi
		sleep 0.2
	done
	lab_wait_port "$node" "$ajp" 10
}

lab_tomcat_start() {
	local node=$1 route=$2 ajp=$3 http=$4 base webapp opt t0
	local secret="" secret_required=false accesslog=true heap=128m
	shift 4
	for opt in "$@"; do
		case $opt in
		secret=*) secret=${opt#secret=}; secret_required=true ;;
		accesslog=*) accesslog=${opt#accesslog=} ;;
		heap=*) heap=${opt#heap=} ;;
		*) echo "lab_tomcat_start: unknown option $opt" >&2; return 1 ;;
		esac
	done
	webapp=$(lab_webapp) || return 1
	base=$(lab_tomcat_base "$node")
	mkdir -p "$base"/{conf,logs,temp,webapps,work} || return 1
	cp "$XJK_ROOT"/tools/lab/tomcat/{server.xml,web.xml,logging.properties} "$base/conf/" || return 1
	t0=$(date +%s%N)
	# SerialGC and a small heap: several JVMs share two cores. The app is
	# listed in server.xml, so nothing is scanned or unpacked at start.
	CATALINA_HOME=$LAB_CATALINA_HOME CATALINA_BASE=$base \
		CATALINA_OPTS="-Djava.net.preferIPv4Stack=true -XX:+UseSerialGC -Xms32m -Xmx$heap \
-Xshare:auto -Djava.security.egd=file:/dev/./urandom \
-Dxjk.route=$route -Dxjk.address=$(lab_ip "$node") -Dxjk.ajp.port=$ajp -Dxjk.http.port=$http \
-Dxjk.ajp.secret=$secret -Dxjk.ajp.secretRequired=$secret_required -Dxjk.accesslog=$accesslog \
-Dxjk.webapp=$webapp" \
		lab_bg "$node" "$base/logs/catalina.out" "$LAB_CATALINA_HOME/bin/catalina.sh" run
	echo "$LAB_PID" >"$base/pid"
	lab_tomcat_wait_ready "$node" "$ajp" "$http" || return 1
	echo $((($(date +%s%N) - t0) / 1000000)) >"$base/start-ms"
}

lab_tomcat_signal() {
	kill "-$2" "$(lab_tomcat_pid "$1")"
}

lab_tomcat_wait_exit() {
	local pid deadline=$((SECONDS + $2))
	pid=$(lab_tomcat_pid "$1")
	while lab_alive "$pid"; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.1
	done
}

lab_tomcat_kill() {
	lab_tomcat_signal "$1" KILL && lab_tomcat_wait_exit "$1" 10
}

# Graceful: Tomcat's shutdown hook stops the cluster, which multicasts the
# shutdown beacon to the other members.
lab_tomcat_stop() {
	lab_tomcat_signal "$1" TERM || return 1
	lab_tomcat_wait_exit "$1" 20 || lab_tomcat_kill "$1"
}

lab_tomcat_freeze() {
	lab_tomcat_signal "$1" STOP
}

lab_tomcat_thaw() {
	lab_tomcat_signal "$1" CONT
}

# The node's link goes down: packets to it vanish without RST or ICMP.
lab_blackhole() {
	lab_exec "$1" ip link set eth0 down
}

lab_unblackhole() {
	lab_exec "$1" ip link set eth0 up &&
		lab_exec "$1" ip route replace 224.0.0.0/4 dev eth0
}
