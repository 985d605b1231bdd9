// Headless Chromium renders the portal's pages; axe-core checks each one (tests/browser/run.sh
// starts the server and calls this). Three journeys run end to end: a citizen on a phone from
// the catalog to the downloaded result and its verify page (an official decides the dossier in
// between), an official at the counter with the printed receipt, and the operator's finance
// clerk closing a period, recording a transfer and exporting the CSV. Writes out/*.png
// (full-page screenshots), out/axe.json and the documentation's screenshots
// (docs/screenshots/*.png), prints a table, and exits non-zero when a page has a serious or
// critical violation, overflows its viewport, breaks the Content-Security-Policy, answers with
// an unexpected status, or a journey breaks.
import { chromium } from 'playwright-core';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, 'out');
const DOCS = process.env.BROWSER_DOCS_SHOTS ?? join(HERE, '..', '..', 'docs', 'screenshots');
const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve('axe-core/axe.min.js');
const AXE_SOURCE = readFileSync(AXE_PATH, 'utf8');
const AXE_VERSION = JSON.parse(readFileSync(require.resolve('axe-core/package.json'), 'utf8')).version;

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    console.error(`${name} must be set (run tests/browser/run.sh)`);
    process.exit(2);
  }
  return v;
};
const PORT = process.env.BROWSER_BASE_PORT ?? '18090';
const EMAIL = env('BROWSER_CITIZEN_EMAIL');
const PASSWORD = env('BROWSER_CITIZEN_PASSWORD');
const CITIZEN_NAME = process.env.BROWSER_CITIZEN_NAME ?? 'Nguyễn Thị Minh Khai';
const OFFICIAL = { email: env('BROWSER_OFFICIAL_EMAIL'), password: env('BROWSER_OFFICIAL_PASSWORD') };
const OPERATOR = { email: env('BROWSER_OPERATOR_EMAIL'), password: env('BROWSER_OPERATOR_PASSWORD') };
// The month run.sh leased three provinces for (the close preview's default: last month).
const PERIOD = env('BROWSER_CLOSE_PERIOD');
const CLOSE_COUNT = Number(process.env.BROWSER_CLOSE_COUNT ?? '3');
const national = (path) => `http://localhost:${PORT}${path}`;
const province = (slug, path) => `http://${slug}.localhost:${PORT}${path}`;
const ops = (path) => `http://ops.localhost:${PORT}${path}`;

const GATE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const IMPACTS = ['critical', 'serious', 'moderate', 'minor'];
// Vietnamese, the portal's first language (its text is also the longest on a phone).
const PHONE = { locale: 'vi-VN', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
const DESKTOP = { locale: 'vi-VN', viewport: { width: 1280, height: 800 } };
// A documentation screenshot stays small enough to live in the repository.
const DOC_LIMIT = 200 * 1024;

// Small but real files for the upload page (the server checks the magic bytes).
// Complete files with something on them: the upload checks refuse blank, cut or damaged ones.
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000002000000020802000000fdd49a730000001249444154789c63606060f8ffff3f0384020020ed05fb5ab7791e0000000049454e44ae426082', 'hex');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >> endobj\n4 0 obj << /Length 38 >> stream\nBT /F1 12 Tf 20 100 Td (Giay to) Tj ET\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
// The official's result: the e-copy of the decision (a PDF; checked by content).
const RESULT_PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >> endobj\n4 0 obj << /Length 56 >> stream\nBT /F1 14 Tf 60 760 Td (Quyet dinh cap doi giay phep) Tj ET\nendstream endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

mkdirSync(OUT, { recursive: true });
mkdirSync(DOCS, { recursive: true });

// Playwright gives every launch a new, empty --user-data-dir of its own (it refuses one in
// `args`); the other flags are those this machine needs (no background connections: the
// network is closed). The resolver rule sends <slug>.localhost to the server.
// LANGUAGE (not --lang, which Chromium on Linux ignores) puts the browser's own words in
// Vietnamese, as a citizen's browser shows them: a file input's "Chọn tệp", a date control's
// dd/mm/yyyy (with chromium-l10n installed).
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  env: { ...process.env, LANGUAGE: 'vi', LANG: 'vi_VN.UTF-8' },
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--host-resolver-rules=MAP *.localhost 127.0.0.1, MAP localhost 127.0.0.1',
  ],
});

const results = [];
const docShots = [];
const facts = [];

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

