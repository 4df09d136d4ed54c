// ortformers playground: talks to the routes of the server that serves it and adapts to the model type of /info.
// No dependencies; everything (PCA included) is computed here.
'use strict';

const $ = (id) => document.getElementById(id);

// el('div', {class: 'x', onclick: f}, child, 'text', ...): DOM builder; text is always set as text, never as HTML.
function el(tag, attrs, ...children) {
  const svg = ['svg', 'circle', 'text', 'line', 'g', 'title', 'rect'].includes(tag);
  const node = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

// ---------------------------------------------------------------------------------------------------------------
// API calls: latency in the corner, error bodies ({error, error_type} or OpenAI's {error: {message}}) as messages.

class ApiError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

const REQUEST_TIMEOUT_MS = 120000;
let apiKey = sessionStorage.getItem('ortformers-api-key') || '';

async function api(method, path, body, contentType) {
  const headers = {};
  if (apiKey) headers.Authorization = 'Bearer ' + apiKey;
  let payload;
  if (body !== undefined) {
    if (contentType) {
      headers['Content-Type'] = contentType;
      payload = body;
    } else {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
  }
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
  const t0 = performance.now();
  let res;
  let text;
  try {
    res = await fetch(path, {method, headers, body: payload, signal: abort.signal});
    text = await res.text();
  } catch (e) {
    const why = e.name === 'AbortError' ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : e.message;
    showLatency(method, path, performance.now() - t0, null, null);
    throw new ApiError(0, 'Network', `${method} ${path}: the server did not answer (${why}).`);
  } finally {
    clearTimeout(timer);
  }
  showLatency(method, path, performance.now() - t0, res.status, res.headers);
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (e) {
    data = null;
  }
  if (!res.ok) {
    let message = text.trim() || res.statusText;
    let type = '';
    if (data && typeof data.error === 'string') {
      message = data.error;
      type = data.error_type || '';
    } else if (data && data.error && typeof data.error === 'object') {
      message = data.error.message || message;
      type = data.error.type || data.error.code || '';
    }
    throw new ApiError(res.status, type, message);
  }
  if (data === null && text) throw new ApiError(res.status, 'Response', `${method} ${path}: the answer is not JSON.`);
  return data;
}

function showError(e) {
  const box = $('error');
  box.replaceChildren();
  if (!e) return;
  if (!(e instanceof ApiError)) {
    box.textContent = String(e.message || e);
    return;
  }
  const head = e.status ? `${e.status}${e.type ? ' ' + e.type : ''}` : e.type;
  const advice = {
    401: 'The server needs an API key (--api-key).',
    413: 'The request is larger than the server accepts (--payload-limit).',
    422: 'The server refused the input.',
    424: 'The model could not run this request.',
    429: 'The server is overloaded: try again in a moment.',
    503: 'The model is not ready yet.',
  }[e.status];
  box.append(el('strong', {}, head + ': '), e.message, advice ? ' — ' + advice : '');
  if (e.status === 401) {
    const input = el('input', {type: 'password', id: 'api-key', 'aria-label': 'API key', placeholder: 'API key'});
    const save = el('button', {
      type: 'button',
      onclick: () => {
        apiKey = input.value.trim();
        sessionStorage.setItem('ortformers-api-key', apiKey);
        box.replaceChildren();
        start();
      },
    }, 'Use this key');
    box.append(el('div', {class: 'actions'}, input, save));
  }
}

function showLatency(method, path, ms, status, headers) {
  let text = `${method} ${path} ${ms.toFixed(1)} ms`;
  if (status !== null) text += ` (${status})`;
  const server = headers && headers.get('x-total-time');
  if (server) text += `, server ${server} ms`;
  const cell = $('stat-latency');
  cell.textContent = text;
  const parts = ['x-tokenization-time', 'x-queue-time', 'x-inference-time']
      .filter((h) => headers && headers.get(h) !== null)
      .map((h) => `${h.slice(2, -5)} ${headers.get(h)} ms`);
  cell.title = parts.join(', ');
}

// Prometheus text -> {name: total over label sets}.
function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    if (m[1].endsWith('_bucket')) continue;
    out[m[1]] = (out[m[1]] || 0) + v;
  }
  return out;
}

let metricsAvailable = true;
async function refreshMetrics() {
  if (!metricsAvailable) return;
  let res;
  try {
    res = await fetch('/metrics', {headers: apiKey ? {Authorization: 'Bearer ' + apiKey} : {}});
  } catch (e) {
    return;
  }
  if (!res.ok) {
    metricsAvailable = false;
    return;
  }
  const m = parseMetrics(await res.text());
  const fmt = (v) => (v === undefined ? '–' : Number.isInteger(v) ? String(v) : v.toFixed(1));
  $('stat-queue').textContent = fmt(m.te_queue_size);
  const mean = (name) => (m[name + '_count'] ? m[name + '_sum'] / m[name + '_count'] : undefined);
  const size = mean('te_batch_next_size');
  const tokens = mean('te_batch_next_tokens');
  $('stat-batch').textContent = size === undefined ? '–' : `avg ${fmt(size)} req` + (tokens === undefined ? '' : `, ${Math.round(tokens)} tok`);
  const fails = m.te_request_failure;
  $('stat-requests').textContent = m.te_request_count === undefined ? '–' : fmt(m.te_request_count) + (fails ? `, ${fmt(fails)} failed` : '');
}

// ---------------------------------------------------------------------------------------------------------------
// Shared widgets.

// Runs `work` on click or Ctrl/Cmd+Enter inside `form`; the button is disabled meanwhile, errors are shown.
function wire(form, button, work) {
  const run = async () => {
    if (button.disabled) return;
    showError(null);
    button.disabled = true;
    const label = button.textContent;
    button.textContent = 'Running…';
    form.setAttribute('aria-busy', 'true');
    try {
      await work();
    } catch (e) {
      const stale = $('results');  // never leave the previous answer next to the error of a new question
      if (stale) {
        stale.replaceChildren();
        delete stale.dataset.ready;
      }
      showError(e);
    } finally {
      button.disabled = false;
      button.textContent = label;
      form.removeAttribute('aria-busy');
      refreshMetrics();
    }
  };
  button.addEventListener('click', run);
  form.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
      ev.preventDefault();
      run();
    }
  });
}

function field(labelText, control, hint) {
  const id = control.id || (control.id = 'f-' + Math.random().toString(36).slice(2, 9));
  return [el('label', {for: id}, labelText, hint ? el('span', {class: 'hint'}, ' ' + hint) : null), control];
}

