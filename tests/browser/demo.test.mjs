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
async function open(options, url = '/') {
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
    const res = await page.goto(url);
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
const storedRefresh = (page) => page.evaluate(() => sessionStorage.getItem('mod_auth_jwt_demo.refresh_token'));
const refreshCount = async (page) => Number(await page.getAttribute('#refresh-count', 'data-count'));
const REFRESH_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const reEscape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function register(username, password) {
    const r = await fetch(`${baseURL}/api/users`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username, password }),
    });
    assert.equal(r.status, 201, await r.text());
}

// What the server answers to a token outside the browser.
async function resourceStatus(accessToken) {
    const r = await fetch(`${baseURL}/api/resource`, { headers: { Authorization: `Bearer ${accessToken}` } });
    return r.status;
}

async function refreshWith(refreshToken) {
    const r = await fetch(`${baseURL}/auth/refresh`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ refresh_token: refreshToken }),
    });
    return { status: r.status, json: await r.json().catch(() => null) };
}

async function registerAndLogIn(page, prefix) {
    const user = uniqueName(prefix);
    await register(user, 'correct horse');
    await page.fill('#username', user);
    await page.fill('#password', 'correct horse');
    await page.click('#login-btn');
    await waitText(page, '#who', new RegExp(`^${reEscape(user)}$`));
    return user;
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
    assert.equal(exp - iat, 60, 'the demo issues 60-second access tokens');
    assert.ok(Math.abs(exp - 60 - Date.now() / 1000) < 30, 'exp is about a minute ahead');
    const jti1 = await claim(page, 'jti');
    assert.ok(jti1.length >= 8);
    // a refresh token came with it: kept, and its session shown
    assert.match(await storedRefresh(page), REFRESH_TOKEN_SHAPE);
    const sid = await claim(page, 'sid');
    assert.match(sid, /^[\w-]+$/);
    assert.equal(await text(page, '#sid'), sid);
    assert.equal(await refreshCount(page), 0);
    assert.match(await text(page, '#next-refresh'), /^in 0:[34]\d$/, 'the silent refresh is due at 80% of 60 s');

    // the protected resource, with the token as Bearer
    await page.click('#resource-btn');
    await waitText(page, '#resource-data', new RegExp(`^Hello, ${reEscape(user)}!$`));
    assert.deepEqual(bearers, [`Bearer ${token1}`]);

    // the countdown runs
    const remaining = async () => Number(await page.getAttribute('#countdown', 'data-remaining'));
    const r1 = await remaining();
    assert.ok(r1 > 45 && r1 <= 60, `countdown starts near 60, shows ${r1}`);
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
    assert.equal(await claim(page, 'sid'), sid, 'a renewal stays in the session');
    await page.click('#resource-btn');
    await waitText(page, '#resource-data', new RegExp(`^Hello, ${reEscape(user)}!$`));
    assert.equal(bearers.at(-1), `Bearer ${token2}`);
    await page.screenshot({ path: path.join(outDir, 'demo-laptop.png'), fullPage: true });

    // log out: the page then shows the server refusing that token
    const refresh2 = await storedRefresh(page);
    await page.click('#logout-btn');
    await waitText(page, '#revoked-status', /^401 Unauthorized$/);
    assert.match(await text(page, '#revoked-desc'), /token revoked/);
    assert.match(await text(page, '#revoked-header'), /error="invalid_token", error_description="token revoked"/);
    assert.equal(bearers.at(-1), `Bearer ${token2}`, 'the old token was sent again');
    await waitText(page, '#revoked-refresh-status', /^401 Unauthorized$/);
    assert.match(await text(page, '#revoked-refresh-desc'), /reused or its session revoked/);
    await waitText(page, '#account-msg', /Logged out/);
    assert.equal(await stored(page), null, 'sessionStorage no longer holds the token');
    assert.equal(await storedRefresh(page), null, 'nor the refresh token');
    assert.ok(await page.locator('#session-live').isHidden());
    assert.ok(await page.locator('#session-none').isVisible());
    // and the server agrees, outside the browser
    assert.equal(await resourceStatus(token2), 401);
    // logout ends the session: the first token, never logged out itself,
    // carries the same sid and is refused too; so is the refresh token
    assert.equal(await resourceStatus(token1), 401, 'the session\'s other access token');
    assert.equal((await refreshWith(refresh2)).status, 401);
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

    const refreshToken = await storedRefresh(page);
    const sid = await text(page, '#sid');
    await page.reload();
    await waitText(page, '#who', /pwn/);
    assert.equal(await claim(page, 'name'), user);
    assert.equal(await storedRefresh(page), refreshToken, 'the refresh token survives the reload');
    assert.equal(await text(page, '#sid'), sid);
    assert.match(await text(page, '#next-refresh'), /^in \d:\d\d$/, 'and the silent refresh is scheduled again');

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

test('silent refresh: a new access token and refresh token before expiry, same session, the API still answers', async () => {
    // ?refresh_after=1: refresh a second after each token arrives, not at
    // 48 of its 60 seconds
    const { context, page, problems } = await open(LAPTOP, '/?refresh_after=1');
    const bearers = [];
    page.on('request', (r) => {
        if (r.url().endsWith('/api/resource')) bearers.push(r.headers().authorization);
    });
    const user = await registerAndLogIn(page, 'grace');
    const access1 = await stored(page);
    const refresh1 = await storedRefresh(page);
    const sid = await claim(page, 'sid');
    const jti1 = await claim(page, 'jti');
    assert.match(refresh1, REFRESH_TOKEN_SHAPE);

    // nothing clicked: the page refreshes on its own
    await page.waitForFunction(() => Number(document.getElementById('refresh-count').dataset.count) >= 1,
        null, { timeout: 8_000 });
    const access2 = await stored(page);
    const refresh2 = await storedRefresh(page);
    assert.notEqual(access2, access1, 'a new access token');
    assert.notEqual(refresh2, refresh1, 'the refresh token rotated');
    assert.match(refresh2, REFRESH_TOKEN_SHAPE);
    assert.equal(await claim(page, 'sid'), sid, 'the same session');
    assert.notEqual(await claim(page, 'jti'), jti1);
    assert.equal(await text(page, '#sid'), sid);
    const log = await page.locator('#log li').allTextContents();
    assert.ok(log.some((l) => /^POST\/auth\/refresh200/.test(l) && /silent refresh/.test(l)),
        `a silent refresh in the request log: ${JSON.stringify(log)}`);
    assert.ok(!log.join('\n').includes(refresh1), 'the log shows refresh tokens shortened only');

    // the API answers with the refreshed token
    await page.click('#resource-btn');
    await waitText(page, '#resource-data', new RegExp(`^Hello, ${reEscape(user)}!$`));
    assert.notEqual(bearers.at(-1), `Bearer ${access1}`, 'sent with a refreshed token');
    // rotation revokes no access token: the first one still works
    assert.equal(await resourceStatus(access1), 200);

    // and it keeps going
    const n = await refreshCount(page);
    await page.waitForFunction((before) => Number(document.getElementById('refresh-count').dataset.count) > before,
        n, { timeout: 8_000 });
    assert.ok(await page.locator('#ended').isHidden(), 'no session trouble');

    assert.deepEqual(problems, []);
    await context.close();
});

test('a replayed refresh token: reuse detected, the session revoked, the page says so and offers a new login', async () => {
    const { context, page, problems } = await open(LAPTOP);
    const user = await registerAndLogIn(page, 'mallory');
    assert.ok(await page.locator('#ended').isHidden());
    assert.ok(await page.locator('#replay-btn').isVisible());

    // no refresh has happened yet: the control refreshes first (the login's
    // refresh token is then used up) and replays that used token
    const refresh1 = await storedRefresh(page);
    await page.click('#replay-btn');
    await waitText(page, '#ended-title', /^Session revoked \u2014 refresh token reuse detected$/);
    assert.equal(await refreshCount(page), 1, 'one legitimate refresh before the replay');
    assert.equal(await text(page, '#replay-status'), '401 Unauthorized');
    assert.match(await text(page, '#replay-desc'), /reused or its session revoked/);
    assert.ok(await page.locator('#replay-out').isVisible(), 'the thief\'s answer stays in view');
    assert.match(await text(page, '#ended-reason'), /reused or its session revoked; log in again/);
    assert.match(await text(page, '#ended-text'), new RegExp(reEscape(await text(page, '#sid'))));
    assert.equal(await page.getAttribute('#ended', 'role'), 'alert');
    assert.equal(await page.getAttribute('#ended', 'data-kind'), 'reuse');
    assert.equal(await text(page, '#countdown'), 'revoked');
    assert.match(await page.getAttribute('#session', 'class'), /\bended\b/);
    assert.equal(await text(page, '#next-refresh'), '\u2013', 'no refresh is scheduled any more');
    assert.equal(await storedRefresh(page), null, 'the dead refresh token is forgotten');
    for (const hidden of ['#refresh-btn', '#renew-btn', '#logout-btn', '#logout-all-btn', '#replay-btn']) {
        assert.ok(await page.locator(hidden).isHidden(), `${hidden} is gone`);
    }
    // the log shows the thief's request, then this page's refused refresh
    const log = await page.locator('#log li').allTextContents();
    assert.match(log[1], /^POST\/auth\/refresh401.*thief replays/);
    assert.match(log[0], /^POST\/auth\/refresh401.*silent refresh/);

    // the access token the page still holds carries the revoked sid: refused
    const accessToken = await page.evaluate(() => document.getElementById('raw-token').textContent);
    await page.click('#resource-btn');
    await waitText(page, '#session-msg', /^The resource was refused \u2014 401 Unauthorized/);
    assert.match(await text(page, '#session-msg'), /log in again/);
    assert.ok(await page.locator('#resource-out').isHidden());
    await page.screenshot({ path: path.join(outDir, 'demo-reuse-detected.png'), fullPage: true });

    // the server agrees, outside the browser: every token of the session is dead
    assert.equal(await resourceStatus(accessToken), 401);
    assert.equal((await refreshWith(refresh1)).status, 401);

    // log in again: the form is back, the password field focused
    await page.click('#relogin-btn');
    assert.ok(await page.locator('#session-none').isVisible());
    assert.ok(await page.locator('#ended').isHidden());
    assert.equal(await page.inputValue('#username'), user);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'password');
    await page.fill('#password', 'correct horse');
    await page.click('#login-btn');
    await waitText(page, '#who', new RegExp(`^${reEscape(user)}$`));
    assert.match(await storedRefresh(page), REFRESH_TOKEN_SHAPE);
    assert.equal(await refreshCount(page), 0);
    await page.click('#resource-btn');
    await waitText(page, '#resource-data', new RegExp(`^Hello, ${reEscape(user)}!$`));

    assert.deepEqual(problems, []);
    await context.close();
});