/** Follows a link as a person would (a click) and returns the status of the page it opens. */
const follow = (page, selector) => submit(page, selector);

/** Fills a control whatever it is: text input, date, select or radios. */
async function answer(page, name, value) {
  const radio = page.locator(`input[type=radio][name="${name}"][value="${value}"]`);
  if (await radio.count()) return radio.check();
  const el = page.locator(`#${name}`);
  const { tag, type } = await el.evaluate((e) => ({ tag: e.tagName.toLowerCase(), type: e.type }));
  if (tag === 'select') return el.selectOption(value);
  // A date is given as YYYY-MM-DD: a date control takes it so; a text box gets it as the
  // citizen's locale writes it (dd/mm/yyyy).
  if (type !== 'date' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const [y, m, d] = value.split('-');
    return el.fill(`${d}/${m}/${y}`);
  }
  return el.fill(value);
}

/** Fails the journey unless `cond`. */
function expectThat(cond, what) {
  if (!cond) throw new Error(what);
}

function expectPath(page, path, status) {
  const at = new URL(page.url());
  expectThat(at.pathname === path, `expected ${path}, got ${page.url()} (HTTP ${status})`);
  return at;
}

/**
 * The documentation's copy of the page (docs/screenshots/FILE): the full page when it fits in
 * DOC_LIMIT bytes, else the part from `focus` (a selector) down, cut to a height that fits.
 */
async function docShot(page, file, what, { focus } = {}) {
  let buf = await page.screenshot({ fullPage: true });
  let part = 'full page';
  if (buf.length > DOC_LIMIT) {
    const vp = page.viewportSize();
    const docHeight = await page.evaluate(() => document.documentElement.scrollHeight);
    const top = focus
      ? await page.locator(focus).first().evaluate((e) => e.getBoundingClientRect().top + window.scrollY)
      : 0;
    for (let h = Math.min(docHeight, vp.height * 2); ; h = Math.round(h * 0.8)) {
      const y = Math.max(0, Math.min(Math.round(top) - 16, docHeight - h));
      buf = await page.screenshot({ fullPage: true, clip: { x: 0, y, width: vp.width, height: h } });
      part = `${vp.width}×${h} from y=${y}`;
      if (buf.length <= DOC_LIMIT || h <= vp.height / 2) break;
    }
  }
  writeFileSync(join(DOCS, file), buf);
  const vp = page.viewportSize();
  docShots.push({ file, what, bytes: buf.length, viewport: `${vp.width}×${vp.height}`, part, url: page.url() });
}

/** Signs a staff member or the operator in through the site's form; returns the page. */
async function signIn(context, url, who, name) {
  const page = await openPage(context);
  const res = await page.goto(url, { waitUntil: 'load' });
  await check(page, name, { status: res?.status() ?? null, shot: false });
  await page.fill('#email', who.email);
  await page.fill('#password', who.password);
  const status = await submit(page);
  expectThat(!new URL(page.url()).pathname.startsWith('/sign-in'), `${who.email} could not sign in (HTTP ${status})`);
  return { page, status };
}

/** Runs one journey; a broken step ends that journey (recorded), not the others. */
async function journey(name, steps) {
  try {
    await steps();
  } catch (err) {
    console.error(`${name}: journey failed: ${err.message}`);
    results.push({ name, error: err.message });
  }
}

/** RFC 4180 CSV (quotes, doubled quotes, CRLF or LF) into rows of cells. */
function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell); rows.push(row); row = []; cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

/**
 * GETs `href` from the page itself (its cookies, its origin; Node cannot resolve
 * `<slug>.localhost`, the browser's resolver rule can): status, content type and bytes.
 */
async function fetchInPage(page, href) {
  const r = await page.evaluate(async (url) => {
    const res = await fetch(url, { credentials: 'same-origin' });
    const bytes = new Uint8Array(await res.arrayBuffer());
    let bin = '';
    for (const b of bytes) bin += String.fromCharCode(b);
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: btoa(bin) };
  }, href);
  return { ...r, body: Buffer.from(r.body, 'base64') };
}

/** The pages of a PDF Chromium printed (its page tree's /Count). */
function pdfPages(pdf) {
  const m = pdf.toString('latin1').match(/\/Type\s*\/Pages\b[^>]*?\/Count\s+(\d+)|\/Count\s+(\d+)[^>]*?\/Type\s*\/Pages\b/);
  return m ? Number(m[1] ?? m[2]) : NaN;
}

