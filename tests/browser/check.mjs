// Headless Chromium renders the portal's pages; axe-core checks each one (tests/browser/run.sh
// starts the server and calls this). Writes out/*.png (full-page screenshots) and out/axe.json,
// prints a table, and exits non-zero when a page has a serious or critical violation, overflows
// a phone's width, breaks the Content-Security-Policy, or answers with an unexpected status.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, 'out');
const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve('axe-core/axe.min.js');
const AXE_SOURCE = readFileSync(AXE_PATH, 'utf8');
const AXE_VERSION = JSON.parse(readFileSync(require.resolve('axe-core/package.json'), 'utf8')).version;

const PORT = process.env.BROWSER_BASE_PORT ?? '18090';
const EMAIL = process.env.BROWSER_CITIZEN_EMAIL;
const PASSWORD = process.env.BROWSER_CITIZEN_PASSWORD;
if (!EMAIL || !PASSWORD) {
  console.error('BROWSER_CITIZEN_EMAIL and BROWSER_CITIZEN_PASSWORD must be set (run tests/browser/run.sh)');
  process.exit(2);
}
const national = (path) => `http://localhost:${PORT}${path}`;
const province = (slug, path) => `http://${slug}.localhost:${PORT}${path}`;

const GATE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const IMPACTS = ['critical', 'serious', 'moderate', 'minor'];
// Vietnamese, the portal's first language (its text is also the longest on a phone).
const PHONE = { locale: 'vi-VN', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
const DESKTOP = { locale: 'vi-VN', viewport: { width: 1280, height: 800 } };

// Small but real files for the upload page (the server checks the magic bytes).
// Complete files with something on them: the upload checks refuse blank, cut or damaged ones.
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a730000001249444154789c63606060f8ffff3f0384020020ed05fb5ab7791e0000000049454e44ae426082', 'hex');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >> endobj\n4 0 obj << /Length 38 >> stream\nBT /F1 12 Tf 20 100 Td (Giay to) Tj ET\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

mkdirSync(OUT, { recursive: true });

// Playwright gives every launch a new, empty --user-data-dir of its own (it refuses one in
// `args`); the other flags are those this machine needs (no background connections: the
// network is closed). The resolver rule sends <slug>.localhost to the server.
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--host-resolver-rules=MAP *.localhost 127.0.0.1, MAP localhost 127.0.0.1',
  ],
});

const results = [];

/** A page that records its Content-Security-Policy reports and console errors. */
async function openPage(context) {
  const page = await context.newPage();
  page.problems = { csp: [], console: [] };
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const where = msg.location()?.url;
    const text = msg.text() + (where && !msg.text().includes(where) ? ` (${where})` : '');
    (/Content Security Policy/i.test(text) ? page.problems.csp : page.problems.console).push(text);
  });
  page.on('pageerror', (err) => page.problems.console.push(String(err)));
  return page;
}

/**
 * axe-core on the page as it is. The site's CSP (`script-src 'self'`) forbids inline scripts,
 * and `page.addScriptTag({ path })` injects the file's text as an inline <script>, which the
 * CSP blocks. `page.evaluate(source)` runs the source through the DevTools protocol instead,
 * which the page's CSP does not govern; so the pages are checked with their CSP in force (no
 * `bypassCSP`), and a CSP breach of the page itself still shows up in the report.
 */
async function axe(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.evaluate(AXE_SOURCE);
  }
  const run = (tags) =>
    page.evaluate(async (values) => {
      const r = await window.axe.run(document, { runOnly: { type: 'tag', values }, resultTypes: ['violations', 'incomplete'] });
      const brief = (v) => ({
        id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, tags: v.tags,
        nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, summary: n.failureSummary })),
      });
      return { violations: r.violations.map(brief), incomplete: r.incomplete.map(brief) };
    }, tags);
  const gate = await run(GATE_TAGS);
  // Best-practice rules (landmarks, heading order, one h1) are reported, not gated.
  const bp = await run(['best-practice']);
  const bestPractice = bp.violations.filter((v) => !gate.violations.some((g) => g.id === v.id));
  // "Needs review": what axe could not decide (text over an image, say); listed, not gated.
  return { gate: gate.violations, bestPractice, incomplete: gate.incomplete };
}

