import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildOpenApi } from '../src/openapi.js';
import { loadModelSchema } from '../src/schema/load.js';
import { generateTypes } from '../src/schema/typegen.js';
import { buildValidators } from '../src/schema/validators.js';
import { GENERATED } from '../src/scripts/schema-sync.js';
import { MIXED, REGRESSOR } from './helpers/app.js';

describe('schema:sync output', () => {
  it('the committed generated files match the committed schema.json (run npm run schema:sync if not)', () => {
    const schema = loadModelSchema(GENERATED.schema);
    const types = generateTypes(schema);
    expect(readFileSync(GENERATED.clientTypes, 'utf8')).toBe(types);
    expect(JSON.parse(readFileSync(GENERATED.openapi, 'utf8'))).toEqual(buildOpenApi(buildValidators(schema)));
  });

  it('generates feature and prediction types for mixed and regression schemas', () => {
    const mixed = generateTypes(loadModelSchema(MIXED));
    expect(mixed).toContain('  tenure_months: number;');
    expect(mixed).toContain('  monthly_charges: number | null;');
    expect(mixed).toContain('  contract: "month-to-month" | "one-year" | "two-year";');
    expect(mixed).toContain('  colour: "blue" | "red" | null;');
    expect(mixed).toContain('  "data/usage~gb": number;');
    expect(mixed).toContain('export type Prediction = "no" | "yes";');
    const regressor = generateTypes(loadModelSchema(REGRESSOR));
    expect(regressor).toContain('export type Prediction = number;');
    expect(regressor).not.toContain('probabilities');
  });
});
