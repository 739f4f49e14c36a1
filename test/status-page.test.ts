/**
 * The status page at `/` in a real browser: headless Chromium (Debian's, driven by
 * playwright-core) loads it from the proxy, and the test reads what a person would see: the
 * version, each plugin with its state, its tools with descriptions and schemas, a failed
 * plugin's error; a plugin folder added while the page is open appears without a reload; a tool
 * description that is HTML stays text; the browser reports no errors and no Content-Security-Policy
 * violations; it fits a phone's screen. With auth on, the page asks for a token and then shows
 * that token's plugins only.
 *
 * Screenshots (desktop and phone) go to test-results/ (git-ignored; CI keeps them).
 * Needs /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it): without it this
 * test fails and says so.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { SERVER_INFO } from '../core/switchboard.ts';
import { ROOT, connect, startProxy, type RunningProxy } from './helpers.ts';
import { HOSTILE, writeBrokenPlugin, writeLookPlugin } from './fixtures/status-plugins.ts';

const CHROMIUM = '/usr/bin/chromium';
/** Headless on this machine's closed network: no sandbox (root), no GPU, no background traffic. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
export const SCREENSHOTS = join(ROOT, 'test-results');
const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

let dir: string;
let proxy: RunningProxy;
let browser: Browser;

before(async () => {
  if (!existsSync(CHROMIUM)) {
    assert.fail(`Chromium is not installed at ${CHROMIUM}, and this test needs a real browser. Install it with: apt-get update && apt-get install -y chromium (Debian; .ci/run does this)`);
  }
  await mkdir(SCREENSHOTS, { recursive: true });
  dir = await mkdtemp(join(tmpdir(), 'switchboard-status-page-'));
  await writeLookPlugin(dir, 'look', HOSTILE);
  await writeBrokenPlugin(dir, 'broken');
  proxy = await startProxy({ pluginDirs: [join(ROOT, 'plugins'), dir], watch: true, watchDebounceMs: 100 });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
});

after(async () => {
  await browser?.close();
  await proxy?.close();
});

/** A page that keeps every console error, uncaught exception and CSP violation the browser reports. */
async function openPage(options: BrowserContextOptions = {}): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  return { page, problems };
}

const card = (page: Page, prefix: string) => page.locator(`article.plugin[data-prefix="${prefix}"]`);