/** Checks the page in its current state: axe, overflow, CSP; optionally a screenshot. */
async function check(page, name, { status, expect = [200], shot = true } = {}) {
  await page.waitForLoadState('load');
  const { gate, bestPractice, incomplete } = await axe(page);
  const width = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
  }));
  const viewport = page.viewportSize();
  let screenshot = null;
  if (shot) {
    screenshot = `${name}.png`;
    await page.screenshot({ path: join(OUT, screenshot), fullPage: true });
  }
  const entry = {
    name, url: page.url(), status, expected: expect, viewport, screenshot,
    overflow: width.scroll > width.client ? width : null,
    csp: [...page.problems.csp], console: [...page.problems.console],
    violations: gate, bestPractice, incomplete,
  };
  page.problems.csp.length = 0;
  page.problems.console.length = 0;
  results.push(entry);
  return entry;
}

async function visit(page, name, url, opts = {}) {
  const res = await page.goto(url, { waitUntil: 'load' });
  return check(page, name, { ...opts, status: res?.status() ?? null });
}

/** Clicks the form's submit button and waits for the page it leads to; returns its status. */
async function submit(page, selector = 'main form button[type=submit]') {
  const [res] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.click(selector),
  ]);
  // A form's 303 is followed: this is the status of the page it ends on.
  return res?.status() ?? null;
}

/** Fills a control whatever it is: text input, select or radios. */
async function answer(page, name, value) {
  const radio = page.locator(`input[type=radio][name="${name}"][value="${value}"]`);
  if (await radio.count()) return radio.check();
  const el = page.locator(`#${name}`);
  const tag = await el.evaluate((e) => e.tagName.toLowerCase());
  if (tag === 'select') return el.selectOption(value);
  return el.fill(value);
}

try {
  // ── Phone: national site, two provinces, the procedure, the journey, tracking, index.
  const phone = await browser.newContext(PHONE);
  let page = await openPage(phone);
  await visit(page, 'national-home-phone', national('/'));
  await visit(page, 'national-index-phone', national('/index'));
  await visit(page, 'national-index-ha-noi-phone', national('/index/ha-noi'));
  await visit(page, 'ha-noi-home-phone', province('ha-noi', '/'));
  await visit(page, 'quang-ninh-home-phone', province('quang-ninh', '/'));
  await visit(page, 'ha-noi-procedure-phone', province('ha-noi', '/procedures/GPLX-001'));
  await visit(page, 'ha-noi-tracking-phone', province('ha-noi', '/tracking'));

  // The journey: the start link leads to sign-in; the citizen signs in through the form.
  const start = province('ha-noi', '/procedures/GPLX-001/apply');
  let res = await page.goto(start, { waitUntil: 'load' });
  if (!new URL(page.url()).pathname.startsWith('/sign-in')) {
    throw new Error(`${start} should lead to the sign-in page, got ${page.url()}`);
  }
  await check(page, 'ha-noi-sign-in-phone', { status: res?.status() ?? null });
  await page.fill('#email', EMAIL);
  await page.fill('#password', PASSWORD);
  let status = await submit(page);
  if (!page.url().endsWith('/procedures/GPLX-001/apply/1')) {
    throw new Error(`signing in should lead to the first question page, got ${page.url()} (${status})`);
  }
  await check(page, 'ha-noi-apply-1-phone', { status });

  // Submitted empty: the error summary (422) with an inline error on each field.
  for (const input of await page.locator('main form input.input').all()) await input.fill('');
  status = await submit(page);
  if ((await page.locator('.error-summary').count()) === 0) {
    throw new Error(`the empty first page should come back with an error summary (${status})`);
  }
  await check(page, 'ha-noi-apply-1-errors-phone', { status, expect: [422] });

  const pages = [
    { full_name: 'Nguyễn Thị Minh Khai', id_number: '001090012345', licence_number: '790123456789' },
    { licence_class: 'B2', expiry_date: '2026-12-31', delivery_address: '12 Phố Huế, phường Hai Bà Trưng, Hà Nội' },
    { phone: '0912 345 678' },
  ];
  for (const [i, answers] of pages.entries()) {
    if (i > 0) await check(page, `ha-noi-apply-${i + 1}-phone`, { status, shot: false });
    for (const [name, value] of Object.entries(answers)) await answer(page, name, value);
    status = await submit(page);
  }
  if (!page.url().endsWith('/apply/documents')) throw new Error(`expected the upload page, got ${page.url()}`);
  await check(page, 'ha-noi-apply-documents-phone', { status, shot: false });
  await page.setInputFiles('#portrait_photo', { name: 'anh-3x4.png', mimeType: 'image/png', buffer: PNG });
  await page.setInputFiles('#licence_scan', { name: 'giay-phep.pdf', mimeType: 'application/pdf', buffer: PDF });
  status = await submit(page);
  if (!page.url().endsWith('/apply/check')) throw new Error(`expected the check page, got ${page.url()} (${status})`);
  await check(page, 'ha-noi-check-answers-phone', { status });

  // Beyond the brief's pages: submit, the confirmation, the citizen's dossiers, and tracking
  // with the new code (the result panel).
  status = await submit(page);
  if (!page.url().endsWith('/confirmation')) throw new Error(`expected the confirmation, got ${page.url()} (${status})`);
  const code = (await page.locator('.tracking-code').innerText()).trim();
  await check(page, 'ha-noi-confirmation-phone', { status });
  await visit(page, 'ha-noi-my-dossiers-phone', province('ha-noi', '/dossiers'), { shot: false });
  await visit(page, 'ha-noi-dossier-phone', province('ha-noi', `/dossiers/${code}`));
  await visit(page, 'ha-noi-tracking-result-phone',
    province('ha-noi', `/tracking?code=${encodeURIComponent(code)}&id_number=001090012345`), { shot: false });
  await page.close();

  // ── Desktop: one province home at 1280 wide.
  const desktop = await browser.newContext(DESKTOP);
  page = await openPage(desktop);
  await visit(page, 'ha-noi-home-desktop', province('ha-noi', '/'));
  await page.close();
} catch (err) {
  console.error(`journey failed: ${err.message}`);
  results.push({ name: 'journey', error: err.message });
}

