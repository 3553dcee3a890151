/* mod_auth_jwt demo page: register, log in, call the protected resource,
 * refresh silently, renew, log out (here or everywhere), show that the old
 * tokens are refused, and simulate a stolen refresh token.
 *
 * Plain JavaScript, no build step, no outside assets.  Nothing the server
 * (or the person) sends is ever parsed as HTML: every value reaches the DOM
 * through textContent.  No inline handlers, so the page's strict
 * Content-Security-Policy holds.  The access token is sent as
 * "Authorization: Bearer <token>".  Its claims are decoded here for display
 * only; the server is the one that verifies.
 *
 * Where the tokens live, and why (bearer mode):
 * the access token (60 s) and the refresh token (a day) are kept in
 * sessionStorage.  That keeps the session across a reload of this tab, ends
 * it with the tab, and is never shared with another tab: two tabs holding
 * one refresh token would race to use it, and the second use looks exactly
 * like theft to the server, which then ends the session (localStorage would
 * do that).  The price of keeping tokens in JavaScript is that a script
 * injected into this origin (XSS) can read both, and the refresh token is
 * the whole session.  This page's strict CSP and text-only DOM writes make
 * that hard, and rotation with reuse detection bounds the damage: the first
 * time the thief and this page both use the same refresh token, the server
 * revokes the session for both.  Cookie mode (AuthJWTCookie) is the stronger
 * choice for a browser application: the refresh token then lives in an
 * HttpOnly, SameSite=Strict cookie scoped to the refresh path, out of reach
 * of any script, at the cost of the CSRF header rules it brings.  This page
 * uses bearer mode because it is the one that shows every token. */
'use strict';

