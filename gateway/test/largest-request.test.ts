// schema/largest-request.ts: the most ':' a valid request can hold, and the 413 for a body holding more (the Flask
// service's serving/largest_request.py counts alike; test/gateway-e2e.test.ts in the generator sends both the same).
import { describe, expect, it } from 'vitest';
import { CONTRACT_JSON, sentence } from './helpers/contract-oracle.js';
import { type ModelSchema, parseModelSchema } from '../src/schema/load.js';
import { impossibleBody, maxColons, moreColonsThan } from '../src/schema/largest-request.js';

const schemaOf = (features: Array<Record<string, unknown>>, maxRows = 10): ModelSchema =>
  parseModelSchema({
    schemaVersion: 2,
    model: { name: 'm', version: '1', task: 'regression' },
    features: features.map((f, i) => ({ name: `f${i}`, nullable: false, ...f })),
    target: { name: 't', type: 'number' },
    limits: { maxRows, maxBodyBytes: 1 << 20 },
  });

describe("the most ':' a valid request can hold", () => {
  it.each([
    [{ type: 'number' }, 0],
    [{ type: 'integer' }, 0],
    [{ type: 'boolean' }, 0],
    [{ type: 'date' }, 0],
    [{ type: 'datetime' }, 3], // 2026-01-01T10:00:00+01:00
    [{ type: 'text', maxLength: 250 }, 250], // every character may be one
    [{ type: 'category', categories: ['a', 'b:c', 'd::e'] }, 2], // the most any one holds
    [{ type: 'category', categories: [1, 2, 3] }, 0],
    [{ name: 'a:b', type: 'number' }, 1], // a name's own ':' count too
  ])('%j adds its member and %i', (feature, inValue) => {
    expect(maxColons(schemaOf([feature]))).toBe(1 + 10 * (1 + inValue));
    expect(maxColons(schemaOf([feature, { name: 'y', type: 'number' }], 1000))).toBe(1 + 1000 * (2 + inValue));
  });

  it('a valid request never holds more; one more is a 413 with the contract sentence', () => {
    const schema = schemaOf(
      [
        { name: 'when:utc', type: 'datetime' },
        { name: 'tag', type: 'category', categories: ['a:b:c', 'd'] },
      ],
      3,
    );
    const row = '{"when:utc": "2026-01-01T10:00:00.5+01:00", "tag": "a:b:c"}';
    const text = `{"instances": [${[row, row, row].join(', ')}]}`;
    expect(text.split(':').length - 1).toBe(maxColons(schema));
    const check = impossibleBody(schema);
    expect(check(Buffer.from(text))).toBeUndefined();
    const refused = check(Buffer.from(`${text.slice(0, -3)}, "": 1}]}`));
    expect(refused?.problem.status).toBe(413);
    expect(refused?.problem.detail).toBe(sentence(CONTRACT_JSON.details['too-many-members']!, { maxRows: 3 }));
  });

  it('counts no further than one past the bound', () => {
    expect(moreColonsThan(Buffer.from('::'), 2)).toBe(false);
    expect(moreColonsThan(Buffer.from(':::'), 2)).toBe(true);
    expect(moreColonsThan(Buffer.from(''), 0)).toBe(false);
    // counted on the bytes: a ':' after multi-byte characters counts once, as in the text
    expect(moreColonsThan(Buffer.from('\u{1F600}:é:'), 1)).toBe(true);
    expect(moreColonsThan(Buffer.from('\u{1F600}:é:'), 2)).toBe(false);
  });
});