/** The first page's [width, height] in points. */
function pdfMediaBox(pdf) {
  const m = pdf.toString('latin1').match(/\/MediaBox\s*\[\s*[\d.]+\s+[\d.]+\s+([\d.]+)\s+([\d.]+)\s*\]/);
  return m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
}

/** YYYY-MM-DD `days` before today. */
function daysAgo(days) {
  return new Date(Date.now() - days * 86400e3).toISOString().slice(0, 10);
}

// ── 1. The citizen, on a phone, from the catalog to the result and its verify page.
let code = null;
let citizen = null;
await journey('citizen', async () => {
  const phone = await browser.newContext(PHONE);
  const page = await openPage(phone);
  citizen = page;
  await visit(page, 'national-home-phone', national('/'));
  await visit(page, 'national-index-phone', national('/index'));
  await visit(page, 'national-index-ha-noi-phone', national('/index/ha-noi'));
  await visit(page, 'quang-ninh-home-phone', province('quang-ninh', '/'));
  await visit(page, 'ha-noi-tracking-phone', province('ha-noi', '/tracking'));

  // The catalog; the procedure is opened from it, and the journey started from its page.
  await visit(page, 'ha-noi-home-phone', province('ha-noi', '/'));
  await docShot(page, '01-citizen-catalog.png', 'the province catalog (Hà Nội)');
  let status = await follow(page, 'a.procedure-name[href="/procedures/GPLX-001"]');
  expectPath(page, '/procedures/GPLX-001', status);
  await check(page, 'ha-noi-procedure-phone', { status });
  await docShot(page, '02-citizen-procedure.png', 'the procedure page with the start button');

  // The start link leads to sign-in; the citizen signs in through the form.
  status = await follow(page, 'a.button-start');
  expectThat(new URL(page.url()).pathname.startsWith('/sign-in'), `the start link should lead to the sign-in page, got ${page.url()}`);
  await check(page, 'ha-noi-sign-in-phone', { status });
  await docShot(page, '03-citizen-sign-in.png', 'sign-in, asked for by the start link');
  await page.fill('#email', EMAIL);
  await page.fill('#password', PASSWORD);
  status = await submit(page);
  expectPath(page, '/procedures/GPLX-001/apply/1', status);
  await check(page, 'ha-noi-apply-1-phone', { status });

  // Submitted empty: the error summary (422) with an inline error on each field.
  for (const input of await page.locator('main form input.input').all()) await input.fill('');
  status = await submit(page);
  expectThat((await page.locator('.error-summary').count()) > 0, `the empty first page should come back with an error summary (${status})`);
  await check(page, 'ha-noi-apply-1-errors-phone', { status, expect: [422] });
  await docShot(page, '04-citizen-apply-errors.png', 'question page 1 sent empty: the error summary and inline errors');

  const pages = [
    { full_name: CITIZEN_NAME, id_number: '001090012345', licence_number: '790123456789' },
    { licence_class: 'B2', expiry_date: '2026-12-31', delivery_address: '12 Phố Huế, phường Hai Bà Trưng, Hà Nội' },
    { phone: '0912 345 678' },
  ];
  for (const [i, answers] of pages.entries()) {
    if (i > 0) await check(page, `ha-noi-apply-${i + 1}-phone`, { status, shot: false });
    for (const [name, value] of Object.entries(answers)) await answer(page, name, value);
    if (i === 0) await docShot(page, '05-citizen-apply-1.png', 'question page 1, filled');
    status = await submit(page);
  }
  expectPath(page, '/procedures/GPLX-001/apply/documents', status);
  await check(page, 'ha-noi-apply-documents-phone', { status, shot: false });
  await page.setInputFiles('#portrait_photo', { name: 'anh-3x4.png', mimeType: 'image/png', buffer: PNG });
  await page.setInputFiles('#licence_scan', { name: 'giay-phep.pdf', mimeType: 'application/pdf', buffer: PDF });
  await docShot(page, '06-citizen-documents.png', 'the upload page with a photo and a scan chosen');
  status = await submit(page);
  expectPath(page, '/procedures/GPLX-001/apply/check', status);
  await check(page, 'ha-noi-check-answers-phone', { status });
  await docShot(page, '07-citizen-check-answers.png', 'check your answers');

  // Submit: the confirmation, the citizen's dossiers, the dossier, tracking with the new code.
  status = await submit(page);
  expectThat(page.url().endsWith('/confirmation'), `expected the confirmation, got ${page.url()} (${status})`);
  code = (await page.locator('.tracking-code').innerText()).trim();
  await check(page, 'ha-noi-confirmation-phone', { status });
  await docShot(page, '08-citizen-confirmation.png', 'the confirmation with the tracking code');
  await visit(page, 'ha-noi-my-dossiers-phone', province('ha-noi', '/dossiers'), { shot: false });
  await visit(page, 'ha-noi-dossier-phone', province('ha-noi', `/dossiers/${code}`));
  await visit(page, 'ha-noi-tracking-result-phone',
    province('ha-noi', `/tracking?code=${encodeURIComponent(code)}&id_number=001090012345`), { shot: false });
  facts.push(`citizen filed ${code}`);
});