function checkbox(id, text, checked) {
  const box = el('input', {type: 'checkbox', id, checked});
  return {box, node: el('label', {class: 'inline', for: id}, box, text)};
}

const lines = (text) => text.split('\n').map((s) => s.trim()).filter((s) => s.length > 0);
const fmt3 = (v) => (v === null || v === undefined ? '–' : Number(v).toFixed(3));

// Sorted score bars; the first item is the winner. items: [{name, score, title?}] already sorted best first.
function scoreBars(items, id) {
  // probabilities on an absolute 0..1 scale; raw scores (logits) from the lowest to the highest
  const scores = items.map((it) => it.score);
  const probabilities = scores.every((s) => s >= 0 && s <= 1);
  const lo = probabilities ? 0 : Math.min(...scores);
  const hi = probabilities ? 1 : Math.max(...scores, lo + 1e-12);
  const list = el('ol', {class: 'bars', id});
  items.forEach((it, k) => {
    const pct = ((it.score - lo) / (hi - lo)) * 100;
    const winner = k === 0;
    list.append(el('li', {class: winner ? 'winner' : null, 'data-label': it.name, 'data-score': it.score, title: it.title},
        el('span', {class: 'name'}, winner ? '★ ' : '', it.name, winner ? el('span', {class: 'skip'}, ' (highest)') : null),
        el('span', {class: 'track', 'aria-hidden': 'true'}, el('span', {class: 'fill', style: `width:${pct.toFixed(2)}%`})),
        el('span', {class: 'val'}, fmt3(it.score))));
  });
  return list;
}

function panel(title, ...children) {
  return el('section', {class: 'panel'}, el('h2', {}, title), ...children);
}

function results() {
  return el('div', {id: 'results'});
}

// Colour scales for cosine similarity. 'range': sequential (yellow-green-blue) from the lowest to the highest value
// off the diagonal, so that differences show even when every pair is close; 'absolute': diverging blue-white-red
// over [-1, 1]. Stops are [position in 0..1, rgb].
const SCALES = {
  range: [[0, [255, 255, 217]], [0.25, [199, 233, 180]], [0.5, [65, 182, 196]], [0.75, [34, 94, 168]], [1, [8, 29, 88]]],
  absolute: [[0, [33, 102, 172]], [0.25, [103, 169, 207]], [0.5, [247, 247, 247]], [0.75, [239, 138, 98]], [1, [178, 24, 43]]],
};
function rampColour(stops, t) {
  const x = Math.max(0, Math.min(1, t));
  for (let k = 1; k < stops.length; k++) {
    const [x1, c1] = stops[k];
    const [x0, c0] = stops[k - 1];
    if (x <= x1) {
      const u = (x - x0) / (x1 - x0);
      return c0.map((c, i) => Math.round(c + u * (c1[i] - c)));
    }
  }
  return stops[stops.length - 1][1];
}
// {lo, hi, colour(v)} for a similarity matrix and a scale name.
function colourScale(sim, mode) {
  let lo = Infinity;
  let hi = -Infinity;
  sim.forEach((row, i) => row.forEach((v, j) => {
    if (i !== j) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }));
  if (mode === 'absolute' || !(hi - lo > 1e-6)) {
    return {mode: 'absolute', lo: -1, hi: 1, colour: (v) => rampColour(SCALES.absolute, (v + 1) / 2)};
  }
  return {mode, lo, hi, colour: (v) => rampColour(SCALES.range, (v - lo) / (hi - lo))};
}
const rgb = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;
const isDark = (c) => 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2] < 140;

// Stable colours for entity types / segment labels.
const PALETTE = ['#ffd166', '#8ecae6', '#b5e48c', '#f4a6c0', '#cdb4db', '#ffb37a', '#a0e7e5', '#e9c46a', '#c9e4de', '#f28482'];
const KNOWN = {PER: 0, ORG: 1, LOC: 2, MISC: 3};
function typeColour(type) {
  if (type in KNOWN) return PALETTE[KNOWN[type]];
  let h = 0;
  for (const ch of type) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return PALETTE[4 + (h % (PALETTE.length - 4))];
}

// ---------------------------------------------------------------------------------------------------------------
// Embeddings: /embed once, cosine matrix, nearest neighbours and PCA in the page.

function cosineMatrix(vectors) {
  const norms = vectors.map((v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0)));
  return vectors.map((a, i) => vectors.map((b, j) => {
    let dot = 0;
    for (let k = 0; k < a.length; k++) dot += a[k] * b[k];
    const d = norms[i] * norms[j];
    return d > 0 ? dot / d : 0;
  }));
}

