// The operator console in headless Chromium at a 390×844 phone (tests/browser/console.sh seeds
// and serves): the home with the revenue chart, a province's leases, a refused lease form (422)
// and a lease change's confirmation; axe-core (WCAG 2.2 AA tags) and horizontal overflow on each.
import { chromium } from 'playwright-core';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const PORT = process.env.BROWSER_BASE_PORT;
const SHOTS = process.env.SHOTS ?? '/work/shots';
const url = (path) => `http://ops.localhost:${PORT}${path}`;
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

async function check(page, name, status) {
  await page.evaluate(AXE_SOURCE);
  const r = await page.evaluate(async (values) => {
    const res = await window.axe.run(document, { runOnly: { type: 'tag', values }, resultTypes: ['violations'] });
    return res.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
  }, TAGS);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  report.push({ name, url: page.url(), status, violations: r, overflow: wide });
  console.log(`${name} (${status}): ${r.length} violation(s)${wide ? ', OVERFLOW' : ''}`);
  for (const v of r) console.log(`  ${v.impact} ${v.id} (${v.nodes}): ${v.help}`);
  if (r.some((v) => v.impact === 'serious' || v.impact === 'critical') || wide) failed = true;
  await page.screenshot({ path: join(SHOTS, `console-${name}.png`), fullPage: true });
}

const context = await browser.newContext({ locale: 'vi-VN', viewport: { width: 390, height: 844 } });
const page = await context.newPage();
const csp = [];
page.on('console', (m) => {
  if (m.type() === 'error') console.log(`  console: ${m.text()}`);
  if (m.text().includes('Content Security Policy')) csp.push(m.text());
});
await page.goto(url('/sign-in'));
await page.fill('#email', process.env.OPS_EMAIL);
await page.fill('#password', process.env.OPS_PASSWORD);
await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);

let res = await page.goto(url('/'));
await check(page, 'home', res.status());
res = await page.goto(url('/tenants/ha-noi/leases'));
await check(page, 'leases', res.status());
// A start too far back: refused on the page.
await page.fill('#starts_on', '2020-01-01');
let [nav] = await Promise.all([page.waitForNavigation(), page.click('form[action$="/preview"] button.button:not(.button-warning)')]);
await check(page, 'leases-refused', nav.status());
if (nav.status() !== 422) failed = true;
// Premium from the 15th of last month: the confirmation.
const d = new Date(); d.setDate(1); d.setMonth(d.getMonth() - 1); d.setDate(15);
const day = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-15`;
await page.selectOption('#plan', 'premium');
await page.fill('#starts_on', day);
[nav] = await Promise.all([page.waitForNavigation(), page.click('form[action$="/preview"] button.button:not(.button-warning)')]);
await check(page, 'lease-confirm', nav.status());
if (nav.status() !== 200) failed = true;
[nav] = await Promise.all([page.waitForNavigation(), page.click('main form[action$="/leases"] button.button-warning')]);
await check(page, 'leases-done', nav.status());

if (csp.length) { console.log(`CSP violations: ${csp.length}`); failed = true; }
writeFileSync(join(SHOTS, 'console-axe.json'), JSON.stringify(report, null, 2));
await browser.close();
console.log(failed ? 'FAIL' : 'PASS');
process.exit(failed ? 1 : 0);
