// The docs page reads everything from /openapi.json, which the gateway generates from schema.json at start-up,
// so it always describes the model this gateway validates for. No external scripts: it must work offline and
// under the page's CSP (script-src 'self').

const NULL_CHOICE = '(null)';

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

/** What a value of each feature type is, in the features table. */
const ACCEPTS = {
  number: 'any finite number',
  integer: 'any finite number (whole)',
  text: 'any text',
  boolean: 'true or false',
  date: 'a date, YYYY-MM-DD',
  datetime: 'a date-time, YYYY-MM-DDTHH:MM:SS, optionally .fraction and Z or +HH:MM',
};

/**
 * Normalises the zod-generated JSON Schema of one feature into {kind, nullable, values, maxLength, description}. The
 * gateway names the type in x-feature-type; a document without it (an older gateway) has numbers and categories.
 */
function describeProperty(schema) {
  const variants = schema.anyOf ? schema.anyOf : [schema];
  let nullable = false;
  const types = [];
  let values;
  let maxLength;
  for (const variant of variants) {
    const t = Array.isArray(variant.type) ? variant.type : [variant.type];
    for (const one of t) {
      if (one === 'null') nullable = true;
      else if (one) types.push(one);
    }
    if (variant.enum) values = variant.enum.filter((v) => v !== null);
    if (variant.maxLength !== undefined) maxLength = variant.maxLength;
  }
  const kind = schema['x-feature-type'] || (values ? 'category' : types.includes('integer') ? 'integer' : 'number');
  return { kind, nullable, values, maxLength, description: schema.description || '' };
}

function renderEndpoints(doc) {
  const body = document.querySelector('#endpoints tbody');
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const row = el('tr');
      row.append(
        el('td', method.toUpperCase(), 'method'),
        el('td'),
        el('td', op.summary || ''),
        el('td', op.security?.length ? 'required' : 'no'),
      );
      row.children[1].append(el('code', path));
      body.append(row);
    }
  }
}

function renderFeatures(features) {
  const body = document.querySelector('#features tbody');
  for (const [name, f] of features) {
    const row = el('tr');
    row.dataset.feature = name;
    const nameCell = el('td');
    nameCell.append(el('code', name));
    row.append(
      nameCell,
      el('td', f.kind),
      el(
        'td',
        f.values
          ? f.values.join(', ')
          : `${ACCEPTS[f.kind] || f.kind}${f.maxLength !== undefined ? `, at most ${f.maxLength} characters` : ''}`,
      ),
      el('td', f.nullable ? 'yes' : 'no'),
      el('td', f.description.replace(/^[a-z]+(; )?/, '')),
    );
    body.append(row);
  }
}

function renderInputs(features) {
  const fieldset = document.getElementById('feature-inputs');
  for (const [name, f] of features) {
    const label = el('label', name);
    let input;
    if (f.kind === 'category' || f.kind === 'boolean') {
      input = el('select');
      input.append(el('option', ''));
      for (const v of f.kind === 'boolean' ? [true, false] : f.values) input.append(el('option', String(v)));
      if (f.nullable) input.append(el('option', NULL_CHOICE));
    } else {
      input = el('input');
      input.type = 'text';
      if (f.kind === 'number' || f.kind === 'integer') input.inputMode = 'decimal';
      input.placeholder =
        { date: 'YYYY-MM-DD', datetime: 'YYYY-MM-DDTHH:MM:SSZ' }[f.kind] ||
        f.kind + (f.nullable ? ' or empty for null' : '');
    }
    input.name = name;
    input.dataset.feature = name;
    label.append(input);
    fieldset.append(label);
  }
}

function readRow(features) {
  const row = {};
  for (const [name, f] of features) {
    const input = document.querySelector(`[data-feature="${CSS.escape(name)}"]:is(input, select)`);
    const raw = input.value.trim();
    if (f.kind === 'category' || f.kind === 'boolean') {
      if (raw === NULL_CHOICE || (raw === '' && f.nullable)) row[name] = null;
      else if (raw === '') continue;
      else if (f.kind === 'boolean') row[name] = raw === 'true';
      // An integer-coded category's options are numbers, sent as JSON numbers.
      else row[name] = f.values.some((v) => typeof v === 'number') ? Number(raw) : raw;
    } else if (f.kind === 'text') {
      // Text is sent as typed, spaces included; empty is null when the feature may be null.
      row[name] = input.value === '' && f.nullable ? null : input.value;
    } else if (raw === '') {
      if (f.nullable) row[name] = null;
      // Left out on purpose when required: the gateway's 422 then shows what a missing feature looks like.
    } else if (f.kind === 'date' || f.kind === 'datetime') {
      row[name] = raw;
    } else {
      const n = Number(raw);
      row[name] = Number.isNaN(n) ? raw : n;
    }
  }
  return row;
}