// ── 2. An official (also on a phone) decides it: accept, process, resolve, attach the result
// (a PDF), return it.
let verification = null;
if (code) await journey('official', async () => {
  const ctx = await browser.newContext(PHONE);
  const { page, status: s0 } = await signIn(ctx, province('ha-noi', '/sign-in?next=/manage'), OFFICIAL, 'ha-noi-staff-sign-in-phone');
  expectPath(page, '/manage', s0);
  await check(page, 'ha-noi-manage-queue-phone', { status: s0 });
  await docShot(page, '09-official-queue.png', "the official's queue with the new dossier");
  let status = await follow(page, `main a[href="/manage/dossiers/${code}"]`);
  expectPath(page, `/manage/dossiers/${code}`, status);
  await check(page, 'ha-noi-manage-dossier-phone', { status });
  await docShot(page, '10-official-dossier.png', 'the dossier as the official sees it: documents, answers, the moves');

  for (const action of ['accept', 'process', 'resolve']) {
    status = await submit(page, `form:has(input[name="action"][value="${action}"]) button[type=submit]`);
    const at = expectPath(page, `/manage/dossiers/${code}`, status);
    expectThat(at.searchParams.get('done') === action, `${action}: expected ?done=${action}, got ${page.url()} (${status})`);
    await check(page, `ha-noi-manage-${action}-phone`, { status, shot: false });
  }

  // The result: the e-copy of the decision, then return_result.
  await page.setInputFiles('#result-file', { name: 'quyet-dinh-cap-doi-gplx.pdf', mimeType: 'application/pdf', buffer: RESULT_PDF });
  status = await submit(page, `form[action^="/manage/dossiers/${code}/result"] button[type=submit]`);
  expectPath(page, `/manage/dossiers/${code}`, status);
  const verifyLink = (await page.locator('#result a[href^="/verify/"]').getAttribute('href')) ?? '';
  verification = verifyLink.slice('/verify/'.length);
  expectThat(/^[0-9A-Z]{16}$/.test(verification), `expected a verification code on the staff page, got "${verifyLink}"`);
  await check(page, 'ha-noi-manage-result-phone', { status });
  await docShot(page, '11-official-result-attached.png', 'the result attached (file, verification code), before returning it', { focus: '#result-title' });
  status = await submit(page, 'form:has(input[name="action"][value="return_result"]) button[type=submit]');
  const at = expectPath(page, `/manage/dossiers/${code}`, status);
  expectThat(at.searchParams.get('done') === 'return_result', `return_result: got ${page.url()} (${status})`);
  await check(page, 'ha-noi-manage-returned-phone', { status });
  await docShot(page, '12-official-returned.png', 'the dossier returned, with its history');
  await ctx.close();
  facts.push(`official returned ${code} with result ${verification}`);
});

