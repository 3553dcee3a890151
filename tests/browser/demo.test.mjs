// The demo page (conf/demo-root/) in a real browser: Debian's chromium,
// headless, driven by playwright-core (never a downloaded browser), against
// the demo server (tools/demo) on 127.0.0.1 with a DEMO_DIR of its own.
//
//   make browser                      (builds the module, installs what is missing)
//   node --test tests/browser/        (the module built, tests/node_modules present)
//
// CHROMIUM overrides /usr/bin/chromium; AJ_MODULE the module tools/demo loads.
// Screenshots go to build/browser/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import playwright from 'playwright-core';

const { chromium } = playwright;
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const outDir = path.join(repo, 'build', 'browser');
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const modulePath = process.env.AJ_MODULE || path.join(repo, 'build', 'mod_auth_jwt.so');
const LAUNCH_ARGS = [
    '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];
const LAPTOP = { viewport: { width: 1280, height: 800 } };
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
// What Chromium logs for every non-2xx fetch; the page expects those.
const EXPECTED_CONSOLE = /^Failed to load resource: the server responded with a status of (400|401) /;

let demoDir, baseURL, browser;

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

function demo(...args) {
    const p = spawnSync(path.join(repo, 'tools', 'demo'), args, {
        env: { ...process.env, DEMO_DIR: demoDir }, encoding: 'utf8', timeout: 60_000,
    });
    return { ok: p.status === 0, out: `${p.stdout || ''}${p.stderr || ''}${p.error ? p.error : ''}` };
}

function uniqueName(prefix) {
    return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;
}

before(async () => {
    assert.ok(existsSync(modulePath), `${modulePath} is not built: run make first`);
    assert.ok(existsSync(executablePath), `${executablePath} is missing (Debian: apt-get install chromium)`);
    mkdirSync(outDir, { recursive: true });
    demoDir = mkdtempSync(path.join(tmpdir(), 'aj-browser-'));
    const port = await freePort();
    const started = demo('start', String(port));
    assert.ok(started.ok, `tools/demo start failed:\n${started.out}`);
    baseURL = `http://127.0.0.1:${port}`;
    browser = await chromium.launch({ executablePath, headless: true, args: LAUNCH_ARGS, timeout: 30_000 });
});

after(async () => {
    if (browser) await browser.close();
    if (demoDir) {
        const stopped = demo('stop');
        if (!stopped.ok) console.error(`tools/demo stop failed:\n${stopped.out}`);
        rmSync(demoDir, { recursive: true, force: true });
    }
});

// A page in a fresh context (its own sessionStorage), with the console
// errors/warnings and page errors it produces collected.
async function open(options) {
    const context = await browser.newContext({ ...options, baseURL });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const problems = [];
    page.on('console', (m) => {
        if ((m.type() === 'error' || m.type() === 'warning') && !EXPECTED_CONSOLE.test(m.text())) {
            problems.push(`console ${m.type()}: ${m.text()}`);
        }
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    const res = await page.goto('/');
    assert.equal(res.status(), 200);
    return { context, page, problems };
}

// Waits until the element shows text matching re; fails saying what it shows.
async function waitText(page, selector, re) {
    try {
        await page.locator(selector, { hasText: re }).waitFor({ state: 'visible' });
    } catch (e) {
        const got = await page.locator(selector).first().textContent().catch(() => '(no element)');
        assert.fail(`${selector}: expected ${re}, shows ${JSON.stringify(got)}`);
    }
}

const text = (page, selector) => page.locator(selector).first().textContent();
const claim = (page, name) => text(page, `#claims tr[data-claim="${name}"] .claim-value code`);
const stored = (page) => page.evaluate(() => sessionStorage.getItem('mod_auth_jwt_demo.token'));
const reEscape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function register(username, password) {
    const r = await fetch(`${baseURL}/api/users`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username, password }),
    });
    assert.equal(r.status, 201, await r.text());
}

