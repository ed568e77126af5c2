// Trust moved out of model/schema.json into trust.json (0.3.0): what an upgrade records once for older projects.
import { describe, expect, it } from 'vitest';
import { migratedTrust, TRUST_SINCE } from '../src/lib/trust-migration.js';

const NOW = new Date('2026-12-01T10:00:00.123Z');
const schema = (model: Record<string, unknown>) => JSON.stringify({ schemaVersion: 1, model });
const SHA = 'ab'.repeat(32);

describe('migratedTrust', () => {
  it("records a 0.2.0 skops project's trustedTypes, with who and when, and says so", () => {
    const m = migratedTrust(
      schema({ format: 'skops', trustedTypes: ['sklearn.tree._tree.Tree', 'numpy.dtype'] }),
      '0.2.0',
      NOW,
    );
    expect(JSON.parse(m!.content)).toEqual({
      trustVersion: 1,
      skopsTypes: {
        'numpy.dtype': 'sci-eb upgrade from 0.2.0: model/schema.json listed it, 2026-12-01T10:00:00Z',
        'sklearn.tree._tree.Tree': 'sci-eb upgrade from 0.2.0: model/schema.json listed it, 2026-12-01T10:00:00Z',
      },
      pickles: {},
    });
    expect(m!.note).toMatch(/recorded once.*skops type numpy\.dtype, skops type sklearn\.tree\._tree\.Tree/s);
  });

  it("records a joblib project's pickle by its sha256 only", () => {
    const m = migratedTrust(
      schema({ format: 'joblib', sha256: SHA.toUpperCase(), artifact: 'model.joblib' }),
      '0.1.0',
      NOW,
    );
    expect(Object.keys(JSON.parse(m!.content).pickles)).toEqual([SHA]);
    expect(m!.note).toContain(`pickle ${SHA.slice(0, 12)} (model/model.joblib)`);
  });

  it('records nothing for projects made since trust.json, without a model, or without trust in schema.json', () => {
    const listed = schema({ format: 'skops', trustedTypes: ['numpy.dtype'] });
    expect(migratedTrust(listed, TRUST_SINCE, NOW)).toBeUndefined();
    expect(migratedTrust(listed, '0.4.1', NOW)).toBeUndefined();
    expect(migratedTrust(undefined, '0.2.0', NOW)).toBeUndefined();
    expect(migratedTrust('{', '0.2.0', NOW)).toBeUndefined();
    expect(migratedTrust(schema({ format: 'skops', trustedTypes: [] }), '0.2.0', NOW)).toBeUndefined();
    // No format: the service refuses the model until `make train` writes it again; nothing is assumed here either.
    expect(migratedTrust(schema({ sha256: SHA }), '0.1.0', NOW)).toBeUndefined();
  });
});