// ── 3. The citizen downloads the result and opens its verify page.
if (verification) await journey('result', async () => {
  const page = citizen;
  let res = await page.goto(province('ha-noi', '/dossiers'), { waitUntil: 'load' });
  await check(page, 'ha-noi-my-dossiers-returned-phone', { status: res?.status() ?? null });
  await docShot(page, '13-citizen-my-dossiers.png', '"my dossiers" with the dossier returned');
  let status = await follow(page, `main a[href="/dossiers/${code}"]`);
  expectPath(page, `/dossiers/${code}`, status);
  await check(page, 'ha-noi-dossier-result-phone', { status });
  await docShot(page, '14-citizen-result.png', 'the dossier with its result: download, verification code, hash, QR code', { focus: '#result' });
  expectThat((await page.locator('#result svg.qr path[d]').count()) === 1, 'the result has no QR code');
  expectThat((await page.locator('#result').innerText()).includes(verification), 'the result section does not show the verification code');

  // The download: the same bytes the official attached, served as a PDF.
  const link = page.locator('#result a[download]');
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const bytes = readFileSync(await download.path());
  expectThat(bytes.equals(RESULT_PDF), `the downloaded result (${bytes.length} bytes) differs from the attached PDF (${RESULT_PDF.length})`);
  expectThat(download.suggestedFilename().endsWith('.pdf'), `the download is named ${download.suggestedFilename()}`);
  const direct = await fetchInPage(page, await link.getAttribute('href'));
  const type = direct.type;
  expectThat(direct.status === 200 && type === 'application/pdf', `the result answers ${direct.status} ${type}`);
  expectThat(direct.body.equals(RESULT_PDF), 'the result fetched again differs');
  const hash = sha256(bytes);
  expectThat((await page.locator('#result').innerText()).includes(hash), 'the page does not show the downloaded file\'s SHA-256');
  facts.push(`downloaded ${download.suggestedFilename()}: ${bytes.length} bytes, ${type}, sha256 ${hash.slice(0, 12)}…`);

  // The verify page, from the link beside the QR code (the URL the QR code holds).
  const verifyHref = await page.locator('#result a[href*="/verify/"]').getAttribute('href');
  expectThat(verifyHref.endsWith(`/verify/${verification}`), `the verify link is ${verifyHref}`);
  status = await follow(page, '#result a[href*="/verify/"]');
  expectThat(new URL(page.url()).pathname === `/verify/${verification}`, `expected the verify page, got ${page.url()}`);
  await check(page, 'verify-phone', { status });
  await docShot(page, '15-citizen-verify.png', 'the public verify page: province, procedure, date, hash');
  const text = await page.locator('main').innerText();
  expectThat((await page.locator('#verified').count()) === 1, 'the verify page does not say the result is valid');
  expectThat(text.includes(hash), 'the verify page does not show the file\'s hash');
  for (const personal of [CITIZEN_NAME, '001090012345', code, EMAIL]) {
    expectThat(!text.includes(personal), `the verify page shows personal data: ${personal}`);
  }
  // The same page on the national host (a QR code scanned anywhere).
  res = await page.goto(national(`/verify/${verification.toLowerCase()}`), { waitUntil: 'load' });
  await check(page, 'national-verify-phone', { status: res?.status() ?? null, shot: false });
  expectThat((await page.locator('#verified').count()) === 1, 'the national verify page does not know the code');
  facts.push(`verified ${verification} on the province and national hosts`);
});

