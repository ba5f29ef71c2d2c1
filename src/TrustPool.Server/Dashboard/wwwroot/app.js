// TrustPool dashboard: a read-only view of the /v1 API of this origin, refreshed by polling.
// Host names, tags, fault messages and everything else come from the network (agents and operators name them):
// they are only ever inserted as text nodes or textContent, never as HTML.
'use strict';

(() => {
  const TOKEN_KEY = 'trustpool.token';
  const POLL_MS = 5000;
  const DAY_MS = 24 * 3600 * 1000;
  const TRUST = ['trusted', 'untrusted', 'unknown'];
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const $ = id => document.getElementById(id);

  class Unauthorized extends Error {}

  /** An element with attributes (class, data-*, others) and text or element children; strings become text nodes. */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    setAttrs(e, attrs);
    for (const c of children.flat()) {
      if (c !== null && c !== undefined && c !== false) {
        e.append(c instanceof Node ? c : document.createTextNode(String(c)));
      }
    }
    return e;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG_NS, tag);
    setAttrs(e, attrs);
    if (text !== undefined) {
      e.textContent = text;
    }
    return e;
  }

  function setAttrs(e, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) {
        continue;
      }
      if (k.startsWith('on') && typeof v === 'function') {
        e.addEventListener(k.slice(2), v);
      } else {
        e.setAttribute(k, String(v));
      }
    }
  }

  const trustOf = t => (TRUST.includes(t) ? t : 'unknown');
  const enc = encodeURIComponent;
  const short = id => (id ? String(id).slice(0, 8) : '-');
  const hostLink = name => el('a', { href: '#/host/' + enc(name) }, name);
  const badge = t => el('span', { class: 'badge trust-' + trustOf(t), 'data-trust': trustOf(t) }, trustOf(t));

  function fmtTime(s) {
    if (!s) {
      return '-';
    }
    const d = new Date(s);
    return isNaN(d) ? String(s) : d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
  }

  function fmtAgo(s) {
    const ms = new Date(s) - Date.now();
    const min = Math.round(Math.abs(ms) / 60000);
    const span = min < 1 ? 'less than a minute' : min < 120 ? `${min} min` : `${Math.round(min / 60)} h`;
    return ms >= 0 ? `in ${span}` : `${span} ago`;
  }

  const tagPairs = tags => Object.entries(tags || {}).map(([k, v]) => `${k}=${v}`);

  // ---- API --------------------------------------------------------------------------------------------------------

  async function api(path, asText) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const r = await fetch('/v1/' + path, {
      headers: { Authorization: 'Bearer ' + token, Accept: asText ? 'text/plain' : 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
    });
    if (r.status === 401) {
      throw new Unauthorized(await problemText(r));
    }
    if (!r.ok) {
      throw new Error(`GET /v1/${path}: ${r.status} ${await problemText(r)}`);
    }
    return asText ? r.text() : r.json();
  }

  async function problemText(r) {
    try {
      const p = await r.json();
      return p.detail || p.title || r.statusText;
    } catch {
      return r.statusText;
    }
  }

  // ---- login ------------------------------------------------------------------------------------------------------

  function showLogin(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    $('nav').hidden = true;
    $('view').hidden = true;
    $('view').replaceChildren();
    $('error').hidden = true;
    $('login').hidden = false;
    const err = $('login-error');
    err.textContent = message || '';
    err.hidden = !message;
    $('token').focus();
  }

  async function login(ev) {
    ev.preventDefault();
    const token = $('token').value.trim();
    if (!token) {
      return;
    }
    $('login-button').disabled = true;
    try {
      const r = await fetch('/v1/hosts', { headers: { Authorization: 'Bearer ' + token }, cache: 'no-store', credentials: 'omit' });
      if (r.status === 401) {
        showLogin(`Token refused: the service answered 401 (${await problemText(r)}).`);
        return;
      }
      if (!r.ok) {
        showLogin(`Token refused: the service answered ${r.status} (${await problemText(r)}).`);
        return;
      }
      sessionStorage.setItem(TOKEN_KEY, token);
      $('token').value = '';
      $('login-error').hidden = true;
      if (!location.hash || location.hash === '#' || location.hash === '#/') {
        location.hash = '#/hosts';
      }
      await render();
    } catch (e) {
      showLogin(`Cannot reach the service: ${e.message}`);
    } finally {
      $('login-button').disabled = false;
    }
  }

  // ---- routing and refresh ------------------------------------------------------------------------------------------

  function route() {
    const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
    const parts = path.split('/');
    return {
      view: parts[0] || 'hosts',
      arg: parts.length > 1 ? decodeURIComponent(parts.slice(1).join('/')) : null,
      params: new URLSearchParams(query || ''),
    };
  }

  function setParams(values) {
    const r = route();
    for (const [k, v] of Object.entries(values)) {
      if (v) {
        r.params.set(k, v);
      } else {
        r.params.delete(k);
      }
    }
    const q = r.params.toString();
    location.hash = '#/' + r.view + (q ? '?' + q : '');
  }

  const views = {
    hosts: hostsView,
    host: hostView,
    pools: poolsView,
    placements: placementsView,
    evacuations: evacuationsView,
    audit: auditView,
  };

  let generation = 0;

  async function render() {
    if (!sessionStorage.getItem(TOKEN_KEY)) {
      showLogin();
      return;
    }
    const mine = ++generation;
    const r = route();
    const view = views[r.view] || hostsView;
    $('login').hidden = true;
    $('nav').hidden = false;
    for (const a of document.querySelectorAll('#nav a')) {
      a.classList.toggle('active', a.dataset.view === (r.view === 'host' ? 'hosts' : r.view));
    }
    try {
      const node = await view(r);
      if (mine !== generation) {
        return; // a newer render (navigation or poll) started meanwhile
      }
      mount(node);
      $('error').hidden = true;
      $('refreshed').textContent = 'updated ' + new Date().toISOString().slice(11, 19) + ' UTC';
    } catch (e) {
      if (e instanceof Unauthorized) {
        showLogin(`Token refused: the service answered 401 (${e.message}).`);
      } else if (mine === generation) {
        $('error').textContent = e.message;
        $('error').hidden = false;
      }
    }
  }

  /**
   * Replaces the view; on a refresh of the same view, parts marked data-keep whose data-sig did not change (the
   * filter drop-downs) are kept, so a poll does not close a list the user has open.
   */
  function mount(node) {
    const target = $('view');
    const old = target.firstElementChild;
    if (old && old.dataset.view === node.dataset.view) {
      for (const fresh of node.querySelectorAll('[data-keep]')) {
        const prev = [...old.querySelectorAll('[data-keep]')].find(p => p.dataset.keep === fresh.dataset.keep);
        if (prev && prev.dataset.sig === fresh.dataset.sig) {
          fresh.replaceWith(prev);
        }
      }
    }
    target.replaceChildren(node);
    target.hidden = false;
  }

  // ---- views ------------------------------------------------------------------------------------------------------

  async function hostsView(r) {
    const [hosts, pools] = await Promise.all([api('hosts'), api('pools')]);
    const pool = r.params.get('pool') || '';
    const tag = r.params.get('tag') || '';
    const members = new Map(pools.pools.map(p => [p.name, new Set(p.trustedHosts || [])]));
    const allTags = [...new Set(hosts.hosts.flatMap(h => tagPairs(h.tags)))].sort();
    const shown = hosts.hosts.filter(h => (!pool || (members.get(pool) || new Set()).has(h.name)) && (!tag || tagPairs(h.tags).includes(tag)));

    const select = (id, label, all, values, current, key) => {
      const s = el('select', { id, onchange: () => setParams({ [key]: s.value }) },
        el('option', { value: '' }, all),
        values.map(v => el('option', { value: v }, v)));
      if (current && !values.includes(current)) {
        s.append(el('option', { value: current }, current));
      }
      s.value = current;
      return el('label', {}, label + ' ', s);
    };
    const poolNames = pools.pools.map(p => p.name);
    const filters = el('div', { class: 'filters', 'data-keep': 'filters', 'data-sig': JSON.stringify([poolNames, allTags, pool, tag]) },
      select('pool-filter', 'Pool', 'all pools', poolNames, pool, 'pool'),
      select('tag-filter', 'Tag', 'all tags', allTags, tag, 'tag'));

    const count = t => shown.filter(h => trustOf(h.trust) === t).length;
    const summary = el('p', { id: 'hosts-summary', class: 'summary' },
      `${shown.length} of ${hosts.hosts.length} hosts shown: ${count('trusted')} trusted, ${count('untrusted')} untrusted, ${count('unknown')} unknown` +
      (pool ? ` (trusted in pool ${pool})` : '') + (tag ? ` (tag ${tag})` : ''));
    const grid = el('div', { id: 'hosts-grid', class: 'grid' }, shown.map(tile));
    if (shown.length === 0) {
      grid.append(el('p', { class: 'muted' }, 'No host matches.'));
    }
    return el('div', { 'data-view': 'hosts' }, el('h2', {}, 'Hosts'), filters, summary, grid);
  }

  function tile(h) {
    const t = trustOf(h.trust);
    return el('a', { class: 'tile trust-' + t, 'data-trust': t, 'data-host': h.name, href: '#/host/' + enc(h.name) },
      el('div', { class: 'name' }, h.name),
      el('div', { class: 'trust' }, t),
      el('div', { class: 'tags' }, tagPairs(h.tags).join(' ') || 'no tags'),
      el('div', { class: 'valid' }, h.validTo ? `${new Date(h.validTo) > Date.now() ? 'valid until' : 'expired'} ${fmtTime(h.validTo).slice(11)}` : 'no report'));
  }

  async function hostView(r) {
    const name = r.arg || '';
    const [host, history] = await Promise.all([api('hosts/' + enc(name)), api(`hosts/${enc(name)}/reports?limit=1000`)]);
    const report = host.report;
    // The baselines the pool rules name (the one that matched, or the one a failed rule is reported against); a rule
    // asks for any of several platform baselines, and comparing the host with every one of them would say little.
    const named = new Set((report?.pools || []).flatMap(p => (p.rules || []).filter(rule => rule.baseline).map(rule => `${rule.baseline}|${rule.baselineVersion}`)));
    const used = (report?.baselines || []).filter(b => named.size === 0 || named.has(`${b.name}|${b.version}`));
    const baselines = await Promise.all(used.map(async b => {
      try {
        return { ref: b, doc: await api(`baselines/${enc(b.name)}?version=${enc(b.version)}`) };
      } catch (e) {
        if (e instanceof Unauthorized) {
          throw e;
        }
        return { ref: b, doc: null, error: e.message };
      }
    }));

    const root = el('div', { 'data-view': 'host', 'data-host': host.name },
      el('h2', {}, host.name, ' ', badge(host.trust)),
      facts([
        ['current trust', badge(host.trust)],
        ['state', host.state],
        ['tags', tagPairs(host.tags).join(', ') || '-'],
        ['agent', host.agentUrl],
        ['EK trust', host.ekTrust || '-'],
        ['enrolled', fmtTime(host.enrolledAt)],
      ]));

    root.append(el('h3', {}, 'Latest report'));
    if (!report) {
      root.append(el('p', { class: 'muted' }, 'No report yet.'));
    } else {
      const expired = new Date(report.validTo) <= Date.now();
      root.append(el('div', { id: 'report' }, facts([
        ['result', badge(report.trust)],
        ['report', el('span', { class: 'mono' }, report.id)],
        ['verified', fmtTime(report.verifiedAt)],
        ['valid', `${fmtTime(report.validFrom)} to ${fmtTime(report.validTo)} (${expired ? 'expired ' : 'expires '}${fmtAgo(report.validTo)})`],
        ['trusted in', (report.pools || []).filter(p => p.trust === 'trusted').map(p => p.pool).join(', ') || 'no pool'],
      ])));
      root.append(poolsTable(report));
      root.append(el('h3', {}, 'Faults'), faultsList(report));
      root.append(el('h3', {}, 'PCRs against the baselines'), pcrTable(report, baselines));
    }
    const reports = history.reports || [];
    root.append(el('h3', {}, 'Trust over the last 24 h'), timeline(reports));
    const recent = [...reports].sort((a, b) => new Date(b.verifiedAt) - new Date(a.verifiedAt)).slice(0, 10);
    root.append(el('h3', {}, 'Latest reports'), table('history', ['verified', 'trust', 'valid to', 'report'], recent.map(h => el('tr', {},
      el('td', {}, fmtTime(h.verifiedAt)), el('td', {}, badge(h.trust)), el('td', {}, fmtTime(h.validTo)), el('td', { class: 'mono' }, h.id)))));
    return root;
  }

  function facts(rows) {
    return el('dl', { class: 'facts' }, rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  }

  function table(id, headers, rows) {
    return el('table', { id },
      el('thead', {}, el('tr', {}, headers.map(h => el('th', {}, h)))),
      el('tbody', {}, rows));
  }

  function poolsTable(report) {
    return table('report-pools', ['pool', 'trust', 'rules'], (report.pools || []).map(p => el('tr', {},
      el('td', {}, `${p.pool} v${p.poolVersion}`),
      el('td', {}, badge(p.trust)),
      el('td', {}, (p.rules || []).map(rule => `${rule.rule} ${rule.passed ? 'passed' : 'FAILED'}${rule.baseline ? ` (${rule.baseline} v${rule.baselineVersion})` : ''}`).join('; ')))));
  }

  /** Host-level faults, then each pool rule's faults with where they come from; the same fault once. */
  function faultsList(report) {
    const seen = new Map();
    const add = (f, where) => {
      const key = `${f.code}|${f.message}`;
      if (seen.has(key)) {
        seen.get(key).where.push(where);
      } else {
        seen.set(key, { f, where: [where] });
      }
    };
    for (const f of report.faults || []) {
      add(f, 'host');
    }
    for (const p of report.pools || []) {
      for (const rule of p.rules || []) {
        for (const f of rule.faults || []) {
          add(f, `${p.pool}: ${rule.rule}${rule.baseline ? ` ${rule.baseline} v${rule.baselineVersion}` : ''}`);
        }
      }
    }
    if (seen.size === 0) {
      return el('p', { id: 'faults', class: 'muted' }, 'None.');
    }
    return el('ul', { id: 'faults' }, [...seen.values()].map(({ f, where }) => el('li', { class: 'fault', 'data-code': f.code },
      el('strong', {}, f.code), ': ', el('span', { class: 'message mono' }, f.message),
      f.eventType ? el('div', { class: 'event' }, `first differing event #${f.eventNumber} ${f.eventType}`) : null,
      f.expected && f.actual ? el('div', { class: 'mono muted' }, `expected ${f.expected}`, el('br'), `actual   ${f.actual}`) : null,
      el('div', { class: 'muted' }, 'in ' + where.join('; ')))));
  }

  /** Each quoted PCR beside every baseline value for it (report.pcrs: bank -> index -> hex). */
  function pcrTable(report, baselines) {
    const rows = [];
    const quoted = report.pcrs || {};
    const keys = new Set();
    for (const [bank, byIndex] of Object.entries(quoted)) {
      Object.keys(byIndex).forEach(i => keys.add(`${bank}|${i}`));
    }
    for (const b of baselines) {
      (b.doc?.pcrs || []).forEach(p => keys.add(`${p.bank}|${p.index}`));
    }
    const sorted = [...keys].map(k => k.split('|')).sort((a, b) => a[0].localeCompare(b[0]) || Number(a[1]) - Number(b[1]));
    for (const [bank, index] of sorted) {
      const actual = (quoted[bank] || {})[index];
      const expected = baselines.flatMap(b => (b.doc?.pcrs || []).filter(p => p.bank === bank && String(p.index) === index).map(p => ({ b, value: p.value })));
      const cells = (status, cls, baselineText, value) => el('tr', { class: cls, 'data-pcr': `${bank}:${index}` },
        el('td', {}, bank), el('td', { class: 'nowrap' }, `PCR[${index}]`), el('td', { class: 'mono hex' }, actual || 'not quoted'),
        el('td', { class: 'nowrap' }, baselineText), el('td', { class: 'mono hex' }, value), el('td', { class: 'status' }, status));
      if (expected.length === 0) {
        rows.push(cells('not in a baseline', 'none', '-', '-'));
      }
      for (const { b, value } of expected) {
        const ok = actual === value;
        rows.push(cells(actual === undefined ? 'not quoted' : ok ? 'match' : 'MISMATCH', ok ? 'match' : 'mismatch',
          `${b.ref.name} v${b.ref.version} (${b.ref.kind})`, value));
      }
    }
    const missing = baselines.filter(b => !b.doc).map(b => el('p', { class: 'muted' }, `baseline ${b.ref.name} v${b.ref.version}: ${b.error}`));
    return el('div', {}, table('pcrs', ['bank', 'PCR', 'reported (quote)', 'baseline', 'expected', ''], rows), missing);
  }

  /** Each report covers [verifiedAt, min(validTo, next report)); nothing covers the rest (grey). */
  function timeline(reports) {
    const width = 720;
    const height = 56;
    const barY = 6;
    const barH = 28;
    const now = Date.now();
    const start = now - DAY_MS;
    const x = t => ((t - start) / DAY_MS) * width;
    const sorted = reports.map(r => ({ r, from: new Date(r.verifiedAt).getTime(), to: new Date(r.validTo).getTime() }))
      .filter(s => s.to > start).sort((a, b) => a.from - b.from);
    const root = svg('svg', { class: 'timeline', id: 'timeline', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
    root.append(svg('title', {}, `trust of the last 24 h: ${sorted.length} report(s)`));
    root.append(svg('rect', { class: 'seg-none', x: 0, y: barY, width, height: barH }));
    sorted.forEach((s, i) => {
      const from = Math.max(s.from, start);
      const to = Math.min(s.to, i + 1 < sorted.length ? sorted[i + 1].from : now, now);
      if (to > from) {
        const t = trustOf(s.r.trust);
        const seg = svg('rect', { class: 'seg-' + t, 'data-trust': t, x: x(from).toFixed(1), y: barY, width: Math.max(1, x(to) - x(from)).toFixed(1), height: barH });
        seg.append(svg('title', {}, `${t}: ${fmtTime(s.r.verifiedAt)} to ${fmtTime(new Date(to).toISOString())} (report ${short(s.r.id)})`));
        root.append(seg);
      }
    });
    for (let h = 0; h <= 24; h += 6) {
      const px = Math.min(width - 1, Math.max(1, x(start + h * 3600 * 1000)));
      root.append(svg('line', { x1: px, x2: px, y1: barY, y2: barY + barH + 4 }));
      root.append(svg('text', { x: px, y: height - 4, 'text-anchor': h === 0 ? 'start' : h === 24 ? 'end' : 'middle' }, h === 24 ? 'now' : `-${24 - h} h`));
    }
    return el('div', {}, root, el('p', { class: 'muted' }, `${sorted.length} report(s) in the last 24 h; grey: no valid report.`));
  }

  async function poolsView() {
    const pools = (await api('pools')).pools;
    const require = req => Object.entries(req || {}).map(([k, v]) =>
      `${k}: ${Array.isArray(v) ? v.join(' | ') : v && typeof v === 'object' ? tagPairs(v).join(', ') : v}`).filter(s => !/: $/.test(s)).join('; ');
    return el('div', { 'data-view': 'pools' }, el('h2', {}, 'Pools'),
      table('pools', ['pool', 'version', 'requires', 'trusted hosts now'], pools.map(p => el('tr', { 'data-pool': p.name },
        el('td', {}, el('a', { href: '#/hosts?pool=' + enc(p.name) }, p.name)),
        el('td', {}, `v${p.version}`),
        el('td', {}, require(p.require)),
        el('td', {}, (p.trustedHosts || []).length === 0 ? 'none' : (p.trustedHosts || []).flatMap((h, i) => i ? [', ', hostLink(h)] : [hostLink(h)]))))));
  }

  async function placementsView() {
    const list = (await api('placements')).placements;
    return el('div', { 'data-view': 'placements' }, el('h2', {}, 'Placements'),
      table('placements', ['workload', 'host', 'trust', 'pools', 'tags', 'report relied on', 'placed'], list.map(p => el('tr', {},
        el('td', {}, p.workload),
        el('td', {}, hostLink(p.host)),
        el('td', {}, p.request?.trust || '-'),
        el('td', {}, (p.request?.pools || []).join(', ') || '-'),
        el('td', {}, (p.request?.tags || []).join(', ') || '-'),
        el('td', { class: 'mono' }, short(p.reportId)),
        el('td', {}, fmtTime(p.createdAt))))));
  }

  async function evacuationsView() {
    const plan = await api('evacuations');
    return el('div', { 'data-view': 'evacuations' }, el('h2', {}, 'Evacuation plan'),
      el('p', { class: 'muted' }, `as of ${fmtTime(plan.at)}: trust-requiring workloads on hosts no longer trusted`),
      plan.items.length === 0 ? el('p', {}, 'Nothing to move.') :
        table('evacuations', ['workload', 'from', 'to', 'report relied on', 'why'], plan.items.map(i => el('tr', {},
          el('td', {}, i.workload),
          el('td', {}, hostLink(i.sourceHost)),
          el('td', {}, i.proposedHost ? hostLink(i.proposedHost) : `no host: ${i.problem || '-'}`),
          el('td', { class: 'mono' }, short(i.proposedReportId)),
          el('td', {}, i.why)))));
  }

  async function auditView() {
    const note = await api('audit/checkpoint', true);
    // C2SP signed note: origin, tree size, root hash (base64), blank line, signature lines.
    const [origin, size, root] = note.split('\n');
    return el('div', { 'data-view': 'audit' }, el('h2', {}, 'Audit log checkpoint'),
      facts([['origin', origin], ['tree size', size], ['root hash', el('span', { class: 'mono' }, root)]]),
      el('pre', { id: 'checkpoint' }, note),
      el('p', { class: 'muted' }, 'A signed tree head of the append-only audit log; check it and its proofs with trustpool audit.'));
  }

  // ---- start ------------------------------------------------------------------------------------------------------

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', login);
    $('logout').addEventListener('click', () => {
      showLogin('Logged out.');
    });
    window.addEventListener('hashchange', render);
    setInterval(() => {
      if (!document.hidden && sessionStorage.getItem(TOKEN_KEY)) {
        render();
      }
    }, POLL_MS);
    render();
  });
})();
