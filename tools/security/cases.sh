# cases.sh: the request-smuggling / invalid-request matrix (sourced by
# tests/integ/80-smuggling.sh and tools/security/matrix.sh). One case a line:
#   NAME|EXPECTED|BYTES
# EXPECTED is what xjkd must do: the statuses it answers, space-separated,
# then "close" or "open" (the connection after the last answer); where RFC
# 9110/9112 leave a choice, xjkd's documented one (docs/security.md). BYTES are
# printf %b escapes; {H} stands for "Host: h\r\n" and {LONG} for 9000 'a's.
SMUGGLE_CASES=$(cat <<'EOF'
valid GET|200 open|GET /s HTTP/1.1\r\n{H}\r\n
pipelined GETs|200 200 open|GET /s HTTP/1.1\r\n{H}\r\nGET /s HTTP/1.1\r\n{H}\r\n
POST with Content-Length|200 open|POST /s HTTP/1.1\r\n{H}Content-Length: 5\r\n\r\nhello
CL then TE (CL.TE)|400 close|POST /s HTTP/1.1\r\n{H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG
TE then CL (TE.CL)|400 close|POST /s HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n
two different Content-Lengths|400 close|POST /s HTTP/1.1\r\n{H}Content-Length: 3\r\nContent-Length: 5\r\n\r\nhello
two equal Content-Lengths|200 open|POST /s HTTP/1.1\r\n{H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello
Content-Length list 5, 5|400 close|POST /s HTTP/1.1\r\n{H}Content-Length: 5, 5\r\n\r\nhello
Content-Length +5|400 close|POST /s HTTP/1.1\r\n{H}Content-Length: +5\r\n\r\nhello
Content-Length -1|400 close|POST /s HTTP/1.1\r\n{H}Content-Length: -1\r\n\r\n
Content-Length 0x5|400 close|POST /s HTTP/1.1\r\n{H}Content-Length: 0x5\r\n\r\nhello
Content-Length 1 0 (inner space)|400 close|POST /s HTTP/1.1\r\n{H}Content-Length: 1 0\r\n\r\nhello
Content-Length overflow|400 close|POST /s HTTP/1.1\r\n{H}Content-Length: 99999999999999999999\r\n\r\nhello
Content-Length empty|400 close|POST /s HTTP/1.1\r\n{H}Content-Length: \r\n\r\n
space before colon (CL)|400 close|POST /s HTTP/1.1\r\n{H}Content-Length : 5\r\n\r\nhello
space before colon (TE)|400 close|POST /s HTTP/1.1\r\n{H}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n
TE chunked, chunked|400 close|POST /s HTTP/1.1\r\n{H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n
TE xchunked|400 close|POST /s HTTP/1.1\r\n{H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n
TE gzip, chunked|501 close|POST /s HTTP/1.1\r\n{H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n
TE chunked, gzip (not last)|400 close|POST /s HTTP/1.1\r\n{H}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n
TE identity|400 close|POST /s HTTP/1.1\r\n{H}Transfer-Encoding: identity\r\n\r\n
TE CHUNKED (case)|200 open|POST /s HTTP/1.1\r\n{H}Transfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n
TE split over two headers|501 close|POST /s HTTP/1.1\r\n{H}Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n
TE in HTTP/1.0|400 close|POST /s HTTP/1.0\r\n{H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n
TE with vertical tab|400 close|POST /s HTTP/1.1\r\n{H}Transfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n
obs-fold continuation|400 close|GET /s HTTP/1.1\r\n{H}X-A: a\r\n b\r\n\r\n
obs-fold of TE|400 close|POST /s HTTP/1.1\r\n{H}X: y\r\n Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n
whitespace before first header|400 close|GET /s HTTP/1.1\r\n Host: h\r\n\r\n
bare LF line ends|200 open|GET /s HTTP/1.1\nHost: h\n\n
bare CR in header value|400 close|GET /s HTTP/1.1\r\n{H}X-A: a\rb\r\n\r\n
NUL in header value|400 close|GET /s HTTP/1.1\r\n{H}X-A: a\x00b\r\n\r\n
header name with @|400 close|GET /s HTTP/1.1\r\n{H}X@A: a\r\n\r\n
empty header name|400 close|GET /s HTTP/1.1\r\n{H}: a\r\n\r\n
chunk size zz|400 close|POST /s HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n
chunk size overflow|400 close|POST /s HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n
chunk size with 0x|400 close|POST /s HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n
chunk data longer than size|400 close|POST /s HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n
chunk extension with bare CR|400 close|POST /s HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n5;a\rb\r\nhello\r\n0\r\n\r\n
chunk extension ok|200 open|POST /s HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\n\r\n
trailer with Content-Length|200 open|POST /s HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nContent-Length: 50\r\n\r\n
no Host in HTTP/1.1|400 close|GET /s HTTP/1.1\r\n\r\n
two Host headers|400 close|GET /s HTTP/1.1\r\n{H}Host: other\r\n\r\n
absolute-form target|200 open|GET http://h/s HTTP/1.1\r\n{H}\r\n
method with @|400 close|G@T /s HTTP/1.1\r\n{H}\r\n
space in target|400 close|GET /a b HTTP/1.1\r\n{H}\r\n
tab as separator|400 close|GET\t/s HTTP/1.1\r\n{H}\r\n
HTTP/2.0 in request line|505 close|GET /s HTTP/2.0\r\n{H}\r\n
lowercase http/1.1|400 close|GET /s http/1.1\r\n{H}\r\n
target without slash|400 close|GET s HTTP/1.1\r\n{H}\r\n
Expect: foo|417 close|POST /s HTTP/1.1\r\n{H}Expect: foo\r\nContent-Length: 5\r\n\r\nhello
head over XjkMaxHeaderSize 8192|431 close|GET /s HTTP/1.1\r\n{H}X-A: {LONG}\r\n\r\n
chunk size then text without ;|400 close|POST /s HTTP/1.1\r\n{H}Transfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n
EOF
)

# smuggle_names: the case names, one a line.
smuggle_names() {
	printf '%s\n' "$SMUGGLE_CASES" | cut -d'|' -f1
}

# smuggle_expected NAME / smuggle_bytes NAME: the case's expectation, and its
# bytes with {H} and {LONG} expanded (still printf %b escapes).
smuggle_expected() {
	printf '%s\n' "$SMUGGLE_CASES" | awk -F'|' -v n="$1" '$1 == n { print $2 }'
}

smuggle_bytes() {
	local long
	long=$(printf 'a%.0s' $(seq 9000))
	printf '%s\n' "$SMUGGLE_CASES" | awk -F'|' -v n="$1" '$1 == n { sub(/^[^|]*\|[^|]*\|/, ""); print }' |
		sed "s/{H}/Host: h\\\\r\\\\n/g; s/{LONG}/$long/"
}

# smuggle_probe NODE HOST PORT NAME: sends the case from lab node NODE in one
# write and prints what came back: the statuses, then "close" when the
# server closed the connection within 1 s of its last byte, else "open".
smuggle_probe() {
	local bytes
	bytes=$(smuggle_bytes "$4")
	lab_exec "$1" bash -c 'exec 3<>"/dev/tcp/$1/$2" || exit 2
		printf "%b" "$3" >&3
		timeout 1 cat <&3 >/dev/fd/4; echo "rc=$?" >/dev/fd/4' _ "$2" "$3" "$bytes" 4>&1 |
		awk '/^HTTP\/1\.[01] [0-9][0-9][0-9]/ { s = s $2 " " } /^rc=/ { rc = substr($0, 4) }
			END { print s (rc == 124 ? "open" : "close") }'
}