const chromiumVersion = browser.version();
await browser.close();

// ── Report.
const count = (vs) => Object.fromEntries(IMPACTS.map((i) => [i, vs.filter((v) => v.impact === i).length]));
const failures = [];
const rows = [];
for (const r of results) {
  if (r.error) { failures.push(`journey: ${r.error}`); continue; }
  const c = count(r.violations);
  rows.push({ page: r.name, status: r.status, ...c, 'best-practice': r.bestPractice.length, review: r.incomplete.length, overflow: r.overflow ? `${r.overflow.scroll}px` : '', csp: r.csp.length });
  for (const v of r.violations.filter((v) => v.impact === 'critical' || v.impact === 'serious')) {
    failures.push(`${r.name}: ${v.impact} ${v.id} (${v.nodes.length}×) ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  }
  if (r.overflow) failures.push(`${r.name}: the page is ${r.overflow.scroll}px wide in a ${r.overflow.client}px viewport`);
  for (const c of r.csp) failures.push(`${r.name}: CSP: ${c}`);
  if (!r.expected.includes(r.status)) failures.push(`${r.name}: HTTP ${r.status}, expected ${r.expected.join(' or ')}`);
}
console.table(rows);
for (const r of results.filter((r) => !r.error)) {
  for (const v of [...r.violations, ...r.bestPractice]) {
    const gated = r.violations.includes(v) ? '' : ' [best-practice]';
    console.log(`  ${r.name}: ${v.impact} ${v.id}${gated} ×${v.nodes.length}: ${v.help}`);
  }
  for (const v of r.incomplete) console.log(`  ${r.name}: needs review ${v.id} ×${v.nodes.length}: ${v.help}`);
  for (const c of r.console) console.log(`  ${r.name}: console: ${c}`);
}

const report = {
  date: new Date().toISOString(), chromium: chromiumVersion, axe: AXE_VERSION, tags: GATE_TAGS,
  pages: results, failures,
};
writeFileSync(join(OUT, 'axe.json'), JSON.stringify(report, null, 2));
console.log(`\nChromium ${chromiumVersion}, axe-core ${AXE_VERSION}; report: tests/browser/out/axe.json`);
if (failures.length) {
  console.log(`\nFAIL (${failures.length}):\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log(`PASS: ${results.length} pages, no serious or critical violation`);
