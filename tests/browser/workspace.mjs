// The staff's workspace in headless Chromium (tests/browser/workspace.sh seeds and serves):
// the queue at 1366×900 signed in as the province admin, a dossier as the head of a ward, the
// printable receipt (screen and print media); axe-core on the queue and the receipt.
import { chromium } from 'playwright-core';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const PORT = process.env.BROWSER_BASE_PORT;
const SHOTS = process.env.SHOTS ?? '/work/shots';
const url = (path) => `http://ha-noi.localhost:${PORT}${path}`;
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--host-resolver-rules=MAP *.localhost 127.0.0.1, MAP localhost 127.0.0.1'],
});
const report = [];
let failed = false;

async function axe(page, name) {
  await page.evaluate(AXE_SOURCE);
  const r = await page.evaluate(async (values) => {
    const res = await window.axe.run(document, { runOnly: { type: 'tag', values }, resultTypes: ['violations'] });
    return res.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  }, TAGS);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  report.push({ name, url: page.url(), violations: r, overflow: wide });
  console.log(`${name}: ${r.length} violation(s)${wide ? ', OVERFLOW' : ''}`);
  for (const v of r) console.log(`  ${v.impact} ${v.id} (${v.nodes}): ${v.help}`);
  if (r.some((v) => v.impact === 'serious' || v.impact === 'critical') || wide) failed = true;
}

async function signIn(email) {
  const context = await browser.newContext({ locale: 'vi-VN', viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.log(`  console: ${m.text()}`); });
  await page.goto(url('/sign-in?next=/manage'));
  await page.fill('#email', email);
  await page.fill('#password', process.env.WS_PASSWORD);
  await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);
  return page;
}

const admin = await signIn(process.env.WS_ADMIN);
await admin.goto(url('/manage?open=all'));
await admin.screenshot({ path: join(SHOTS, 'ws-queue.png'), fullPage: false });
await admin.screenshot({ path: join(SHOTS, 'ws-queue-full.png'), fullPage: true });
await axe(admin, 'queue (admin, all)');
await admin.goto(url('/manage'));
await admin.screenshot({ path: join(SHOTS, 'ws-queue-open.png'), fullPage: true });
await admin.goto(url('/manage?flag=overdue&sort=deadline'));
await admin.screenshot({ path: join(SHOTS, 'ws-queue-overdue.png'), fullPage: false });

const head = await signIn(process.env.WS_HEAD);
await head.goto(url('/manage'));
await head.screenshot({ path: join(SHOTS, 'ws-queue-head-ba-dinh.png'), fullPage: false });
await head.goto(url(`/manage/dossiers/${process.env.WS_OPEN}`));
await head.screenshot({ path: join(SHOTS, 'ws-dossier.png'), fullPage: false });
await axe(head, 'dossier (head of unit)');
await head.goto(url(`/manage/dossiers/${process.env.WS_CODE}/receipt`));
await head.screenshot({ path: join(SHOTS, 'ws-receipt.png'), fullPage: true });
await axe(head, 'receipt');
await head.emulateMedia({ media: 'print' });
await head.screenshot({ path: join(SHOTS, 'ws-receipt-print.png'), fullPage: true });
await head.pdf?.({ path: join(SHOTS, 'ws-receipt.pdf'), format: 'A4' }).catch(() => {});

writeFileSync(join(SHOTS, 'ws-axe.json'), JSON.stringify(report, null, 2));
await browser.close();
console.log(failed ? 'FAIL' : 'PASS');
process.exit(failed ? 1 : 0);