(function () {
    const STORAGE_KEY = 'mod_auth_jwt_demo.token';
    const REFRESH_KEY = 'mod_auth_jwt_demo.refresh_token';
    const META_KEY = 'mod_auth_jwt_demo.session';
    const REFRESH_PATH = '/auth/refresh';
    const LOG_MAX = 25;
    // The silent refresh runs when this share of the access token's lifetime
    // has passed: early enough that a slow answer still arrives in time.
    const REFRESH_AT_SHARE = 0.8;
    // Never schedule a refresh sooner than this (a clock that disagrees with
    // the token must not turn into a refresh loop).
    const MIN_REFRESH_DELAY_MS = 1000;
    // A refresh that got no answer (or a 5xx) is tried again this often while
    // the access token lasts; a 401 is final.
    const REFRESH_RETRY_MS = 5000;
    const REFRESH_RETRIES_MAX = 3;
    // ?refresh_after=SECONDS refreshes that long after each token arrives
    // instead (to watch rotation without waiting; the browser test uses it).
    const REFRESH_AFTER_MAX = 86400;
    const REASONS = {
        200: 'OK', 201: 'Created', 400: 'Bad Request', 401: 'Unauthorized',
        403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
        413: 'Content Too Large', 415: 'Unsupported Media Type',
        500: 'Internal Server Error', 503: 'Service Unavailable'
    };
    const CLAIM_MEANING = {
        sub: 'subject: the user id',
        name: 'the user name',
        iat: 'issued at',
        nbf: 'not valid before',
        exp: 'expires',
        jti: 'token id (what logout revokes)',
        sid: 'session id: every token of one login (logout and reuse detection revoke it)',
        auth_time: 'when the password was checked',
        iss: 'issuer',
        aud: 'audience',
        scope: 'scopes',
        role: 'role'
    };
    const TIME_CLAIMS = new Set(['iat', 'nbf', 'exp', 'auth_time']);

    const $ = (id) => document.getElementById(id);
    const ui = {
        form: $('account-form'), user: $('username'), pass: $('password'),
        loginBtn: $('login-btn'), registerBtn: $('register-btn'), accountMsg: $('account-msg'),
        session: $('session'),
        sessionNone: $('session-none'), sessionLive: $('session-live'), who: $('who'),
        countdown: $('countdown'), bar: $('ttl-bar'), expiresAt: $('expires-at'),
        sid: $('sid'), refreshCount: $('refresh-count'), nextRefresh: $('next-refresh'),
        refreshShort: $('refresh-short'), refreshUntil: $('refresh-until'),
        resourceBtn: $('resource-btn'), refreshBtn: $('refresh-btn'), renewBtn: $('renew-btn'),
        logoutBtn: $('logout-btn'), logoutAllBtn: $('logout-all-btn'),
        replayBox: $('replay'), replayBtn: $('replay-btn'), replayOut: $('replay-out'),
        replayStatus: $('replay-status'), replayDesc: $('replay-desc'),
        ended: $('ended'), endedTitle: $('ended-title'), endedText: $('ended-text'),
        endedReason: $('ended-reason'), reloginBtn: $('relogin-btn'),
        resourceOut: $('resource-out'), resourceData: $('resource-data'), sessionMsg: $('session-msg'),
        revoked: $('revoked'), revokedTitle: $('revoked-title'),
        revokedStatus: $('revoked-status'), revokedDesc: $('revoked-desc'),
        revokedHeader: $('revoked-header'), revokedRefresh: $('revoked-refresh'),
        revokedRefreshStatus: $('revoked-refresh-status'), revokedRefreshDesc: $('revoked-refresh-desc'),
        tokenCard: $('token'), claimsBody: document.querySelector('#claims tbody'),
        jwtHeader: $('jwt-header'), rawToken: $('raw-token'),
        log: $('log'), logEmpty: $('log-empty')
    };
    // What a live session offers and an ended one does not.
    const liveOnly = [ui.refreshBtn, ui.renewBtn, ui.logoutBtn, ui.logoutAllBtn, ui.replayBox];

    let token = null;          // the current access token, or null
    let claims = null;         // its decoded payload
    let expiresAt = 0;         // when it expires, by this browser's clock (ms)
    let lifetime = 0;          // its lifetime in seconds
    let timer = null;          // the countdown's interval
    let refreshToken = null;   // the current refresh token, or null
    let refreshExpiresAt = 0;  // when it expires, by this browser's clock (ms)
    let usedRefresh = null;    // the one it replaced (consumed): what a thief would replay
    let refreshes = 0;         // successful refreshes of this session
    let refreshTimer = null;   // the pending silent refresh
    let refreshDueAt = 0;      // when it fires (ms)
    let refreshInFlight = null;  // the refresh under way (a promise), or null
    let refreshFailures = 0;   // retries since the last success
    let replayed = false;      // this page replayed a used refresh token
    let ended = false;         // the server ended the session (401 on refresh)
    let generation = 0;        // bumped by login/logout: late answers of an old session are dropped

    const refreshAfter = (() => {
        const v = new URLSearchParams(location.search).get('refresh_after');
        const n = v !== null && /^\d+$/.test(v) ? Number(v) : 0;
        return n >= 1 && n <= REFRESH_AFTER_MAX ? n : 0;
    })();

    /* ---- small DOM helpers (text only) ---------------------------------- */

    function el(tag, className, text) {
        const e = document.createElement(tag);
        if (className) e.className = className;
        if (text !== undefined && text !== null) e.textContent = String(text);
        return e;
    }

    function showMsg(target, kind, text) {
        target.className = 'msg ' + kind;
        target.textContent = text;
        target.hidden = false;
        reveal(target);
    }

    function hideMsg(target) {
        target.hidden = true;
        target.textContent = '';
    }

    // On a narrow screen the answer may be below the fold: bring it up.
    function reveal(target) {
        const r = target.getBoundingClientRect();
        if (r.top < 0 || r.bottom > window.innerHeight) {
            target.scrollIntoView({ block: 'nearest' });
        }
    }

    function busy(on) {
        for (const b of [ui.loginBtn, ui.registerBtn, ui.resourceBtn, ui.refreshBtn, ui.renewBtn,
            ui.logoutBtn, ui.logoutAllBtn, ui.replayBtn, ui.reloginBtn]) {
            b.disabled = on;
        }
        document.body.classList.toggle('busy', on);
    }

    /* ---- JWT display (no verification: that is the server's job) -------- */

    function b64urlJson(part) {
        let b64 = part.replace(/-/g, '+').replace(/_/g, '/');
        b64 += '='.repeat((4 - (b64.length % 4)) % 4);
        const bin = atob(b64);
        const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
        return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    }

    function decodeJwt(t) {
        const parts = String(t).split('.');
        if (parts.length !== 3) throw new Error('not a JWT (expected three parts)');
        const header = b64urlJson(parts[0]);
        const payload = b64urlJson(parts[1]);
        if (!payload || typeof payload !== 'object') throw new Error('payload is not an object');
        return { header, payload };
    }

    function shortToken(t) {
        return t.length > 24 ? t.slice(0, 10) + '\u2026' + t.slice(-8) : t;
    }

    /* ---- HTTP ----------------------------------------------------------- */

    // Reads one auth-param of a WWW-Authenticate value (several challenges
    // arrive joined by ", "): error, error_description, realm.
    function authParam(header, name) {
        const m = new RegExp('(?:^|[\\s,])' + name + '="((?:[^"\\\\]|\\\\.)*)"').exec(header || '');
        return m ? m[1].replace(/\\(.)/g, '$1') : null;
    }

    // One request to the API.  Never throws: the result says what happened,
    // and every request lands in the request log (opts.note says what the
    // body carried; tokens appear shortened only).
    async function api(method, path, opts) {
        opts = opts || {};
        const headers = { Accept: 'application/json' };
        if (opts.token) headers.Authorization = 'Bearer ' + opts.token;
        let body;
        if (opts.json !== undefined) {
            headers['Content-Type'] = 'application/json';
            body = JSON.stringify(opts.json);
        }
        const r = { ok: false, status: 0, statusText: '', json: null, wwwAuth: '', text: '' };
        try {
            // credentials 'omit': no cookies, and no browser password dialog
            // for the Basic challenge that comes with a 401.
            const res = await fetch(path, {
                method, headers, body, credentials: 'omit', cache: 'no-store', redirect: 'error'
            });
            r.ok = res.ok;
            r.status = res.status;
            r.statusText = res.statusText || REASONS[res.status] || '';
            r.wwwAuth = res.headers.get('WWW-Authenticate') || '';
            r.text = await res.text();
            if (/json/i.test(res.headers.get('Content-Type') || '')) {
                try { r.json = JSON.parse(r.text); } catch (e) { r.json = null; }
            }
        } catch (e) {
            r.networkError = (e && e.message) || String(e);
        }
        r.summary = describe(r);
        addLog(method, path, opts.token, opts.note, r);
        return r;
    }

    // What the server said about a refusal: its JSON error, else the Bearer
    // challenge's error_description/error; null when it said nothing.
    function serverReason(r) {
        let detail = null;
        if (r.json && typeof r.json === 'object') {
            detail = r.json.error || r.json.message || null;
            if (detail && typeof detail !== 'string') detail = JSON.stringify(detail);
        }
        if (!detail && r.wwwAuth) {
            const err = authParam(r.wwwAuth, 'error');
            const desc = authParam(r.wwwAuth, 'error_description');
            if (err || desc) detail = [err, desc].filter(Boolean).join(': ');
        }
        return detail;
    }

    // "401 Unauthorized: invalid username or password" — the status and what
    // the server said.
    function describe(r) {
        if (r.networkError) return 'No answer from the server (' + r.networkError + ')';
        const s = r.status + (r.statusText ? ' ' + r.statusText : '');
        let detail = serverReason(r);
        if (!detail && !r.ok && r.status === 401) detail = 'credentials required';
        return detail ? s + ': ' + detail : s;
    }

    function addLog(method, path, sentToken, note, r) {
        const li = el('li', 'log-entry');
        const head = el('div', 'log-head');
        head.append(el('span', 'method', method), el('code', 'path', path));
        const cls = r.networkError ? 'err' : r.status < 300 ? 'ok' : r.status < 500 ? 'warn' : 'err';
        head.append(el('span', 'status-pill ' + cls, r.networkError ? 'no answer' : String(r.status)));
        li.append(head);
        const meta = [];
        if (note) meta.push(note);
        if (sentToken) meta.push('Authorization: Bearer ' + shortToken(sentToken));
        meta.push(r.summary);
        li.append(el('div', 'log-meta', meta.join(' \u00b7 ')));
        li.append(el('time', 'log-time', new Date().toLocaleTimeString()));
        ui.log.prepend(li);
        while (ui.log.children.length > LOG_MAX) ui.log.lastElementChild.remove();
        ui.logEmpty.hidden = true;
    }

    /* ---- storage (this tab only; see the top of this file) ---------------- */

    function storeSession() {
        try {
            sessionStorage.setItem(STORAGE_KEY, token);
            if (refreshToken) sessionStorage.setItem(REFRESH_KEY, refreshToken);
            else sessionStorage.removeItem(REFRESH_KEY);
            sessionStorage.setItem(META_KEY, JSON.stringify({ expiresAt, lifetime, refreshExpiresAt, refreshes }));
        } catch (e) { /* private mode: memory only */ }
    }

    function forgetStored() {
        try {
            for (const k of [STORAGE_KEY, REFRESH_KEY, META_KEY]) sessionStorage.removeItem(k);
        } catch (e) { /* nothing kept */ }
    }

    /* ---- session state -------------------------------------------------- */

    // Takes an access token into use: keeps it, shows who and its claims,
    // starts the countdown and schedules the next silent refresh.
    // expiresIn is the server's expires_in (the token's lifetime from now,
    // immune to this browser's clock being off); without it (a reload) the
    // kept expiry applies.  Returns false (and says why) for something that
    // is not a JWT.
    function setToken(t, expiresIn, keptExpiry) {
        let decoded;
        try {
            decoded = decodeJwt(t);
        } catch (e) {
            showMsg(ui.sessionMsg, 'error', 'The server sent a token this page cannot decode: ' + e.message);
            return false;
        }
        token = t;
        claims = decoded.payload;
        const c = claims;
        const claimed = typeof c.exp === 'number' && typeof c.iat === 'number' ? c.exp - c.iat : 0;
        if (typeof expiresIn === 'number' && expiresIn > 0) {
            lifetime = expiresIn;
            expiresAt = Date.now() + expiresIn * 1000;
        } else if (keptExpiry && keptExpiry.expiresAt > 0) {
            lifetime = keptExpiry.lifetime || claimed;
            expiresAt = keptExpiry.expiresAt;
        } else {
            lifetime = claimed;
            expiresAt = typeof c.exp === 'number' ? c.exp * 1000 : 0;
        }
        storeSession();
        ui.who.textContent = c.name !== undefined ? String(c.name) : 'user #' + c.sub;
        ui.sid.textContent = typeof c.sid === 'string' ? c.sid : 'none (no refresh token)';
        renderClaims(decoded);
        ui.sessionNone.hidden = true;
        ui.sessionLive.hidden = false;
        ui.tokenCard.hidden = false;
        scheduleRefresh();
        startCountdown();
        return true;
    }

    function setRefresh(rt, expiresIn) {
        refreshToken = rt;
        refreshExpiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : 0;
        renderRefresh();
    }

    function renderRefresh() {
        ui.refreshShort.textContent = refreshToken ? shortToken(refreshToken) : 'none';
        ui.refreshUntil.textContent = refreshToken && refreshExpiresAt
            ? new Date(refreshExpiresAt).toLocaleString() : '\u2013';
        ui.refreshCount.textContent = String(refreshes);
        ui.refreshCount.dataset.count = String(refreshes);
        ui.replayBox.hidden = ended || !refreshToken;
        ui.refreshBtn.hidden = ended || !refreshToken;
    }

    function clearSession() {
        generation += 1;
        token = null;
        claims = null;
        expiresAt = 0;
        lifetime = 0;
        refreshToken = null;
        refreshExpiresAt = 0;
        usedRefresh = null;
        refreshes = 0;
        refreshFailures = 0;
        replayed = false;
        ended = false;
        forgetStored();
        if (timer) clearInterval(timer);
        timer = null;
        cancelRefresh();
        ui.sessionLive.hidden = true;
        ui.sessionNone.hidden = false;
        ui.session.classList.remove('ended');
        ui.ended.hidden = true;
        for (const e of liveOnly) e.hidden = false;
        ui.tokenCard.hidden = true;
        ui.resourceOut.hidden = true;
        ui.resourceData.textContent = '';
        ui.replayOut.hidden = true;
        ui.claimsBody.replaceChildren();
        ui.rawToken.textContent = '';
        renderRefresh();
    }

    // The server refused the refresh token (401): the session is over.  The
    // tokens stay in memory only so that "Call /api/resource" can show the
    // server refusing the access token too; nothing is kept in storage.
    function endSession(reason) {
        ended = true;
        cancelRefresh();
        if (timer) clearInterval(timer);
        timer = null;
        refreshToken = null;
        forgetStored();
        ui.countdown.textContent = 'revoked';
        ui.countdown.dataset.remaining = '0';
        ui.countdown.classList.remove('low');
        ui.countdown.classList.add('expired');
        ui.bar.value = 0;
        ui.nextRefresh.textContent = '\u2013';
        const sid = claims && typeof claims.sid === 'string' ? claims.sid : '?';
        if (replayed) {
            ui.ended.dataset.kind = 'reuse';
            ui.endedTitle.textContent = 'Session revoked \u2014 refresh token reuse detected';
            ui.endedText.textContent = 'A refresh token that had already been used was presented ' +
                'again (here by the simulated thief). The server cannot tell the thief from you, so ' +
                'it revoked the whole session ' + sid + ': every refresh token of it, and every ' +
                'access token carrying that sid. This page\u2019s next refresh was refused, and ' +
                'the access token it still holds is refused too (try \u201cCall /api/resource\u201d).';
        } else {
            ui.ended.dataset.kind = 'ended';
            ui.endedTitle.textContent = 'Session ended \u2014 log in again';
            ui.endedText.textContent = 'The server refused this page\u2019s refresh token: the ' +
                'session ' + sid + ' was logged out (perhaps \u201clog out everywhere\u201d ' +
                'elsewhere), revoked, or reached its maximum age.';
        }
        ui.endedReason.textContent = reason || '(no reason given)';
        for (const e of liveOnly) e.hidden = true;
        ui.session.classList.add('ended');
        ui.ended.hidden = false;
        renderRefresh();
        reveal(ui.ended);
    }

    function renderClaims(decoded) {
        const rows = [];
        for (const [k, v] of Object.entries(decoded.payload)) {
            const tr = el('tr');
            tr.dataset.claim = k;
            tr.append(el('th', 'claim-name', k));
            const td = el('td', 'claim-value');
            td.append(el('code', null, typeof v === 'string' ? v : JSON.stringify(v)));
            if (TIME_CLAIMS.has(k) && typeof v === 'number') {
                td.append(el('span', 'claim-time', new Date(v * 1000).toLocaleString()));
            }
            tr.append(td, el('td', 'claim-meaning', CLAIM_MEANING[k] || ''));
            rows.push(tr);
        }
        ui.claimsBody.replaceChildren(...rows);
        ui.jwtHeader.textContent = JSON.stringify(decoded.header);
        ui.rawToken.textContent = token;
    }

    function fmtDuration(s) {
        const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
        const mm = h ? String(m).padStart(2, '0') : String(m);
        return (h ? h + ':' : '') + mm + ':' + String(sec).padStart(2, '0');
    }

    // 86400 -> "24 hours", 600 -> "10 minutes": for sentences.
    function fmtSpan(s) {
        if (typeof s !== 'number' || !(s > 0)) return 'an unknown time';
        const [n, unit] = s >= 7200 ? [Math.round(s / 3600), 'hour']
            : s >= 120 ? [Math.round(s / 60), 'minute'] : [s, 'second'];
        return n + ' ' + unit + (n === 1 ? '' : 's');
    }

    function tick() {
        if (ended) return;
        if (!expiresAt) {
            ui.countdown.textContent = 'no expiry';
            ui.countdown.dataset.remaining = '';
            return;
        }
        const now = Date.now();
        const remaining = Math.max(0, Math.floor((expiresAt - now) / 1000));
        const life = Math.max(1, lifetime);
        ui.countdown.dataset.remaining = String(remaining);
        ui.countdown.textContent = remaining > 0 ? fmtDuration(remaining) : 'expired';
        ui.countdown.classList.toggle('low', remaining > 0 && remaining <= life * (1 - REFRESH_AT_SHARE));
        ui.countdown.classList.toggle('expired', remaining === 0);
        ui.bar.max = life;
        ui.bar.value = Math.min(remaining, life);
        ui.nextRefresh.textContent = refreshInFlight ? 'now'
            : refreshTimer ? 'in ' + fmtDuration(Math.max(0, Math.ceil((refreshDueAt - now) / 1000)))
                : refreshToken ? 'paused' : 'never (no refresh token)';
        if (remaining === 0) {
            if (refreshToken) {
                // a sleeping tab missed its timer: refresh now (unless a
                // retry is pending or the retries are spent)
                if (!refreshInFlight && !refreshTimer && refreshFailures <= REFRESH_RETRIES_MAX) {
                    refresh('expired');
                }
                return;
            }
            if (timer) clearInterval(timer);
            timer = null;
            showMsg(ui.sessionMsg, 'warn', 'The token has expired: the server refuses it now. ' +
                    'There is no refresh token to get another, so log in again.');
        }
    }

    function startCountdown() {
        if (timer) clearInterval(timer);
        ui.countdown.classList.remove('expired');
        ui.expiresAt.textContent = expiresAt ? new Date(expiresAt).toLocaleTimeString() : 'never';
        tick();
        timer = setInterval(tick, 1000);
    }

    /* ---- silent refresh ---------------------------------------------------- */

    function cancelRefresh() {
        if (refreshTimer) clearTimeout(refreshTimer);
        refreshTimer = null;
        refreshDueAt = 0;
    }

    function refreshIn(ms) {
        cancelRefresh();
        refreshDueAt = Date.now() + ms;
        refreshTimer = setTimeout(() => {
            refreshTimer = null;
            refresh('silent');
        }, ms);
    }

    // At REFRESH_AT_SHARE of the access token's lifetime (or after
    // ?refresh_after seconds), never sooner than MIN_REFRESH_DELAY_MS.
    function scheduleRefresh() {
        if (!refreshToken || ended || !expiresAt) {
            cancelRefresh();
            return;
        }
        const due = refreshAfter ? Date.now() + refreshAfter * 1000
            : expiresAt - lifetime * 1000 * (1 - REFRESH_AT_SHARE);
        refreshIn(Math.max(MIN_REFRESH_DELAY_MS, due - Date.now()));
    }

    // One refresh at a time: two requests presenting the same refresh token
    // look like theft to the server (the second presents a used token) and
    // would end the session.  Callers share the one under way.  Resolves to
    // true when a new access token is in use.
    function refresh(why) {
        if (!refreshInFlight) {
            refreshInFlight = doRefresh(why).finally(() => { refreshInFlight = null; });
        }
        return refreshInFlight;
    }

    async function doRefresh(why) {
        if (!refreshToken || ended) return false;
        const gen = generation;
        const presented = refreshToken;
        cancelRefresh();
        const r = await api('POST', REFRESH_PATH, {
            json: { refresh_token: presented }, note: why + ' refresh \u00b7 refresh_token ' + shortToken(presented)
        });
        if (gen !== generation || ended) return false;   // logged out or in again meanwhile
        const t = r.json && (r.json.token || r.json.auth_token);
        if (r.ok && typeof t === 'string' && typeof r.json.refresh_token === 'string') {
            // the presented token is consumed now: it is what a thief would replay
            usedRefresh = presented;
            refreshes += 1;
            refreshFailures = 0;
            setRefresh(r.json.refresh_token, r.json.refresh_expires_in);
            if (!setToken(t, r.json.expires_in)) return false;
            return true;
        }
        if (r.status === 401) {
            endSession(serverReason(r));
            return false;
        }
        // no answer, 503, ...: the session may well be fine; try again while
        // the access token lasts
        refreshFailures += 1;
        const again = refreshFailures <= REFRESH_RETRIES_MAX;
        if (again) refreshIn(REFRESH_RETRY_MS);
        showMsg(ui.sessionMsg, 'warn', 'The refresh failed \u2014 ' + r.summary +
                (again ? '. Trying again in ' + REFRESH_RETRY_MS / 1000 + ' s.' : '. Log in again if it persists.'));
        return false;
    }

    /* ---- actions -------------------------------------------------------- */

    function credentials() {
        if (!ui.form.reportValidity()) return null;
        return { username: ui.user.value, password: ui.pass.value };
    }

    async function register() {
        const c = credentials();
        if (!c) return;
        busy(true);
        hideMsg(ui.accountMsg);
        const r = await api('POST', '/api/users', { json: c });
        busy(false);
        if (r.ok && r.json) {
            showMsg(ui.accountMsg, 'success', 'Registered \u201c' + r.json.username + '\u201d (user id ' +
                    r.json.id + '). Now log in to get a token.');
        } else {
            showMsg(ui.accountMsg, 'error', 'Registration refused \u2014 ' + r.summary);
        }
    }

    async function login() {
        const c = credentials();
        if (!c) return;
        busy(true);
        hideMsg(ui.accountMsg);
        hideMsg(ui.sessionMsg);
        const r = await api('POST', '/auth/login', { json: c });
        busy(false);
        const t = r.json && (r.json.token || r.json.auth_token);
        if (r.ok && typeof t === 'string') {
            ui.pass.value = '';
            clearSession();
            ui.revoked.hidden = true;
            if (typeof r.json.refresh_token === 'string') {
                setRefresh(r.json.refresh_token, r.json.refresh_expires_in);
            }
            if (setToken(t, r.json.expires_in)) {
                showMsg(ui.accountMsg, 'success', 'Logged in. The access token is valid for ' +
                        (r.json.expires_in || '?') + ' seconds' + (refreshToken
                    ? '; this page refreshes it before then, for up to ' +
                      fmtSpan(r.json.refresh_expires_in) + ' without the password.'
                    : '. The server gave no refresh token.'));
                reveal(ui.sessionLive);
            } else {
                clearSession();
            }
        } else {
            showMsg(ui.accountMsg, 'error', 'Login failed \u2014 ' + r.summary);
        }
    }

    // GET /api/resource with the access token; on a 401, one refresh and one
    // more try (the token may have expired while the tab slept).
    async function requestResource() {
        let r = await api('GET', '/api/resource', { token });
        if (r.status === 401 && refreshToken && !ended) {
            if (await refresh('after a 401')) r = await api('GET', '/api/resource', { token });
        }
        return r;
    }

    async function callResource() {
        if (!token) return;
        busy(true);
        hideMsg(ui.sessionMsg);
        const r = await requestResource();
        busy(false);
        if (r.ok && r.json && typeof r.json.data === 'string') {
            ui.resourceData.textContent = r.json.data;
            ui.resourceOut.hidden = false;
            reveal(ui.resourceOut);
        } else {
            ui.resourceOut.hidden = true;
            showMsg(ui.sessionMsg, 'error', 'The resource was refused \u2014 ' + r.summary +
                    (ended ? '. The session is over: log in again.' : ''));
        }
    }

    async function refreshNow() {
        if (!refreshToken) return;
        const oldJti = claims && claims.jti;
        busy(true);
        hideMsg(ui.sessionMsg);
        const ok = await refresh('manual');
        busy(false);
        if (ok) {
            showMsg(ui.sessionMsg, 'success', 'Refreshed: a new access token (jti ' + claims.jti +
                    ', was ' + oldJti + ') and a new refresh token; the old refresh token is used up.');
        }
    }

    async function renew() {
        if (!token) return;
        const oldJti = claims && claims.jti;
        busy(true);
        hideMsg(ui.sessionMsg);
        const r = await api('GET', '/api/token', { token });
        busy(false);
        if (r.ok && r.json && typeof r.json.token === 'string') {
            if (setToken(r.json.token, r.json.expires_in)) {
                showMsg(ui.sessionMsg, 'success', 'Renewed: a new token (jti ' + claims.jti +
                        ', was ' + oldJti + '), valid for ' + r.json.expires_in + ' seconds.');
            }
        } else {
            showMsg(ui.sessionMsg, 'error', 'Renewal refused \u2014 ' + r.summary);
        }
    }

    // Sends the old tokens again and shows the server refusing them.
    async function showRefused(title, oldAccess, oldRefresh) {
        ui.revokedTitle.textContent = title;
        const again = await api('GET', '/api/resource', { token: oldAccess, note: 'the old access token' });
        verdict(again, ui.revokedStatus, ui.revokedDesc);
        ui.revokedHeader.textContent = again.wwwAuth || '(none)';
        ui.revokedRefresh.hidden = !oldRefresh;
        if (oldRefresh) {
            const rr = await api('POST', REFRESH_PATH, {
                json: { refresh_token: oldRefresh }, note: 'the old refresh token ' + shortToken(oldRefresh)
            });
            verdict(rr, ui.revokedRefreshStatus, ui.revokedRefreshDesc, true);
        }
        ui.revoked.hidden = false;
        reveal(ui.revoked);
    }

    // "401 Unauthorized" and what the server said, expected to be a 401:
    // for a resource, the Bearer challenge's words (RFC 6750); for the
    // refresh handler, its JSON error.
    function verdict(r, pill, desc, fromBody) {
        pill.textContent = r.networkError ? 'no answer' : r.status + (r.statusText ? ' ' + r.statusText : '');
        pill.className = 'status-pill ' + (r.status === 401 ? 'warn' : 'err');
        if (r.status === 401) {
            const d = fromBody ? null : authParam(r.wwwAuth, 'error_description');
            const err = authParam(r.wwwAuth, 'error');
            const j = serverReason(r);
            desc.textContent = d ? '\u201c' + d + '\u201d' + (err ? ' (' + err + ')' : '')
                : j ? '\u201c' + j + '\u201d' : r.summary;
        } else {
            desc.textContent = 'Unexpected: ' + r.summary;
        }
    }

    // POST /auth/logout (?all=1: every session of the user, on every device).
    async function logout(everywhere) {
        if (!token) return;
        const oldAccess = token;
        const oldRefresh = refreshToken;
        busy(true);
        hideMsg(ui.sessionMsg);
        hideMsg(ui.accountMsg);
        const r = await api('POST', everywhere ? '/auth/logout?all=1' : '/auth/logout', { token: oldAccess });
        if (!r.ok) {
            busy(false);
            showMsg(ui.sessionMsg, 'error', 'Logout refused \u2014 ' + r.summary +
                    (r.status === 401 ? '. The token was not valid any more; it is forgotten here.' : ''));
            if (r.status === 401) clearSession();
            return;
        }
        clearSession();
        showMsg(ui.accountMsg, 'success', everywhere
            ? 'Logged out everywhere: the server has ended every session of this user, in this ' +
              'browser and in any other client.'
            : 'Logged out: the server has revoked the token and its session.');
        await showRefused(everywhere ? 'After \u201clog out everywhere\u201d: the old tokens'
            : 'After logout: the old tokens', oldAccess, oldRefresh);
        busy(false);
    }

    // A thief copied a refresh token that this page has since used.  The
    // thief presents it: the server sees a used token come back, cannot tell
    // who is who, and revokes the whole session.  This page finds out on its
    // next refresh.
    async function simulateReplay() {
        if (!refreshToken || ended) return;
        busy(true);
        hideMsg(ui.sessionMsg);
        if (!usedRefresh && !(await refresh('manual (to have a used refresh token)'))) {
            busy(false);
            return;
        }
        const stolen = usedRefresh;
        replayed = true;
        const r = await api('POST', REFRESH_PATH, {
            json: { refresh_token: stolen }, note: 'the thief replays the used refresh_token ' + shortToken(stolen)
        });
        verdict(r, ui.replayStatus, ui.replayDesc, true);
        ui.replayOut.hidden = false;
        if (r.status === 401) {
            // this page's next refresh: refused, and that ends the session here
            await refresh('silent');
        } else {
            replayed = false;
            showMsg(ui.sessionMsg, 'error', 'Unexpected: the server did not refuse a used refresh token \u2014 ' +
                    r.summary);
        }
        busy(false);
    }

    function loginAgain() {
        const name = claims && claims.name !== undefined ? String(claims.name) : '';
        clearSession();
        ui.revoked.hidden = true;
        if (name && !ui.user.value) ui.user.value = name;
        showMsg(ui.accountMsg, 'warn', 'The session is over: enter your password to log in again.');
        (ui.user.value ? ui.pass : ui.user).focus();
    }

    /* ---- wiring --------------------------------------------------------- */

    ui.form.addEventListener('submit', (ev) => { ev.preventDefault(); login(); });
    ui.registerBtn.addEventListener('click', register);
    ui.resourceBtn.addEventListener('click', callResource);
    ui.refreshBtn.addEventListener('click', refreshNow);
    ui.renewBtn.addEventListener('click', renew);
    ui.logoutBtn.addEventListener('click', () => logout(false));
    ui.logoutAllBtn.addEventListener('click', () => logout(true));
    ui.replayBtn.addEventListener('click', simulateReplay);
    ui.reloginBtn.addEventListener('click', loginAgain);
    // Timers sleep in a hidden tab: catch up when it is shown again.
    document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible' && refreshToken && !ended &&
            refreshDueAt && Date.now() >= refreshDueAt) {
            refresh('silent');
        }
    });

    // A reload of this tab keeps the session (sessionStorage).
    let saved = null, savedRefresh = null, meta = null;
    try {
        saved = sessionStorage.getItem(STORAGE_KEY);
        savedRefresh = sessionStorage.getItem(REFRESH_KEY);
        meta = JSON.parse(sessionStorage.getItem(META_KEY) || 'null');
    } catch (e) { saved = null; }
    if (saved) {
        if (meta && typeof meta === 'object') {
            refreshes = Number(meta.refreshes) || 0;
        }
        if (savedRefresh) {
            setRefresh(savedRefresh);
            refreshExpiresAt = meta && Number(meta.refreshExpiresAt) || 0;
            renderRefresh();
        }
        if (!setToken(saved, undefined, meta && {
            expiresAt: Number(meta.expiresAt) || 0, lifetime: Number(meta.lifetime) || 0
        })) {
            clearSession();
        }
    }
    document.documentElement.classList.add('js');
}());
