# webapp.sh: compiles the lab's test web app (tools/webapp) once per source
# version into ${B:-build}/webapp/<hash>, shared read-only by every lab node.
# Part of the lab library (sourced by lab.sh).

LAB_SERVLET_API=/usr/share/java/tomcat10-servlet-api.jar

# Prints the directory of the compiled app (the ROOT context's docBase).
lab_webapp() {
	local src=$XJK_ROOT/tools/webapp cache=$XJK_ROOT/${B:-build}/webapp hash dir tmp
	hash=$(cd "$src" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-16)
	dir=$cache/$hash
	if [ ! -d "$dir" ]; then
		mkdir -p "$cache" || return 1
		tmp=$(mktemp -d "$cache/.tmp.XXXXXX") || return 1
		cp -r "$src/WEB-INF" "$src/1k.html" "$tmp/" &&
			javac --release 17 -Xlint:all -Werror -cp "$LAB_SERVLET_API" \
				-d "$tmp/WEB-INF/classes" "$src"/src/xjk/lab/*.java >&2 ||
			{ rm -rf "$tmp"; return 1; }
		# Another lab may have compiled the same version meanwhile; its copy
		# is as good as ours.
		mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
	fi
	echo "$dir"
}