test('log out everywhere: every session of the user ends, this one and another client\'s', async () => {
    const { context, page, problems } = await open(LAPTOP);
    const user = await registerAndLogIn(page, 'heidi');
    const access = await stored(page);
    const refresh = await storedRefresh(page);
    // the same user logged in elsewhere (another device)
    const other = await fetch(`${baseURL}/auth/login`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: user, password: 'correct horse' }),
    }).then((r) => r.json());
    assert.match(other.refresh_token, REFRESH_TOKEN_SHAPE);
    assert.equal(await resourceStatus(other.token), 200);

    await page.click('#logout-all-btn');
    await waitText(page, '#account-msg', /^Logged out everywhere/);
    await waitText(page, '#revoked-title', /log out everywhere/);
    await waitText(page, '#revoked-status', /^401 Unauthorized$/);
    await waitText(page, '#revoked-refresh-status', /^401 Unauthorized$/);
    assert.ok(await page.locator('#session-none').isVisible());
    assert.equal(await stored(page), null);
    assert.equal(await storedRefresh(page), null);

    // refused, here and on the other device
    assert.equal(await resourceStatus(access), 401);
    assert.equal(await resourceStatus(other.token), 401);
    assert.equal((await refreshWith(refresh)).status, 401);
    const o = await refreshWith(other.refresh_token);
    assert.equal(o.status, 401);
    assert.match(o.json.error, /reused or its session revoked|session ended/);

    assert.deepEqual(problems, []);
    await context.close();
});
