// The status page: polls /status.json and shows it. No framework, no build step.
//
// Everything a plugin supplies (names, descriptions, schemas, errors) reaches the page through
// textContent only, never as HTML; the Content-Security-Policy forbids inline script besides.
// The bearer token, when the proxy asks for one, stays in this tab's sessionStorage and goes out
// as an Authorization header (an EventSource could not send one: hence polling). Each refresh
// asks for the report without the plugins' lists, and for the lists only when they changed.

const POLL_MS = 2000;
const TOKEN_KEY = 'mcp-switchboard.status.token';
const LISTS = [
  ['tools', 'Tools', 'name'],
  ['prompts', 'Prompts', 'name'],
  ['resources', 'Resources', 'uri'],
  ['resourceTemplates', 'Resource templates', 'uriTemplate'],
];

const $ = (id) => document.getElementById(id);

/** An element with attributes and children; strings become text nodes, never markup. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
  return node;
}

function duration(seconds) {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return [d && `${d} d`, (d || h) && `${h} h`, (d || h || m) && `${m} min`, `${s} s`].filter(Boolean).join(' ');
}

function rate(perSecond) {
  if (perSecond === undefined) return '…';
  return perSecond >= 10 ? perSecond.toFixed(0) : perSecond.toFixed(2);
}

/** Request rates from two reports' totals: requests per second in between. */
const rates = {
  previous: undefined,
  update(report) {
    const current = report.requests ? { time: Date.parse(report.time), ...report.requests } : undefined;
    const previous = this.previous;
    this.previous = current;
    if (!current || !previous) return undefined;
    const seconds = (current.time - previous.time) / 1000;
    if (seconds <= 0) return undefined;
    const per = (now, before) => (now === undefined || before === undefined ? undefined : Math.max(0, now - before) / seconds);
    const byPlugin = {};
    for (const [prefix, count] of Object.entries(current.byPlugin)) byPlugin[prefix] = per(count, previous.byPlugin[prefix] ?? 0);
    return { total: per(current.total, previous.total), byPlugin };
  },
};

const cards = new Map();

function pluginKey(plugin) {
  return `${plugin.prefix ?? ''}\u0000${plugin.source}`;
}

/** One list item: its name, title and description, and its schema or arguments, expandable. */
function item(kind, key, entry) {
  const name = String(entry[key] ?? '');
  const details = [];
  if (entry.inputSchema) details.push(schema('input schema', entry.inputSchema));
  if (entry.outputSchema) details.push(schema('output schema', entry.outputSchema));
  if (entry.arguments) details.push(schema('arguments', entry.arguments));
  return el(
    'li',
    { class: 'item', 'data-name': name },
    el('code', { class: 'item-name' }, name),
    entry.title && el('span', { class: 'item-title' }, ` ${entry.title}`),
    entry.mimeType && el('span', { class: 'item-mime' }, ` (${entry.mimeType})`),
    entry.description && el('p', { class: 'item-description' }, String(entry.description)),
    details,
  );
}

function schema(label, value) {
  return el('details', { class: 'schema', 'data-key': label }, el('summary', {}, label), el('pre', {}, JSON.stringify(value, null, 2)));
}

function listsOf(plugin) {
  if (!plugin.lists) return el('p', { class: 'muted' }, plugin.state === 'loading' ? 'lists appear once it is ready' : 'not mounted: nothing listed');
  return el(
    'div',
    { class: 'lists' },
    LISTS.filter(([kind]) => plugin.lists[kind].length).map(([kind, title, key]) =>
      el(
        'details',
        { class: `list list-${kind}`, 'data-key': kind },
        el('summary', {}, `${title} (${plugin.lists[kind].length})`),
        el('ul', {}, plugin.lists[kind].map((entry) => item(kind, key, entry))),
      ),
    ),
  );
}

/** Keeps <details> that the reader opened open when the node is built again. */
function reopen(fresh, old) {
  const open = new Set();
  const path = (node, root) => {
    const keys = [];
    for (let at = node; at && at !== root; at = at.parentElement) if (at.dataset?.key || at.dataset?.name) keys.unshift(at.dataset.key ?? at.dataset.name);
    return keys.join('\u0000');
  };
  for (const details of old.querySelectorAll('details[open]')) open.add(path(details, old));
  for (const details of fresh.querySelectorAll('details')) if (open.has(path(details, fresh))) details.open = true;
}

function fact(label, value, className) {
  return value === undefined || value === '' ? undefined : el('div', { class: className }, el('dt', {}, label), el('dd', {}, String(value)));
}