// ── 4. An official at the counter registers a walk-in citizen's birth and prints the receipt.
await journey('counter', async () => {
  const ctx = await browser.newContext(DESKTOP);
  const signedIn = await signIn(ctx, province('ha-noi', '/sign-in?next=/manage/dossiers/new'), OFFICIAL, 'ha-noi-staff-sign-in-desktop');
  const page = signedIn.page;
  let status = signedIn.status;
  expectPath(page, '/manage/dossiers/new', status);
  await check(page, 'ha-noi-counter-choose-desktop', { status });
  await docShot(page, '21-counter-choose.png', 'the counter: choose the procedure');
  await page.selectOption('#procedure', 'HT-001');
  status = await submit(page);
  expectPath(page, '/manage/dossiers/new', status);
  await check(page, 'ha-noi-counter-form-desktop', { status });
  const birth = {
    full_name: 'Lê Văn Tâm', id_number: '001085004321', child_name: 'Lê Minh An',
    child_date_of_birth: daysAgo(3), child_sex: 'male', place_of_birth: 'Bệnh viện Phụ sản Hà Nội',
    mother_name: 'Phạm Thị Hoa', mother_id_number: '001190006789',
  };
  for (const [name, value] of Object.entries(birth)) await answer(page, name, value);
  // A birth is decided by the ward where a parent lives: Phường Ba Đình.
  if (await page.locator('#unit_code option[value="00004"]').count()) await page.selectOption('#unit_code', '00004');
  await docShot(page, '22-counter-form.png', "the counter form filled for a walk-in citizen (no email)");
  status = await submit(page);
  const at = new URL(page.url());
  const m = at.pathname.match(/^\/manage\/dossiers\/([^/]+)\/receipt$/);
  expectThat(m, `filing at the counter should open the receipt, got ${page.url()} (${status})`);
  const counterCode = decodeURIComponent(m[1]);
  await check(page, 'ha-noi-counter-receipt-desktop', { status });
  const receipt = await page.locator('article.receipt-doc').innerText();
  expectThat(receipt.includes(counterCode) && receipt.includes(birth.full_name), 'the receipt lacks the tracking code or the applicant');
  expectThat((await page.locator('article.receipt-doc svg.qr path[d]').count()) === 1, 'the receipt has no QR code');
  await docShot(page, '23-counter-receipt.png', 'the receipt on screen (A4), printed in the same step');

  // Printed: print media, A4 and A5 PDFs as the browser prints them.
  await page.emulateMedia({ media: 'print' });
  await docShot(page, '24-counter-receipt-print.png', 'the receipt as printed (print media: no menu, no buttons)');
  const a4 = await page.pdf({ path: join(DOCS, '25-counter-receipt-a4.pdf'), preferCSSPageSize: true, printBackground: true });
  await page.emulateMedia({ media: 'screen' });
  const res = await page.goto(`${page.url()}?size=a5`, { waitUntil: 'load' });
  await check(page, 'ha-noi-counter-receipt-a5-desktop', { status: res?.status() ?? null, shot: false });
  await page.emulateMedia({ media: 'print' });
  const a5 = await page.pdf({ path: join(DOCS, '26-counter-receipt-a5.pdf'), preferCSSPageSize: true, printBackground: true });
  for (const [name, pdf] of [['A4', a4], ['A5', a5]]) {
    expectThat(pdf.subarray(0, 5).toString() === '%PDF-', `the ${name} receipt did not print as a PDF`);
    // One sheet: a receipt that spills onto a second page gets lost or stapled wrong.
    expectThat(pdfPages(pdf) === 1, `the ${name} receipt prints on ${pdfPages(pdf)} pages`);
  }
  expectThat(pdfMediaBox(a5)[0] < pdfMediaBox(a4)[0], `the A5 receipt printed on ${pdfMediaBox(a5)}, the A4 one on ${pdfMediaBox(a4)}`);
  facts.push(`counter filed ${counterCode}; receipt printed on one sheet: A4 ${a4.length} bytes, A5 ${a5.length} bytes`);
  // The online dossier's receipt (documents and their hashes, the due date) also fits one sheet.
  if (code) {
    for (const size of ['', '?size=a5']) {
      await page.emulateMedia({ media: 'screen' });
      const r = await page.goto(province('ha-noi', `/manage/dossiers/${encodeURIComponent(code)}/receipt${size}`), { waitUntil: 'load' });
      expectThat(r?.status() === 200, `the online dossier's receipt answers ${r?.status()}`);
      await page.emulateMedia({ media: 'print' });
      const pdf = await page.pdf({ preferCSSPageSize: true });
      expectThat(pdfPages(pdf) === 1, `the online dossier's receipt${size} prints on ${pdfPages(pdf)} pages`);
    }
  }
  docShots.push({ file: '25-counter-receipt-a4.pdf', what: 'the receipt printed to PDF, A4', bytes: a4.length, viewport: '', part: 'PDF', url: '' });
  docShots.push({ file: '26-counter-receipt-a5.pdf', what: 'the receipt printed to PDF, A5', bytes: a5.length, viewport: '', part: 'PDF', url: '' });
  // The receipt on a phone (the official's own, or the citizen's): no overflow.
  const phone = await browser.newContext({ ...PHONE, storageState: await ctx.storageState() });
  const p = await openPage(phone);
  await visit(p, 'ha-noi-counter-receipt-phone', province('ha-noi', `/manage/dossiers/${encodeURIComponent(counterCode)}/receipt`), { shot: false });
  await visit(p, 'ha-noi-counter-form-phone', province('ha-noi', '/manage/dossiers/new?procedure=HT-001'), { shot: false });
  await phone.close();
  await ctx.close();
});

