/* mod_auth_jwt demo page: register, log in, call the protected resource,
 * renew, log out, and show that the old token is refused.
 *
 * Plain JavaScript, no build step, no outside assets.  Nothing the server
 * (or the person) sends is ever parsed as HTML: every value reaches the DOM
 * through textContent.  No inline handlers, so the page's strict
 * Content-Security-Policy holds.  The token is kept in sessionStorage (this
 * tab only) and sent as "Authorization: Bearer <token>".  Its claims are
 * decoded here for display only; the server is the one that verifies. */
'use strict';

(function () {
    const STORAGE_KEY = 'mod_auth_jwt_demo.token';
    const LOG_MAX = 25;
    const REASONS = {
        200: 'OK', 201: 'Created', 400: 'Bad Request', 401: 'Unauthorized',
        403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
        413: 'Content Too Large', 500: 'Internal Server Error', 503: 'Service Unavailable'
    };
    const CLAIM_MEANING = {
        sub: 'subject: the user id',
        name: 'the user name',
        iat: 'issued at',
        nbf: 'not valid before',
        exp: 'expires',
        jti: 'token id (what logout revokes)',
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
        sessionNone: $('session-none'), sessionLive: $('session-live'), who: $('who'),
        countdown: $('countdown'), bar: $('ttl-bar'), expiresAt: $('expires-at'),
        resourceBtn: $('resource-btn'), renewBtn: $('renew-btn'), logoutBtn: $('logout-btn'),
        resourceOut: $('resource-out'), resourceData: $('resource-data'), sessionMsg: $('session-msg'),
        revoked: $('revoked'), revokedStatus: $('revoked-status'), revokedDesc: $('revoked-desc'),
        revokedHeader: $('revoked-header'),
        tokenCard: $('token'), claimsBody: document.querySelector('#claims tbody'),
        jwtHeader: $('jwt-header'), rawToken: $('raw-token'),
        log: $('log'), logEmpty: $('log-empty')
    };

    let token = null;      // the current token, or null
    let claims = null;     // its decoded payload
    let timer = null;      // the countdown's interval

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
        for (const b of [ui.loginBtn, ui.registerBtn, ui.resourceBtn, ui.renewBtn, ui.logoutBtn]) {
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
    // and every request lands in the request log.
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
        addLog(method, path, opts.token, r);
        return r;
    }

    // "401 Unauthorized: invalid username or password" — the status and what
    // the server said (its JSON error/message, else the Bearer challenge).
    function describe(r) {
        if (r.networkError) return 'No answer from the server (' + r.networkError + ')';
        let s = r.status + (r.statusText ? ' ' + r.statusText : '');
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
        if (!detail && !r.ok && r.status === 401) detail = 'credentials required';
        return detail ? s + ': ' + detail : s;
    }

    function addLog(method, path, sentToken, r) {
        const li = el('li', 'log-entry');
        const head = el('div', 'log-head');
        head.append(el('span', 'method', method), el('code', 'path', path));
        const cls = r.networkError ? 'err' : r.status < 300 ? 'ok' : r.status < 500 ? 'warn' : 'err';
        head.append(el('span', 'status-pill ' + cls, r.networkError ? 'no answer' : String(r.status)));
        li.append(head);
        const meta = [];
        if (sentToken) meta.push('Authorization: Bearer ' + shortToken(sentToken));
        meta.push(r.summary);
        li.append(el('div', 'log-meta', meta.join(' \u00b7 ')));
        li.append(el('time', 'log-time', new Date().toLocaleTimeString()));
        ui.log.prepend(li);
        while (ui.log.children.length > LOG_MAX) ui.log.lastElementChild.remove();
        ui.logEmpty.hidden = true;
    }

    /* ---- session state -------------------------------------------------- */

    function storeToken(t) {
        try { sessionStorage.setItem(STORAGE_KEY, t); } catch (e) { /* private mode: memory only */ }
    }

    function forgetToken() {
        try { sessionStorage.removeItem(STORAGE_KEY); } catch (e) { /* nothing kept */ }
    }

    // Takes a token into use: keeps it, shows who and its claims, starts the
    // countdown.  Returns false (and says why) for something not a JWT.
    function setToken(t) {
        let decoded;
        try {
            decoded = decodeJwt(t);
        } catch (e) {
            showMsg(ui.sessionMsg, 'error', 'The server sent a token this page cannot decode: ' + e.message);
            return false;
        }
        token = t;
        claims = decoded.payload;
        storeToken(t);
        ui.who.textContent = claims.name !== undefined ? String(claims.name) : 'user #' + claims.sub;
        renderClaims(decoded);
        ui.sessionNone.hidden = true;
        ui.sessionLive.hidden = false;
        ui.tokenCard.hidden = false;
        startCountdown();
        return true;
    }

    function clearSession() {
        token = null;
        claims = null;
        forgetToken();
        if (timer) clearInterval(timer);
        timer = null;
        ui.sessionLive.hidden = true;
        ui.sessionNone.hidden = false;
        ui.tokenCard.hidden = true;
        ui.resourceOut.hidden = true;
        ui.resourceData.textContent = '';
        ui.claimsBody.replaceChildren();
        ui.rawToken.textContent = '';
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

    function tick() {
        if (!claims || typeof claims.exp !== 'number') {
            ui.countdown.textContent = 'no expiry';
            ui.countdown.dataset.remaining = '';
            return;
        }
        const remaining = Math.max(0, Math.floor(claims.exp - Date.now() / 1000));
        const start = typeof claims.iat === 'number' ? claims.iat : claims.exp - 600;
        const lifetime = Math.max(1, claims.exp - start);
        ui.countdown.dataset.remaining = String(remaining);
        ui.countdown.textContent = remaining > 0 ? fmtDuration(remaining) : 'expired';
        ui.countdown.classList.toggle('low', remaining > 0 && remaining <= 60);
        ui.countdown.classList.toggle('expired', remaining === 0);
        ui.bar.max = lifetime;
        ui.bar.value = Math.min(remaining, lifetime);
        if (remaining === 0 && timer) {
            clearInterval(timer);
            timer = null;
            showMsg(ui.sessionMsg, 'warn', 'The token has expired: the server refuses it now. Renewing needs a valid token, so log in again.');
        }
    }

    function startCountdown() {
        if (timer) clearInterval(timer);
        ui.expiresAt.textContent = typeof claims.exp === 'number'
            ? new Date(claims.exp * 1000).toLocaleTimeString() : 'never';
        tick();
        timer = setInterval(tick, 1000);
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
            ui.revoked.hidden = true;
            ui.resourceOut.hidden = true;
            if (setToken(t)) {
                showMsg(ui.accountMsg, 'success', 'Logged in. The token is valid for ' +
                        (r.json.expires_in || '?') + ' seconds.');
                reveal(ui.sessionLive);
            }
        } else {
            showMsg(ui.accountMsg, 'error', 'Login failed \u2014 ' + r.summary);
        }
    }

    async function callResource() {
        if (!token) return;
        busy(true);
        hideMsg(ui.sessionMsg);
        const r = await api('GET', '/api/resource', { token });
        busy(false);
        if (r.ok && r.json && typeof r.json.data === 'string') {
            ui.resourceData.textContent = r.json.data;
            ui.resourceOut.hidden = false;
            reveal(ui.resourceOut);
        } else {
            ui.resourceOut.hidden = true;
            showMsg(ui.sessionMsg, 'error', 'The resource was refused \u2014 ' + r.summary);
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
            if (setToken(r.json.token)) {
                showMsg(ui.sessionMsg, 'success', 'Renewed: a new token (jti ' + claims.jti +
                        ', was ' + oldJti + '), valid for ' + r.json.expires_in + ' seconds.');
            }
        } else {
            showMsg(ui.sessionMsg, 'error', 'Renewal refused \u2014 ' + r.summary);
        }
    }

    async function logout() {
        if (!token) return;
        const old = token;
        busy(true);
        hideMsg(ui.sessionMsg);
        hideMsg(ui.accountMsg);
        const r = await api('POST', '/auth/logout', { token: old });
        if (!r.ok) {
            busy(false);
            showMsg(ui.sessionMsg, 'error', 'Logout refused \u2014 ' + r.summary +
                    (r.status === 401 ? '. The token was not valid any more; it is forgotten here.' : ''));
            if (r.status === 401) clearSession();
            return;
        }
        clearSession();
        showMsg(ui.accountMsg, 'success', 'Logged out: the server has revoked the token.');
        // Show that the server now refuses the old token.
        const again = await api('GET', '/api/resource', { token: old });
        busy(false);
        ui.revokedStatus.textContent = again.networkError ? 'no answer'
            : again.status + (again.statusText ? ' ' + again.statusText : '');
        ui.revokedStatus.className = 'status-pill ' + (again.status === 401 ? 'warn' : 'err');
        if (again.status === 401) {
            const desc = authParam(again.wwwAuth, 'error_description');
            const err = authParam(again.wwwAuth, 'error');
            ui.revokedDesc.textContent = desc ? '\u201c' + desc + '\u201d' + (err ? ' (' + err + ')' : '') : again.summary;
        } else {
            ui.revokedDesc.textContent = 'Unexpected: ' + again.summary;
        }
        ui.revokedHeader.textContent = again.wwwAuth || '(none)';
        ui.revoked.hidden = false;
        reveal(ui.revoked);
    }

    /* ---- wiring --------------------------------------------------------- */

    ui.form.addEventListener('submit', (ev) => { ev.preventDefault(); login(); });
    ui.registerBtn.addEventListener('click', register);
    ui.resourceBtn.addEventListener('click', callResource);
    ui.renewBtn.addEventListener('click', renew);
    ui.logoutBtn.addEventListener('click', logout);

    // A reload of this tab keeps the session (sessionStorage).
    let saved = null;
    try { saved = sessionStorage.getItem(STORAGE_KEY); } catch (e) { saved = null; }
    if (saved && !setToken(saved)) forgetToken();
    document.documentElement.classList.add('js');
}());
