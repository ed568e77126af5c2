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
  document.getElementById('predict-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const result = document.getElementById('result');
    result.textContent = '';
    showStatus('Sending…', true);
    const headers = { 'content-type': 'application/json', accept: 'application/json' };
    const key = needsKey ? document.getElementById('api-key').value.trim() : '';
    if (key) headers['x-api-key'] = key;
    try {
      const res = await fetch('/v1/predict', {
        method: 'POST',
        headers,
        body: JSON.stringify({ instances: [readRow(features)] }),
      });
      const text = await res.text();
      let shown = text;
      try {
        shown = JSON.stringify(JSON.parse(text), null, 2);
      } catch {
        // not JSON: show as is
      }
      result.textContent = shown;
      const version = res.headers.get('x-model-version');
      showStatus(
        `${res.status} ${res.ok ? 'OK' : 'error'}${version ? ` · model ${version}` : ''} · request ${res.headers.get('x-request-id') || '-'}`,
        res.ok,
      );
      document.body.dataset.lastStatus = String(res.status);
    } catch (err) {
      showStatus(`Request failed: ${err.message}`, false);
    }
  });
  document.body.dataset.ready = 'true';
}

main().catch((error) => {
  document.getElementById('status').textContent = `The docs page failed to start: ${error.message}`;
});