function fillExample(features, example) {
  for (const [name] of features) {
    const input = document.querySelector(`[data-feature="${CSS.escape(name)}"]:is(input, select)`);
    const value = example[name];
    input.value = value === null ? (input.tagName === 'SELECT' ? NULL_CHOICE : '') : String(value);
  }
}

/** The headers a caller acts on, in this order, when the answer has them. */
const SHOWN_HEADERS = [
  'content-type',
  'x-request-id',
  'x-model-version',
  'ratelimit',
  'ratelimit-policy',
  'retry-after',
  'www-authenticate',
  'allow',
];

function showHeaders(headers) {
  const body = document.querySelector('#response-headers tbody');
  body.replaceChildren();
  for (const name of SHOWN_HEADERS) {
    const value = headers.get(name);
    if (value === null) continue;
    const row = el('tr');
    row.dataset.header = name;
    const nameCell = el('td');
    nameCell.append(el('code', name));
    row.append(nameCell, el('td', value));
    body.append(row);
  }
}

const pretty = (value) => JSON.stringify(value, null, 2);

/** The three snippets for a request body (text as in the JSON editor) against this gateway. */
function renderSnippets(bodyText, needsKey, clientPackage) {
  let body;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = undefined;
  }
  const origin = window.location.origin;
  const json = body === undefined ? bodyText : pretty(body);
  const curl = [
    `curl -sS -X POST '${origin}/v1/predict' \\`,
    "  -H 'Content-Type: application/json' \\",
    ...(needsKey ? ['  -H "X-API-Key: $API_KEY" \\'] : []),
    "  --data-binary @- <<'JSON'",
    json,
    'JSON',
  ].join('\n');
  const fetchSnippet = [
    `const res = await fetch('${origin}/v1/predict', {`,
    "  method: 'POST',",
    `  headers: { 'content-type': 'application/json'${needsKey ? ", 'x-api-key': API_KEY" : ''} },`,
    `  body: JSON.stringify(${json.replace(/\n/g, '\n  ')}),`,
    '});',
    '// application/json when res.ok, else application/problem+json (see the error catalogue)',
    'const answer = await res.json();',
  ].join('\n');
  const rows = body && Array.isArray(body.instances) ? pretty(body.instances) : '[/* rows */]';
  const client = [
    `import { createPredictionClient, isValidationProblem } from '${clientPackage}';`,
    '',
    `const client = createPredictionClient({ baseURL: '${origin}'${needsKey ? ', apiKey: API_KEY' : ''} });`,
    'try {',
    `  const answer = await client.predict(${rows.replace(/\n/g, '\n  ')});`,
    '} catch (err) {',
    '  if (isValidationProblem(err)) console.log(err.errorsOf(0).fields);',
    '}',
  ].join('\n');
  document.getElementById('snippet-curl').textContent = curl;
  document.getElementById('snippet-fetch').textContent = fetchSnippet;
  document.getElementById('snippet-client').textContent = client;
}

async function copy(button) {
  const text = document.getElementById(button.dataset.for).textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard permission (a page not served over HTTPS, an old browser): select the text for Ctrl+C instead.
    const range = document.createRange();
    range.selectNodeContents(document.getElementById(button.dataset.for));
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
  }
  button.textContent = 'Copied';
  button.dataset.copied = 'true';
  setTimeout(() => {
    button.textContent = 'Copy';
  }, 1500);
}

/** One section per status of POST /v1/predict: what it means, its headers, its example bodies. */
function renderResponses(doc) {
  const container = document.getElementById('responses');
  const responses = doc.paths['/v1/predict']?.post?.responses || {};
  for (const [status, response] of Object.entries(responses)) {
    const section = el('section');
    section.dataset.status = status;
    section.append(el('h3', `${status} ${response.description || ''}`));
    const headers = Object.keys(response.headers || {});
    if (headers.length) {
      const p = el('p', 'Headers: ');
      headers.forEach((name, i) => {
        if (i) p.append(', ');
        p.append(el('code', name));
      });
      section.append(p);
    }
    for (const media of Object.values(response.content || {})) {
      const bodies = media.example !== undefined ? [media.example] : [];
      for (const example of Object.values(media.examples || {})) bodies.push(example.value);
      for (const body of bodies) section.append(el('pre', pretty(body)));
    }
    container.append(section);
  }
}