// Eigen-decomposition of a small symmetric matrix (cyclic Jacobi). Returns {values, vectors (columns)} sorted desc.
function symmetricEigen(a) {
  const n = a.length;
  const m = a.map((r) => r.slice());
  const v = a.map((_, i) => a.map((__, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += m[p][q] * m[p][q];
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(m[p][q]) < 1e-300) continue;
        const theta = (m[q][q] - m[p][p]) / (2 * m[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k][p];
          const mkq = m[k][q];
          m[k][p] = c * mkp - s * mkq;
          m[k][q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p][k];
          const mqk = m[q][k];
          m[p][k] = c * mpk - s * mqk;
          m[q][k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = [...Array(n).keys()].sort((i, j) => m[j][j] - m[i][i]);
  return {values: order.map((i) => m[i][i]), vectors: order.map((i) => v.map((row) => row[i]))};
}

// PCA to 2-D through the Gram matrix of the centred rows (n x n, n = number of sentences).
function pca2(vectors) {
  const n = vectors.length;
  const d = vectors[0].length;
  const mean = new Array(d).fill(0);
  for (const v of vectors) for (let k = 0; k < d; k++) mean[k] += v[k] / n;
  const c = vectors.map((v) => v.map((x, k) => x - mean[k]));
  const gram = c.map((a) => c.map((b) => a.reduce((s, x, k) => s + x * b[k], 0)));
  const {values, vectors: us} = symmetricEigen(gram);
  const total = values.reduce((s, x) => s + Math.max(x, 0), 0) || 1;
  const comps = [0, 1].map((k) => (k < n ? us[k].map((u) => u * Math.sqrt(Math.max(values[k], 0))) : new Array(n).fill(0)));
  return {points: vectors.map((_, i) => [comps[0][i], comps[1][i]]), explained: [0, 1].map((k) => Math.max(values[k] || 0, 0) / total)};
}

const short = (s, n) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

function heatmap(sentences, sim, mode) {
  const scale = colourScale(sim, mode);
  const detail = el('div', {class: 'detail', id: 'heatmap-detail', 'aria-live': 'polite'}, 'Hover or focus a cell to read its value.');
  const table = el('table', {class: 'heatmap', id: 'heatmap'},
      el('caption', {class: 'skip'}, 'Cosine similarity between every pair of sentences'),
      el('thead', {}, el('tr', {}, el('th', {}), sentences.map((s, j) => el('th', {scope: 'col', title: s}, String(j + 1))))));
  const body = el('tbody');
  sentences.forEach((si, i) => {
    const row = el('tr', {}, el('th', {scope: 'row', class: 'row', title: si}, `${i + 1}.`, el('span', {class: 'txt'}, ' ' + short(si, 28))));
    sentences.forEach((sj, j) => {
      const v = sim[i][j];
      const colour = scale.colour(v);
      const text = `${i + 1}. “${short(si, 60)}” ↔ ${j + 1}. “${short(sj, 60)}”: cosine ${v.toFixed(4)}`;
      const show = () => (detail.textContent = text);
      row.append(el('td', {
        tabindex: 0, class: isDark(colour) ? 'dark' : 'light', style: `background:${rgb(colour)}`,
        'data-i': i, 'data-j': j, 'data-value': v, title: text, 'aria-label': text, onmouseenter: show, onfocus: show,
      }, v.toFixed(3)));
    });
    body.append(row);
  });
  table.append(body);
  const stops = SCALES[scale.mode].map(([x, c]) => `${rgb(c)} ${x * 100}%`).join(', ');
  const end = (v) => (scale.mode === 'absolute' ? (v < 0 ? '−1' : '1') : v.toFixed(2));
  const legend = el('div', {class: 'legend', id: 'heatmap-legend'}, el('span', {}, end(scale.lo)),
      el('span', {class: 'ramp', 'aria-hidden': 'true', style: `background:linear-gradient(to right, ${stops})`}),
      el('span', {}, end(scale.hi)),
      el('span', {}, scale.mode === 'absolute' ? 'cosine similarity' : 'cosine similarity (lowest to highest pair)'));
  return [el('div', {class: 'scroll'}, table), legend, detail];
}

function neighbours(sentences, sim) {
  const list = el('ol', {class: 'neighbours', id: 'neighbours'});
  sentences.forEach((s, i) => {
    let best = -1;
    sentences.forEach((_, j) => {
      if (j !== i && (best < 0 || sim[i][j] > sim[i][best])) best = j;
    });
    list.append(el('li', {'data-i': i, 'data-nearest': best}, short(s, 60), ' → ',
        el('strong', {}, `${best + 1}. ${short(sentences[best], 60)}`), ' ', el('span', {class: 'score'}, sim[i][best].toFixed(3))));
  });
  return list;
}

function scatter(sentences, vectors) {
  const {points, explained} = pca2(vectors);
  const W = 480;
  const H = 320;
  const pad = 40;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const span = (a) => Math.max(Math.max(...a) - Math.min(...a), 1e-9);
  const sx = (x) => pad + ((x - Math.min(...xs)) / span(xs)) * (W - 2 * pad);
  const sy = (y) => H - pad - ((y - Math.min(...ys)) / span(ys)) * (H - 2 * pad);
  const svg = el('svg', {class: 'scatter', id: 'scatter', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': `PCA projection of ${sentences.length} sentence embeddings`});
  svg.append(el('rect', {class: 'frame', x: pad - 14, y: pad - 14, width: W - 2 * pad + 28, height: H - 2 * pad + 28}),
      el('text', {x: W / 2, y: H - 6, 'text-anchor': 'middle'}, `PC1 (${(explained[0] * 100).toFixed(0)}%)`),
      el('text', {x: 12, y: H / 2, 'text-anchor': 'middle', transform: `rotate(-90 12 ${H / 2})`}, `PC2 (${(explained[1] * 100).toFixed(0)}%)`));
  points.forEach(([x, y], i) => {
    const cx = sx(x);
    const cy = sy(y);
    const anchor = cx > W - 140 ? 'end' : 'start';
    svg.append(el('g', {'data-i': i}, el('title', {}, sentences[i]), el('circle', {cx, cy, r: 5}),
        el('text', {x: anchor === 'end' ? cx - 8 : cx + 8, y: cy + 4, 'text-anchor': anchor}, `${i + 1}. ${short(sentences[i], 22)}`)));
  });
  return svg;
}

const SAMPLE_SENTENCES = [
  'A man is playing a guitar.',
  'Someone plays an instrument on stage.',
  'The cat sleeps on the sofa.',
  'A kitten is napping on the couch.',
  'Stock markets fell sharply today.',
];

function embeddingsView(info) {
  const text = el('textarea', {id: 'sentences', rows: 6, spellcheck: 'false'});
  text.value = SAMPLE_SENTENCES.join('\n');
  const truncate = checkbox('truncate', 'truncate long inputs', Boolean(info.auto_truncate));
  const button = el('button', {type: 'button', id: 'run'}, 'Compare');
  const out = results();
  const form = panel('Sentence similarity', ...field('Sentences', text, 'one per line; Ctrl+Enter runs'),
      el('div', {class: 'actions'}, button, truncate.node));
  wire(form, button, async () => {
    const sentences = lines(text.value);
    if (sentences.length < 2) throw new Error('Enter at least two sentences, one per line.');
    const chunk = Math.max(1, info.max_client_batch_size || 32);
    const vectors = [];
    for (let k = 0; k < sentences.length; k += chunk) {
      const part = await api('POST', '/embed', {inputs: sentences.slice(k, k + chunk), normalize: true, truncate: truncate.box.checked});
      vectors.push(...part);
    }
    const sim = cosineMatrix(vectors);
    const scaleSelect = el('select', {id: 'scale'}, el('option', {value: 'range'}, 'lowest to highest pair'),
        el('option', {value: 'absolute'}, '−1 to 1'));
    const map = el('div', {}, ...heatmap(sentences, sim, 'range'));
    scaleSelect.addEventListener('change', () => map.replaceChildren(...heatmap(sentences, sim, scaleSelect.value)));
    out.replaceChildren(
        panel('Cosine similarity', map, el('label', {class: 'inline', for: 'scale'}, 'colour scale', scaleSelect)),
        el('div', {class: 'grid2'}, panel('Nearest neighbour', neighbours(sentences, sim)),
            panel('2-D projection (PCA)', scatter(sentences, vectors))));
    out.dataset.ready = 'embeddings';
  });
  return [form, out];
}

// ---------------------------------------------------------------------------------------------------------------
// Classifiers, rerankers, zero-shot.

function classifyView(info) {
  const text = el('textarea', {id: 'text', rows: 3});
  text.value = 'I really enjoyed this film, the actors were wonderful.';
  const pair = el('input', {type: 'text', id: 'text-pair', placeholder: 'optional: a second text (pair input)'});
  const raw = checkbox('raw-scores', 'raw scores (no softmax)', false);
  const truncate = checkbox('truncate', 'truncate long inputs', Boolean(info.auto_truncate));
  const button = el('button', {type: 'button', id: 'run'}, 'Classify');
  const out = results();
  const form = panel('Classify a text', ...field('Text', text, 'Ctrl+Enter runs'), ...field('Text pair', pair),
      el('div', {class: 'actions'}, button, raw.node, truncate.node));
  wire(form, button, async () => {
    const a = text.value.trim();
    if (!a) throw new Error('Enter a text to classify.');
    const b = pair.value.trim();
    let preds = await api('POST', '/predict', {inputs: b ? [a, b] : a, raw_scores: raw.box.checked, truncate: truncate.box.checked});
    if (Array.isArray(preds[0])) preds = preds[0];
    const items = preds.map((p) => ({name: p.label, score: p.score})).sort((x, y) => y.score - x.score);
    out.replaceChildren(panel('Scores', scoreBars(items, 'scores')));
    out.dataset.ready = 'classify';
  });
  return [form, out];
}

function rerankView(info) {
  const query = el('input', {type: 'text', id: 'query'});
  query.value = 'What is deep learning?';
  const texts = el('textarea', {id: 'candidates', rows: 5});
  texts.value = ['Deep learning is a family of machine learning methods based on neural networks.',
    'The recipe needs two eggs and a cup of flour.', 'Neural networks with many layers learn representations.'].join('\n');
  const raw = checkbox('raw-scores', 'raw scores', false);
  const truncate = checkbox('truncate', 'truncate long inputs', Boolean(info.auto_truncate));
  const button = el('button', {type: 'button', id: 'run'}, 'Rerank');
  const out = results();
  const form = panel('Rerank candidates for a query', ...field('Query', query), ...field('Candidates', texts, 'one per line; Ctrl+Enter runs'),
      el('div', {class: 'actions'}, button, raw.node, truncate.node));
  wire(form, button, async () => {
    const cands = lines(texts.value);
    if (!query.value.trim() || cands.length === 0) throw new Error('Enter a query and at least one candidate.');
    const ranks = await api('POST', '/rerank', {query: query.value.trim(), texts: cands, raw_scores: raw.box.checked, truncate: truncate.box.checked});
    const items = ranks.map((r) => ({name: cands[r.index], score: r.score})).sort((x, y) => y.score - x.score);
    out.replaceChildren(panel('Ranking', scoreBars(items, 'scores')));
    out.dataset.ready = 'rerank';
  });
  return [form, out];
}

function zeroShotView() {
  const text = el('textarea', {id: 'text', rows: 3});
  text.value = 'The new phone has a great camera but the battery drains quickly.';
  const labels = el('input', {type: 'text', id: 'labels'});
  labels.value = 'technology, sports, politics, cooking';
  const multi = checkbox('multi-label', 'several labels can be true (multi_label)', false);
  const button = el('button', {type: 'button', id: 'run'}, 'Classify');
  const out = results();
  const form = panel('Zero-shot classification', ...field('Text', text, 'Ctrl+Enter runs'),
      ...field('Candidate labels', labels, 'comma separated'), el('div', {class: 'actions'}, button, multi.node));
  wire(form, button, async () => {
    const cands = labels.value.split(',').map((s) => s.trim()).filter(Boolean);
    if (!text.value.trim() || cands.length === 0) throw new Error('Enter a text and at least one candidate label.');
    let r = await api('POST', '/pipeline', {inputs: text.value.trim(), parameters: {candidate_labels: cands, multi_label: multi.box.checked}});
    if (Array.isArray(r)) r = r[0];
    const items = r.labels.map((l, k) => ({name: l, score: r.scores[k]})).sort((x, y) => y.score - x.score);
    out.replaceChildren(panel('Scores', scoreBars(items, 'scores')));
    out.dataset.ready = 'zero-shot';
  });
  return [form, out];
}

// ---------------------------------------------------------------------------------------------------------------
// Token classification: the text with entity spans (code-point offsets, as the pipeline reports them).

const entityType = (e) => (e.entity_group || e.entity || '').replace(/^[BIES]-/, '');

function entitySpans(text, entities) {
  const chars = Array.from(text);
  const sorted = entities.filter((e) => Number.isInteger(e.start) && Number.isInteger(e.end) && e.end > e.start)
      .sort((a, b) => a.start - b.start || b.end - a.end);
  const box = el('div', {class: 'entities', id: 'entities'});
  let pos = 0;
  for (const e of sorted) {
    if (e.start < pos) continue;  // overlapping spans (aggregation "none" on sub-words): keep the first
    box.append(chars.slice(pos, e.start).join(''));
    const type = entityType(e);
    const word = chars.slice(e.start, e.end).join('');
    box.append(el('mark', {
      style: `background:${typeColour(type)}`, tabindex: 0, 'data-start': e.start, 'data-end': e.end, 'data-type': type,
      'data-score': e.score, title: `${type} ${fmt3(e.score)}`, 'aria-label': `${word}: ${type}, score ${fmt3(e.score)}`,
    }, word, el('span', {class: 'tag', 'aria-hidden': 'true'}, type)));
    pos = e.end;
  }
  box.append(chars.slice(pos).join(''));
  return box;
}

function legend(types, id) {
  return el('ul', {class: 'chips', id, 'aria-label': 'Legend'}, [...types].map((t) => el('li', {style: `background:${typeColour(t)}`}, t)));
}

function entitiesView() {
  const text = el('textarea', {id: 'text', rows: 4});
  text.value = 'John Smith works at Google in New York City.';
  const strategy = el('select', {id: 'aggregation'}, ['simple', 'first', 'average', 'max', 'none'].map((s) => el('option', {value: s}, s)));
  const button = el('button', {type: 'button', id: 'run'}, 'Find entities');
  const out = results();
  const form = panel('Named entities', ...field('Text', text, 'Ctrl+Enter runs'),
      el('div', {class: 'actions'}, button, el('label', {class: 'inline', for: 'aggregation'}, 'aggregation', strategy)));
  wire(form, button, async () => {
    const input = text.value;
    if (!input.trim()) throw new Error('Enter a text.');
    let ents = await api('POST', '/pipeline', {inputs: input, parameters: {aggregation_strategy: strategy.value}});
    if (ents.length && Array.isArray(ents[0])) ents = ents[0];
    const types = new Set(ents.map(entityType));
    const table = el('table', {class: 'fields'}, el('thead', {}, el('tr', {}, ['word', 'type', 'score', 'span'].map((h) => el('th', {}, h)))),
        el('tbody', {}, ents.map((e) => el('tr', {}, el('td', {}, e.word), el('td', {}, entityType(e)), el('td', {}, fmt3(e.score)),
            el('td', {}, e.start === null || e.start === undefined ? '–' : `${e.start}–${e.end}`)))));
    out.replaceChildren(panel('Entities', ents.length ? entitySpans(input, ents) : el('p', {}, 'No entity found.'), legend(types, 'legend')),
        panel('List', el('div', {class: 'scroll'}, table)));
    out.dataset.ready = 'entities';
  });
  return [form, out];
}

// ---------------------------------------------------------------------------------------------------------------
// Fill-mask and question answering.

function fillMaskView(info) {
  const mask = info.mask_token || '[MASK]';
  const text = el('input', {type: 'text', id: 'text'});
  text.value = `Paris is the ${mask} of France.`;
  const topk = el('input', {type: 'number', id: 'top-k', min: 1, max: 50, value: 5});
  const button = el('button', {type: 'button', id: 'run'}, 'Fill');
  const out = results();
  const form = panel('Fill the mask', ...field('Text', text, `with one ${mask}; Ctrl+Enter runs`), ...field('Answers', topk),
      el('div', {class: 'actions'}, button));
  wire(form, button, async () => {
    if (!text.value.includes(mask)) throw new Error(`The text needs the mask token ${mask}.`);
    let r = await api('POST', '/pipeline', {inputs: text.value, parameters: {top_k: Number(topk.value) || 5}});
    if (r.length && Array.isArray(r[0])) r = r[0];
    const items = r.map((c) => ({name: c.token_str, score: c.score, title: c.sequence}));
    out.replaceChildren(panel('Top answers', scoreBars(items, 'scores')));
    out.dataset.ready = 'fill-mask';
  });
  return [form, out];
}

function qaView() {
  const question = el('input', {type: 'text', id: 'question'});
  question.value = 'Where does John work?';
  const context = el('textarea', {id: 'context', rows: 5});
  context.value = 'John Smith works at Google in New York City. He moved there in 2015.';
  const topk = el('input', {type: 'number', id: 'top-k', min: 1, max: 20, value: 3});
  const button = el('button', {type: 'button', id: 'run'}, 'Answer');
  const out = results();
  const form = panel('Question answering', ...field('Question', question, 'Ctrl+Enter runs'), ...field('Context', context),
      ...field('Answers', topk), el('div', {class: 'actions'}, button));
  wire(form, button, async () => {
    const ctx = context.value;
    if (!question.value.trim() || !ctx.trim()) throw new Error('Enter a question and a context.');
    let r = await api('POST', '/pipeline', {inputs: {question: question.value, context: ctx}, parameters: {top_k: Number(topk.value) || 3}});
    if (!Array.isArray(r)) r = [r];
    const items = r.map((a) => ({name: a.answer, score: a.score}));
    const best = r[0];
    const chars = Array.from(ctx);
    const shown = el('p', {class: 'entities', id: 'answer-context'}, chars.slice(0, best.start).join(''),
        el('mark', {class: 'answer', 'data-start': best.start, 'data-end': best.end}, chars.slice(best.start, best.end).join('')),
        chars.slice(best.end).join(''));
    out.replaceChildren(panel('Answers', scoreBars(items, 'scores')), panel('In the context', shown));
    out.dataset.ready = 'qa';
  });
  return [form, out];
}

// ---------------------------------------------------------------------------------------------------------------
// Images and audio: the file is posted as the raw body (Content-Type image/* or audio/*) to /pipeline.

function fileInput(accept, id) {
  return el('input', {type: 'file', accept, id});
}

const dataUrl = (png) => (png.startsWith('data:') ? png : 'data:image/png;base64,' + png);

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error('The image could not be decoded by the browser.'));
    img.src = src;
  });
}

// Segmentation: every mask (L-mode PNG, 255 inside) tinted with its label's colour over the input image.
async function segmentationFigure(imageUrl, segments) {
  const base = await loadImage(imageUrl);
  const canvas = el('canvas', {class: 'overlay', id: 'mask-overlay', width: base.naturalWidth, height: base.naturalHeight});
  const ctx = canvas.getContext('2d');
  const out = ctx.createImageData(canvas.width, canvas.height);
  for (const seg of segments) {
    const mask = await loadImage(dataUrl(seg.mask));
    const tmp = document.createElement('canvas');
    tmp.width = canvas.width;
    tmp.height = canvas.height;
    const tctx = tmp.getContext('2d', {willReadFrequently: true});
    tctx.drawImage(mask, 0, 0, tmp.width, tmp.height);
    const px = tctx.getImageData(0, 0, tmp.width, tmp.height).data;
    const hex = typeColour(seg.label);
    const c = [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
    for (let p = 0; p < px.length; p += 4) {
      if (px[p] < 128) continue;
      out.data.set([c[0], c[1], c[2], 255], p);
    }
  }
  ctx.putImageData(out, 0, 0);
  return el('div', {class: 'figure'}, el('img', {src: imageUrl, alt: 'input image'}), canvas);
}

function mediaView(kind) {
  const input = fileInput(kind === 'image' ? 'image/*' : 'audio/*', 'file');
  const preview = el('div', {id: 'preview'});
  const button = el('button', {type: 'button', id: 'run'}, kind === 'image' ? 'Run on the image' : 'Run on the clip');
  const out = results();
  let url = null;
  input.addEventListener('change', () => {
    if (url) URL.revokeObjectURL(url);
    const f = input.files[0];
    url = f ? URL.createObjectURL(f) : null;
    preview.replaceChildren(!f ? '' : kind === 'image' ? el('img', {src: url, alt: f.name, style: 'max-width:100%;max-height:16rem'}) :
                                                       el('audio', {src: url, controls: true}));
  });
  const form = panel(kind === 'image' ? 'Image' : 'Audio', ...field('File', input, kind === 'image' ? 'PNG, JPEG or BMP' : 'WAV, FLAC, MP3…'),
      preview, el('div', {class: 'actions'}, button));
  wire(form, button, async () => {
    const f = input.files[0];
    if (!f) throw new Error('Choose a file first.');
    const type = f.type || (kind === 'image' ? 'image/png' : 'audio/wav');
    let r = await api('POST', '/pipeline', f, type);
    if (Array.isArray(r) && r.length && Array.isArray(r[0])) r = r[0];
    if (typeof r === 'string' || (r && typeof r.image === 'string')) {
      out.replaceChildren(panel('Output image', el('img', {id: 'output-image', src: dataUrl(r.image || r), alt: 'output image', style: 'max-width:100%'})));
    } else if (r && typeof r.text === 'string') {
      out.replaceChildren(panel('Transcription', el('p', {id: 'transcript'}, r.text)));
    } else if (Array.isArray(r) && r.some((s) => typeof s.mask === 'string')) {
      const figure = await segmentationFigure(url, r);
      out.replaceChildren(panel('Segmentation', figure, legend(new Set(r.map((s) => s.label)), 'legend')));
    } else if (Array.isArray(r)) {
      const items = r.map((p) => ({name: p.label, score: p.score})).sort((x, y) => y.score - x.score);
      out.replaceChildren(panel('Labels', scoreBars(items, 'scores')));
    } else {
      out.replaceChildren(panel('Answer', el('pre', {}, JSON.stringify(r, null, 2))));
    }
    out.dataset.ready = kind;
  });
  return [form, out];
}

// Any other pipeline task: the Inference API body as JSON in, the pipeline's JSON out.
function pipelineView(info) {
  const inputs = el('textarea', {id: 'text', rows: 4, class: 'mono', spellcheck: 'false'});
  inputs.value = 'Hello world!';
  const params = el('input', {type: 'text', id: 'parameters', class: 'mono', value: '{}'});
  const button = el('button', {type: 'button', id: 'run'}, 'Run');
  const out = results();
  const form = panel(`Run the ${info.pipeline_tag || info.task || 'model'} pipeline`,
      ...field('inputs', inputs, 'a text, or JSON; Ctrl+Enter runs'), ...field('parameters', params, 'JSON object'),
      el('div', {class: 'actions'}, button));
  wire(form, button, async () => {
    let value = inputs.value;
    try {
      value = JSON.parse(value);
    } catch (e) {
      // plain text
    }
    let parameters;
    try {
      parameters = JSON.parse(params.value || '{}');
    } catch (e) {
      throw new Error('parameters: not a JSON object (' + e.message + ')');
    }
    const r = await api('POST', '/pipeline', {inputs: value, parameters});
    out.replaceChildren(panel('Output', el('pre', {id: 'output'}, JSON.stringify(r, null, 2))));
    out.dataset.ready = 'pipeline';
  });
  return [form, out];
}

// ---------------------------------------------------------------------------------------------------------------
// Generative models: a chat (POST /v1/chat/completions) and a completion (TGI's POST /generate_stream), both streamed
// as server-sent events and shown token by token; Stop closes the connection, which frees the server's slot.

// POSTs `body` and calls onEvent(parsed JSON) for every `data:` event until `[DONE]` or the end of the stream. A non-2xx
// answer throws an ApiError with the server's message; an `error` event (a stream the server had to end) throws too.
async function streamEvents(path, body, onEvent, abort) {
  const headers = {'Content-Type': 'application/json', Accept: 'text/event-stream'};
  if (apiKey) headers.Authorization = 'Bearer ' + apiKey;
  const t0 = performance.now();
  let res;
  try {
    res = await fetch(path, {method: 'POST', headers, body: JSON.stringify(body), signal: abort.signal});
  } catch (e) {
    if (e.name === 'AbortError') return 'stopped';
    showLatency('POST', path, performance.now() - t0, null, null);
    throw new ApiError(0, 'Network', `POST ${path}: the server did not answer (${e.message}).`);
  }
  showLatency('POST', path, performance.now() - t0, res.status, res.headers);
  if (!res.ok) {
    const text = await res.text();
    let message = text.trim() || res.statusText;
    let type = '';
    try {
      const data = JSON.parse(text);
      if (typeof data.error === 'string') {
        message = data.error;
        type = data.error_type || '';
      } else if (data.error && typeof data.error === 'object') {
        message = data.error.message || message;
        type = data.error.type || data.error.code || '';
      }
    } catch (e) {
      // not JSON: the text itself
    }
    throw new ApiError(res.status, type, message);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let finished = false;
  const handle = (block) => {
    const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
    if (!data) return;
    if (data === '[DONE]') {
      finished = true;
      return;
    }
    let event;
    try {
      event = JSON.parse(data);
    } catch (e) {
      throw new ApiError(res.status, 'Stream', `POST ${path}: an event is not JSON (${data.slice(0, 80)}).`);
    }
    if (event.error) {
      const message = typeof event.error === 'string' ? event.error : event.error.message || JSON.stringify(event.error);
      throw new ApiError(res.status, event.error_type || 'Stream', message);
    }
    onEvent(event);
  };
  try {
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true}).replace(/\r\n/g, '\n');
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        handle(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
      }
    }
  } catch (e) {
    if (e.name === 'AbortError') return 'stopped';
    throw e;
  }
  if (buffer.trim()) handle(buffer);
  return finished ? 'done' : 'ended';
}

// Number inputs of the generation views; empty = the server's default.
function numberInput(id, value, attrs) {
  return el('input', Object.assign({type: 'number', id, value}, attrs || {}));
}
function optionalNumber(input) {
  const v = input.value.trim();
  if (v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${input.id}: not a number (${v}).`);
  return n;
}

// Streaming figures under an answer: time to first token, tokens and tokens/s after it.
function streamStats(t0, tFirst, tokens) {
  const now = performance.now();
  const parts = [];
  if (tFirst !== null) parts.push(`first token ${(tFirst - t0).toFixed(0)} ms`);
  parts.push(`${tokens} token${tokens === 1 ? '' : 's'}`);
  if (tFirst !== null && tokens > 1 && now > tFirst) parts.push(`${((tokens - 1) / ((now - tFirst) / 1000)).toFixed(1)} tokens/s`);
  return parts.join(' · ');
}

// Runs `work(abort)` with the Send button turned into Stop while it streams.
function wireStream(form, button, stop, work) {
  let abort = null;
  stop.addEventListener('click', () => abort && abort.abort());
  wire(form, button, async () => {
    abort = new AbortController();
    stop.disabled = false;
    try {
      await work(abort);
    } finally {
      stop.disabled = true;
      abort = null;
    }
  });
}

function chatView(info) {
  const system = el('input', {type: 'text', id: 'system', placeholder: 'optional: a system message'});
  const log = el('ol', {id: 'chat-log', class: 'chat', 'aria-live': 'polite'});
  const message = el('textarea', {id: 'message', rows: 3});
  message.value = 'Hello! What can you do?';
  const maxTokens = numberInput('max-tokens', 64, {min: 1, step: 1});
  const temperature = numberInput('temperature', 0, {min: 0, max: 2, step: 0.1});
  const seed = numberInput('seed', '', {min: 0, step: 1, placeholder: 'random'});
  const button = el('button', {type: 'button', id: 'run'}, 'Send');
  const stop = el('button', {type: 'button', id: 'stop', class: 'secondary', disabled: true}, 'Stop');
  const clear = el('button', {type: 'button', id: 'clear', class: 'secondary'}, 'New chat');
  const out = results();
  const history = [];  // {role, content} of the turns so far
  const bubble = (role, text) => el('li', {class: 'msg', 'data-role': role}, el('span', {class: 'role'}, role), el('div', {class: 'content'}, text));
  clear.addEventListener('click', () => {
    history.length = 0;
    log.replaceChildren();
    out.replaceChildren();
    delete out.dataset.ready;
  });
  const form = panel(`Chat with ${info.served_model_name || info.model_id || 'the model'}`, ...field('System', system), log,
      ...field('Message', message, 'Ctrl+Enter sends'),
      el('div', {class: 'grid3'}, el('div', {}, ...field('max_tokens', maxTokens)),
          el('div', {}, ...field('temperature', temperature, '0 = greedy')), el('div', {}, ...field('seed', seed))),
      el('div', {class: 'actions'}, button, stop, clear));
  wireStream(form, button, stop, async (abort) => {
    const text = message.value.trim();
    if (!text) throw new Error('Enter a message.');
    delete out.dataset.ready;
    const messages = [];
    if (system.value.trim()) messages.push({role: 'system', content: system.value.trim()});
    messages.push(...history, {role: 'user', content: text});
    const body = {model: info.served_model_name || info.model_id, messages, stream: true, stream_options: {include_usage: true}};
    const maxT = optionalNumber(maxTokens);
    if (maxT !== undefined) body.max_tokens = maxT;
    const temp = optionalNumber(temperature);
    if (temp !== undefined) body.temperature = temp;
    const s = optionalNumber(seed);
    if (s !== undefined) body.seed = s;
    log.append(bubble('user', text));
    const answer = bubble('assistant', '');
    const content = answer.querySelector('.content');
    log.append(answer);
    message.value = '';
    const t0 = performance.now();
    let tFirst = null;
    let tokens = 0;
    let finish = null;
    let usage = null;
    let reply = '';
    const stats = el('p', {class: 'hint', id: 'stream-stats'});
    out.replaceChildren(stats);
    let how;
    try {
      how = await streamEvents('/v1/chat/completions', body, (ev) => {
        if (ev.usage) usage = ev.usage;
        for (const c of ev.choices || []) {
          const piece = (c.delta && c.delta.content) || '';
          if (piece) {
            if (tFirst === null) tFirst = performance.now();
            reply += piece;
            content.textContent = reply;
          }
          if (c.delta && c.delta.content !== undefined && !c.delta.role) tokens += 1;
          if (c.finish_reason) finish = c.finish_reason;
        }
        stats.textContent = streamStats(t0, tFirst, tokens);
      }, abort);
    } catch (e) {
      answer.remove();
      log.lastChild && log.lastChild.remove();
      message.value = text;
      throw e;
    }
    if (how === 'stopped') finish = 'stopped';
    else if (how !== 'done') throw new ApiError(0, 'Stream', 'The stream ended before its [DONE] event (the server stopped?).');
    history.push({role: 'user', content: text}, {role: 'assistant', content: reply});
    answer.dataset.finishReason = finish || '';
    const tail = [streamStats(t0, tFirst, usage ? usage.completion_tokens : tokens)];
    if (finish) tail.push(`finish_reason ${finish}`);
    if (usage) tail.push(`${usage.prompt_tokens} prompt tokens`);
    stats.textContent = tail.join(' · ');
    out.dataset.finishReason = finish || '';
    out.dataset.reply = reply;
    out.dataset.ready = 'chat';
  });
  return [form, out];
}

function completeView(info) {
  const prompt = el('textarea', {id: 'prompt', rows: 4});
  prompt.value = 'Once upon a time';
  const maxNew = numberInput('max-new-tokens', 32, {min: 1, step: 1});
  const sample = checkbox('do-sample', 'sample (do_sample)', false);
  const temperature = numberInput('temperature', '', {min: 0, step: 0.1, placeholder: '1.0'});
  const topP = numberInput('top-p', '', {min: 0, max: 1, step: 0.05, placeholder: '1.0'});
  const seed = numberInput('seed', '', {min: 0, step: 1, placeholder: 'random'});
  const button = el('button', {type: 'button', id: 'run'}, 'Generate');
  const stop = el('button', {type: 'button', id: 'stop', class: 'secondary', disabled: true}, 'Stop');
  const out = results();
  const form = panel(`Generate with ${info.served_model_name || info.model_id || 'the model'}`,
      ...field('Prompt', prompt, 'Ctrl+Enter runs'),
      el('div', {class: 'grid3'}, el('div', {}, ...field('max_new_tokens', maxNew)),
          el('div', {}, ...field('temperature', temperature)), el('div', {}, ...field('top_p', topP)),
          el('div', {}, ...field('seed', seed))),
      el('div', {class: 'actions'}, button, stop, sample.node));
  wireStream(form, button, stop, async (abort) => {
    const inputs = prompt.value;
    if (!inputs.trim()) throw new Error('Enter a prompt.');
    delete out.dataset.ready;
    const parameters = {details: true, do_sample: sample.box.checked};
    const m = optionalNumber(maxNew);
    if (m !== undefined) parameters.max_new_tokens = m;
    const t = optionalNumber(temperature);
    if (t !== undefined) parameters.temperature = t;
    const p = optionalNumber(topP);
    if (p !== undefined) parameters.top_p = p;
    const s = optionalNumber(seed);
    if (s !== undefined) parameters.seed = s;
    const generated = el('span', {class: 'generated', id: 'generated'});
    const stats = el('p', {class: 'hint', id: 'stream-stats'});
    const tokenList = el('ol', {class: 'tokens', id: 'tokens'});
    const shown = info.is_encoder_decoder ? el('pre', {class: 'completion'}, generated)
        : el('pre', {class: 'completion'}, el('span', {class: 'prompt'}, inputs), generated);
    out.replaceChildren(panel('Output', shown, stats), panel('Tokens', tokenList));
    const t0 = performance.now();
    let tFirst = null;
    let tokens = 0;
    let text = '';
    let final = null;
    const how = await streamEvents('/generate_stream', {inputs, parameters}, (ev) => {
      if (ev.token) {
        if (tFirst === null) tFirst = performance.now();
        tokens += 1;
        if (!ev.token.special) text += ev.token.text;
        generated.textContent = text;
        const lp = typeof ev.token.logprob === 'number' ? ev.token.logprob.toFixed(3) : '';
        tokenList.append(el('li', {'data-id': ev.token.id, title: `id ${ev.token.id}${lp ? ', logprob ' + lp : ''}`},
            JSON.stringify(ev.token.text)));
      }
      if (ev.generated_text !== null && ev.generated_text !== undefined) final = ev;
      stats.textContent = streamStats(t0, tFirst, tokens);
    }, abort);
    if (how === 'stopped') {
      stats.textContent = streamStats(t0, tFirst, tokens) + ' · stopped';
      out.dataset.finishReason = 'stopped';
    } else {
      if (final === null) throw new ApiError(0, 'Stream', 'The stream ended without its final event (the server stopped?).');
      const d = final.details || {};
      stats.textContent = streamStats(t0, tFirst, tokens) + (d.finish_reason ? ` · finish_reason ${d.finish_reason}` : '');
      out.dataset.finishReason = d.finish_reason || '';
      out.dataset.generatedText = final.generated_text;
    }
    out.dataset.ready = 'complete';
  });
  return [form, out];
}

// ---------------------------------------------------------------------------------------------------------------
// Which views a model gets: the ortformers task of /info when it has one, else TEI's model_type.

const TASK_VIEWS = {
  'feature-extraction': ['embeddings'],
  'sentence-embeddings': ['embeddings'],
  'sentence-similarity': ['embeddings'],
  'text-classification': ['classify'],
  'sentiment-analysis': ['classify'],
  'zero-shot-classification': ['zero-shot', 'classify'],
  'token-classification': ['entities'],
  'ner': ['entities'],
  'fill-mask': ['fill-mask'],
  'question-answering': ['qa'],
  'image-classification': ['image'],
  'image-segmentation': ['image'],
  'image-to-image': ['image'],
  'audio-classification': ['audio'],
  'automatic-speech-recognition': ['audio'],
  'audio-frame-classification': ['audio'],
  'audio-xvector': ['audio'],
  'text-generation': ['chat', 'complete'],
  'text2text-generation': ['complete', 'pipeline'],
  'summarization': ['complete', 'pipeline'],
  'translation': ['complete', 'pipeline'],
};
const VIEW_NAMES = {
  'embeddings': 'Similarity', 'classify': 'Classify', 'rerank': 'Rerank', 'zero-shot': 'Zero-shot', 'entities': 'Entities',
  'fill-mask': 'Fill mask', 'qa': 'Question answering', 'image': 'Image', 'audio': 'Audio', 'pipeline': 'Pipeline',
  'chat': 'Chat', 'complete': 'Complete',
};

function viewsFor(info) {
  const mt = info.model_type || {};
  const task = info.task || info.pipeline_tag;
  let views = (task && TASK_VIEWS[task]) ? TASK_VIEWS[task].slice() : [];
  if (task && task.startsWith('translation')) views = TASK_VIEWS.translation.slice();
  // a decoder without a chat template (/info's chat_template false) completes text only
  if (info.chat_template === false) views = views.filter((v) => v !== 'chat');
  if (views.length === 0 && task && !mt.embedding && !mt.reranker) views = ['pipeline'];
  if (views.length === 0) {
    if (mt.embedding) views = ['embeddings'];
    else if (mt.classifier) views = ['classify'];
  }
  if (mt.reranker && !views.includes('rerank')) views.unshift('rerank');
  return views;
}

function render(info, view) {
  const builders = {
    'embeddings': embeddingsView, 'classify': classifyView, 'rerank': rerankView, 'zero-shot': zeroShotView,
    'entities': entitiesView, 'fill-mask': fillMaskView, 'qa': qaView, 'image': () => mediaView('image'),
    'audio': () => mediaView('audio'), 'pipeline': pipelineView, 'chat': chatView, 'complete': completeView,
  };
  showError(null);
  $('view').replaceChildren(...builders[view](info));
  $('view').dataset.view = view;
  for (const b of $('tabs').children) {
    b.setAttribute('aria-selected', String(b.dataset.view === view));
    b.tabIndex = b.dataset.view === view ? 0 : -1;
  }
}

function tabs(info, views) {
  const bar = $('tabs');
  bar.replaceChildren(...views.map((v) => el('button', {
    type: 'button', role: 'tab', 'data-view': v, 'aria-controls': 'view',
    onclick: () => {
      history.replaceState(null, '', '#' + v);
      render(info, v);
    },
  }, VIEW_NAMES[v])));
  bar.hidden = views.length < 2;
  bar.addEventListener('keydown', (ev) => {
    const k = ['ArrowLeft', 'ArrowRight'].indexOf(ev.key);
    if (k < 0) return;
    const buttons = [...bar.children];
    const at = buttons.indexOf(document.activeElement);
    const next = buttons[(at + (k ? 1 : -1) + buttons.length) % buttons.length];
    next.focus();
    next.click();
  });
}

async function start() {
  let info;
  try {
    info = await api('GET', '/info');
  } catch (e) {
    $('model').textContent = 'server not reachable';
    showError(e);
    return;
  }
  $('model').textContent = info.served_model_name || info.model_id || 'model';
  const views = viewsFor(info);
  const task = info.task || info.pipeline_tag || Object.keys(info.model_type || {})[0] || '';
  $('task').textContent = task;
  $('task').hidden = !task;
  if (views.length === 0) {
    showError(new Error(`This page has no view for the model type of /info (${JSON.stringify(info.model_type)}).`));
    return;
  }
  tabs(info, views);
  const wanted = location.hash.slice(1);
  render(info, views.includes(wanted) ? wanted : views[0]);
  document.body.dataset.ready = 'true';
  refreshMetrics();
}

start();