// ── 5. The operator's finance clerk: close last month from the preview, record a transfer,
// the printable invoice, the CSV.
await journey('operator', async () => {
  const ctx = await browser.newContext(DESKTOP);
  const { page, status: s0 } = await signIn(ctx, ops('/sign-in'), OPERATOR, 'ops-sign-in-desktop');
  await check(page, 'ops-console-desktop', { status: s0 });
  let status = await follow(page, 'nav.ops-nav a[href="/billing/close"]');
  expectPath(page, '/billing/close', status);
  await check(page, 'ops-close-preview-desktop', { status });
  expectThat((await page.locator('#period').inputValue()) === PERIOD, `the preview is not of ${PERIOD}`);
  const previewRows = await page.locator('#close-preview tbody tr').count();
  expectThat(previewRows === CLOSE_COUNT, `the preview lists ${previewRows} provinces, expected ${CLOSE_COUNT}`);
  const previewTotal = (await page.locator('#close-preview tfoot td').last().innerText()).trim();
  await docShot(page, '31-operator-close-preview.png', `closing ${PERIOD}: the preview of the totals per province`);

  status = await submit(page, 'main form[method="post"][action="/billing/close"] button[type=submit]');
  let at = expectPath(page, '/invoices', status);
  expectThat(at.searchParams.get('closed') === String(CLOSE_COUNT), `the close made ${at.searchParams.get('closed')} invoices`);
  expectThat((await page.locator('#closed').count()) === 1, 'the close is not acknowledged');
  await check(page, 'ops-invoices-closed-desktop', { status });
  const rows = page.locator('#invoice-table tbody tr');
  expectThat((await rows.count()) === CLOSE_COUNT, `the table lists ${await rows.count()} invoices`);
  const tableTotal = (await page.locator('#totals td').first().innerText()).trim();
  expectThat(tableTotal === previewTotal, `the table's total ${tableTotal} is not the preview's ${previewTotal}`);
  await docShot(page, '32-operator-invoices.png', `the invoices of ${PERIOD} just issued, with totals`);

  // The printable invoice, then a transfer recorded on it.
  const number = (await rows.first().locator('th a').innerText()).trim();
  status = await follow(page, `#invoice-table a[href="/invoices/${number}"]`);
  expectPath(page, `/invoices/${number}`, status);
  await check(page, 'ops-invoice-desktop', { status });
  await docShot(page, '33-operator-invoice.png', `the printable invoice ${number} (seller, buyer, lines, VAT, amount in words) and the operator's forms`);
  await page.emulateMedia({ media: 'print' });
  await docShot(page, '34-operator-invoice-print.png', 'the invoice as printed (print media)');
  const pdf = await page.pdf({ path: join(DOCS, '35-operator-invoice-a4.pdf'), format: 'A4', printBackground: true });
  expectThat(pdfPages(pdf) === 1, `the invoice prints on ${pdfPages(pdf)} A4 pages`);
  docShots.push({ file: '35-operator-invoice-a4.pdf', what: 'the invoice printed to PDF, A4', bytes: pdf.length, viewport: '', part: 'PDF', url: '' });
  await page.emulateMedia({ media: 'screen' });
  const reference = `UNC-${PERIOD.replace('-', '')}-0001`;
  await page.fill('#reference', reference);
  status = await submit(page, `form[action="/invoices/${number}/pay"] button[type=submit]`);
  at = expectPath(page, '/invoices', status);
  expectThat(at.searchParams.get('paid') === number, `the transfer is not acknowledged: ${page.url()}`);
  await check(page, 'ops-invoices-paid-desktop', { status });
  const row = page.locator(`#invoice-table tr[id="${number}"]`);
  expectThat((await row.innerText()).includes(reference), 'the table does not show the transfer\'s reference');
  await docShot(page, '36-operator-invoice-paid.png', 'the transfer recorded: acknowledged, the paid column and totals updated');

  // The CSV: the table's invoices, the paid one with its reference.
  const csvLink = page.locator('#csv-link');
  const [download] = await Promise.all([page.waitForEvent('download'), csvLink.click()]);
  const text = readFileSync(await download.path(), 'utf8');
  expectThat(text.startsWith('\ufeff'), 'the CSV has no byte order mark (Excel would garble the names)');
  const csv = parseCsv(text.slice(1));
  const header = csv[0];
  const lines = csv.slice(1).filter((r) => r.length > 1);
  expectThat(header.includes('number') && header.includes('status') && header.includes('payment_reference'), `the CSV's header is ${header.join(',')}`);
  expectThat(lines.every((r) => r.length === header.length), 'a CSV line has the wrong number of cells');
  expectThat(lines.length === CLOSE_COUNT, `the CSV holds ${lines.length} invoices, expected ${CLOSE_COUNT}`);
  const get = (r, col) => r[header.indexOf(col)];
  const paid = lines.find((r) => get(r, 'number') === number);
  expectThat(paid, `the CSV does not hold ${number}`);
  // The reference is stored with the way it was paid (`bank:` for a transfer).
  expectThat(get(paid, 'status') === 'paid' && get(paid, 'payment_reference') === `bank:${reference}`
    && get(paid, 'paid_vnd') === get(paid, 'total_vnd') && get(paid, 'period') === PERIOD,
  `the CSV's line for ${number} is ${paid.join(',')}`);
  const direct = await fetchInPage(page, await csvLink.getAttribute('href'));
  expectThat(direct.status === 200 && direct.type.startsWith('text/csv'), `the CSV answers ${direct.status} ${direct.type}`);
  facts.push(`operator closed ${PERIOD} (${CLOSE_COUNT} invoices, ${previewTotal}), recorded ${reference} on ${number}, CSV ${download.suggestedFilename()} ${lines.length} lines, ${get(paid, 'total_vnd')} VND paid`);

  // The same pages on a phone: no overflow, the same axe gate.
  const phone = await browser.newContext({ ...PHONE, storageState: await ctx.storageState() });
  const p = await openPage(phone);
  await visit(p, 'ops-close-preview-phone', ops(`/billing/close?period=${PERIOD}`), { shot: false });
  await visit(p, 'ops-invoices-phone', ops(`/invoices?period=${PERIOD}`), { shot: false });
  await visit(p, 'ops-invoice-phone', ops(`/invoices/${number}`), { shot: false });
  await phone.close();
  await ctx.close();
});

