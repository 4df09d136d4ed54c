// ortformers API docs: renders the OpenAPI description embedded in the page (or, when the page is served from the
// source tree, the openapi.json next to it) as plain HTML. No dependencies.
'use strict';

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

let spec = null;

// Prose of the description with `code` spans (the only markup the descriptions use).
function prose(text) {
  return String(text).split('`').map((part, k) => (k % 2 ? el('code', {}, part) : part));
}

function resolve(schema) {
  let s = schema || {};
  for (let depth = 0; s.$ref && depth < 20; depth++) {
    const path = s.$ref.replace(/^#\//, '').split('/');
    s = path.reduce((o, k) => (o ? o[k] : undefined), spec) || {};
  }
  if (s.allOf && s.allOf.length === 1) {
    const {allOf, ...rest} = s;
    return {...resolve(allOf[0]), ...rest};
  }
  return s;
}

const refName = (schema) => (schema && schema.$ref ? schema.$ref.split('/').pop() : null);

// A short type expression: EmbedRequest, string, [integer], string | [string], ...
function typeName(schema, depth = 0) {
  if (!schema) return 'any';
  if (depth > 4) return '…';
  const name = refName(schema);
  const s = resolve(schema);
  let t;
  if (name && (s.properties || s.oneOf)) t = name;
  else if (s.oneOf || s.anyOf) t = (s.oneOf || s.anyOf).map((x) => typeName(x, depth + 1)).join(' | ');
  else if (s.enum) t = s.enum.map((v) => JSON.stringify(v)).join(' | ');
  else if (s.type === 'array') t = `[${typeName(s.items, depth + 1)}]`;
  else if (s.type === 'object' && s.additionalProperties) t = `{string: ${typeName(s.additionalProperties, depth + 1)}}`;
  else t = s.type || name || (Object.keys(s).length ? 'object' : 'any');
  if (s.format && typeof s.type === 'string') t += ` (${s.format})`;
  if (s.nullable) t += ' | null';
  return t;
}

// TEI writes examples of numbers and booleans as strings ("0", "false", "null"): show them as JSON values.
function exampleValue(s, value) {
  if (typeof value !== 'string') return value;
  if (value === 'null') return null;
  if (s.type === 'boolean') return value === 'true';
  if ((s.type === 'integer' || s.type === 'number') && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  return value;
}

function example(schema, depth = 0) {
  const s = resolve(schema);
  if (depth > 6) return null;
  if (s.example !== undefined) return exampleValue(s, s.example);
  if (s.oneOf || s.anyOf) return example((s.oneOf || s.anyOf)[0], depth + 1);
  if (s.enum) return s.enum[0];
  if (s.type === 'array') return [example(s.items, depth + 1)];
  if (s.properties) {
    const out = {};
    for (const [k, v] of Object.entries(s.properties)) {
      const rv = resolve(v);
      if ((s.required || []).includes(k) || rv.example !== undefined) out[k] = example(v, depth + 1);
    }
    return out;
  }
  if (s.type === 'string') return 'string';
  if (s.type === 'integer' || s.type === 'number') return 0;
  if (s.type === 'boolean') return false;
  return null;
}

// Rows of a field table: every property (nested objects with dotted names, one level of oneOf alternatives).
function fieldRows(schema, prefix, depth, rows) {
  const s = resolve(schema);
  if (depth > 3) return rows;
  const required = s.required || [];
  for (const [name, sub] of Object.entries(s.properties || {})) {
    const r = resolve(sub);
    const full = prefix ? `${prefix}.${name}` : name;
    const notes = [];
    if (r.description) notes.push(r.description);
    if (r.default !== undefined && r.default !== 'null') notes.push(`Default: ${JSON.stringify(exampleValue(r, r.default))}.`);
    if (r.minimum !== undefined) notes.push(`Minimum: ${r.minimum}.`);
    if (r.maxItems !== undefined) notes.push(`At most ${r.maxItems} items.`);
    rows.push(el('tr', {}, el('td', {}, el('code', {}, full), required.includes(name) ? el('span', {class: 'req'}, 'required') : null),
        el('td', {}, el('code', {}, typeName(sub))), el('td', {}, prose(notes.join(' ')))));
    if (r.properties) fieldRows(sub, full, depth + 1, rows);
  }
  return rows;
}

function schemaBlock(schema) {
  const s = resolve(schema);
  const parts = [el('p', {}, 'Type: ', el('code', {}, typeName(schema)))];
  if (s.description) parts.push(el('p', {}, prose(s.description)));
  const alternatives = s.oneOf || s.anyOf;
  if (alternatives) {
    parts.push(el('ul', {}, alternatives.map((alt) => {
      const a = resolve(alt);
      return el('li', {}, el('code', {}, typeName(alt)), a.description ? [' — ', prose(a.description)] : '');
    })));
  }
  const rows = fieldRows(schema, '', 0, []);
  if (rows.length) {
    parts.push(el('div', {class: 'scroll'}, el('table', {class: 'fields'},
        el('thead', {}, el('tr', {}, el('th', {}, 'field'), el('th', {}, 'type'), el('th', {}, 'description'))), el('tbody', {}, rows))));
  }
  return parts;
}

const pretty = (v) => JSON.stringify(v, null, 2);

function curl(method, path, contentType, body) {
  const url = location.origin + path;
  if (method === 'get') return `curl ${url}`;
  if (contentType && contentType.startsWith('multipart/')) return `curl ${url} -F file=@audio.wav -F model=whisper`;
  if (contentType && !contentType.includes('json')) return `curl ${url} -H 'Content-Type: ${contentType}' --data-binary @file`;
  return `curl ${url} -H 'Content-Type: application/json' \\\n  -d '${JSON.stringify(body).replace(/'/g, "'\\''")}'`;
}

// Routes a model type answers (the others answer 424), as the server decides them.
function availability(info, path) {
  if (!info || !info.model_type) return null;
  const type = Object.keys(info.model_type)[0];
  const byType = {
    '/embed': ['embedding'], '/embed_all': ['embedding'], '/embed_sparse': ['embedding'], '/similarity': ['embedding'],
    '/v1/embeddings': ['embedding'], '/predict': ['classifier', 'reranker'], '/rerank': ['reranker'],
  };
  const types = byType[path];
  if (!types) return null;
  return types.includes(type) ? null : `not for this model (${type}): answers 424`;
}

function operation(path, method, op, info) {
  const id = `${method}-${path.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-|-$/g, '') || 'root'}`;
  const note = availability(info, path);
  const section = el('section', {class: 'panel op', id, 'data-path': path, 'data-method': method},
      el('h2', {}, el('span', {class: `method ${method}`}, method.toUpperCase()), el('code', {}, path),
          note ? el('span', {class: 'unavailable'}, note) : null));
  if (op.summary) section.append(el('p', {}, prose(op.summary)));
  if (op.description && op.description !== op.summary) section.append(el('p', {}, prose(op.description)));
  let body;
  let contentType;
  const req = op.requestBody && op.requestBody.content;
  if (req) {
    section.append(el('h3', {}, 'Request body'));
    for (const [ct, media] of Object.entries(req)) {
      contentType = contentType || ct;
      section.append(el('p', {}, el('code', {}, ct)));
      if (media.schema) section.append(...schemaBlock(media.schema));
      if (ct.includes('json') && body === undefined) body = media.example !== undefined ? media.example : example(media.schema);
    }
    if (body !== undefined) section.append(el('p', {}, 'Example:'), el('pre', {}, el('code', {}, pretty(body))));
  }
  section.append(el('h3', {}, 'Try it'), el('pre', {}, el('code', {}, curl(method, path, contentType, body))));
  section.append(el('h3', {}, 'Responses'));
  const rows = Object.entries(op.responses || {}).map(([code, r]) => {
    const media = r.content ? Object.values(r.content)[0] : null;
    const ct = r.content ? Object.keys(r.content)[0] : '';
    let ex = media && media.example !== undefined ? media.example : null;
    if (ex === null && media && media.schema && code.startsWith('2') && ct.includes('json')) ex = example(media.schema);
    return el('tr', {}, el('td', {}, el('code', {}, code)), el('td', {}, prose(r.description || '')),
        el('td', {}, media && media.schema ? el('code', {}, typeName(media.schema)) : ct),
        el('td', {}, ex === null ? '' : el('pre', {}, el('code', {}, pretty(ex)))));
  });
  section.append(el('div', {class: 'scroll'}, el('table', {class: 'fields responses'},
      el('thead', {}, el('tr', {}, el('th', {}, 'status'), el('th', {}, 'meaning'), el('th', {}, 'body'), el('th', {}, 'example'))),
      el('tbody', {}, rows))));
  return section;
}

async function loadSpec() {
  const node = $('openapi');
  if (node.textContent.trim()) return JSON.parse(node.textContent);
  const res = await fetch(node.getAttribute('src'));
  if (!res.ok) throw new Error(`The OpenAPI description could not be loaded (${res.status}).`);
  return res.json();
}

async function main() {
  try {
    spec = await loadSpec();
  } catch (e) {
    $('error').textContent = e.message;
    return;
  }
  let info = null;
  try {
    const res = await fetch('/info');
    if (res.ok) info = await res.json();
  } catch (e) {
    info = null;
  }
  if (info) $('model').textContent = `serving ${info.served_model_name || info.model_id}`;
  document.title = `${spec.info.title} ${spec.info.version}: API`;
  $('intro').replaceChildren(el('strong', {}, `${spec.info.title} ${spec.info.version}. `), prose(spec.info.description || ''));
  // One group per tag, in the order of the document's tags; operations in the order of the paths.
  const groups = new Map((spec.tags || []).map((t) => [t.name, []]));
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of ['get', 'post', 'put', 'delete']) {
      if (!item[method]) continue;
      const tag = (item[method].tags || ['other'])[0];
      if (!groups.has(tag)) groups.set(tag, []);
      groups.get(tag).push([path, method]);
    }
  }
  const toc = [];
  const ops = $('ops');
  for (const [tag, list] of groups) {
    if (list.length === 0) continue;
    const items = el('ul');
    for (const [path, method] of list) {
      const section = operation(path, method, spec.paths[path][method], info);
      ops.append(section);
      items.append(el('li', {}, el('a', {href: '#' + section.id}, `${method.toUpperCase()} ${path}`)));
    }
    toc.push(el('h2', {class: 'hint'}, tag), items);
  }
  $('toc').replaceChildren(...toc);
  document.body.dataset.ready = 'true';
  if (location.hash) {
    const target = document.getElementById(location.hash.slice(1));
    if (target) target.scrollIntoView();
  }
}

main();