test('the full flow: register, log in, resource, claims, countdown, renew, log out, old token refused', async () => {
    const { context, page, problems } = await open(LAPTOP);
    const user = uniqueName('ada');
    const bearers = [];
    page.on('request', (r) => {
        if (r.url().endsWith('/api/resource')) bearers.push(r.headers().authorization);
    });

    await page.fill('#username', user);
    await page.fill('#password', 'correct horse');
    await page.click('#register-btn');
    await waitText(page, '#account-msg', new RegExp(`Registered \u201c${reEscape(user)}\u201d \\(user id \\d+\\)`));

    await page.click('#login-btn');
    await waitText(page, '#who', new RegExp(`^${reEscape(user)}$`));
    const token1 = await stored(page);
    assert.match(token1, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'the token is kept in sessionStorage');
    assert.equal(await page.inputValue('#password'), '', 'the password field is cleared');

    // the decoded claims
    assert.equal(await claim(page, 'name'), user);
    assert.match(await claim(page, 'sub'), /^\d+$/);
    const exp = Number(await claim(page, 'exp'));
    const iat = Number(await claim(page, 'iat'));
    assert.equal(exp - iat, 600, 'the demo issues 600-second tokens');
    assert.ok(Math.abs(exp - 600 - Date.now() / 1000) < 30, 'exp is about ten minutes ahead');
    const jti1 = await claim(page, 'jti');
    assert.ok(jti1.length >= 8);

    // the protected resource, with the token as Bearer
    await page.click('#resource-btn');
    await waitText(page, '#resource-data', new RegExp(`^Hello, ${reEscape(user)}!$`));
    assert.deepEqual(bearers, [`Bearer ${token1}`]);

    // the countdown runs
    const remaining = async () => Number(await page.getAttribute('#countdown', 'data-remaining'));
    const r1 = await remaining();
    assert.ok(r1 > 560 && r1 <= 600, `countdown starts near 600, shows ${r1}`);
    assert.match(await text(page, '#countdown'), /^\d{1,2}:\d\d$/);
    await page.waitForFunction(
        (before) => Number(document.getElementById('countdown').dataset.remaining) < before, r1,
        { timeout: 3_000 });
    assert.ok(await remaining() < r1, 'the countdown decreases');

    // renew: a new token (new jti), used from then on
    await page.click('#renew-btn');
    await waitText(page, '#session-msg', /Renewed: a new token/);
    const token2 = await stored(page);
    const jti2 = await claim(page, 'jti');
    assert.notEqual(token2, token1);
    assert.notEqual(jti2, jti1, 'the renewed token has a jti of its own');
    assert.equal(await claim(page, 'name'), user);
    await page.click('#resource-btn');
    await waitText(page, '#resource-data', new RegExp(`^Hello, ${reEscape(user)}!$`));
    assert.equal(bearers.at(-1), `Bearer ${token2}`);
    await page.screenshot({ path: path.join(outDir, 'demo-laptop.png'), fullPage: true });

    // log out: the page then shows the server refusing that token
    await page.click('#logout-btn');
    await waitText(page, '#revoked-status', /^401 Unauthorized$/);
    assert.match(await text(page, '#revoked-desc'), /token revoked/);
    assert.match(await text(page, '#revoked-header'), /error="invalid_token", error_description="token revoked"/);
    assert.equal(bearers.at(-1), `Bearer ${token2}`, 'the old token was sent again');
    await waitText(page, '#account-msg', /Logged out/);
    assert.equal(await stored(page), null, 'sessionStorage no longer holds the token');
    assert.ok(await page.locator('#session-live').isHidden());
    assert.ok(await page.locator('#session-none').isVisible());
    // and the server agrees, outside the browser
    const r = await fetch(`${baseURL}/api/resource`, { headers: { Authorization: `Bearer ${token2}` } });
    assert.equal(r.status, 401);
    // the first token was never logged out and still works
    const r0 = await fetch(`${baseURL}/api/resource`, { headers: { Authorization: `Bearer ${token1}` } });
    assert.deepEqual(await r0.json(), { data: `Hello, ${user}!` });
    await page.screenshot({ path: path.join(outDir, 'demo-laptop-logged-out.png'), fullPage: true });

    assert.deepEqual(problems, []);
    await context.close();
});

test('server errors are shown: wrong password, taken name, short password', async () => {
    const { context, page, problems } = await open(LAPTOP);
    const user = uniqueName('bob');
    await register(user, 'right-password');

    await page.fill('#username', user);
    await page.fill('#password', 'wrong-password');
    await page.click('#login-btn');
    await waitText(page, '#account-msg', /Login failed/);
    assert.equal(await text(page, '#account-msg'),
        'Login failed \u2014 401 Unauthorized: invalid username or password');
    assert.match(await page.getAttribute('#account-msg', 'class'), /\berror\b/);
    assert.ok(await page.locator('#session-live').isHidden());
    assert.equal(await stored(page), null);

    await page.click('#register-btn');
    await waitText(page, '#account-msg', /^Registration refused \u2014 400 Bad Request: username already exists$/);

    await page.fill('#username', uniqueName('carol'));
    await page.fill('#password', 'short');
    await page.click('#register-btn');
    await waitText(page, '#account-msg', /400 Bad Request: password is shorter than 6 characters/);

    // both kinds of failure are in the request log
    const log = await page.locator('#log li').allTextContents();
    assert.equal(log.length, 3);
    assert.match(log[2], /POST\/auth\/login401/);

    assert.deepEqual(problems, []);
    await context.close();
});

test('phone-sized screen: no sideways scrolling, names shown as text, session survives a reload', async () => {
    const { context, page, problems } = await open(PHONE);
    const user = `<img src=x id=pwn>&amp;${uniqueName('eve')}`;
    await page.fill('#username', user);
    await page.fill('#password', 'a password');
    await page.click('#register-btn');
    await waitText(page, '#account-msg', /Registered/);
    await page.click('#login-btn');
    await waitText(page, '#who', /pwn/);
    assert.equal(await text(page, '#who'), user);
    await page.click('#resource-btn');
    await waitText(page, '#resource-data', /^Hello, /);
    assert.equal(await text(page, '#resource-data'), `Hello, ${user}!`);
    assert.equal(await page.locator('#pwn').count(), 0, 'nothing the server sends becomes markup');

    await page.reload();
    await waitText(page, '#who', /pwn/);
    assert.equal(await claim(page, 'name'), user);

    const overflow = await page.evaluate(() =>
        document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
    const columns = await page.evaluate(() =>
        getComputedStyle(document.querySelector('.grid')).gridTemplateColumns.split(' ').length);
    assert.equal(columns, 1, 'one column on a phone');
    await page.screenshot({ path: path.join(outDir, 'demo-phone.png'), fullPage: true });

    assert.deepEqual(problems, []);
    await context.close();
});