// ── Desktop: one province home at 1280 wide.
await journey('desktop', async () => {
  const desktop = await browser.newContext(DESKTOP);
  const page = await openPage(desktop);
  await visit(page, 'ha-noi-home-desktop', province('ha-noi', '/'));
  await desktop.close();
});

const chromiumVersion = browser.version();
await browser.close();

// ── Report.
const count = (vs) => Object.fromEntries(IMPACTS.map((i) => [i, vs.filter((v) => v.impact === i).length]));
const failures = [];
const rows = [];
for (const r of results) {
  if (r.error) { failures.push(`${r.name}: ${r.error}`); continue; }
  const c = count(r.violations);
  rows.push({ page: r.name, status: r.status, ...c, 'best-practice': r.bestPractice.length, review: r.incomplete.length, overflow: r.overflow ? `${r.overflow.scroll}px` : '', csp: r.csp.length });
  for (const v of r.violations.filter((v) => v.impact === 'critical' || v.impact === 'serious')) {
    failures.push(`${r.name}: ${v.impact} ${v.id} (${v.nodes.length}×) ${v.help}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  }
  if (r.overflow) failures.push(`${r.name}: the page is ${r.overflow.scroll}px wide in a ${r.overflow.client}px viewport`);
  for (const c of r.csp) failures.push(`${r.name}: CSP: ${c}`);
  if (!r.expected.includes(r.status)) failures.push(`${r.name}: HTTP ${r.status}, expected ${r.expected.join(' or ')}`);
}
for (const d of docShots.filter((d) => d.file.endsWith('.png') && d.bytes > DOC_LIMIT)) {
  failures.push(`docs/screenshots/${d.file}: ${d.bytes} bytes, over ${DOC_LIMIT}`);
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
console.log('\nJourneys:');
for (const f of facts) console.log(`  ${f}`);
console.log(`\nDocumentation screenshots (${DOCS}):`);
console.table(docShots.map((d) => ({ file: d.file, kB: Math.round(d.bytes / 1024), viewport: d.viewport, part: d.part })));

const report = {
  date: new Date().toISOString(), chromium: chromiumVersion, axe: AXE_VERSION, tags: GATE_TAGS,
  pages: results, docShots, facts, failures,
};
writeFileSync(join(OUT, 'axe.json'), JSON.stringify(report, null, 2));
console.log(`\nChromium ${chromiumVersion}, axe-core ${AXE_VERSION}; report: tests/browser/out/axe.json`);
if (failures.length) {
  console.log(`\nFAIL (${failures.length}):\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
console.log(`PASS: ${results.length} page states, no serious or critical violation; ${docShots.length} documentation files`);
