#!/bin/bash
# 61-status-page.sh: the status page in a real headless Chromium (Debian's
# chromium, driven by playwright-core): it shows both workers of the seed's
# cluster, and choosing "Stopped" for one of them on the page and pressing
# Set stops it in xjkd (the page, /status.json and the next requests agree).
# Saves tests/out/61-status-page.png (after the action) and -before.png.
. "$(dirname "$0")/lib.sh"

W1=tomcat-6.0.26-1
W2=tomcat-6.0.26-2
OUT=$XJK_ROOT/tests/out
# playwright-core (npm) is kept outside the tree, installed on first use.
NODE_DIR=${XJK_NODE_DIR:-/var/cache/xjk/node}

if [ ! -x /usr/bin/chromium ] || ! command -v node >/dev/null; then
	not_ok "chromium and node are installed (make deps)"
	exit 1
fi
if [ ! -d "$NODE_DIR/node_modules/playwright-core" ]; then
	mkdir -p "$NODE_DIR" &&
		npm install --prefix "$NODE_DIR" --no-audit --no-fund playwright-core >"$OUT/61-npm.log" 2>&1
fi
check "playwright-core available" test -d "$NODE_DIR/node_modules/playwright-core"

lab_up 2 || { not_ok "lab_up"; exit 1; }
lab_seed_tomcats || { not_ok "seed Tomcats start"; exit 1; }
lb=$(lab_ip lb)
conf=$LAB_DIR/seed/xjk.conf
lab_seed_conf "$LAB_DIR/seed" 80
# The default: the page on loopback, changes without a token.
printf 'XjkAdminListen 127.0.0.1:8099\nXjkControlSocket off\n' >>"$conf"
xjkd_start "$conf" 80 || { not_ok "xjkd starts"; exit 1; }
lab_wait_port lb 8099 5 || { not_ok "admin listener up"; exit 1; }
for i in $(seq 10); do ccurl -o /dev/null "http://$lb/node.txt"; done

# Prints one line per finding; the shell decides what is ok.
cat >"$LAB_DIR/page.js" <<'EOF'
const { chromium } = require('playwright-core');
const [url, worker, userDir, before, after] = process.argv.slice(2);
(async () => {
	const ctx = await chromium.launchPersistentContext(userDir, {
		executablePath: '/usr/bin/chromium',
		headless: true,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--no-first-run'],
		viewport: { width: 1600, height: 900 },
	});
	const failed = [];
	ctx.on('requestfailed', r => failed.push(r.url()));
	const page = await ctx.newPage();
	await page.goto(url);
	console.log('title ' + await page.title());
	for (const row of await page.$$('#workers tr[id^="worker-"]'))
		console.log('row ' + await row.$eval('td.name', e => e.textContent) + ' ' +
			await row.$eval('td.activation', e => e.textContent) + ' ' +
			await row.$eval('td.state', e => e.textContent));
	await page.screenshot({ path: before, fullPage: true });
	const row = page.locator('#worker-' + worker.replace(/\./g, '\\.'));
	await row.locator('select[name=action]').selectOption('stop');
	await Promise.all([page.waitForNavigation(), row.locator('button[name=set]').click()]);
	console.log('after ' + page.url() + ' ' + await row.locator('td.activation').textContent());
	await page.screenshot({ path: after, fullPage: true });
	console.log('failed ' + failed.length);
	await ctx.close();
})().catch(e => { console.log('error ' + e.message); process.exit(1); });
EOF
rm -f "$OUT/61-status-page.png" "$OUT/61-status-page-before.png"
NODE_PATH=$NODE_DIR/node_modules lab_exec lb timeout 120 node "$LAB_DIR/page.js" \
	http://127.0.0.1:8099/ "$W2" "$(mktemp -d "$LAB_DIR/chromium.XXXXXX")" \
	"$OUT/61-status-page-before.png" "$OUT/61-status-page.png" >"$LAB_DIR/page.out" 2>&1
rc=$?
sed 's/^/# /' "$LAB_DIR/page.out"
check "Chromium run ended cleanly" test $rc = 0
check "page title" grep -qx "title xjk status" "$LAB_DIR/page.out"
check "the page shows $W1, active and OK" grep -qx "row $W1 ACT OK" "$LAB_DIR/page.out"
check "the page shows $W2, active and OK" grep -qx "row $W2 ACT OK" "$LAB_DIR/page.out"
check "after Set, the page is back at / and shows $W2 stopped" grep -qx "after http://127.0.0.1:8099/ STP" "$LAB_DIR/page.out"
check "no request of the page failed (nothing external)" grep -qx "failed 0" "$LAB_DIR/page.out"
expect_eq "xjkd has $W2 stopped" STP \
	"$(lab_exec lb curl -s http://127.0.0.1:8099/status.json | jq -r --arg w $W2 '.workers[] | select(.name == $w) | .activation')"
expect_eq "the next 10 requests avoid $W2" "node=$W1=10" \
	"$(for i in $(seq 10); do ccurl "http://$lb/node.txt"; done | sort | uniq -c | awk '{ printf "%s=%s", $2, $1 }')"
check "screenshot saved (tests/out/61-status-page.png)" test -s "$OUT/61-status-page.png"
check "the action is logged with its cause" grep -q "worker $W2: OK/ACT -> OK/STP (operator)" "$LAB_DIR/xjkd-80.log"