function renderCatalogue(doc) {
  const body = document.querySelector('#problems tbody');
  for (const example of Object.values(doc.components.examples || {})) {
    const value = example.value;
    const row = el('tr');
    row.dataset.type = value.type;
    const typeCell = el('td');
    typeCell.append(el('code', value.type));
    const exampleCell = el('td');
    exampleCell.append(el('pre', pretty(value)));
    row.append(el('td', String(value.status)), typeCell, el('td', value.title), exampleCell);
    body.append(row);
  }
}

function showStatus(text, ok) {
  const status = document.getElementById('status');
  status.textContent = text;
  status.className = ok ? 'ok' : 'error';
}

async function main() {
  let doc;
  try {
    const res = await fetch('/openapi.json', { headers: { accept: 'application/json' } });
    doc = await res.json();
  } catch (err) {
    showStatus(`Could not load /openapi.json: ${err.message}`, false);
    return;
  }
  document.getElementById('title').textContent = doc.info.title;
  document.getElementById('subtitle').textContent = doc.info.description;
  document.title = doc.info.title;

  const rowSchema = doc.components.schemas.FeatureRow;
  const features = Object.entries(rowSchema.properties).map(([name, schema]) => [name, describeProperty(schema)]);
  const example = rowSchema.examples?.[0] || {};
  renderEndpoints(doc);
  // The served document says what this gateway's configuration asks for; without keys the key field would mislead.
  const needsKey = Object.values(doc.paths).some((item) => Object.values(item).some((op) => op.security?.length));
  if (!needsKey) {
    document.getElementById('api-key-label').hidden = true;
    document.getElementById('auth-note').textContent = 'This gateway runs without API keys: no endpoint needs one.';
  }
  document.body.dataset.apiKey = needsKey ? 'required' : 'none';
  renderFeatures(features);
  renderInputs(features);

  document.getElementById('fill-example').addEventListener('click', () => fillExample(features, example));
  renderResponses(doc);
  renderCatalogue(doc);
  const clientPackage = doc.info['x-client-package'] || 'the-client-package';
  const editor = document.getElementById('json-body');
  const setBody = (body) => {
    editor.value = pretty(body);
    renderSnippets(editor.value, needsKey, clientPackage);
  };
  setBody({ instances: [example] });
  editor.addEventListener('input', () => renderSnippets(editor.value, needsKey, clientPackage));
  for (const button of document.querySelectorAll('button.copy')) button.addEventListener('click', () => copy(button));

  /** Sends a body (text, as is) and shows status, answer and the answer's headers. */
  async function send(bodyText) {
    const result = document.getElementById('result');
    result.textContent = '';
    document.querySelector('#response-headers tbody').replaceChildren();
    showStatus('Sending…', true);
    const headers = { 'content-type': 'application/json', accept: 'application/json' };
    const key = needsKey ? document.getElementById('api-key').value.trim() : '';
    if (key) headers['x-api-key'] = key;
    try {
      const res = await fetch('/v1/predict', { method: 'POST', headers, body: bodyText });
      const text = await res.text();
      let shown = text;
      try {
        shown = pretty(JSON.parse(text));
      } catch {
        // not JSON: show as is
      }
      result.textContent = shown;
      showHeaders(res.headers);
      const version = res.headers.get('x-model-version');
      showStatus(
        `${res.status} ${res.ok ? 'OK' : 'error'}${version ? ` · model ${version}` : ''} · request ${res.headers.get('x-request-id') || '-'}`,
        res.ok,
      );
      document.body.dataset.lastStatus = String(res.status);
    } catch (err) {
      showStatus(`Request failed: ${err.message}`, false);
    }
  }

  document.getElementById('predict-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void send(JSON.stringify({ instances: [readRow(features)] }));
  });
  document.getElementById('json-send').addEventListener('click', () => {
    void send(editor.value);
  });
  document
    .getElementById('json-from-form')
    .addEventListener('click', () => setBody({ instances: [readRow(features)] }));
  document.getElementById('json-add-row').addEventListener('click', () => {
    let body;
    try {
      body = JSON.parse(editor.value);
    } catch {
      body = { instances: [] };
    }
    if (!body || !Array.isArray(body.instances)) body = { instances: [] };
    body.instances.push(example);
    setBody(body);
  });
  document.body.dataset.ready = 'true';
}

main().catch((error) => {
  document.getElementById('status').textContent = `The docs page failed to start: ${error.message}`;
});