function renderPlugin(plugin, perSecond) {
  const key = pluginKey(plugin);
  let card = cards.get(key);
  if (!card) {
    card = { node: el('article', { class: 'plugin' }), head: undefined, lists: undefined, shownLists: undefined, shownState: undefined };
    cards.set(key, card);
  }
  card.node.dataset.prefix = plugin.prefix ?? '';
  card.node.dataset.state = plugin.state;
  const counts = plugin.counts;
  const head = el(
    'div',
    { class: 'plugin-head' },
    el('h3', {}, el('span', { class: 'prefix' }, plugin.prefix === undefined ? '(prefix unknown)' : plugin.prefix === '' ? '(no prefix)' : plugin.prefix), ' ', el('span', { class: `state state-${plugin.state}` }, plugin.state)),
    el(
      'dl',
      { class: 'facts' },
      fact('kind', plugin.kind, 'kind'),
      fact('era', plugin.era, 'era'),
      fact('source', plugin.source, 'source'),
      fact('server', plugin.server && `${plugin.server.name} ${plugin.server.version}`, 'server'),
      fact('since', new Date(plugin.since).toLocaleString(), 'since'),
      fact('counts', counts && `${counts.tools} tools, ${counts.prompts} prompts, ${counts.resources} resources, ${counts.resourceTemplates} templates`, 'counts'),
      fact('processes', plugin.processes, 'processes'),
      fact('requests', plugin.requests === undefined ? undefined : `${plugin.requests} (${rate(perSecond)} / s)`, 'requests'),
      plugin.required && fact('required', 'yes', 'required'),
    ),
    plugin.error && el('p', { class: 'error' }, el('strong', {}, 'last error: '), String(plugin.error)),
  );
  if (card.head) card.head.replaceWith(head);
  else card.node.append(head);
  card.head = head;
  // Lists are the same object until they are fetched again (see report()): built again only then.
  if (plugin.lists !== card.shownLists || plugin.state !== card.shownState || !card.lists) {
    const lists = listsOf(plugin);
    if (card.lists) {
      reopen(lists, card.lists);
      card.lists.replaceWith(lists);
    } else card.node.append(lists);
    card.lists = lists;
    card.shownLists = plugin.lists;
    card.shownState = plugin.state;
  }
  return card.node;
}

function render(report) {
  const perSecond = rates.update(report);
  $('version').textContent = report.version;
  $('uptime').textContent = duration(report.uptime);
  $('sessions-legacy').textContent = String(report.sessions['2025-11-25']);
  $('in-progress').textContent = String(report.sessions.requestsInProgress);
  $('plugins-ready').textContent = `${report.plugins.filter((p) => p.state === 'ready').length} of ${report.plugins.length}`;
  $('rate-total').textContent = !report.requests ? 'not counted' : report.requests.total === undefined ? '—' : rate(perSecond?.total);
  $('auth').textContent = `auth: ${report.auth}`;
  $('viewer').textContent = report.viewer.plugins ? `you (${report.viewer.id}) may use: ${report.viewer.plugins.join(', ')}` : `you: ${report.viewer.id}`;

  const container = $('plugins');
  const seen = new Set();
  report.plugins.forEach((plugin, index) => {
    seen.add(pluginKey(plugin));
    const node = renderPlugin(plugin, perSecond?.byPlugin[plugin.prefix]);
    if (container.children[index] !== node) container.insertBefore(node, container.children[index] ?? null);
  });
  for (const [key, card] of cards) {
    if (seen.has(key)) continue;
    card.node.remove();
    cards.delete(key);
  }
  if (!report.plugins.length) container.replaceChildren(el('p', { class: 'muted' }, 'no plugins you may use'));
  else container.querySelector(':scope > p.muted')?.remove();
}

function connection(text, problem = false) {
  const node = $('connection');
  node.textContent = text;
  node.classList.toggle('problem', problem);
}

/** A refusal of the credentials (401, 403): the page asks for a token. */
class Refused extends Error {}

async function load(path, token) {
  const response = await fetch(path, { cache: 'no-store', headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (response.status === 401 || response.status === 403) {
    const { error } = await response.json().catch(() => ({}));
    throw new Refused(String(error ?? `refused (${response.status})`));
  }
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

/** Each plugin's lists, by plugin, with the tag they were fetched under: fetched again only when the tag changes. */
const knownLists = new Map();

/** The report without lists (small, every refresh), completed with the lists, fetched in full only when a plugin's changed. */
async function report(token) {
  const summary = await load('/status.json?lists=0', token);
  const stale = summary.plugins.some((plugin) => plugin.listsTag !== undefined && knownLists.get(pluginKey(plugin))?.tag !== plugin.listsTag);
  if (stale) {
    const full = await load('/status.json', token);
    knownLists.clear();
    for (const plugin of full.plugins) if (plugin.lists) knownLists.set(pluginKey(plugin), { tag: plugin.listsTag, lists: plugin.lists });
  }
  for (const plugin of summary.plugins) plugin.lists = plugin.listsTag === undefined ? undefined : knownLists.get(pluginKey(plugin))?.lists;
  return summary;
}

let timer;
async function refresh() {
  clearTimeout(timer);
  const token = sessionStorage.getItem(TOKEN_KEY);
  try {
    render(await report(token));
    $('token-form').hidden = true;
    $('status').hidden = false;
    $('forget-token').hidden = !token;
    document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes ?? 0) + 1);
    connection(`updated ${new Date().toLocaleTimeString()}`);
  } catch (error) {
    if (error instanceof Refused) {
      $('status').hidden = true;
      $('token-form').hidden = false;
      $('token-problem').textContent = token ? error.message : '';
      knownLists.clear();
      connection('needs a token');
      return; // polling resumes when a token is given
    }
    connection(`cannot reach the proxy (${error.message}); retrying`, true);
  }
  timer = setTimeout(refresh, POLL_MS);
}

$('token-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const token = $('token').value.trim();
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('token').value = '';
  rates.previous = undefined;
  knownLists.clear();
  void refresh();
});

$('forget-token').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  rates.previous = undefined;
  knownLists.clear();
  void refresh();
});

void refresh();