test('the status page shows the proxy and its plugins, updates live when a plugin folder is added or removed, keeps plugin text as text, and fits a phone', { timeout: 180_000 }, async () => {
  const { page, problems } = await openPage({ viewport: { width: 1280, height: 900 } });
  const base = new URL('/', proxy.url).href;
  await page.goto(base);

  await card(page, 'look').locator('.state', { hasText: 'ready' }).waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('#version').textContent(), SERVER_INFO.version);
  assert.match(String(await page.locator('#uptime').textContent()), /\d+ s$/, 'uptime is shown');
  assert.equal(await page.locator('#sessions-legacy').textContent(), '0');
  assert.equal(await card(page, 'example').locator('.kind dd').textContent(), 'in-process');
  assert.equal(await card(page, 'example').locator('.era dd').textContent(), '2025-11-25');

  // The failed folder: its state and its error, as /readyz says them.
  const failed = page.locator('article.plugin[data-state="failed"]');
  await failed.waitFor();
  assert.match(String(await failed.locator('.source dd').textContent()), /broken/);
  assert.match(String(await failed.locator('.error').textContent()), /last error: .*broken/s);

  // Tools expand to their descriptions and input schemas; the HTML in a description stays text.
  const look = card(page, 'look');
  await look.locator('details.list-tools > summary').click();
  const tool = look.locator('li.item[data-name="look_look"]');
  assert.equal(await tool.locator('.item-description').textContent(), HOSTILE, 'the description is shown literally');
  await tool.locator('details.schema > summary').click();
  assert.match(String(await tool.locator('pre').textContent()), /"query"[\s\S]*"what to look for"/, 'the input schema is shown');
  assert.equal(await page.locator('img').count(), 0, 'no element was made from plugin text');
  assert.equal(await page.evaluate(() => document.body.dataset.pwned), undefined, 'no plugin-supplied script ran');

  // Live: a plugin folder added now appears without a reload, and what the reader opened stays open.
  await page.evaluate(() => ((window as unknown as { beforeUpdate: boolean }).beforeUpdate = true));
  await writeLookPlugin(dir, 'fresh', 'A plugin added while the page was open.');
  await card(page, 'fresh').locator('.state', { hasText: 'ready' }).waitFor({ timeout: 30_000 });
  assert.equal(await page.evaluate(() => (window as unknown as { beforeUpdate?: boolean }).beforeUpdate), true, 'the page was not reloaded');
  assert.equal(await look.locator('details.list-tools').getAttribute('open'), '', 'the tools list the reader opened is still open after updates');
  await card(page, 'fresh').locator('details.list-tools > summary').click();
  assert.equal(await card(page, 'fresh').locator('.list-tools .item-description').textContent(), 'A plugin added while the page was open.');

  // Request rates: three calls to look show up as its request count, with a rate above zero at the refresh that first sees them.
  const client = await connect(proxy.url);
  try {
    for (const query of ['a', 'b', 'c']) await client.client.callTool({ name: 'look_look', arguments: { query } });
  } finally {
    await client.close();
  }
  await look.locator('.requests dd', { hasText: /^3 \((?!0\.00)[\d.]+ \/ s\)$/ }).waitFor({ timeout: 15_000 });

  // While nothing changes, each refresh asks for the report without lists, never the lists again.
  const asked: string[] = [];
  page.on('request', (request) => asked.push(new URL(request.url()).search));
  const refreshes = Number(await page.evaluate(() => document.body.dataset.refreshes));
  await page.locator(`body[data-refreshes="${refreshes + 3}"]`).waitFor({ timeout: 20_000 });
  assert.ok(asked.length >= 3 && asked.every((search) => search === '?lists=0'), `only /status.json?lists=0 was asked for: ${JSON.stringify(asked)}`);

  await page.screenshot({ path: join(SCREENSHOTS, 'status-page.png'), fullPage: true });
  assert.deepEqual(problems, [], 'the browser reported no errors, warnings or CSP violations');
  await page.context().close();

  // A phone: the same content, nothing wider than the screen.
  const phone = await openPage(PHONE);
  await phone.page.goto(base);
  await card(phone.page, 'fresh').locator('.state', { hasText: 'ready' }).waitFor({ timeout: 20_000 });
  await card(phone.page, 'look').locator('details.list-tools > summary').click();
  await card(phone.page, 'look').locator('details.schema > summary').click();
  const widths = await phone.page.evaluate(() => ({ page: document.documentElement.scrollWidth, screen: window.innerWidth }));
  assert.ok(widths.page <= widths.screen, `the page fits the phone's width: ${widths.page} px wide on a ${widths.screen} px screen`);
  await phone.page.screenshot({ path: join(SCREENSHOTS, 'status-page-phone.png'), fullPage: true });
  // A plugin folder removed leaves the page at a refresh, again without a reload.
  await rm(join(dir, 'fresh'), { recursive: true });
  await card(phone.page, 'fresh').waitFor({ state: 'detached', timeout: 30_000 });
  assert.equal(await card(phone.page, 'look').count(), 1, 'the others stay');
  assert.deepEqual(phone.problems, [], 'no errors on the phone either');
  await phone.page.context().close();
});

test('with auth on, the page asks for a token, then shows only the plugins that token may use', { timeout: 120_000 }, async () => {
  const guarded = await startProxy({
    pluginDirs: [join(ROOT, 'plugins'), dir],
    auth: { tokens: [{ token: 'look-secret', name: 'looker', plugins: ['look'] }] },
  });
  try {
    const { page, problems } = await openPage();
    await page.goto(new URL('/', guarded.url).href);
    await page.locator('#token-form').waitFor({ state: 'visible' });
    assert.equal(await page.locator('article.plugin').count(), 0, 'nothing is shown before a token is given');

    await page.locator('#token').fill('wrong-secret');
    await page.locator('#token-form button[type="submit"]').click();
    await page.locator('#token-problem', { hasText: 'the token is not valid' }).waitFor();

    await page.locator('#token').fill('look-secret');
    await page.locator('#token-form button[type="submit"]').click();
    await card(page, 'look').waitFor();
    await page.locator('body[data-refreshes="2"]').waitFor({ timeout: 10_000 });
    const prefixes = await page.locator('article.plugin').evaluateAll((cards) => cards.map((c) => (c as HTMLElement).dataset.prefix));
    assert.deepEqual(prefixes, ['look'], 'only the plugin the token may use');
    assert.match(String(await page.locator('#viewer').textContent()), /looker/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('mcp-switchboard.status.token')), 'look-secret', 'the token is kept for this tab only');

    // The browser logs each refused fetch (401) as an error; nothing else may be reported.
    const unexpected = problems.filter((line) => !/Failed to load resource: the server responded with a status of 401/.test(line));
    assert.deepEqual(unexpected, []);
    await page.context().close();
  } finally {
    await guarded.close();
  }
});
